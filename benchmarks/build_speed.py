"""Build speed, compile cache, memory, first import and sizes on a large tree (sympy).

Run by hand (never by the test suite), from the repository's dev venv (with uv on PATH):

    python benchmarks/build_speed.py [--runs 3] [--sympy 1.14.0]

It fetches the sympy sdist and the pyc-wheel tool from PyPI (matplotlib too, for the
chart, into a scratch venv), writes a small hatchling pyproject over the sdist, and
measures side by side, the runs taking turns: a plain hatchling wheel build; the build with
the hook in the sourceless layout with an empty compile cache, and again with the cache of
the previous build; ``python -m compileall -q -j0`` of the tree; pyc-wheel on the plain
wheel; the peak RSS of each build's process tree; the first ``import sympy`` after
``uv pip install`` of the alongside wheel against the warm import of the same install and
against the plain wheel; and the sizes of the wheels. It writes
``benchmarks/latest/build_speed.md`` (a markdown table) and ``build_speed.png``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
OUT = Path(__file__).resolve().parent / "latest"
UV = shutil.which("uv") or "uv"

PYPROJECT = """\
[build-system]
requires = ["hatchling", "hatch-pyc"]
build-backend = "hatchling.build"

[project]
name = "sympy"
version = "{version}"
dependencies = ["mpmath>=1.1.0,<1.4"]

[tool.hatch.build.targets.wheel]
packages = ["sympy"]
{hook}
"""


def sh(*command: str | os.PathLike[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in bytes (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run_measured(command: list[str | os.PathLike[str]], **kwargs: object) -> tuple[float, int]:
    """Wall time and peak RSS of the process tree (sampled every 10 ms) of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen([str(c) for c in command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{command} failed:\n{stderr.decode()}")
    return elapsed, peak


def fetch(requirement: str, name: str) -> Path:
    CACHE.mkdir(exist_ok=True)
    found = sorted(CACHE.glob(f"{name}.*"))
    if not found:
        sh(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", CACHE, requirement)
        found = sorted(CACHE.glob(f"{name}.*"))
    return found[0]


def sympy_tree(version: str, work: Path) -> Path:
    with tarfile.open(fetch(f"sympy=={version}", f"sympy-{version}")) as tar:
        tar.extractall(work, filter="data")
    tree = work / f"sympy-{version}"
    (tree / "setup.py").unlink(missing_ok=True)
    return tree


def build(tree: Path, out: Path, hook: str | None, env: dict[str, str]) -> tuple[float, int, Path]:
    version = tree.name.split("-", 1)[1]
    table = f"[tool.hatch.build.targets.wheel.hooks.pyc]\n{hook}" if hook is not None else ""
    (tree / "pyproject.toml").write_text(PYPROJECT.format(version=version, hook=table))
    shutil.rmtree(out, ignore_errors=True)
    elapsed, peak = run_measured(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out], cwd=tree, env=env
    )
    (wheel,) = out.glob("*.whl")
    return elapsed, peak, wheel


def import_time(python: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    sh(python, "-c", "import sympy", env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sympy", default="1.14.0")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hatch-pyc-speed-"))
    tools = work / "tools"
    sh(UV, "venv", "-q", "-p", sys.executable, tools)
    sh(UV, "pip", "install", "-q", "-p", tools / "bin" / "python", "pyc-wheel", "matplotlib")
    tree = sympy_tree(args.sympy, work)
    cache_dir = work / "pyc-cache"
    env = {**os.environ, "HATCH_PYC_CACHE_DIR": str(cache_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    samples: dict[str, list[float]] = {}
    memory: dict[str, list[int]] = {}

    def record(name: str, seconds: float, peak: int | None = None) -> None:
        samples.setdefault(name, []).append(seconds)
        if peak is not None:
            memory.setdefault(name, []).append(peak)

    try:
        for _ in range(args.runs):
            seconds, peak, plain = build(tree, work / "plain", None, env)
            record("plain hatchling build", seconds, peak)
            shutil.rmtree(cache_dir, ignore_errors=True)
            seconds, peak, sourceless = build(tree, work / "cold", 'layout = "sourceless"', env)
            record("hook, sourceless, empty cache", seconds, peak)
            seconds, peak, _ = build(tree, work / "warm", 'layout = "sourceless"', env)
            record("hook, sourceless, warm cache (rebuild)", seconds, peak)
            copy = work / "compileall"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(tree / "sympy", copy)
            seconds, peak = run_measured([sys.executable, "-m", "compileall", "-q", "-j0", copy])
            record("compileall -q -j0", seconds, peak)
            pyc_wheel = work / "pyc-wheel" / plain.name
            pyc_wheel.parent.mkdir(exist_ok=True)
            shutil.copy(plain, pyc_wheel)
            seconds, peak = run_measured([tools / "bin" / "python", "-m", "pyc_wheel", pyc_wheel])
            record("pyc-wheel on the plain wheel (reference)", seconds, peak)

        sizes = {"plain (source)": plain.stat().st_size, "sourceless, optimize 0": sourceless.stat().st_size}
        _, _, alongside = build(tree, work / "alongside", "cache = false", env)
        sizes["alongside, optimize 0"] = alongside.stat().st_size
        _, _, opt2 = build(tree, work / "opt2", 'layout = "sourceless"\noptimize = 2\ncache = false', env)
        sizes["sourceless, optimize 2"] = opt2.stat().st_size

        imports: dict[str, list[float]] = {}
        for label, wheel in (("hook (alongside)", alongside), ("plain", plain)):
            for number in range(args.runs):
                venv = work / f"venv-{number}"
                shutil.rmtree(venv, ignore_errors=True)
                sh(UV, "venv", "-q", "-p", sys.executable, venv)
                sh(UV, "pip", "install", "-q", "-p", venv / "bin" / "python", wheel)
                python = venv / "bin" / "python"
                imports.setdefault(f"first import, {label}", []).append(import_time(python, env))
                if label == "hook (alongside)":
                    imports.setdefault(f"warm import, {label}", []).append(import_time(python, env))
                else:
                    # Warm for a plain wheel: after the install's bytecode has been written once.
                    sh(python, "-m", "compileall", "-q", venv / "lib")
                    imports.setdefault(f"warm import, {label}", []).append(import_time(python, env))
    finally:
        shutil.rmtree(work / "compileall", ignore_errors=True)

    def fmt(values: list[float]) -> str:
        return f"{min(values):.2f} / {statistics.median(values):.2f} s"

    def mb(values: list[int]) -> str:
        return f"{max(values) / 1e6:.0f} MB"

    low = {name: min(values) for name, values in samples.items()}
    first_build = low["hook, sourceless, empty cache"] / (low["plain hatchling build"] + low["compileall -q -j0"])
    rebuild = low["hook, sourceless, warm cache (rebuild)"] / low["plain hatchling build"]
    rss = max(memory["hook, sourceless, empty cache"]) / max(memory["plain hatchling build"])
    first_import = min(imports["first import, hook (alongside)"]) / min(imports["warm import, hook (alongside)"])
    versus_plain = min(imports["first import, hook (alongside)"]) / min(imports["first import, plain"])
    when = datetime.date.today().isoformat()
    machine = f"{os.cpu_count()} cores, {platform.machine()}, CPython {platform.python_version()}"
    lines = [
        f"sympy {args.sympy}, {when}, {machine}, {args.runs} runs, min / median (peak RSS of the process tree: max)",
        "",
        "| measure | time | peak RSS |",
        "| --- | --- | --- |",
        *(f"| {name} | {fmt(values)} | {mb(memory[name])} |" for name, values in samples.items()),
        *(f"| {name} | {fmt(values)} | |" for name, values in imports.items()),
        *(f"| wheel size, {name} | {size / 1e6:.1f} MB | |" for name, size in sizes.items()),
        "",
        "| target | measured (by min) | limit |",
        "| --- | --- | --- |",
        f"| hook, empty cache / (plain build + compileall -j0) | {first_build:.2f}x | 1.0x (aim 0.9x) |",
        f"| hook, warm cache / plain build | {rebuild:.2f}x | 1.3x |",
        f"| peak RSS hook / plain build | {rss:.2f}x | 2x |",
        f"| first import after uv install / warm import (alongside) | {first_import:.2f}x | 1.1x |",
        f"| first import after uv install, hook / plain wheel | {versus_plain:.2f}x | (reported) |",
    ]
    OUT.mkdir(exist_ok=True)
    (OUT / "build_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    chart = work / "chart.py"
    chart.write_text(
        "import sys, json, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "data, title, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
        "fig, ax = plt.subplots(figsize=(9, 4.5))\n"
        "names = list(data)[::-1]\n"
        "ax.barh(names, [min(data[n]) for n in names], color='#4c72b0')\n"
        "for i, n in enumerate(names):\n"
        "    ax.text(min(data[n]), i, f' {min(data[n]):.2f} s', va='center')\n"
        "ax.set_xlabel('seconds (minimum of the runs)')\nax.set_title(title, fontsize=9)\n"
        "fig.tight_layout()\nfig.savefig(out, dpi=110)\n"
    )
    bars = {**samples, "plain build + compileall -j0": [low["plain hatchling build"] + low["compileall -q -j0"]]}
    sh(
        tools / "bin" / "python",
        chart,
        json.dumps(bars),
        f"sympy {args.sympy} wheel builds, {when}, {machine}",
        OUT / "build_speed.png",
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
