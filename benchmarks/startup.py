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

Prints a markdown table of min / median and the ratios of the minimums.
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


def timed(commands: dict[str, list[object]], runs: int) -> dict[str, tuple[float, float]]:
    """Min and median wall time of each command, the commands taking turns run after run
    so that a slow moment of the machine does not fall on one of them alone."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for command in commands.values():
        sh(*command, env=env)  # warm: caches, pycs the installer did not write, the page cache
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            start = time.perf_counter()
            subprocess.run([str(c) for c in command], check=True, capture_output=True, env=env)
            samples[label].append(time.perf_counter() - start)
    return {label: (min(times), statistics.median(times)) for label, times in samples.items()}


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

    base = results["installed wheel, warm bytecode"][0]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, runs={args.runs}")
    print("| clickapp started as | min / median | min vs installed wheel |")
    print("| --- | --- | --- |")
    for label, (low, median) in results.items():
        print(f"| {label} | {low * 1e3:.1f} / {median * 1e3:.1f} ms | {low / base:.2f}x |")
    kb = {name: f"{size / 1e3:.0f} kB" for name, size in sizes.items()}
    print(f"\nsizes: .pyz {kb['pyz']}, .pyz compressed {kb['deflated']}, shiv {kb['shiv']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
