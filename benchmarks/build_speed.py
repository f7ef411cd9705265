"""Build speed, compile cache, memory, first import and sizes on a large tree (sympy).

Run by hand (never by the test suite), from the repository's dev venv (with uv on PATH):

    python benchmarks/build_speed.py [--runs 3] [--sympy 1.14.0]

It fetches the sympy sdist and the pyc-wheel tool from PyPI (matplotlib too, for the
chart, into a scratch venv), writes a small hatchling pyproject over the sdist, and
measures side by side, the runs taking turns: a plain hatchling wheel build; the build with
the hook in the sourceless layout with an empty compile cache, and again with the cache of
the previous build; ``python -m compileall -q -j0`` of the tree; pyc-wheel on the plain
wheel; the peak RSS of each one's process tree (in a round of its own); the first ``import sympy`` after
``uv pip install`` of the alongside wheel against the warm import of the same install and
against the plain wheel; the first ``import sympy`` from the zip layout, stored and deflated,
against a warm plain install, and the size of its archive on disk; ``hatch-pyc check`` of the
alongside and sourceless wheels against a plain RECORD-hash verification, and ``hatch-pyc
inspect`` against ``python -m zipfile -t``; and the sizes of the wheels, pyc-wheel's and
the sourceless one with column positions among them. Builds run in a build environment
like the one pip makes for a project: hatchling and hatch-pyc (from this checkout)
installed with their bytecode compiled. It also measures the lower bounds under each
target (see ``floors.py``). It writes ``benchmarks/latest/build_speed.md`` (markdown
tables, with the targets of issue 15 checked) and ``build_speed.png``.
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
FLOORS = Path(__file__).resolve().parent / "floors.py"
UV = shutil.which("uv") or "uv"

#: A plain RECORD-hash verification: every entry inflated and hashed once.
RECORD_CHECK = """
import base64, csv, hashlib, io, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
    for path, digest, size in csv.reader(io.StringIO(archive.read(record).decode())):
        if digest:
            h = hashlib.sha256()
            with archive.open(path) as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            assert "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode() == digest, path
"""

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


def report(name: str, lines: list[str]) -> None:
    """Write ``lines`` to ``benchmarks/latest/<name>.md`` and print them."""
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


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


def run_measured(
    command: list[str | os.PathLike[str]], *, sample: bool, ok: tuple[int, ...] = (0,), **kwargs: object
) -> tuple[float, int]:
    """Wall time of ``command`` and, with ``sample``, the peak RSS of its process tree; its
    exit status must be one of ``ok``.

    Sampling reads /proc every 10 ms, which slowed a sympy build that keeps both cores busy
    by 0.5 to 1 s: timed runs do not sample, and memory is measured in a round of its own.
    """
    start = time.perf_counter()
    process = subprocess.Popen([str(c) for c in command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    peak = 0

    def sampler() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.01)

    thread = threading.Thread(target=sampler)
    if sample:
        thread.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    if sample:
        thread.join()
    if process.returncode not in ok:
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


def build(
    python: Path, tree: Path, out: Path, hook: str | None, env: dict[str, str], sample: bool
) -> tuple[float, int, Path]:
    version = tree.name.split("-", 1)[1]
    table = f"[tool.hatch.build.targets.wheel.hooks.pyc]\n{hook}" if hook is not None else ""
    (tree / "pyproject.toml").write_text(PYPROJECT.format(version=version, hook=table))
    shutil.rmtree(out, ignore_errors=True)
    command: list[str | os.PathLike[str]] = [python, "-m", "hatchling", "build", "-t", "wheel", "-d", out]
    elapsed, peak = run_measured(command, sample=sample, cwd=tree, env=env)
    (wheel,) = out.glob("*.whl")
    return elapsed, peak, wheel


def floor(python: Path, *args: str | os.PathLike[str]) -> object:
    """One measurement of ``floors.py``, run by the build environment's Python."""
    return json.loads(sh(python, FLOORS, *args).stdout)


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
    # As in the isolated environment pip builds in: both installed, their bytecode compiled.
    build_env = work / "build-env"
    sh(UV, "venv", "-q", "-p", sys.executable, build_env)
    python = build_env / "bin" / "python"
    sh(UV, "pip", "install", "-q", "--compile-bytecode", "-p", python, "hatchling", REPO)
    cache_dir = work / "pyc-cache"
    env = {**os.environ, "HATCH_PYC_CACHE_DIR": str(cache_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    samples: dict[str, list[float]] = {}
    memory: dict[str, list[int]] = {}
    floors: dict[str, list[float]] = {}

    def measure(sample: bool) -> tuple[Path, Path]:
        """One round of every timed command; with ``sample``, record peak RSS instead of time."""

        def record(name: str, seconds: float, peak: int) -> None:
            if sample:
                memory.setdefault(name, []).append(peak)
            else:
                samples.setdefault(name, []).append(seconds)

        seconds, peak, plain = build(python, tree, work / "plain", None, env, sample)
        record("plain hatchling build", seconds, peak)
        shutil.rmtree(cache_dir, ignore_errors=True)
        seconds, peak, sourceless = build(python, tree, work / "cold", 'layout = "sourceless"', env, sample)
        record("hook, sourceless, empty cache", seconds, peak)
        seconds, peak, _ = build(python, tree, work / "warm", 'layout = "sourceless"', env, sample)
        record("hook, sourceless, warm cache (rebuild)", seconds, peak)
        copy = work / "compileall"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(tree / "sympy", copy)
        seconds, peak = run_measured([python, "-m", "compileall", "-q", "-j0", copy], sample=sample)
        record("compileall -q -j0", seconds, peak)
        pyc_wheel = work / "pyc-wheel" / plain.name
        pyc_wheel.parent.mkdir(exist_ok=True)
        shutil.copy(plain, pyc_wheel)
        seconds, peak = run_measured([tools / "bin" / "python", "-m", "pyc_wheel", pyc_wheel], sample=sample)
        record("pyc-wheel on the plain wheel (reference)", seconds, peak)
        for label, wheel in (("alongside", alongside), ("sourceless", sourceless)):
            seconds, peak = run_measured([hatch_pyc, "check", wheel], sample=sample)
            record(f"hatch-pyc check, {label}", seconds, peak)
            seconds, peak = run_measured([python, "-c", RECORD_CHECK, wheel], sample=sample)
            record(f"RECORD-hash verification, {label} (reference)", seconds, peak)
            seconds, peak = run_measured([hatch_pyc, "inspect", wheel], sample=sample)
            record(f"hatch-pyc inspect, {label}", seconds, peak)
            seconds, peak = run_measured([python, "-m", "zipfile", "-t", wheel], sample=sample)
            record(f"python -m zipfile -t, {label} (reference)", seconds, peak)
        return plain, sourceless, pyc_wheel

    hatch_pyc = build_env / "bin" / "hatch-pyc"
    _, _, alongside = build(python, tree, work / "alongside", "cache = false", env, False)
    try:
        for _ in range(args.runs):
            plain, sourceless, pyc_wheel = measure(sample=False)
            for name, value in (
                ("deflate, plain", floor(python, "deflate", plain)),
                ("deflate, sourceless", floor(python, "deflate", sourceless)),
                ("compile", floor(python, "compile", tree / "sympy")),
                ("canonical", floor(python, "canonical", tree / "sympy")),
            ):
                floors.setdefault(name, []).append(float(value))  # type: ignore[arg-type]
        measure(sample=True)
        compile_rss: dict[str, int] = floor(python, "rss", tree / "sympy")  # type: ignore[assignment]

        sizes = {
            "plain (source)": plain.stat().st_size,
            "pyc-wheel (reference)": pyc_wheel.stat().st_size,
            "sourceless, optimize 0": sourceless.stat().st_size,
        }
        _, _, columns = build(
            python, tree, work / "columns", 'layout = "sourceless"\ndebug-ranges = true\ncache = false', env, False
        )
        sizes["sourceless, optimize 0, debug-ranges = true"] = columns.stat().st_size
        sizes["alongside, optimize 0"] = alongside.stat().st_size
        _, _, opt2 = build(
            python, tree, work / "opt2", 'layout = "sourceless"\noptimize = 2\ncache = false', env, False
        )
        sizes["sourceless, optimize 2"] = opt2.stat().st_size

        zips = {}
        for label, option in (("zip layout, stored", "false"), ("zip layout, deflated", "true")):
            hook = f'layout = "zip"\ncompress = {option}\ncache = false'
            _, _, zips[label] = build(python, tree, work / label.replace(" ", "-").replace(",", ""), hook, env, False)
            sizes[label] = zips[label].stat().st_size
        imports: dict[str, list[float]] = {}
        on_disk: dict[str, int] = {}
        for label, wheel in (("hook (alongside)", alongside), ("plain", plain), *zips.items()):
            for number in range(args.runs):
                venv = work / f"venv-{number}"
                shutil.rmtree(venv, ignore_errors=True)
                sh(UV, "venv", "-q", "-p", sys.executable, venv)
                sh(UV, "pip", "install", "-q", "-p", venv / "bin" / "python", wheel)
                venv_python = venv / "bin" / "python"
                # The dependency's bytecode is warm everywhere: only sympy's own is measured.
                (mpmath,) = (venv / "lib").glob("python*/site-packages/mpmath")
                sh(venv_python, "-m", "compileall", "-q", mpmath)
                imports.setdefault(f"first import, {label}", []).append(import_time(venv_python, env))
                if label.startswith("zip"):
                    (archive,) = (venv / "lib").glob("python*/site-packages/sympy.zip")
                    on_disk[label] = archive.stat().st_size
                elif label == "hook (alongside)":
                    imports.setdefault(f"warm import, {label}", []).append(import_time(venv_python, env))
                else:
                    # Warm for a plain wheel: after the install's bytecode has been written once.
                    sh(venv_python, "-m", "compileall", "-q", venv / "lib")
                    imports.setdefault(f"warm import, {label}", []).append(import_time(venv_python, env))
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
    # The lower bounds: hatchling's own work as in the plain build, plus the deflate the pycs
    # cost over the sources, plus compiling and writing them spread over every core (cold only).
    plain_build, cores = low["plain hatchling build"], os.cpu_count() or 1
    extra_deflate = min(floors["deflate, sourceless"]) - min(floors["deflate, plain"])
    warm_floor = plain_build + extra_deflate
    cold_floor = warm_floor + min(floors["compile"]) / cores
    reproducible_floor = cold_floor + min(floors["canonical"]) / cores
    hungriest = max((name for name in compile_rss if not name.startswith("(")), key=compile_rss.__getitem__)
    plain_rss = max(memory["plain hatchling build"])
    rss_floor = plain_rss + compile_rss[hungriest] - compile_rss["(bare interpreter)"]
    when = datetime.date.today().isoformat()
    machine = f"{os.cpu_count()} cores, {platform.machine()}, CPython {platform.python_version()}"
    lines = [
        f"sympy {args.sympy}, {when}, {machine}, {args.runs} runs, min / median; peak RSS of the process tree "
        "sampled every 10 ms in a run of its own",
        "",
        "| measure | time | peak RSS |",
        "| --- | --- | --- |",
        *(f"| {name} | {fmt(values)} | {mb(memory[name])} |" for name, values in samples.items()),
        *(f"| {name} | {fmt(values)} | |" for name, values in imports.items()),
        *(f"| wheel size, {name} | {size / 1e6:.1f} MB | |" for name, size in sizes.items()),
        "",
        "| lower bound, measured in the same run | value |",
        "| --- | --- |",
        f"| deflate of the plain wheel's members, as hatchling does it (one core) | {fmt(floors['deflate, plain'])} |",
        f"| deflate of the sourceless wheel's members, the same | {fmt(floors['deflate, sourceless'])} |",
        f"| compile(), marshal.dumps() and write of every module, CPU | {fmt(floors['compile'])} |",
        f"| canonical marshal for reproducible bytes, CPU on top of marshal.dumps() | {fmt(floors['canonical'])} |",
        f"| peak RSS of a bare `python -I` | {compile_rss['(bare interpreter)'] / 1e6:.0f} MB |",
        f"| peak RSS of a `python -I` compiling {hungriest} alone | {compile_rss[hungriest] / 1e6:.0f} MB |",
        "",
        "| target | measured (by min) | floor | limit |",
        "| --- | --- | --- | --- |",
        f"| hook, empty cache / (plain build + compileall -j0) | {first_build:.2f}x "
        f"| {cold_floor / (plain_build + low['compileall -q -j0']):.2f}x "
        f"({reproducible_floor / (plain_build + low['compileall -q -j0']):.2f}x with reproducible bytes) "
        "| 1.0x (aim 0.9x) |",
        f"| hook, warm cache / plain build | {rebuild:.2f}x | {warm_floor / plain_build:.2f}x | 1.3x |",
        f"| peak RSS hook / plain build | {rss:.2f}x | {rss_floor / plain_rss:.2f}x | 2x |",
        f"| first import after uv install / warm import (alongside) | {first_import:.2f}x | | 1.1x |",
        f"| first import after uv install, hook / plain wheel | {versus_plain:.2f}x | | (reported) |",
        "",
        "| issue 15 target | measured (by min) | floor | target |",
        "| --- | --- | --- | --- |",
        f"| sourceless wheel size, optimize 0, / pyc-wheel's | "
        f"{sizes['sourceless, optimize 0'] / sizes['pyc-wheel (reference)']:.2f}x | | <= 0.75x |",
        f"| first import after uv install, zip layout (stored) / warm plain install | "
        f"{min(imports['first import, zip layout, stored']) / min(imports['warm import, plain']):.2f}x "
        f"(deflated: {min(imports['first import, zip layout, deflated']) / min(imports['warm import, plain']):.2f}x) "
        "| | <= 1.15x |",
        *(
            f"| check / RECORD-hash verification, {label} | "
            f"{low[f'hatch-pyc check, {label}'] / low[f'RECORD-hash verification, {label} (reference)']:.2f}x "
            "| | <= 2.5x |"
            for label in ("alongside", "sourceless")
        ),
        *(
            f"| inspect / python -m zipfile -t, {label} | "
            f"{low[f'hatch-pyc inspect, {label}'] / low[f'python -m zipfile -t, {label} (reference)']:.2f}x "
            "| | <= 1.3x |"
            for label in ("alongside", "sourceless")
        ),
        f"| cold sourceless build / (plain build + compileall -j0) | {first_build:.2f}x "
        f"| {reproducible_floor / (plain_build + low['compileall -q -j0']):.2f}x "
        f"({reproducible_floor:.2f} s against {low['hook, sourceless, empty cache']:.2f} s) | <= 1.10x |",
        f"| warm rebuild / plain build | {rebuild:.2f}x | {warm_floor / plain_build:.2f}x "
        f"({warm_floor:.2f} s against {low['hook, sourceless, warm cache (rebuild)']:.2f} s) | <= 1.5x |",
        "",
        "Installed size of the zip layout's archive: "
        + ", ".join(f"{label} {size / 1e6:.1f} MB" for label, size in on_disk.items())
        + ".",
        "",
        "Floors: empty cache = plain build + (deflate of the sourceless members - of the plain ones)",
        f"+ compile, marshal and write CPU / {cores} cores (+ canonical marshal CPU / {cores} cores);",
        "warm cache = plain build + that deflate difference;",
        "RSS = plain build's + (the hungriest compile's - a bare interpreter's).",
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
    bars = {
        **samples,
        "plain build + compileall -j0": [low["plain hatchling build"] + low["compileall -q -j0"]],
        "floor: hook, empty cache": [cold_floor],
        "floor: hook, warm cache": [warm_floor],
    }
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
