"""Bounds on every path: each hostile artifact of the "Bounds on every path" issue, built here,
fed to the ``hatch-pyc`` command as a user runs it, under a 1 GiB address-space limit and a
time limit. Each is refused with exit 2 and one ``hatch-pyc:`` line, and the command's peak
RSS stays under 256 MiB; a wheel of 100,000 one-byte files installs within the same memory.

Measured before the bounds (CPython 3.11): an entry 32,000 directories deep took ``check`` to
2 GiB and 96 s; 8 MiB of folded WHEEL lines ``inspect`` to 325 MB; 5,000 recorded
interpreters times 20,000 pycs ``check`` to 7 s; a 100 MiB GNU long name ``verify`` to
650 MB; 2 million empty entries ``inspect`` to 1 GB; installing 100,000 one-byte files to
286 MB.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import Venv
from inmemory import EVIL_METADATA as METADATA
from inmemory import EVIL_WHEEL as WHEEL
from inmemory import evil_wheel

from hatch_pyc.core.limits import MAX_DIRECTORY_NAMES, MAX_INTERPRETERS, MAX_NAME_DEPTH, MAX_TAGS

#: Seconds any command may take on any of these.
TIME_LIMIT = 60
#: The checking process's promise.
RSS_LIMIT = 256 * 1024 * 1024
ADDRESS_SPACE = 1024 * 1024 * 1024
NAME = "evil-1.0-py3-none-any.whl"

#: Runs the command given under the address-space limit and reports its exit status, output
#: and peak RSS (of it or any process it waited for) as JSON.
_MEASURE = f"""
import json, resource, subprocess, sys
def cap():
    resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
try:
    done = subprocess.run(sys.argv[2:], capture_output=True, text=True, preexec_fn=cap, timeout=float(sys.argv[1]))
    code, out, err = done.returncode, done.stdout, done.stderr
except subprocess.TimeoutExpired:
    code, out, err = None, "", "timed out"
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({{"code": code, "out": out, "err": err, "rss": rss}}))
"""


def hatch_pyc(*args: str | Path, time_limit: int = TIME_LIMIT) -> tuple[int, str, str, int]:
    """``hatch-pyc ARGS`` in a process of its own: exit status, stdout, stderr, peak RSS in bytes."""
    command = [str(Path(sys.executable).parent / "hatch-pyc"), *map(str, args)]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(time_limit), *command], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    assert found["code"] is not None, f"{command} took more than {time_limit} s"
    return found["code"], found["out"], found["err"], found["rss"]


def assert_refused(args: list[str | Path], says: str) -> int:
    code, out, err, rss = hatch_pyc(*args)
    assert code == 2, (args, code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hatch-pyc: "), err
    assert says in err, err
    assert "Traceback" not in out + err
    assert rss < RSS_LIMIT, (args, rss)
    return rss


def wheel(directory: Path, files: dict[str, bytes], wheel_text: str = WHEEL, metadata: str = METADATA) -> Path:
    """The ``evil`` wheel of ``files`` in ``directory``."""
    return evil_wheel(directory / NAME, files, wheel_text, metadata)


def test_an_entry_32000_directories_deep(tmp_path: Path) -> None:
    path = wheel(tmp_path, {"evil/__init__.py": b"", "a/" * 32_000 + "x.py": b"x = 1\n"})
    venv = Venv(tmp_path / "venv", sys.executable)
    before = venv.files()
    for command in (["inspect"], ["check"], ["install", "--python", str(venv.python)]):
        assert_refused([*command, path], "more than 4096 (a limit of hatch-pyc)")
    assert venv.files() == before


def _deep(entries: int, depth: int, width: int) -> dict[str, bytes]:
    """``entries`` files, each ``depth`` parts deep below a directory of its own."""
    levels = "/".join(f"p{number:0{width - 1}d}" for number in range(depth - 3))
    return {f"evil/d{index}/{levels}/m.txt": b"" for index in range(entries)}


def test_1000_entries_240_directories_deep_each_in_a_directory_of_its_own(tmp_path: Path) -> None:
    """7 MB of wheel whose 240,000 directories were each held by their name: ``check`` took
    1 GB (2.3 GB in a sourceless wheel's selector tree). Within the depth limit, the directories'
    names are limited: a wheel just within it is checked in a fraction of the memory."""
    path = wheel(tmp_path / "deep", {"evil/__init__.py": b"", **_deep(1000, 240, 14)})
    for command in ("inspect", "check"):
        assert_refused([command, path], f"240 parts deep, more than {MAX_NAME_DEPTH}")
    over = MAX_DIRECTORY_NAMES // (61 * 14 * 61 // 2) + 10
    path = wheel(tmp_path / "long", {"evil/__init__.py": b"", **_deep(over, 63, 14)})
    assert_refused(["check", path], f"characters, more than {MAX_DIRECTORY_NAMES}")
    within = wheel(tmp_path / "within", {"evil/__init__.py": b"", **_deep(over * 9 // 10, 63, 14)})
    code, out, err, rss = hatch_pyc("check", within)
    assert (code, err) == (0, ""), (out, err)
    assert rss < RSS_LIMIT / 2, rss


def test_8_mib_of_folded_wheel_and_metadata_header_lines(tmp_path: Path) -> None:
    folded = "X: a\n" + " b\n" * (8 * 1024 * 1024 // 3)
    path = wheel(tmp_path / "wheel", {"evil/__init__.py": b""}, wheel_text=WHEEL + folded)
    for command in ("inspect", "check"):
        assert_refused([command, path], "WHEEL: its header section has")
    path = wheel(tmp_path / "metadata", {"evil/__init__.py": b""}, metadata=METADATA + folded)
    venv = Venv(tmp_path / "venv", sys.executable)
    before = venv.files()
    assert_refused(["install", path, "--python", venv.python], "METADATA: its header section has")
    assert venv.files() == before


def test_a_wheel_tag_line_of_a_million_tags(tmp_path: Path) -> None:
    """1.4 kB of compressed tag set, 100 x 100 x 100 names: expanding it took ``check`` 30 s and
    630 MB, and printed 13 MB."""
    tag = "-".join(".".join(f"{kind}{number}" for number in range(100)) for kind in ("py", "n", "p"))
    path = wheel(tmp_path, {"evil/__init__.py": b""}, wheel_text=WHEEL + f"Tag: {tag}\n")
    venv = Venv(tmp_path / "venv", sys.executable)
    before = venv.files()
    for command in (["inspect"], ["check"], ["install", "--python", str(venv.python)]):
        assert_refused([*command, path], f"WHEEL: its Tag lines and file name name 1000002 tags, more than {MAX_TAGS}")
    assert venv.files() == before


def test_a_million_empty_entries(tmp_path: Path) -> None:
    """zipfile makes an object of every entry of the central directory before anything can
    count them: 2 million took ``inspect`` to 1 GB and 33 s."""
    local, central = bytearray(), bytearray()
    for number in range(1_000_000):
        name = b"f%07d" % number
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, offset
        )
        central += name
    count, size, start = 1_000_000, len(central), len(local)
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, start + size, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path = tmp_path / NAME
    path.write_bytes(bytes(local + central) + end64 + locator + end)
    for command in ("inspect", "check"):
        assert_refused([command, path], "its central directory announces 1000000 entries")


def _interpreters_wheel(directory: Path, interpreters: int, pycs: int) -> Path:
    meta = {
        "format": 1,
        "layout": "alongside",
        "optimize": [0],
        "invalidation_mode": "checked-hash",
        "modules": pycs,
        "interpreters": [
            {
                "implementation": "cpython",
                "version": "3.11.0",
                "python_tag": "cp311",
                "cache_tag": f"x-{number}",
                "magic_number": "a70d0d0a",
                "free_threaded": False,
            }
            for number in range(interpreters)
        ],
    }
    files = {f"evil/__pycache__/m{number}.cpython-399.pyc": b"\0" * 16 for number in range(pycs)}
    files["evil/__init__.py"] = b""
    files["evil-1.0.dist-info/extra_metadata/hatch_pyc.json"] = json.dumps(meta).encode()
    return wheel(directory, files)


def test_5000_recorded_interpreters_times_20000_pycs(tmp_path: Path) -> None:
    path = _interpreters_wheel(tmp_path / "many", 5000, 20_000)
    assert_refused(["check", path], f"more than {MAX_INTERPRETERS} (a limit of hatch-pyc)")
    # At the limit, every pyc's interpreter is one look-up: each is a problem (none is for a
    # recorded interpreter), found in bounded time.
    code, out, err, rss = hatch_pyc("check", _interpreters_wheel(tmp_path / "limit", MAX_INTERPRETERS, 20_000))
    assert code == 1, err
    assert out.count("a pyc for no interpreter the bytecode metadata records") == 20_000
    assert rss < RSS_LIMIT


def _sdist(path: Path, kind: bytes, size: int) -> Path:
    """An sdist whose one member comes after an extended header of ``size`` bytes."""
    body = io.BytesIO()
    content = b"a" * size
    if kind == tarfile.XHDTYPE:
        record = b" comment=" + b"b" * (size - 20) + b"\n"
        length = len(record) + len(str(len(record) + 9))
        content = str(length).encode() + record
    header = tarfile.TarInfo("././@LongLink")
    header.type = kind
    header.size = len(content)
    body.write(header.tobuf(format=tarfile.GNU_FORMAT) + content + b"\0" * (-len(content) % 512))
    member = tarfile.TarInfo("evil-1.0/evil/__init__.py")
    member.size = 0
    body.write(member.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(body.getvalue())
    return path


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE], ids=["gnu-long-name", "pax"])
def test_a_100_mib_tar_extended_header(tmp_path: Path, kind: bytes) -> None:
    path = wheel(tmp_path, {"evil/__init__.py": b""})
    sdist = _sdist(tmp_path / "evil-1.0.tar.gz", kind, 100 * 1024 * 1024)
    assert_refused(["verify", path, "--source", sdist], "an extended tar header of")


@pytest.mark.slow
def test_installing_100000_one_byte_files_stays_under_256_mib(tmp_path: Path) -> None:
    files = {f"evil/f{number}.txt": b"x" for number in range(100_000)}
    path = wheel(tmp_path, {**files, "evil/__init__.py": b""})
    venv = Venv(tmp_path / "venv", sys.executable)
    code, _, err, rss = hatch_pyc("install", path, "--python", venv.python, time_limit=300)
    assert code == 0, err
    assert rss < RSS_LIMIT, rss
    assert (venv.site_packages() / "evil" / "f99999.txt").read_bytes() == b"x"
