"""What each installed distribution costs at import, by layout: 50 small ones imported in one process.

Run by hand (never by the test suite), from the repository's dev venv:

    python benchmarks/per_distribution.py [--runs 20] [--count 50]

Generates ``--count`` small distinct distributions (``d0`` to ``d49``: a package of 3 to 5
small modules, its ``__init__`` importing them all), writes each as a plain wheel and
converts it with ``hatch-pyc convert`` into an alongside, a sourceless and a zip-layout
wheel (for the CPython 3.11 of pyenv). Each set is installed by ``uv pip install`` (without
``--compile-bytecode``: nothing compiled at install) into a fresh venv of that interpreter,
and ``python -c "import d0, d1, ..., d49"`` is timed with ``PYTHONDONTWRITEBYTECODE=1`` (no
cache written, as in a Docker image or on read-only site-packages), the layouts taking turns
run after run, with a bare ``python -c pass`` for scale. Whatever the import compiles shows
in the audit hook's ``compile`` events, counted once per layout.

Prints min / median, the ratios of sourceless and zip to alongside (the target: sourceless
at most 1.05x alongside, the finders and stubs each wheel adds included) and what each
distribution adds over the bare start; writes ``benchmarks/latest/per_distribution.md``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime
import hashlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OUT = Path(__file__).resolve().parent / "latest"
#: uv on PATH, else the one beside this interpreter (the dev venv's, not activated).
UV = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
HATCH_PYC = Path(sys.executable).parent / "hatch-pyc"
#: The interpreter the venvs are made of, and the wheels compiled for.
PYTHON = os.environ.get("HATCH_PYC_BENCH_PYTHON", "/root/.pyenv/versions/3.11.7/bin/python")
#: The layouts compared, by their ``--layout``; the first is the base of the ratios.
LAYOUTS = ("alongside", "sourceless", "zip")
#: Counts what the imports compile: the audit hook's ``compile`` events and their source bytes.
AUDIT = """
import sys
seen = [0, 0]
def hook(event, args):
    if event == "compile" and isinstance(args[0], (bytes, str)):
        seen[0] += 1
        seen[1] += len(args[0])
sys.addaudithook(hook)
import {modules}
print(seen[0], seen[1])
"""


def sh(*command: object, **kwargs: object) -> str:
    result = subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    return result.stdout


def module_text(dist: int, module: int) -> str:
    """A small module of its own: a few constants, functions and a class, named after both numbers."""
    return f'''"""Module {module} of distribution {dist}."""

import os

LIMIT_{dist}_{module} = {dist * 100 + module}
NAMES = ("d{dist}", "m{module}", {dist + module!r})


def add_{module}(a, b=LIMIT_{dist}_{module}):
    return a + b * {module + 1}


def describe(value):
    if isinstance(value, int):
        return f"int {{value}} in d{dist}.m{module}"
    return os.fspath(str(value))


class Thing{dist}x{module}:
    scale = {dist + 1}

    def __init__(self, value):
        self.value = value

    def scaled(self):
        return [item * self.scale for item in range(self.value)]
'''


def plain_wheel(out: Path, dist: int) -> Path:
    """The plain wheel of distribution ``d<dist>``: 3 to 5 modules and an ``__init__`` importing them."""
    name = f"d{dist}"
    modules = 3 + dist % 3
    files = {f"{name}/m{module}.py": module_text(dist, module).encode() for module in range(modules)}
    imports = "".join(f"from . import m{module}\n" for module in range(modules))
    files[f"{name}/__init__.py"] = f'"""Distribution {dist}."""\n\n{imports}\nVERSION = "1.{dist}"\n'.encode()
    info = f"{name}-1.0.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = io.StringIO()
    rows = csv.writer(record, lineterminator="\n")
    path = out / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in files.items():
            archive.writestr(entry, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.writerow((entry, f"sha256={digest}", len(data)))
        rows.writerow((f"{info}/RECORD", "", ""))
        archive.writestr(f"{info}/RECORD", record.getvalue())
    return path


def timed(commands: dict[str, list[object]], runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    """Wall times of each command, the commands taking turns run after run; each run once first (the page cache)."""
    for command in commands.values():
        sh(*command, env=env)
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            start = time.perf_counter()
            subprocess.run([str(c) for c in command], check=True, capture_output=True, env=env)
            samples[label].append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--count", type=int, default=50, help="how many distributions")
    args = parser.parse_args()
    version = sh(PYTHON, "-c", "import platform; print(platform.python_version())").strip()
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-per-dist-") as scratch:
        work = Path(scratch)
        (work / "plain").mkdir()
        plain = [plain_wheel(work / "plain", dist) for dist in range(args.count)]

        def convert(job: tuple[str, Path]) -> None:
            layout, wheel = job
            sh(HATCH_PYC, "convert", wheel, "--layout", layout, "--python", PYTHON, "--no-cache", "-o", work / layout)

        jobs = [(layout, wheel) for layout in LAYOUTS for wheel in plain]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(convert, jobs))
        pythons: dict[str, Path] = {}
        for layout in LAYOUTS:
            wheels = sorted((work / layout).glob("*.whl"))
            assert len(wheels) == args.count, (layout, wheels)
            venv = work / f"venv-{layout}"
            sh(UV, "venv", "-q", "-p", PYTHON, venv)
            pythons[layout] = venv / "bin" / "python"
            sh(UV, "pip", "install", "-q", "--no-deps", "-p", pythons[layout], *wheels)
        modules = ", ".join(f"d{dist}" for dist in range(args.count))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        compiled = {
            layout: sh(python, "-c", AUDIT.format(modules=modules), env=env).split()
            for layout, python in pythons.items()
        }
        sizes = {layout: sum(p.stat().st_size for p in (work / layout).glob("*.whl")) for layout in LAYOUTS}
        commands: dict[str, list[object]] = {
            layout: [python, "-c", f"import {modules}"] for layout, python in pythons.items()
        }
        commands["bare `python -c pass`"] = [pythons[LAYOUTS[0]], "-c", "pass"]
        samples = timed(commands, args.runs, env)

    low = {label: min(times) for label, times in samples.items()}
    median = {label: statistics.median(times) for label, times in samples.items()}
    bare = "bare `python -c pass`"
    base = LAYOUTS[0]
    lines = [
        f"{datetime.date.today()}, {os.cpu_count()} cores, {platform.machine()}, CPython {version}, "
        f"{args.count} distributions of 3 to 5 modules, installed by uv without compiling, "
        f"PYTHONDONTWRITEBYTECODE=1, {args.runs} runs, min / median",
        "",
        f"| `import d0, ..., d{args.count - 1}` from | time | vs {base} (min / median) "
        "| per distribution over the bare start | compiled at import (audit hook) | wheels |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label in commands:
        per = (low[label] - low[bare]) / args.count
        count, size = compiled.get(label, ("", ""))
        lines.append(
            f"| {label} | {low[label] * 1e3:.1f} / {median[label] * 1e3:.1f} ms "
            f"| {low[label] / low[base]:.2f}x / {median[label] / median[base]:.2f}x "
            f"| {per * 1e3:.2f} ms | "
            + (f"{count} sources, {int(size):,} bytes | {sizes[label] / 1e3:.0f} kB |" if label in compiled else "| |")
        )
    lines.append("")
    for layout in LAYOUTS[1:]:
        ratio = low[layout] / low[base]
        verdict = "met" if ratio <= 1.05 else "not met"
        lines.append(
            f"- {layout} / {base}: {ratio:.2f}x by the minimum, {median[layout] / median[base]:.2f}x by the median"
            + (f" (target <= 1.05x, {verdict})" if layout == "sourceless" else "")
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "per_distribution.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
