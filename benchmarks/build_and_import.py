"""Build time, wheel size and first-import time, with and without the hook.

Run by hand (never by the test suite), from the repository's dev venv:

    python benchmarks/build_and_import.py [--runs 3] [--sympy 1.14.0]

For example_project and for the sympy sdist from PyPI (built by hatchling with a small
pyproject written over it), it measures side by side: a plain hatchling wheel build, the
same build with the ``pyc`` hook, and ``python -m compileall -q -j0`` of the tree; the size
of each wheel; and the first ``import`` after ``uv pip install`` (which compiles nothing)
with ``PYTHONDONTWRITEBYTECODE=1``, as these machines set it. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
UV = shutil.which("uv") or "uv"
#: Runtime dependencies of the measured projects, installed with them.
DEPENDENCIES = {"sympy": ["mpmath>=1.1.0,<1.4"]}

PYPROJECT = """\
[build-system]
requires = ["hatchling", "hatch-pyc"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "{version}"
dependencies = {dependencies}

[tool.hatch.build.targets.wheel]
packages = ["{package}"]
{hook}
"""


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return min(samples), statistics.median(samples)


def sh(*command: str | os.PathLike[str], **kwargs: object) -> None:
    subprocess.run([str(c) for c in command], check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def sympy_tree(version: str, work: Path) -> Path:
    CACHE.mkdir(exist_ok=True)
    sdist = CACHE / f"sympy-{version}.tar.gz"
    if not sdist.exists():
        sh(
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            CACHE,
            f"sympy=={version}",
        )
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    tree = work / f"sympy-{version}"
    (tree / "setup.py").unlink(missing_ok=True)
    return tree


def build(tree: Path, out: Path, hook: bool, name: str, version: str, package: str) -> Path:
    hook_table = "[tool.hatch.build.targets.wheel.hooks.pyc]\n" if hook else ""
    (tree / "pyproject.toml").write_text(
        PYPROJECT.format(
            name=name, version=version, package=package, hook=hook_table, dependencies=DEPENDENCIES.get(name, [])
        )
    )
    shutil.rmtree(out, ignore_errors=True)
    sh(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out, cwd=tree)
    (wheel,) = out.glob("*.whl")
    return wheel


def first_import_time(wheel: Path, module: str, work: Path, runs: int) -> tuple[float, float]:
    """Fresh venv and ``uv pip install`` per run, then one timed ``import``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for number in range(runs):
        venv = work / f"venv-{wheel.stem}-{number}"
        sh(UV, "venv", "-q", "-p", sys.executable, venv)
        sh(UV, "pip", "install", "-q", "-p", venv / "bin" / "python", wheel)
        start = time.perf_counter()
        sh(venv / "bin" / "python", "-c", f"import {module}", env=env)
        samples.append(time.perf_counter() - start)
        shutil.rmtree(venv)
    return min(samples), statistics.median(samples)


def measure(label: str, tree: Path, name: str, version: str, package: str, module: str, runs: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="hatch-pyc-bench-"))
    try:
        plain = timed(lambda: build(tree, work / "plain", False, name, version, package), runs)
        plain_wheel = build(tree, work / "plain", False, name, version, package)
        hooked = timed(lambda: build(tree, work / "hook", True, name, version, package), runs)
        hook_wheel = build(tree, work / "hook", True, name, version, package)

        def compileall() -> None:
            copy = work / "compileall"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(tree / package, copy)
            sh(sys.executable, "-m", "compileall", "-q", "-j0", copy)

        compiled = timed(compileall, runs)
        import_plain = first_import_time(plain_wheel, module, work, runs)
        import_hook = first_import_time(hook_wheel, module, work, runs)
        sizes = plain_wheel.stat().st_size / 1e3, hook_wheel.stat().st_size / 1e3
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def fmt(pair: tuple[float, float]) -> str:
        return f"{pair[0]:.2f} / {pair[1]:.2f}"

    return [
        f"| {label} | plain hatchling build | {fmt(plain)} s |",
        f"| {label} | build with hook (alongside) | {fmt(hooked)} s |",
        f"| {label} | compileall -j0 of the tree | {fmt(compiled)} s |",
        f"| {label} | hook / (plain + compileall) | {hooked[0] / (plain[0] + compiled[0]):.2f}x (min) |",
        f"| {label} | wheel size plain / with hook | {sizes[0]:.0f} / {sizes[1]:.0f} kB |",
        f"| {label} | first import after uv install, plain | {fmt(import_plain)} s |",
        f"| {label} | first import after uv install, hook | {fmt(import_hook)} s |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sympy", default="1.14.0", help="sympy version to fetch (empty: skip)")
    args = parser.parse_args()

    rows = ["| project | measure | min / median |", "| --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as scratch:
        example = Path(scratch) / "example_project"
        shutil.copytree(REPO / "example_project", example)
        rows += measure(
            "example_project", example, "example-app", "1.0.0", "src/example_app", "example_app.cli", args.runs
        )
        if args.sympy:
            tree = sympy_tree(args.sympy, Path(scratch))
            rows += measure(f"sympy {args.sympy}", tree, "sympy", args.sympy, "sympy", "sympy", args.runs)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, runs={args.runs}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
