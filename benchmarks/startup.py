"""Start-up time of one small click CLI shipped four ways.

Run by hand (never by the test suite), from the repository's dev venv:

    python benchmarks/startup.py [--runs 40]

The CLI is ``tests/projects/clickapp`` (a command with one argument and one option,
depending on click). Side by side, each timed as a whole process started from an empty
venv's Python (``clickapp bench``), it measures:

- ``pyz``: the hook's ``.pyz`` with ``include-dependencies = true``;
- ``shiv``: a shiv bundle of the plain wheel and click, its cache warm (run once first);
- ``installed``: the plain wheel and click installed by ``uv pip install
  --compile-bytecode`` (as pip does by default), bytecode warm;
- ``zip layout``: the hook's zip-layout wheel installed by uv.

Then two real CLIs with native dependencies from PyPI: ``jinja2-cli`` (jinja2 on markupsafe)
rendering a template, and ``check-jsonschema`` (jsonschema on
rpds-py, regress, requests on charset-normalizer's compiled modules), validating a small
file against a schema:

- ``pyz``: ``hatch-pyc bundle --with-dependencies`` of its PyPI wheel, warm (its extension
  modules extracted) and first start (an empty cache before each run);
- ``shiv`` and ``pex``: bundles of the same, warm and first start (an empty ``SHIV_ROOT`` or
  ``PEX_ROOT`` before each run);
- ``installed``: installed by ``uv pip install --compile-bytecode``, bytecode warm.

Prints markdown tables of min / median and the ratios of the minimums, and the sizes.
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
from pathlib import Path

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
            sh(*command, env=env[label])  # warm: caches, pycs the installer did not write, the page cache
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            if label in fresh:
                shutil.rmtree(fresh[label], ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([str(c) for c in command], check=True, capture_output=True, env=env[label])
            samples[label].append(time.perf_counter() - start)
    return {label: (min(times), statistics.median(times)) for label, times in samples.items()}


def table(title: str, results: dict[str, tuple[float, float]], base: str) -> None:
    low_base = results[base][0]
    print(f"\n| {title} | min / median | min vs {base} |")
    print("| --- | --- | --- |")
    for label, (low, median) in results.items():
        print(f"| {label} | {low * 1e3:.1f} / {median * 1e3:.1f} ms | {low / low_base:.2f}x |")


#: Real CLIs with native dependencies, from PyPI: (distribution, console script, input files, arguments).
NATIVE_CLIS = [
    (
        "jinja2-cli",
        "jinja2",
        {"template.j2": "hello {{ name }}", "data.json": '{"name": "you"}'},
        ["template.j2", "data.json"],
    ),
    (
        "check-jsonschema",
        "check-jsonschema",
        {"schema.json": '{"type": "object", "properties": {"a": {"type": "integer"}}}', "instance.json": '{"a": 1}'},
        ["--schemafile", "schema.json", "instance.json"],
    ),
]


def native_cli(
    work: Path, tools: Path, runs: int, project: str, script: str, inputs: dict[str, str], arguments: list[str]
) -> None:
    """A CLI from PyPI, bundled three ways and installed, warm and at first start."""
    work = work / project
    wheels = work / "wheel"
    sh(tools, "-m", "pip", "download", "-q", "--no-deps", project, "-d", wheels)
    (wheel,) = wheels.glob("*.whl")
    pyz, shiv, pex = work / f"{project}.pyz", work / f"{project}.shiv", work / f"{project}.pex"
    sh(sys.executable, "-m", "hatch_pyc.cli", "bundle", wheel, "--with-dependencies", "-o", pyz)
    sh(tools.parent / "shiv", "-q", "-c", script, "-o", shiv, wheel)
    sh(tools.parent / "pex", wheel, "-c", script, "-o", pex, "--python", sys.executable)
    venv(work / "installed", "--compile-bytecode", wheel)
    for name, text in inputs.items():
        (work / name).write_text(text)
    arguments = [work / argument if argument in inputs else argument for argument in arguments]
    empty = venv(work / "empty")
    commands: dict[str, list[object]] = {
        "`.pyz` (hatch-pyc bundle), warm": [empty, pyz, *arguments],
        "installed wheel, warm bytecode": [work / "installed" / "bin" / script, *arguments],
        "shiv, warm": [empty, shiv, *arguments],
        "pex, warm": [empty, pex, *arguments],
        "`.pyz`, first start": [empty, pyz, *arguments],
        "shiv, first start": [empty, shiv, *arguments],
        "pex, first start": [empty, pex, *arguments],
    }
    variables = {"`.pyz`": "XDG_CACHE_HOME", "shiv": "SHIV_ROOT", "pex": "PEX_ROOT"}
    envs: dict[str, dict[str, str]] = {}
    fresh: dict[str, Path] = {}
    roots: dict[str, Path] = {}
    for label in commands:
        tool = next((name for name in variables if label.startswith(name)), None)
        if tool is None:
            continue
        root = work / "roots" / label.replace("`", "").replace(" ", "-")
        envs[label] = {variables[tool]: str(root)}
        if label.endswith("first start"):
            fresh[label] = root
        else:
            roots[tool] = root
    results = timed(commands, runs, envs, fresh)
    table(f"{project} started as", results, "installed wheel, warm bytecode")
    sizes = {"`.pyz`": pyz, "shiv": shiv, "pex": pex}
    listed = ", ".join(f"{name} {path.stat().st_size / 1e6:.2f} MB" for name, path in sizes.items())
    print(f"\n{project} sizes: {listed}")
    for name, root in roots.items():
        files = [p for p in root.rglob("*") if p.is_file()]
        total = sum(p.stat().st_size for p in files)
        print(f"extracted by {name}: {len(files)} files, {total / 1e6:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-startup-") as scratch:
        work = Path(scratch)
        plain = next(build(work, "plain", "").glob("*.whl"))
        zipapp = f"{HOOK}\n[{HOOK[1:-1]}.zipapp]\ninclude-dependencies = true\n"
        (pyz,) = build(work, "pyz", zipapp).glob("*.pyz")
        (deflated,) = build(work, "deflated", zipapp + "compress = true\n").glob("*.pyz")
        zip_wheel = next(build(work, "zip", f'{HOOK}\nlayout = "zip"\n').glob("*.whl"))

        tools = venv(work / "tools", "shiv", "pip")
        shiv = work / "clickapp.shiv"
        sh(tools.parent / "shiv", "-q", "-c", "clickapp", "-o", shiv, plain)
        os.environ["SHIV_ROOT"] = str(work / "shiv-root")

        empty = venv(work / "empty")
        venv(work / "installed", "--compile-bytecode", plain)
        venv(work / "zip-layout", zip_wheel)

        results = timed(
            {
                "`.pyz` (hatch-pyc, include-dependencies)": [empty, pyz, "bench"],
                "`.pyz` with `compress = true`": [empty, deflated, "bench"],
                "shiv bundle, warm cache": [empty, shiv, "bench"],
                "installed wheel, warm bytecode": [work / "installed/bin/clickapp", "bench"],
                "zip-layout wheel (uv)": [work / "zip-layout/bin/clickapp", "bench"],
                "bare `python -c pass`, for scale": [empty, "-c", "pass"],
            },
            args.runs,
        )
        sizes = {"pyz": pyz.stat().st_size, "deflated": deflated.stat().st_size, "shiv": shiv.stat().st_size}

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, runs={args.runs}")
    table("clickapp started as", results, "installed wheel, warm bytecode")
    kb = {name: f"{size / 1e3:.0f} kB" for name, size in sizes.items()}
    print(f"\nsizes: .pyz {kb['pyz']}, .pyz compressed {kb['deflated']}, shiv {kb['shiv']}")
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-startup-") as scratch:
        tools = venv(Path(scratch) / "tools", "shiv", "pex", "pip")
        for cli in NATIVE_CLIS:
            native_cli(Path(scratch), tools, args.runs, *cli)
    return 0


if __name__ == "__main__":
    sys.exit(main())
