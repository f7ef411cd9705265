"""Bounds on every path, in process: entry names past the name limits, WHEEL and METADATA
header sections past the header limits, the interpreters of the bytecode metadata, and tar
extended headers past theirs; each refused before the costly part runs, each fast."""

from __future__ import annotations

import email.parser
import io
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from inmemory import EVIL_METADATA as METADATA
from inmemory import EVIL_WHEEL as WHEEL
from inmemory import evil_wheel as wheel

from hatch_pyc.check import checker
from hatch_pyc.check.source_tree import _unpack
from hatch_pyc.core.errors import BadArtifact, HatchPycError, VerifyError
from hatch_pyc.core.interpreters import Interpreter
from hatch_pyc.core.limits import (
    MAX_DIRECTORIES,
    MAX_DIRECTORY_NAMES,
    MAX_DIRECTORY_SIZE,
    MAX_ENTRIES,
    MAX_HEADER_LINES,
    MAX_HEADER_SIZE,
    MAX_NAME_DEPTH,
    MAX_NAME_PART,
    MAX_NAME_SIZE,
    MAX_TAGS,
    MAX_TAR_HEADER_CHAIN,
    MAX_TAR_HEADER_SIZE,
    LimitExceeded,
    name_over_limits,
)
from hatch_pyc.wheel import wheelfile
from hatch_pyc.wheel.artifact import _directories_made, open_artifact


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("a/" * 32_000 + "x.py", "a name of"),
        ("a/" * MAX_NAME_DEPTH + "x.py", "parts deep"),
        ("demo/" + "x" * (MAX_NAME_PART + 1) + ".py", "a part of"),
        ("/".join(["y" * 200] * 30), "a name of"),
    ],
)
def test_names_past_the_limits_are_refused(name: str, says: str) -> None:
    reason = name_over_limits(name)
    assert reason is not None
    assert says in reason


def test_names_within_the_limits_pass() -> None:
    assert name_over_limits("demo/core.py") is None
    assert name_over_limits("a/" * (MAX_NAME_DEPTH - 1) + "x.py") is None
    assert name_over_limits("d/" + "x" * (MAX_NAME_PART - 3) + ".py") is None
    assert name_over_limits("é" * (MAX_NAME_PART // 2)) is None
    assert name_over_limits("é" * (MAX_NAME_PART // 2 + 1)) is not None
    assert name_over_limits("/".join(["y" * 200] * (MAX_NAME_SIZE // 201))) is None


def test_a_wheel_with_an_entry_32000_directories_deep_is_refused_at_once(tmp_path: Path) -> None:
    path = wheel(tmp_path / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", "a/" * 32_000 + "x.py": b"x = 1\n"})
    start = time.perf_counter()
    with pytest.raises(LimitExceeded, match="a limit of hatch-pyc"):
        open_artifact(str(path))
    assert time.perf_counter() - start < 2


def _deep(entries: int, depth: int, width: int, top: str = "evil") -> dict[str, bytes]:
    """``entries`` files, each ``depth`` parts deep below a directory of its own."""
    levels = "/".join(f"p{number:0{width - 1}d}" for number in range(depth - 3))
    return {f"{top}/d{index}/{levels}/m.txt": b"" for index in range(entries)}


def test_entries_deeper_than_the_limit_are_refused_in_a_wheel_and_in_an_archive_inside_it(tmp_path: Path) -> None:
    assert MAX_NAME_DEPTH == 64
    path = wheel(tmp_path / "deep" / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", **_deep(1, 65, 2)})
    with pytest.raises(LimitExceeded, match=f"65 parts deep, more than {MAX_NAME_DEPTH}"):
        open_artifact(str(path))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name in _deep(1, 65, 2):
            archive.writestr(name, b"")
    path = wheel(
        tmp_path / "nested" / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", "evil.zip": inner.getvalue()}
    )
    with open_artifact(str(path)) as artifact, pytest.raises(LimitExceeded, match="65 parts deep"):
        artifact.open_nested("evil.zip")


def test_entry_names_that_make_too_many_directories_are_refused(tmp_path: Path) -> None:
    """1,000 entries 240 directories deep, each below a directory of its own, in 7 MB: each of
    their 240,000 directories was held by its name (up to 3.6 kB) and took ``check`` to 1 GB
    (2.3 GB in the selector's tree, which lists each directory)."""
    start = time.perf_counter()
    bytes_of = _deep(MAX_DIRECTORY_NAMES // (60 * 1000) + 1, 63, 60)
    path = wheel(tmp_path / "long" / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", **bytes_of})
    with pytest.raises(LimitExceeded, match=f"characters, more than {MAX_DIRECTORY_NAMES} .a limit of hatch-pyc"):
        open_artifact(str(path))
    many = _deep(MAX_DIRECTORIES // 60 + 1, 63, 2)
    path = wheel(tmp_path / "many" / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", **many})
    with pytest.raises(LimitExceeded, match=f"directories, more than {MAX_DIRECTORIES} .a limit of hatch-pyc"):
        open_artifact(str(path))
    assert time.perf_counter() - start < 10
    # Directories shared by entries are counted once.
    shared = {f"evil/{'/'.join(['p' * 200] * 19)}/m{index}.txt": b"" for index in range(6000)}
    path = wheel(tmp_path / "shared" / "evil-1.0-py3-none-any.whl", {"evil/__init__.py": b"", **shared})
    with open_artifact(str(path)) as artifact:
        assert len(artifact.names) == len(shared) + 4
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize(
    ("names", "made"),
    [
        ([], (0, 0)),
        (["a"], (0, 0)),
        (["a/b/c", "a/b/d", "a/e"], (2, len("a") + len("a/b"))),
        # a/b's entries are not side by side in text order: a/b-c sorts between a/b and a/b/x.
        (["a/b/x", "a/b-c/y", "a/b", "a/b/z/", "a/b/z/w"], (4, len("a") + len("a/b") + len("a/b-c") + len("a/b/z"))),
    ],
)
def test_the_directories_entry_names_make(names: list[str], made: tuple[int, int]) -> None:
    assert _directories_made(names) == made


def test_folded_wheel_headers_are_refused_before_email_parses_them() -> None:
    start = time.perf_counter()
    eight_mib = WHEEL + "X: a\n" + " b\n" * (8 * 1024 * 1024 // 3)
    with pytest.raises(LimitExceeded, match=r"header section has \d+ characters"):
        wheelfile.parse_wheel("w.whl", eight_mib)
    many_lines = WHEEL + "X: a\n" + " \n" * MAX_HEADER_LINES
    assert len(many_lines) < MAX_HEADER_SIZE
    with pytest.raises(LimitExceeded, match="lines, more than"):
        wheelfile.parse_wheel("w.whl", many_lines)
    # Breaks email counts that are no newline count too.
    with pytest.raises(LimitExceeded, match="lines, more than"):
        wheelfile.parse_wheel("w.whl", WHEEL + "X: a\x0b\x0c\x1c" * (MAX_HEADER_LINES // 3 + 1))
    with pytest.raises(LimitExceeded, match="header section"):
        wheelfile.metadata_headers(METADATA + "Description: a\n" + " b\n" * MAX_HEADER_LINES)
    assert time.perf_counter() - start < 3


def _tag_set(names: int) -> str:
    return "-".join(".".join(f"{kind}{number}" for number in range(names)) for kind in ("py", "n", "p"))


def test_a_compressed_tag_set_past_the_limit_is_refused_before_it_is_expanded() -> None:
    """A 1.4 kB Tag line of 100 x 100 x 100 names is 10^6 tags: packaging's parse_tag took
    ``check`` 30 s and 630 MB to expand it."""
    start = time.perf_counter()
    with pytest.raises(
        LimitExceeded,
        match=f"w.whl: WHEEL: its Tag lines name 1000001 tags, more than {MAX_TAGS} .a limit of hatch-pyc",
    ):
        wheelfile.parse_wheel("w.whl", WHEEL + f"Tag: {_tag_set(100)}\n")
    # Counted over every Tag line and the file name's tags, and without multiplying huge numbers.
    lines = WHEEL + "".join(f"Tag: py3{number}-none-any\n" for number in range(MAX_TAGS - 1))
    assert len(wheelfile.parse_wheel("w.whl", lines)["Tag"]) == MAX_TAGS
    with pytest.raises(LimitExceeded, match=f"WHEEL: its Tag lines and file name name {MAX_TAGS + 1} tags"):
        wheelfile.parse_wheel("w.whl", lines, named_tags=1)
    wide = ".".join(["a"] * 300_000)
    with pytest.raises(LimitExceeded, match=f"more than {MAX_TAGS}"):
        wheelfile.parse_wheel("w.whl", WHEEL + f"Tag: {wide}-{wide}-{wide}\n")
    with pytest.raises(BadArtifact, match="malformed Tag line"):
        wheelfile.parse_wheel("w.whl", WHEEL + "Tag: " + "-".join(["ab"] * 1_000_000) + "\n")
    assert time.perf_counter() - start < 1


def test_a_file_name_of_more_tags_than_the_limit_is_refused(tmp_path: Path) -> None:
    name = f"evil-1.0-{_tag_set(11)}.whl"
    assert len(name) < 255
    path = wheel(tmp_path / name, {"evil/__init__.py": b""})
    with pytest.raises(LimitExceeded, match=f"its file name names 1331 tags, more than {MAX_TAGS}"):
        open_artifact(str(path))
    # A manylinux wheel's tags are far within it.
    many = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
    path = wheel(
        tmp_path / f"evil-1.0-{many}.whl", {"evil/__init__.py": b""}, wheel_text=WHEEL.replace("py3-none-any", many)
    )
    with open_artifact(str(path)) as artifact:
        assert len(artifact.tags) == 3


def test_a_metadata_body_is_not_given_to_email_and_headers_read_as_before() -> None:
    text = METADATA + "Requires-Dist: a\nDescription: x\n        y\n" + "\n" + "b\n" * (4 * 1024 * 1024)
    start = time.perf_counter()
    headers = wheelfile.metadata_headers(text)
    assert time.perf_counter() - start < 2
    whole = email.parser.Parser().parsestr(METADATA + "Requires-Dist: a\nDescription: x\n        y\n\nbody\n")
    assert headers.items() == whole.items()
    assert wheelfile.requirements("m", text, {}) == ["a"]
    for ending in ("\r\n", "\r"):
        crlf = text[:200].replace("\n", ending)
        expected = email.parser.Parser().parsestr(crlf, headersonly=True)
        assert wheelfile.metadata_headers(crlf).items() == expected.items()
    fields = wheelfile.parse_wheel("w.whl", WHEEL + "\nBody: not a header\n")
    assert "Body" not in fields
    assert fields["Tag"] == ["py3-none-any"]


def _interpreter(tag: str, magic: str = "a70d0d0a") -> Interpreter:
    return Interpreter(implementation="cpython", version="3.11.0", cache_tag=tag, magic_number=magic)


def test_each_pyc_finds_its_interpreter_in_one_look_up() -> None:
    recorded = [_interpreter(f"x-{n}") for n in range(5000)] + [_interpreter("cpython-311", "first")]
    recorded.append(_interpreter("cpython-311", "second"))
    target = _interpreter("cpython-312", "target")
    by_tag = checker._by_cache_tag(recorded, target)
    start = time.perf_counter()
    for n in range(20_000):
        found = checker._expected_interpreter(
            f"demo/__pycache__/m{n}.cpython-311.pyc", recorded, target, "", by_tag, None
        )
        assert found is not None
        assert found.magic_number == "first"
    assert time.perf_counter() - start < 2
    assert (
        checker._expected_interpreter("demo/__pycache__/m.cpython-312.pyc", recorded, target, "", by_tag, None)
        == target
    )
    assert checker._expected_interpreter("demo/__pycache__/m.pypy-311.pyc", recorded, target, "", by_tag, None) is None
    assert checker._expected_interpreter("demo/__pycache__/m.pyc", recorded, target, "", by_tag, None) is None
    assert checker._expected_interpreter("demo/m.pyc", [], target, "", {}, None) == target


def _tar(path: Path, headers: list[tuple[bytes, bytes]], name: str = "evil-1.0/x.py") -> Path:
    """A tar of one member ``name`` after the extended headers ``(type, content)``."""
    body = io.BytesIO()
    for kind, content in headers:
        info = tarfile.TarInfo("././@LongLink")
        info.type = kind
        info.size = len(content)
        body.write(info.tobuf(format=tarfile.GNU_FORMAT) + content + b"\0" * (-len(content) % 512))
    member = tarfile.TarInfo(name)
    member.size = 6
    body.write(member.tobuf(format=tarfile.GNU_FORMAT) + b"x = 1\n".ljust(512, b"\0") + b"\0" * 1024)
    path.write_bytes(body.getvalue())
    return path


def _pax(records: dict[str, str]) -> bytes:
    out = b""
    for key, value in records.items():
        line = f" {key}={value}\n".encode()
        size = len(line) + len(str(len(line)))
        size = len(line) + len(str(size))
        out += str(size).encode() + line
    return out


def test_tar_extended_headers_past_the_limit_are_refused_before_tarfile_reads_them(tmp_path: Path) -> None:
    big = MAX_TAR_HEADER_SIZE + 1
    for kind in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE):
        sdist = _tar(tmp_path / f"{kind.decode()}.tar", [(kind, b"a" * big)])
        with pytest.raises(LimitExceeded, match="extended tar header of"):
            _unpack(str(sdist), str(tmp_path / f"out-{kind.decode()}"))
    chain = [(tarfile.XHDTYPE, _pax({"comment": "c"}))] * (MAX_TAR_HEADER_CHAIN + 1)
    with pytest.raises(LimitExceeded, match="extended tar headers before one member"):
        _unpack(str(_tar(tmp_path / "chain.tar", chain)), str(tmp_path / "out-chain"))
    globals_ = [(tarfile.XGLTYPE, _pax({f"k{n}": "v" * (MAX_TAR_HEADER_SIZE // 2)})) for n in range(3)]
    with pytest.raises(LimitExceeded, match="global tar headers"):
        _unpack(str(_tar(tmp_path / "global.tar", globals_)), str(tmp_path / "out-global"))
    sparse = [(tarfile.XHDTYPE, _pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}))]
    with pytest.raises(VerifyError, match="sparse"):
        _unpack(str(_tar(tmp_path / "sparse.tar", sparse)), str(tmp_path / "out-sparse"))


def test_tar_extended_headers_within_the_limits_unpack(tmp_path: Path) -> None:
    long_name = "evil-1.0/" + "d" * 200 + "/x.py"
    headers = [
        (tarfile.XGLTYPE, _pax({"comment": "0123abcd"})),
        (tarfile.GNUTYPE_LONGNAME, long_name.encode() + b"\0"),
        (tarfile.XHDTYPE, _pax({"path": long_name, "mtime": "1.5"})),
    ]
    out = _unpack(str(_tar(tmp_path / "fine.tar", headers, name="short")), str(tmp_path / "out"))
    assert (Path(out) / long_name).read_bytes() == b"x = 1\n"


def test_sdist_member_names_past_the_limits_are_refused(tmp_path: Path) -> None:
    deep = "evil-1.0/" + "a/" * MAX_NAME_DEPTH + "x.py"
    headers = [(tarfile.XHDTYPE, _pax({"path": deep}))]
    with pytest.raises(LimitExceeded, match="parts deep"):
        _unpack(str(_tar(tmp_path / "deep.tar", headers, name="short")), str(tmp_path / "out"))


def _announcing(path: Path, entries: int, size: int) -> Path:
    """An archive of one empty entry whose zip64 end record announces ``entries`` in ``size`` bytes."""
    name = b"evil/__init__.py"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0)
    central += name
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, len(local))
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(local) + len(central), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(local + central + end64 + locator + end)
    return path


def test_a_central_directory_past_the_limits_is_refused_before_zipfile_reads_it(tmp_path: Path) -> None:
    for entries, size, says in [
        (MAX_ENTRIES + 1, 100, f"announces {MAX_ENTRIES + 1} entries"),
        (1, MAX_DIRECTORY_SIZE + 1, f"in {MAX_DIRECTORY_SIZE + 1} bytes"),
        (2**40, 2**60, "a limit of hatch-pyc"),
    ]:
        path = _announcing(tmp_path / str(entries) / "evil-1.0-py3-none-any.whl", entries, size)
        with pytest.raises(LimitExceeded, match=says):
            open_artifact(str(path))
    # The same archive announcing what it holds opens as far as its (missing) dist-info.
    honest = _announcing(tmp_path / "honest" / "evil-1.0-py3-none-any.whl", 1, 62)
    with pytest.raises(HatchPycError, match="dist-info"):
        open_artifact(str(honest))
