"""What a sourceless wheel saves in Pyodide: size and load time against the plain wheel.

Run by hand (never by the test suite), from the repository's dev venv, with node and
`npm ci --prefix tests/wasm` done:

    python benchmarks/pyodide.py [--runs 5] [--pygments 2.21.0]

Fetches the pygments sdist (built with hatchling) and the micropip wheel Pyodide's lock file
names, builds pygments' plain wheel and, with the hook, its sourceless wheel compiled by
Pyodide's own CPython 3.14 (at optimize 0 and 2), and then, the wheels taking turns in fresh Node.js processes, installs
each with micropip and times the first `import pygments` plus highlighting a line of Python
(lexer, formatter and their modules imported), measured inside Pyodide. Reports min and median,
and the wheel sizes. Writes benchmarks/latest/pyodide.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from build_speed import report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import PYODIDE, WASM  # noqa: E402

VERSION = "3.14"
USE = """
import time
started = time.perf_counter()
import pygments
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
html = highlight("def f(x):\\n    return x + 1\\n", PythonLexer(), HtmlFormatter())
assert "<span" in html
print("seconds", time.perf_counter() - started)
"""
HOOK = """
[tool.hatch.build.targets.wheel.hooks.pyc]
layout = "sourceless"
cache = false
python = "{python}"
optimize = {optimize}
"""


def sh(*command: object, cwd: Path | None = None) -> str:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True, cwd=cwd).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pygments", default="2.21.0")
    args = parser.parse_args()
    node = shutil.which("node")
    package = PYODIDE[VERSION]
    if node is None or not (WASM / "node_modules" / f"pyodide{package}").is_dir():
        print("needs node and `npm ci --prefix tests/wasm`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        lock = json.loads((WASM / "node_modules" / f"pyodide{package}" / "pyodide-lock.json").read_text())
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", work]
        micropip_version = lock["packages"]["micropip"]["version"]
        sh(*pip, "--only-binary=:all:", "--python-version", VERSION, f"micropip=={micropip_version}")
        sh(*pip, "--no-binary=:all:", f"pygments=={args.pygments}")
        (micropip,) = work.glob("micropip-*.whl")
        with tarfile.open(next(work.glob("pygments-*.tar.gz"))) as sdist:
            sdist.extractall(work, filter="data")
        source = next(path for path in work.glob("pygments-*") if path.is_dir())

        launcher = work / f"python{VERSION}"
        launcher.write_text(f'#!/bin/sh\nexec "{node}" "{WASM / "python.mjs"}" {package} "$@"\n')
        launcher.chmod(0o755)
        build = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d"]
        sh(*build, work / "plain", cwd=source)
        pyproject = source / "pyproject.toml"
        original = pyproject.read_text()
        for kind, level in (("sourceless", 0), ("sourceless, optimize 2", 2)):
            pyproject.write_text(original + HOOK.format(python=launcher, optimize=level))
            sh(*build, work / kind, cwd=source)
        kinds = ("plain", "sourceless", "sourceless, optimize 2")
        wheels = {kind: next((work / kind).glob("*.whl")) for kind in kinds}
        sizes = {kind: wheel.stat().st_size for kind, wheel in wheels.items()}

        times: dict[str, list[float]] = {kind: [] for kind in wheels}
        for _ in range(args.runs):
            for kind, wheel in wheels.items():
                output = sh(node, WASM / "micropip.mjs", package, micropip, USE, wheel)
                times[kind].append(float(output.split()[-1]))

    lines = [
        "# Pyodide: a sourceless wheel against the plain wheel",
        "",
        f"{datetime.date.today()}, pygments {args.pygments}, Pyodide {package} (CPython {VERSION}) under Node.js "
        f"{sh(node, '--version').strip()}, {args.runs} runs taking turns, each in a fresh Node.js process; "
        "time inside Pyodide from `import pygments` to a highlighted line, after `micropip.install`.",
        "",
        "| wheel | size | first import and use (min / median) |",
        "| --- | --- | --- |",
    ]
    for kind, wheel in wheels.items():
        lines.append(
            f"| {kind} (`{wheel.name}`) | {sizes[kind] / 1e6:.2f} MB "
            f"| {min(times[kind]) * 1e3:.0f} / {statistics.median(times[kind]) * 1e3:.0f} ms |"
        )
    lines.append("")
    for kind in kinds[1:]:
        size, seconds = sizes[kind] / sizes["plain"], min(times[kind]) / min(times["plain"])
        lines.append(f"{kind} / plain: size {size:.2f}x, first import and use {seconds:.2f}x (by min)  ")
    report("pyodide", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
