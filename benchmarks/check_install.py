"""Time and peak memory of `hatch-pyc check` and `install` on a big real wheel and on bombs.

Builds the sympy sdist (from PyPI, as build_speed.py does) into an alongside wheel with the
hook and into a plain wheel, converts the plain wheel to a sourceless one (timed by `check`
and the reference only: it has no source to verify), writes the worst bombs the limits let
through (2,000 pycs of a million objects each: 2.0 GB uncompressed from 2.4 MB; a wheel of 200,000 entries; a pyc
whose loading takes seconds of CPU per MB; seven pycs of 255 MiB) and a wheel of 100,000
one-byte files, and measures, the runs taking turns: `check`, `check --verify-code
--no-cache`, `install` into a fresh venv with an empty compile cache (cold) and again with
the cache that install filled (warm: the same wheel into a second venv), and, for scale, a
plain RECORD-hash verification of the same wheel (every entry inflated and hashed once) and
`uv pip install --compile-bytecode` of the plain wheel (installing and compiling every
module, as `install` verifies every module) and of the wheel of 100,000 files, each with an
empty uv cache and with the one it filled. hatch-pyc runs from a venv it is installed in
with its bytecode compiled, as users run it. Prints the ratios the targets are set on.
Writes benchmarks/latest/check_install.md. Run it from .venv:
`python benchmarks/check_install.py`.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime
import hashlib
import importlib.util
import io
import marshal
import os
import platform
import shutil
import statistics
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

from build_speed import OUT, RECORD_CHECK, REPO, UV, build, run_measured, sh, sympy_tree

HATCH_PYC = Path(sys.executable).parent / "hatch-pyc"


def _wheel(target: Path, files: dict[str, bytes]) -> Path:
    """A wheel of ``files`` with a WHEEL, METADATA and a right RECORD."""
    info = "bomb-1.0.dist-info"
    files = {
        **files,
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: bomb\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = io.StringIO()
    rows = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.writerow((name, f"sha256={digest}", len(data)))
        rows.writerow((f"{info}/RECORD", "", ""))
        out.writestr(f"{info}/RECORD", record.getvalue())
    return target


def bombs(work: Path) -> dict[str, Path]:
    header = importlib.util.MAGIC_NUMBER + struct.pack("<I", 1) + b"\0" * 8
    nones = header + marshal.dumps(compile("x = 1", "<bomb>", "exec").replace(co_consts=(None,) * 1_000_000))
    objects = _wheel(work / "bomb-1.0-py3-none-any.whl", {f"bomb/m{n}.pyc": nones for n in range(2000)})
    entries_dir = work / "entries"
    entries_dir.mkdir()
    entries = _wheel(entries_dir / "bomb-1.0-py3-none-any.whl", {f"bomb/{n}.txt": b"" for n in range(199_990)})
    # A dict whose 10,000 keys are one 500,000-digit int: loading it hashes the int each time.
    huge_int = b"\xec" + struct.pack("<i", 500_000) + b"\xff\x7f" * 500_000
    rehash = b"{" + (b"r" + struct.pack("<i", 0) + b"N") * 10_000 + b"0"
    slow_dir = work / "slow"
    slow_dir.mkdir()
    pair = b"(" + struct.pack("<i", 2) + huge_int + rehash
    slow = _wheel(slow_dir / "bomb-1.0-py3-none-any.whl", {"bomb/m.pyc": header + pair})
    huge_dir = work / "huge"
    huge_dir.mkdir()
    zeros = header + bytes(255 * 1024 * 1024)
    huge = _wheel(huge_dir / "bomb-1.0-py3-none-any.whl", {f"bomb/m{n}.pyc": zeros for n in range(7)})
    return {
        "seven pycs of 255 MiB (1.8 MB)": huge,
        "2,000 pycs of a million objects": objects,
        "199,990 empty entries": entries,
        "a pyc of 1 MB that hashes one huge int 10,000 times": slow,
    }


#: A wheel of many small files: what installing costs per file. It has a uv reference too.
MANY = "100,000 one-byte files"


def many_files(work: Path) -> Path:
    directory = work / "many"
    directory.mkdir()
    files = {f"bomb/f{number}.txt": b"x" for number in range(100_000)}
    return _wheel(directory / "bomb-1.0-py3-none-any.whl", {**files, "bomb/__init__.py": b""})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sympy", default="1.14.0")
    parser.add_argument("--no-bombs", action="store_true", help="only sympy and the wheel of many files")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hatch-pyc-check-"))
    try:
        env = {**os.environ, "HATCH_PYC_CACHE_DIR": str(work / "cache")}
        # hatch-pyc as users run it: installed from this checkout, its bytecode compiled.
        tool = work / "tool"
        sh(UV, "venv", "-q", "-p", sys.executable, tool)
        sh(UV, "pip", "install", "-q", "--compile-bytecode", "-p", tool / "bin" / "python", REPO)
        hatch_pyc = tool / "bin" / "hatch-pyc"
        tree = sympy_tree(args.sympy, work)
        _, _, wheel = build(Path(sys.executable), tree, work / "dist", "", env, sample=False)
        _, _, plain = build(Path(sys.executable), tree, work / "plain", None, env, sample=False)
        sympy = f"sympy {args.sympy} alongside ({wheel.stat().st_size / 1e6:.1f} MB)"
        sh(hatch_pyc, "convert", "-q", "--layout", "sourceless", "-o", work / "sourceless", plain, env=env)
        (stripped,) = (work / "sourceless").glob("*.whl")
        sourceless = f"sympy {args.sympy} sourceless ({stripped.stat().st_size / 1e6:.1f} MB)"
        artifacts = {
            sympy: wheel,
            sourceless: stripped,
            MANY: many_files(work),
            **({} if args.no_bombs else bombs(work)),
        }
        times: dict[str, list[float]] = {}
        peaks: dict[str, int] = {}
        venv = work / "venv"
        for run in range(args.runs):
            for label, artifact in artifacts.items():
                referenced = label in (sympy, MANY)
                # Cold: empty caches (hatch-pyc's compile cache, which install and check
                # --verify-code read and fill; uv's wheel cache). Warm: the caches the cold
                # command just filled, as when installing the same wheel into another venv.
                cold_pyc, cold_uv = work / "pyc-cache", work / "uv-cache"
                installed = [UV, "pip", "install", "-q", "--no-deps", "--compile-bytecode"]
                commands: dict[str, tuple[list[str | os.PathLike[str]], dict[str, str]]] = {
                    "RECORD-hash verification (reference)": ([sys.executable, "-c", RECORD_CHECK, artifact], {}),
                    "check": ([hatch_pyc, "check", artifact], {}),
                    "check --verify-code": ([hatch_pyc, "check", "--verify-code", "--no-cache", artifact], {}),
                    "install, cold cache": (
                        [hatch_pyc, "install", artifact, "--python", venv / "bin" / "python"],
                        {"HATCH_PYC_CACHE_DIR": str(cold_pyc)},
                    ),
                    "install, warm cache": (
                        [hatch_pyc, "install", artifact, "--python", venv / "bin" / "python"],
                        {"HATCH_PYC_CACHE_DIR": str(cold_pyc)},
                    ),
                    "uv pip install --compile-bytecode, cold cache (reference)": (
                        [*installed, "-p", venv / "bin" / "python", plain if label == sympy else artifact],
                        {"UV_CACHE_DIR": str(cold_uv)},
                    ),
                    "uv pip install --compile-bytecode, warm cache (reference)": (
                        [*installed, "-p", venv / "bin" / "python", plain if label == sympy else artifact],
                        {"UV_CACHE_DIR": str(cold_uv)},
                    ),
                }
                for name, (command, extra) in commands.items():
                    # The sourceless wheel is there for check's target; it has no source to verify.
                    if label == sourceless and name not in ("check", "RECORD-hash verification (reference)"):
                        continue
                    # The bombs break the reference script: it has no limits, which is the point.
                    if "reference" in name and not (label in (sympy, sourceless) or (label == MANY and "uv" in name)):
                        continue
                    if "warm" in name and not referenced:
                        continue
                    # Each install into a venv of its own; memory is sampled in the first run
                    # only (sampling slows a run), in a round of its own.
                    for sample in (False, True) if run == 0 else (False,):
                        shutil.rmtree(venv, ignore_errors=True)
                        sh(UV, "venv", "-q", venv)
                        if sample and "warm" not in name:
                            for cache in extra.values():
                                shutil.rmtree(cache, ignore_errors=True)
                        elapsed, peak = run_measured(command, sample=sample, ok=(0, 2), env={**env, **extra})
                        if sample:
                            peaks[f"{label}: {name}"] = peak
                        else:
                            times.setdefault(f"{label}: {name}", []).append(elapsed)
                for cache in (cold_pyc, cold_uv):
                    shutil.rmtree(cache, ignore_errors=True)
        lines = [
            f"{datetime.date.today()}, {os.cpu_count()} cores, {platform.machine()}, "
            f"CPython {platform.python_version()}, {args.runs} runs, min / median; peak RSS of the process tree "
            "(first run)",
            "",
            "| artifact: command | time | peak RSS |",
            "| --- | --- | --- |",
        ]
        for key, values in times.items():
            lines.append(
                f"| {key} | {min(values):.2f} / {statistics.median(values):.2f} s | {peaks[key] / 1e6:.0f} MB |"
            )
        lines.append("")
        uv = "uv pip install --compile-bytecode, {} cache (reference)"
        for artifact, measure, reference in (
            (sympy, "install, cold cache", uv.format("cold")),
            (sympy, "install, warm cache", uv.format("warm")),
            (MANY, "install, cold cache", uv.format("cold")),
            (MANY, "install, warm cache", uv.format("warm")),
            (sympy, "check", "RECORD-hash verification (reference)"),
            (sourceless, "check", "RECORD-hash verification (reference)"),
        ):
            ours, theirs = times[f"{artifact}: {measure}"], times[f"{artifact}: {reference}"]
            lines.append(
                f"- {artifact}: {measure} / {reference}: {min(ours) / min(theirs):.2f}x by the minimum, "
                f"{statistics.median(ours) / statistics.median(theirs):.2f}x by the median"
            )
        OUT.mkdir(exist_ok=True)
        (OUT / "check_install.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
