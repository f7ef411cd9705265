"""Start-up time and size of command-line tools bundled by hatch-pyc, by shiv and by pex, and installed.

Run by hand (never by the test suite), from the repository's dev venv (CPython 3.11):

    python benchmarks/startup.py [--runs 20] [--tools black httpie ...]

Each command is timed as a whole process, the commands taking turns run after run. First a
small click CLI (``tests/projects/clickapp``, ``clickapp bench``): the hook's ``.pyz`` with
``include-dependencies = true`` (the defaults: deflated, run from the user cache; then
``run-from = "archive"``, deflated and stored), a shiv
bundle of the plain wheel (cache warm), pex files of it (``--venv`` and the default zipapp
layout, cache warm), the plain wheel installed by ``uv pip install --compile-bytecode`` and
the zip-layout wheel installed by uv.

Then five real tools from PyPI, each with its dependencies and one real use: black (its
mypyc-compiled wheel, formatting ``--code``), httpie (an ``--offline`` POST), cookiecutter
(rendering a local template), jinja2-cli (rendering) and check-jsonschema (validating a
file). Each runs installed (uv, ``--compile-bytecode``, bytecode warm), as
``hatch-pyc bundle --with-dependencies`` (default; ``--run-from archive``, deflated and
``--no-compress``), as a shiv
bundle and as two pex files (``pex --venv`` and the default zipapp layout), warm and at
first start (an empty ``XDG_CACHE_HOME``, ``SHIV_ROOT`` or ``PEX_ROOT`` before each run).
shiv and pex come from PyPI into a venv of the benchmark's own; pex resolves each tool's
dependencies itself, as shiv does.

Prints markdown tables of min / median and the ratios of the minimums, then one summary
line per tool: the ratios the targets are about, sizes, and the files each extracted; then
the same against pex.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "projects" / "clickapp"
UV = shutil.which("uv") or "uv"
HOOK = "[tool.hatch.build.targets.wheel.hooks.pyc]"


def sh(*command: object, **kwargs: object) -> str:
    result = subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    return result.stdout


def venv(path: Path, *install: object) -> Path:
    """A venv made and filled by uv: no setuptools ``.pth`` to slow every start down."""
    sh(UV, "venv", "-q", "-p", sys.executable, path)
    python = path / "bin" / "python"
    if install:
        sh(UV, "pip", "install", "-q", "-p", python, *install)
    return python


def build(work: Path, name: str, hook_options: str) -> Path:
    """Build the clickapp wheel (and any ``.pyz``) with the given hook options."""
    project = work / f"project-{name}"
    shutil.copytree(PROJECT, project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index(HOOK)] + hook_options)
    out = work / f"dist-{name}"
    env = {**os.environ, "HATCH_BUILD_NO_HOOKS": "true"} if not hook_options else None
    sh(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out, cwd=project, env=env)
    return out


def timed(
    commands: dict[str, list[object]],
    runs: int,
    envs: dict[str, dict[str, str]] | None = None,
    fresh: dict[str, Path] | None = None,
    cwd: Path | None = None,
) -> dict[str, tuple[float, float]]:
    """Min and median wall time of each command, the commands taking turns run after run
    so that a slow moment of the machine does not fall on one of them alone. ``envs`` adds
    variables to a command's environment. A command with a directory in ``fresh`` starts
    each run with that directory removed (a first start); the others are run once before
    timing (warm)."""
    fresh, envs = fresh or {}, envs or {}
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {label: {**base, **envs.get(label, {})} for label in commands}
    for label, command in commands.items():
        if label not in fresh:
            sh(*command, env=env[label], cwd=cwd)  # warm: caches, pycs the installer did not write, the page cache
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            if label in fresh:
                shutil.rmtree(fresh[label], ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([str(c) for c in command], check=True, capture_output=True, env=env[label], cwd=cwd)
            samples[label].append(time.perf_counter() - start)
    return {label: (min(times), statistics.median(times)) for label, times in samples.items()}


def table(title: str, results: dict[str, tuple[float, float]], base: str) -> None:
    low_base = results[base][0]
    print(f"\n| {title} | min / median | min vs {base} |")
    print("| --- | --- | --- |")
    for label, (low, median) in results.items():
        print(f"| {label} | {low * 1e3:.1f} / {median * 1e3:.1f} ms | {low / low_base:.2f}x |")


@dataclass(frozen=True)
class Tool:
    """A command-line tool from PyPI and one real use of it."""

    #: The distribution, bundled with its dependencies.
    project: str
    #: Its console script, the bundle's entry point.
    script: str
    #: Arguments of one real use; a name in ``inputs`` becomes that file's path.
    arguments: list[str]
    #: ``{relative path: text}`` written into the working directory first.
    inputs: dict[str, str] = field(default_factory=dict)


TOOLS = [
    Tool("black", "black", ["--code", "x = ( 1,2 )"]),
    Tool("httpie", "http", ["--offline", "--ignore-stdin", "POST", "example.org", "a=1"]),
    Tool(
        "cookiecutter",
        "cookiecutter",
        ["--no-input", "-f", "-o", "rendered", "template"],
        {
            "template/cookiecutter.json": '{"name": "demo"}',
            "template/{{cookiecutter.name}}/f.txt": "{{cookiecutter.name}}",
        },
    ),
    Tool("jinja2-cli", "jinja2", ["t.j2", "d.json"], {"t.j2": "hello {{ name }}", "d.json": '{"name": "you"}'}),
    Tool(
        "check-jsonschema",
        "check-jsonschema",
        ["--schemafile", "s.json", "i.json"],
        {"s.json": '{"type": "object", "properties": {"a": {"type": "integer"}}}', "i.json": '{"a": 1}'},
    ),
]

#: The bundles compared: label and ``hatch-pyc bundle`` flags beside the defaults.
VARIANTS = {
    "`.pyz`": [],
    "`.pyz` from the archive": ["--run-from", "archive"],
    "`.pyz` from the archive, stored": ["--run-from", "archive", "--no-compress"],
}
STORED = "`.pyz` from the archive, stored"
#: The pex files compared: label and ``pex`` flags beside the wheel and its console script.
PEXES = {"pex --venv": ["--venv"], "pex zipapp": []}


def pex(tools: Path, wheel: Path, script: str, flags: list[str], out: Path, root: Path) -> Path:
    """A pex file of ``wheel`` and its dependencies (resolved by pex from the package
    registries) that runs ``script``; ``root`` is pex's cache while building."""
    sh(tools.parent / "pex", wheel, "-c", script, *flags, "-o", out, env={**os.environ, "PEX_ROOT": str(root)})
    return out


def files_under(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def tool_startup(work: Path, tools: Path, runs: int, tool: Tool) -> dict[str, object]:
    """One tool bundled by hatch-pyc and by shiv, and installed: warm and first starts."""
    work = work / tool.project
    wheels = work / "wheel"
    sh(tools, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", tool.project, "-d", wheels)
    (wheel,) = wheels.glob("*.whl")
    bundles = {}
    for label, flags in VARIANTS.items():
        bundles[label] = work / f"{tool.project}{len(bundles)}.pyz"
        bundle = [sys.executable, "-m", "hatch_pyc.cli", "bundle", wheel, "--with-dependencies"]
        sh(*bundle, "--entry-point", tool.script, *flags, "-o", bundles[label])
    shiv = work / f"{tool.project}.shiv"
    sh(tools.parent / "shiv", "-q", "-c", tool.script, "-o", shiv, wheel)
    pexes = {
        label: pex(tools, wheel, tool.script, flags, work / f"{tool.project}{n}.pex", work / "pex-build")
        for n, (label, flags) in enumerate(PEXES.items())
    }
    venv(work / "installed", "--compile-bytecode", wheel)
    for name, text in tool.inputs.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    empty = venv(work / "empty")
    commands: dict[str, list[object]] = {"installed (uv, compiled), warm": [work / "installed" / "bin" / tool.script]}
    commands.update({f"{label}, warm": [empty, path] for label, path in bundles.items()})
    commands["shiv, warm"] = [empty, shiv]
    commands.update({f"{label}, warm": [empty, path] for label, path in pexes.items()})
    commands["`.pyz`, first start"] = [empty, bundles["`.pyz`"]]
    commands["shiv, first start"] = [empty, shiv]
    commands.update({f"{label}, first start": [empty, path] for label, path in pexes.items()})
    commands = {label: [*command, *tool.arguments] for label, command in commands.items()}
    envs: dict[str, dict[str, str]] = {}
    fresh: dict[str, Path] = {}
    roots: dict[str, Path] = {}
    for label in commands:
        variable = "XDG_CACHE_HOME"
        if label.startswith(("shiv", "pex")):
            variable = "SHIV_ROOT" if label.startswith("shiv") else "PEX_ROOT"
        root = work / "roots" / label.replace("`", "").replace(" ", "-").replace(",", "")
        envs[label] = {variable: str(root)}
        (fresh if label.endswith("first start") else roots)[label] = root
    results = timed(commands, runs, envs, fresh, cwd=work)
    table(f"{tool.project} started as", results, "installed (uv, compiled), warm")
    extracted = {label: files_under(roots[f"{label}, warm"]) for label in ("`.pyz`", "shiv", *PEXES)}
    return {
        "results": results,
        "sizes": {label: path.stat().st_size for label, path in {**bundles, "shiv": shiv, **pexes}.items()},
        "extracted": extracted,
    }


def summary(found: dict[str, dict[str, Any]]) -> None:
    """One line per tool: the ratios the targets are about, sizes and files extracted."""
    columns = ["tool", "warm vs installed", "warm vs shiv", "first start vs shiv's", "size vs shiv", "extracted"]
    print("\n| " + " | ".join(columns) + " |")
    print("| --- | --- | --- | --- | --- | --- |")
    for project, data in found.items():
        low = {label: times[0] for label, times in data["results"].items()}
        sizes, extracted = data["sizes"], data["extracted"]
        pyz, shiv = extracted["`.pyz`"], extracted["shiv"]
        print(
            f"| {project} | {low['`.pyz`, warm'] / low['installed (uv, compiled), warm']:.2f}x "
            f"| {low['`.pyz`, warm'] / low['shiv, warm']:.2f}x "
            f"| {low['`.pyz`, first start'] / low['shiv, first start']:.2f}x "
            f"| {sizes['`.pyz`'] / 1e6:.2f} / {sizes['shiv'] / 1e6:.2f} MB = {sizes['`.pyz`'] / sizes['shiv']:.2f}x "
            f"| {pyz[0]} files, {pyz[1] / 1e6:.1f} MB / {shiv[0]} files, {shiv[1] / 1e6:.1f} MB |"
        )
    pex_summary(found)
    print(
        "\nSizes of the stored variant: "
        + ", ".join(f"{project} {data['sizes'][STORED] / 1e6:.2f} MB" for project, data in found.items())
    )


def pex_summary(found: dict[str, dict[str, Any]]) -> None:
    """One line per tool against the two pex files: warm and first start, size, files extracted."""
    columns = [
        "tool",
        "warm vs pex --venv / zipapp",
        "first start vs pex's (--venv / zipapp)",
        "size: `.pyz` / pex --venv / zipapp",
        "extracted: pex --venv / zipapp",
    ]
    print("\n| " + " | ".join(columns) + " |")
    print("| --- | --- | --- | --- | --- |")
    for project, data in found.items():
        low = {label: times[0] for label, times in data["results"].items()}
        sizes, extracted = data["sizes"], data["extracted"]
        venv_pex, zipapp_pex = extracted["pex --venv"], extracted["pex zipapp"]
        print(
            f"| {project} | {low['`.pyz`, warm'] / low['pex --venv, warm']:.2f}x "
            f"/ {low['`.pyz`, warm'] / low['pex zipapp, warm']:.2f}x "
            f"| {low['`.pyz`, first start'] / low['pex --venv, first start']:.2f}x "
            f"/ {low['`.pyz`, first start'] / low['pex zipapp, first start']:.2f}x "
            f"| {sizes['`.pyz`'] / 1e6:.2f} / {sizes['pex --venv'] / 1e6:.2f} / {sizes['pex zipapp'] / 1e6:.2f} MB "
            f"| {venv_pex[0]} files, {venv_pex[1] / 1e6:.1f} MB / {zipapp_pex[0]} files, {zipapp_pex[1] / 1e6:.1f} MB |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tools", nargs="*", default=[tool.project for tool in TOOLS], help="which tools")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, runs={args.runs}")
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-startup-") as scratch:
        work = Path(scratch)
        plain = next(build(work, "plain", "").glob("*.whl"))
        zipapp = f"{HOOK}\n[{HOOK[1:-1]}.zipapp]\ninclude-dependencies = true\n"
        (pyz,) = build(work, "pyz", zipapp).glob("*.pyz")
        (archived,) = build(work, "archived", zipapp + 'run-from = "archive"\n').glob("*.pyz")
        (stored,) = build(work, "stored", zipapp + 'run-from = "archive"\ncompress = false\n').glob("*.pyz")
        zip_wheel = next(build(work, "zip", f'{HOOK}\nlayout = "zip"\n').glob("*.whl"))

        tools = venv(work / "tools", "shiv", "pip", "pex")
        shiv = work / "clickapp.shiv"
        sh(tools.parent / "shiv", "-q", "-c", "clickapp", "-o", shiv, plain)
        pexes = {
            label: pex(tools, plain, "clickapp", flags, work / f"clickapp{n}.pex", work / "pex-build")
            for n, (label, flags) in enumerate(PEXES.items())
        }
        os.environ["SHIV_ROOT"] = str(work / "shiv-root")
        os.environ["PEX_ROOT"] = str(work / "pex-root")
        os.environ["XDG_CACHE_HOME"] = str(work / "user-cache")

        empty = venv(work / "empty")
        venv(work / "installed", "--compile-bytecode", plain)
        venv(work / "zip-layout", zip_wheel)

        results = timed(
            {
                "`.pyz` (hatch-pyc, include-dependencies)": [empty, pyz, "bench"],
                '`.pyz` with `run-from = "archive"`': [empty, archived, "bench"],
                '`.pyz` with `run-from = "archive"`, `compress = false`': [empty, stored, "bench"],
                "shiv bundle, warm cache": [empty, shiv, "bench"],
                "pex --venv, warm cache": [empty, pexes["pex --venv"], "bench"],
                "pex zipapp, warm cache": [empty, pexes["pex zipapp"], "bench"],
                "installed wheel, warm bytecode": [work / "installed/bin/clickapp", "bench"],
                "zip-layout wheel (uv)": [work / "zip-layout/bin/clickapp", "bench"],
                "bare `python -c pass`, for scale": [empty, "-c", "pass"],
            },
            args.runs,
        )
        sizes = {"pyz": pyz.stat().st_size, "stored": stored.stat().st_size, "shiv": shiv.stat().st_size}
        sizes.update({label: path.stat().st_size for label, path in pexes.items()})
        sizes["archived"] = archived.stat().st_size
        table("clickapp started as", results, "installed wheel, warm bytecode")
        kb = {name: f"{size / 1e3:.0f} kB" for name, size in sizes.items()}
        print(
            f"\nclickapp sizes: .pyz {kb['pyz']}, from the archive {kb['archived']}, stored {kb['stored']}, "
            f"shiv {kb['shiv']}, pex --venv {kb['pex --venv']}, pex zipapp {kb['pex zipapp']}"
        )

        found = {}
        for tool in TOOLS:
            if tool.project in args.tools:
                found[tool.project] = tool_startup(work, tools, args.runs, tool)
        summary(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
