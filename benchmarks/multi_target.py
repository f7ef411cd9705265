"""One zip wheel for several interpreters against the zip wheel for one: first import and size.

Run by hand (never by the test suite), from the repository's dev venv (with uv on PATH):

    python benchmarks/multi_target.py [--runs 7] [--sympy 1.14.0]

Builds sympy (from its sdist, as build_speed.py does) in the zip layout for the running
interpreter alone and for every CPython 3.9 to 3.15 found (pyenv, PATH, `.ci/interpreters`),
installs each with uv into a fresh venv of the running interpreter, and times a first
`import sympy` in a fresh process, the two taking turns (min and median); then the same
against the single-interpreter wheel of each other version found. Reports the wheel sizes
too. Writes benchmarks/latest/multi_target.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from build_speed import REPO, UV, build, import_time, report, sh, sympy_tree

sys.path.insert(0, str(REPO / "tests"))
from helpers import PROVISIONED, find_python

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sympy", default="1.14.0")
    args = parser.parse_args()
    if PROVISIONED.is_dir():
        os.environ["PATH"] = f"{PROVISIONED}{os.pathsep}{os.environ.get('PATH', '')}"
    pythons = {version: python for version in VERSIONS if (python := find_python(version)) is not None}
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        tree = sympy_tree(args.sympy, work)
        build_env = work / "build-env"
        sh(UV, "venv", "-q", "-p", sys.executable, build_env)
        python = build_env / "bin" / "python"
        sh(UV, "pip", "install", "-q", "--compile-bytecode", "-p", python, "hatchling", REPO)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        every = json.dumps([str(p) for p in pythons.values()])
        hooks = {
            f"one ({here})": f'layout = "zip"\ncache = false\npython = "{sys.executable}"',
            f"several ({len(pythons)}: {', '.join(pythons)})": f'layout = "zip"\ncache = false\npython = {every}',
        }
        wheels = {label: build(python, tree, work / f"dist-{index}", hook, env, False)[2] for index, (label, hook) in
                  enumerate(hooks.items())}  # fmt: skip
        sizes = {label: wheel.stat().st_size for label, wheel in wheels.items()}
        venvs = {}
        for index, (label, wheel) in enumerate(wheels.items()):
            venv = work / f"venv-{index}"
            sh(UV, "venv", "-q", "-p", sys.executable, venv)
            sh(UV, "pip", "install", "-q", "-p", venv / "bin" / "python", wheel)
            venvs[label] = venv / "bin" / "python"
        times: dict[str, list[float]] = {label: [] for label in wheels}
        for _ in range(args.runs):
            for label, venv_python in venvs.items():
                times[label].append(import_time(venv_python, env))

    first, second = wheels
    one, several = min(times[first]), min(times[second])
    lines = [
        "# One zip wheel for several interpreters against the zip wheel for one",
        "",
        f"{datetime.date.today()}, sympy {args.sympy}, {os.cpu_count()} cores, {platform.machine()}, CPython "
        f"{platform.python_version()} importing; {args.runs} runs taking turns, each a fresh process after "
        "`uv pip install` into a fresh venv.",
        "",
        "| zip wheel for | size | first `import sympy` (min / median) |",
        "| --- | --- | --- |",
    ]
    for label in wheels:
        lines.append(
            f"| {label} | {sizes[label] / 1e6:.1f} MB "
            f"| {min(times[label]):.3f} / {statistics.median(times[label]):.3f} s |"
        )
    size = sizes[second] / sizes[first]
    lines += ["", f"several / one: first import {several / one:.3f}x (by min, target <= 1.05x), size {size:.2f}x"]
    report("multi_target", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
