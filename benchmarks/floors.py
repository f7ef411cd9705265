"""Lower bounds under the build-speed targets, measured on the machine that runs the benchmark.

Run by ``build_speed.py`` with the build environment's Python (where hatch-pyc is installed):

    python floors.py deflate WHEEL    # seconds to deflate every member as hatchling does
    python floors.py compile TREE     # CPU seconds to compile, marshal and write every module
    python floors.py canonical TREE   # CPU seconds hatch-pyc adds to marshal them reproducibly
    python floors.py rss TREE [N]     # peak RSS of a bare interpreter, and of one compiling
                                      # each of the N largest modules alone (bytes)

Each prints one JSON value. Why these bound a hook's build from below: hatchling writes
every wheel member through ``zipfile`` with ``ZIP_DEFLATED`` at the default level, in the
build process, after the hook has returned, so a sourceless wheel pays the deflate of its
pycs where a plain one pays that of its sources; no hook makes a pyc with less CPU than
``compile()``, ``marshal.dumps()`` and a write of the file take (the bare work of
``compileall``), nor in less memory than ``compile()`` takes for the module.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

#: What hatchling's ``WheelArchive.add_file`` reads at a time.
CHUNK = 16384


def deflate_seconds(wheel: str) -> float:
    """CPU time to deflate each member of ``wheel`` the way ``zipfile`` does for hatchling."""
    with zipfile.ZipFile(wheel) as zf:
        members = [zf.read(info) for info in zf.infolist()]
    start = time.process_time()
    for data in members:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        for offset in range(0, len(data), CHUNK):
            compressor.compress(data[offset : offset + CHUNK])
        compressor.flush()
    return time.process_time() - start


def compile_seconds(tree: str) -> float:
    """CPU time (user and system) to compile every module under ``tree``, marshal its code
    and write it to a file of its own, in this process."""
    sources = [path.read_bytes() for path in sorted(Path(tree).rglob("*.py"))]
    with tempfile.TemporaryDirectory() as out:
        start = time.process_time()
        for number, source in enumerate(sources):
            data = marshal.dumps(compile(source, "<module>", "exec", dont_inherit=True))
            with open(os.path.join(out, f"{number}.pyc"), "wb") as f:
                f.write(data)
        return time.process_time() - start


def canonical_seconds(tree: str) -> float:
    """CPU time of hatch-pyc's canonical marshal (for reproducible bytes) of every module,
    in place of ``marshal.dumps()``: what the hook does on top of the bare work."""
    from hatch_pyc._shipped.worker import canonical_dumps

    codes = [compile(path.read_bytes(), "<module>", "exec", dont_inherit=True) for path in Path(tree).rglob("*.py")]
    start = time.process_time()
    for code in codes:
        canonical_dumps(code)
    middle = time.process_time()
    for code in codes:
        marshal.dumps(code)
    return (middle - start) - (time.process_time() - middle)


def peak_rss(code: str) -> int:
    """Peak RSS in bytes of a fresh ``python -I -B`` running ``code``."""
    report = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    output = subprocess.run(
        [sys.executable, "-I", "-B", "-c", f"{code}\n{report}"], check=True, capture_output=True, text=True
    ).stdout
    return int(output) * 1024  # ru_maxrss is in KiB on Linux


def compile_rss(tree: str, count: int) -> dict[str, int]:
    """Peak RSS of a bare interpreter and of one compiling each of the largest modules alone."""
    largest = sorted(Path(tree).rglob("*.py"), key=lambda path: -path.stat().st_size)[:count]
    found = {"(bare interpreter)": peak_rss("pass")}
    for path in largest:
        code = f"compile(open({str(path)!r}, 'rb').read(), 'm', 'exec', dont_inherit=True)"
        found[os.path.relpath(path, tree)] = peak_rss(code)
    return found


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "deflate":
        print(json.dumps(deflate_seconds(argv[2])))
    elif len(argv) == 3 and argv[1] == "compile":
        print(json.dumps(compile_seconds(argv[2])))
    elif len(argv) == 3 and argv[1] == "canonical":
        print(json.dumps(canonical_seconds(argv[2])))
    elif len(argv) in (3, 4) and argv[1] == "rss":
        print(json.dumps(compile_rss(argv[2], int(argv[3]) if len(argv) == 4 else 10)))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
