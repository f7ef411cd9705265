"""Build time and sourceless wheel size of example_project for each target interpreter.

For every target found (native CPython 3.9 to 3.15 from pyenv, PATH or what `.ci/interpreters`
provisioned, PyPy 3.9 and 3.11, and Pyodide's CPython 3.14 and 3.15 of tests/wasm under Node.js),
builds example_project's sourceless wheel with hatchling in a fresh process and an empty compile
cache, the targets taking turns, and reports min and median wall time and the wheel's size.
Writes benchmarks/latest/targets.md. Run it from .venv: `python benchmarks/targets.py`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from build_speed import report, run_measured

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import PROVISIONED, PYODIDE, WASM, find_python  # noqa: E402

#: example_project requires Python 3.9 or newer.
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


def targets(bin_dir: Path) -> dict[str, tuple[str, str]]:
    """``{label: (python, how it runs)}`` for every target this machine has."""
    found = {}
    for version in VERSIONS:
        native = find_python(version)
        if native is not None:
            found[f"CPython {version}"] = (str(native), "native")
    for version in ("3.9", "3.11"):
        pypy = shutil.which(f"pypy{version}")
        if pypy:
            found[f"PyPy {version}"] = (pypy, "native")
    node = shutil.which("node")
    for version, package in PYODIDE.items():
        if node and (WASM / "node_modules" / f"pyodide{package}").is_dir():
            launcher = bin_dir / f"python{version}"
            launcher.write_text(f'#!/bin/sh\nexec "{node}" "{WASM / "python.mjs"}" {package} "$@"\n')
            launcher.chmod(0o755)
            found[f"Pyodide {version}"] = (str(launcher), "Pyodide (WebAssembly) under Node.js")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if PROVISIONED.is_dir():
        os.environ["PATH"] = f"{PROVISIONED}{os.pathsep}{os.environ.get('PATH', '')}"
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        bin_dir = work / "bin"
        bin_dir.mkdir()
        found = targets(bin_dir)
        project = work / "example_project"
        shutil.copytree(ROOT / "example_project", project, ignore=shutil.ignore_patterns("dist", "build"))
        times: dict[str, list[float]] = {label: [] for label in found}
        sizes: dict[str, int] = {}
        for run in range(args.runs):
            for label, (python, _) in found.items():
                out = work / f"dist-{run}-{len(times[label])}-{label.replace(' ', '')}"
                env = {
                    **os.environ,
                    "HATCH_PYC_LAYOUT": "sourceless",
                    "HATCH_PYC_PYTHON": python,
                    "HATCH_PYC_CACHE_DIR": str(work / f"cache-{run}-{label.replace(' ', '')}"),
                }
                command = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out]
                elapsed, _ = run_measured(command, sample=False, cwd=project, env=env)
                times[label].append(elapsed)
                (wheel,) = out.glob("*.whl")
                sizes[label] = wheel.stat().st_size
    lines = [
        "# example_project: sourceless build per target",
        "",
        f"{datetime.date.today()}, {os.cpu_count()} cores, {platform.machine()}, build run by "
        f"CPython {platform.python_version()}, hatchling in a fresh process, empty compile cache, "
        f"{args.runs} runs taking turns.",
        "",
        "| target | runs as | build time (min / median) | sourceless wheel |",
        "| --- | --- | --- | --- |",
    ]
    for label, (_, how) in found.items():
        lines.append(
            f"| {label} | {how} | {min(times[label]):.2f} / {statistics.median(times[label]):.2f} s "
            f"| {sizes[label]:,} bytes |"
        )
    report("targets", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
