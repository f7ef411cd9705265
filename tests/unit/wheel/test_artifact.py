"""Archives that Python's readers would read differently, and wheels that installers would
install differently, made in memory and fed to ``check`` in-process: each refused in one line
with exit 2, while genuine zip64 archives, comments and prepended bytes still open."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from inmemory import DIST, NAME, bundle, pyc, run_cli, sourceless, write

from hatch_pyc.core.errors import BadArtifact
from hatch_pyc.wheel import records
from hatch_pyc.wheel.artifact import CHANGED, _short_name, _unsafe_name, open_artifact, record_problems

END = struct.Struct("<4s4H2LH")
END64 = struct.Struct("<4sQ2H2L4Q")
LOCATOR = struct.Struct("<4sLQL")


def _zip(
    entries: dict[str, bytes], prefix: bytes = b"", zip64: bool = False, comments: dict[str, bytes] | None = None
) -> bytes:
    """``entries`` as zipfile writes them after ``prefix``, with directory ``comments`` by name;
    with ``zip64``, with zip64 end records as zipfile writes them past 65535 entries."""
    buffer = io.BytesIO()
    buffer.write(prefix)
    limit = zipfile.ZIP_FILECOUNT_LIMIT
    try:
        if zip64:
            zipfile.ZIP_FILECOUNT_LIMIT = 0
        with zipfile.ZipFile(buffer, "a" if prefix else "w") as zf:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name)
                info.comment = (comments or {}).get(name, b"")
                zf.writestr(info, data)
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    return buffer.getvalue()


def _directory(data: bytes) -> tuple[int, list[bytes]]:
    """Where the central directory of ``data`` (a zip without comment or zip64) starts, and its records."""
    _, _, _, _, _, size, offset, _ = END.unpack_from(data, len(data) - END.size)
    records, at = [], offset
    while at < offset + size:
        lengths = struct.unpack_from("<3H", data, at + 28)
        records.append(data[at : at + 46 + sum(lengths)])
        at += 46 + sum(lengths)
    return offset, records


def two_directories(entries: dict[str, bytes]) -> bytes:
    """``entries`` and a hidden pyc as zipfile writes them, then a second central directory of
    ``entries`` alone: the zip64 end record and its locator name the second (zipfile sees
    ``entries``), the 32-bit end record the first (zipimport before 3.13 sees the pyc too)."""
    data = _zip({**entries, "zz_hidden.pyc": pyc(b"")})
    offset, records = _directory(data)
    body, every = data[:offset], b"".join(records)
    shown = b"".join(records[: len(entries)])
    shown_at = offset + len(every)
    record_at = shown_at + len(shown)
    zip64 = END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries), len(entries), len(shown), shown_at)
    locator = LOCATOR.pack(b"PK\x06\x07", 0, record_at, 1)
    end_at = record_at + len(zip64) + len(locator)
    end = END.pack(b"PK\x05\x06", 0, 0, len(records), len(records), end_at - offset, offset, 0)
    return body + every + shown + zip64 + locator + end


def a_directory_where_zipimport_starts(entries: dict[str, bytes]) -> bytes:
    """``entries`` after a first one, with zip64 end records and a 32-bit one that agree on
    every value, as zipfile writes them past 65535 entries. zipimport before 3.13 goes back
    the 32-bit record's size from the 32-bit record, 76 bytes after the directory's start:
    there, in the first entry's comment, is another directory entry."""
    fake = struct.pack("<4s6H3L5HLL", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 6, 6, 7, 0, 0, 0, 0, 0, 0) + b"zmod.py"
    padding = b"x" * (76 - 46 - len("first.py"))
    return _zip({"first.py": b"X = 1\n", **entries}, zip64=True, comments={"first.py": padding + fake})


def a_zip64_locator_alone(entries: dict[str, bytes]) -> bytes:
    """``entries`` with a zip64 locator just before the end record (the end of the last
    entry's comment) and no zip64 end record before it."""
    comment = b"x" * END64.size + LOCATOR.pack(b"PK\x06\x07", 0, 0, 1)
    return _zip(entries, comments={list(entries)[-1]: comment})


def a_zip64_record_alone(entries: dict[str, bytes]) -> bytes:
    """``entries`` with a zip64 end record where it would be (in the last entry's comment)
    but no locator: zipfile reads the 32-bit record, CPython 3.13's zipimport this one."""
    comment = END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, 46, 0) + b"x" * LOCATOR.size
    return _zip(entries, comments={list(entries)[-1]: comment})


def an_overlong_last_entry(entries: dict[str, bytes]) -> bytes:
    """``entries`` whose last directory entry claims a comment running past the directory's
    end: zipfile cuts it short, zipimport reads on."""
    data = _zip(entries)
    offset, records = _directory(data)
    last = offset + sum(map(len, records[:-1]))
    patched = bytearray(data)
    struct.pack_into("<H", patched, last + 32, 10)
    return bytes(patched)


def another_end_signature(entries: dict[str, bytes]) -> bytes:
    """``entries`` with an end record whose disk numbers spell another end record's signature,
    which CPython 3.13's zipimport takes for the end record."""
    data = bytearray(_zip(entries))
    data[-END.size + 4 : -END.size + 8] = b"PK\x05\x06"
    return bytes(data)


def _refused(target: Path, capsys: pytest.CaptureFixture[str], says: str) -> str:
    code, out, err = run_cli(capsys, "check", str(target))
    assert (code, out) == (2, ""), (out, err)
    assert err.count("\n") == 1, err
    assert err.startswith(f"hatch-pyc: {target}"), err
    assert says in err, err
    return err


ARCHIVES: list[tuple[str, Callable[[dict[str, bytes]], bytes], str]] = [
    ("two directories", two_directories, "its two end records name different central directories"),
    ("a directory where zipimport starts", a_directory_where_zipimport_starts,
     "its 32-bit end record names another central directory"),
    ("a zip64 locator alone", a_zip64_locator_alone, "a zip64 end record without its locator"),
    ("a zip64 record alone", a_zip64_record_alone, "a zip64 end record without its locator"),
    ("an overlong last entry", an_overlong_last_entry, "its central directory holds"),
    ("another end signature", another_end_signature, "an end of central directory signature follows"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "make", "says"), ARCHIVES, ids=[case[0] for case in ARCHIVES])
def test_an_archive_on_sys_path_read_two_ways_is_refused(
    label: str, make: Callable[[dict[str, bytes]], bytes], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = make({"zmod.py": b"X = 1\n", "zmod2.py": b"Y = 2\n"})
    wheel = write(tmp_path / NAME, {**sourceless(), "extra.pth": b"extra.zip\n", "extra.zip": archive})
    err = _refused(wheel, capsys, says)
    assert f"{wheel}!extra.zip: " in err


def test_the_zip_layouts_archive_read_two_ways_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = two_directories({"demo/__init__.pyc": pyc(b""), "demo/core.pyc": pyc(b"X = 1\n")})
    entries = {name: data for name, data in sourceless().items() if not name.startswith("demo/")}
    entries.update({"demo_pkg.zip": archive, "demo_pkg.pth": b"demo_pkg.zip\n"})
    wheel = write(tmp_path / NAME, entries)
    err = _refused(wheel, capsys, "its two end records name different central directories")
    assert f"{wheel}!demo_pkg.zip: " in err


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize(("label", "make", "says"), ARCHIVES, ids=[case[0] for case in ARCHIVES])
def test_a_wheel_read_two_ways_is_refused(
    label: str, make: Callable[[dict[str, bytes]], bytes], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    wheel.write_bytes(make(_entries(wheel)))
    _refused(wheel, capsys, says)


@pytest.mark.parametrize(("label", "make", "says"), ARCHIVES, ids=[case[0] for case in ARCHIVES])
def test_a_pyz_read_two_ways_is_refused(
    label: str, make: Callable[[dict[str, bytes]], bytes], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyz = bundle(tmp_path / "demo.pyz", b"from demo import main\n")
    pyz.write_bytes(make(_entries(pyz)))
    _refused(pyz, capsys, says)


def _zip64_entries(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as zf:
        for name, data in entries.items():
            with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as out:
                out.write(data)
    return buffer.getvalue()


def _sentinels(data: bytes) -> bytes:
    """``data``, which has zip64 end records, with the 32-bit record's values all "see zip64"."""
    return data[: -END.size] + END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)


def _commented(data: bytes) -> bytes:
    return data[:-2] + struct.pack("<H", 7) + b"comment"


GENUINE: list[tuple[str, Callable[[dict[str, bytes]], bytes]]] = [
    ("plain", _zip),
    ("zip64 end records", lambda entries: _zip(entries, zip64=True)),
    ("zip64 end records, 32-bit values all 'see zip64'", lambda entries: _sentinels(_zip(entries, zip64=True))),
    ("zip64 entries", _zip64_entries),
    ("a comment", lambda entries: _commented(_zip(entries))),
    ("zip64 end records and a comment", lambda entries: _commented(_zip(entries, zip64=True))),
    ("bytes before it", lambda entries: _zip(entries, b"#!/usr/bin/env python3\n")),
    ("zip64 end records and bytes before it", lambda entries: _zip(entries, b"#!/usr/bin/env python3\n", zip64=True)),
]


@pytest.mark.parametrize(("label", "make"), GENUINE, ids=[case[0] for case in GENUINE])
def test_genuine_archives_open(label: str, make: Callable[[dict[str, bytes]], bytes], tmp_path: Path) -> None:
    wheel = write(tmp_path / "built.whl", sourceless())
    entries = _entries(wheel)
    target = tmp_path / NAME
    target.write_bytes(make(entries))
    with open_artifact(str(target)) as artifact:
        assert sorted(artifact.names) == sorted(entries)
    (tmp_path / "nested").mkdir()
    nested = {"extra.pth": b"extra.zip\n", "extra.zip": make({"zmod.py": b"X = 1\n"})}
    wheel = write(tmp_path / "nested" / NAME, {**sourceless(), **nested})
    with open_artifact(str(wheel)) as artifact:
        assert artifact.open_nested("extra.zip").names == ["zmod.py"]
    pyz = tmp_path / "demo.pyz"
    pyz.write_bytes(make({"__main__.py": b"", "demo/__init__.pyc": pyc(b"")}))
    with open_artifact(str(pyz)) as artifact:
        assert artifact.names == ["__main__.py", "demo/__init__.pyc"]


def test_a_genuine_zip64_wheel_checks_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    wheel.write_bytes(_zip(_entries(wheel), zip64=True))
    assert wheel.read_bytes()[-END.size - LOCATOR.size - END64.size :][:4] == b"PK\x06\x06"
    code, out, err = run_cli(capsys, "check", str(wheel))
    assert (code, err) == (0, ""), out


# The .data directory: pypa/installer takes it from the file name, hatch-pyc from the
# .dist-info directory, pip every top-level *.data directory.
DATA = {"demo_pkg-0.1.0.data/purelib/extra.py": b"X = 1\n"}


@pytest.mark.parametrize(
    ("file_name", "entries", "says"),
    [
        (NAME, {"x.data/purelib/sitecustomize.py": b""}, "x.data is a second data directory beside"),
        (NAME, {**DATA, "demo.data/purelib/x.py": b""}, "demo.data is a second data directory"),
        (NAME, {"demo_pkg-0.1.0.Data.data/purelib/x.py": b""}, "is a second data directory"),
        (NAME.replace("0.1.0", "0.1"), DATA, "demo_pkg-0.1.0.data by its .dist-info directory but demo_pkg-0.1.data"),
        ("Demo_Pkg" + NAME[len("demo_pkg") :], DATA, "but Demo_Pkg-0.1.0.data by its file name"),
    ],
    ids=["another .data", "a second .data", "a .data of another spelling", "version spelled", "name spelled"],
)
def test_a_data_directory_installers_disagree_on_is_refused(
    file_name: str, entries: dict[str, bytes], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / file_name, {**sourceless(), **entries})
    _refused(wheel, capsys, says)


@pytest.mark.parametrize("file_name", [NAME, NAME.replace("0.1.0", "0.1"), "Demo_Pkg" + NAME[len("demo_pkg") :]])
def test_a_wheel_without_data_or_with_the_agreed_one_opens(file_name: str, tmp_path: Path) -> None:
    entries = {**sourceless(), **DATA} if file_name == NAME else sourceless()
    with open_artifact(str(write(tmp_path / file_name, entries))) as artifact:
        assert artifact.data_dir == "demo_pkg-0.1.0.data"
        assert artifact.dist_info == DIST


# Names that Windows resolves to another file.
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("zz.pth::$DATA", "alternate data stream"),
        ("demo/core/__init__.pyc::$DATA", "alternate data stream"),
        ("demo::$INDEX_ALLOCATION/core.pyc", "alternate data stream"),
        ("demo/core.py:evil", "alternate data stream"),
        ("demo/CORE_M~1.PY", "Windows short name"),
        ("SITECU~1.PY", "Windows short name"),
        ("DEMO_P~1/core.py", "Windows short name"),
        ("demo/zz_h1~12.pth", "Windows short name"),
        ("demo/core_m~1.pyc", "Windows short name"),
        ("demo/AB12~1. ", "Windows short name"),
    ],
)
def test_names_windows_resolves_elsewhere_are_refused(
    name: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / NAME, {**sourceless(), name: b"X = 1\n"})
    err = _refused(wheel, capsys, "unsafe entry")
    assert says in err


@pytest.mark.parametrize(
    ("part", "short"),
    [
        ("CORE_M~1.PY", True),
        ("PROGRA~1", True),
        ("A~1", True),
        ("ABCDEF~9.TXT", True),
        ("ABCDEFG~9.TXT", False),
        ("AB~12345.PTH", True),
        ("X~1.", True),
        ("core~.py", False),
        ("~1.py", False),
        ("core_module~1.py", False),
        ("core~1.text", False),
        ("core~1.tar.gz", False),
        ("core~a.py", False),
        ("core.py", False),
    ],
)
def test_the_short_name_rule(part: str, short: bool) -> None:
    assert _short_name(part) is short
    assert (_unsafe_name(f"demo/{part}") is not None) is short


def test_a_refusal_closes_the_archive(tmp_path: Path) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    wheel.write_bytes(another_end_signature(_entries(wheel)))
    with pytest.raises(BadArtifact, match="an end of central directory signature follows"):
        open_artifact(str(wheel))


def _overlong(deflated: bool) -> Callable[[dict[str, bytes]], bytes]:
    """An archive whose ``zmod.py`` declares the size and CRC of its first line, while its data
    holds a second one too: zipfile stops at the declared size, zipimport reads it all."""

    def make(entries: dict[str, bytes]) -> bytes:
        genuine, payload = b"X = 1\n", b"import os\n"
        buffer = io.BytesIO()
        method = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
        with zipfile.ZipFile(buffer, "w", method) as zf:
            zf.writestr("zmod.py", genuine + payload)
            for name, data in entries.items():
                zf.writestr(name, data)
        return _first_declaring(buffer.getvalue(), genuine)

    return make


def _first_declaring(archive: bytes, genuine: bytes) -> bytes:
    """``archive`` with its first entry's headers declaring the size and CRC of ``genuine``,
    whatever its data holds."""
    data = bytearray(archive)
    crc, size = zlib.crc32(genuine), len(genuine)
    for header, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = data.index(header)
        struct.pack_into("<L", data, at + offset, crc)
        struct.pack_into("<L", data, at + offset + 8, size)
    return bytes(data)


@pytest.mark.parametrize("deflated", [False, True], ids=["stored", "deflated"])
def test_module_data_longer_than_declared_is_refused_where_zipimport_reads_it(
    deflated: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _overlong(deflated)({"zmod2.py": b"Y = 2\n"})
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.read("zmod.py") == b"X = 1\n"  # zipfile sees the first line only
    wheel = write(tmp_path / NAME, {**sourceless(), "extra.pth": b"extra.zip\n", "extra.zip": archive})
    err = _refused(wheel, capsys, "zipimport would read what zipfile does not")
    assert f"{wheel}!extra.zip: zmod.py: " in err
    pyz = bundle(tmp_path / "demo.pyz", b"from demo import main\n")
    pyz.write_bytes(_overlong(deflated)(_entries(pyz)))
    _refused(pyz, capsys, "zipimport would read what zipfile does not")


def test_an_entry_with_a_second_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An Info-ZIP Unicode Path field: zipfile takes its name from Python 3.12, zipimport and
    older zipfile the header's."""
    second = b"zz.pth"
    field = struct.pack("<HHB", 0x7075, 5 + len(second), 1) + struct.pack("<L", zlib.crc32(b"demo/notes.txt")) + second
    wheel = write(tmp_path / NAME, sourceless())
    entries = _entries(wheel)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if name.endswith("RECORD"):
                notes = zipfile.ZipInfo("demo/notes.txt")
                notes.extra = field
                zf.writestr(notes, b"import os\n")
            zf.writestr(info, data)
    wheel.write_bytes(buffer.getvalue())
    _refused(wheel, capsys, "carries another name in an Info-ZIP Unicode Path field")


@pytest.mark.parametrize(
    ("method", "flags"), [(zipfile.ZIP_BZIP2, 0), (zipfile.ZIP_LZMA, 0), (zipfile.ZIP_DEFLATED, 1)]
)
def test_a_module_zipimport_would_inflate_otherwise_is_refused(
    method: int, flags: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """zipimport inflates every method but stored as deflate, and ignores encryption (bzip2 and
    LZMA are refused in any archive)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zmod.py", b"X = 1\n")
    data = bytearray(buffer.getvalue())
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    for offset in (local + 6, central + 8):
        struct.pack_into("<HH", data, offset, flags, method)
    wheel = write(tmp_path / NAME, {**sourceless(), "extra.pth": b"extra.zip\n", "extra.zip": bytes(data)})
    refused = "zipimport reads it as plain deflate, zipfile otherwise"
    _refused(wheel, capsys, refused if method == zipfile.ZIP_DEFLATED else f"is compressed with method {method}")


def test_a_pth_file_larger_than_site_needs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .pth file is decoded and split whole: 22 million comment lines took check to 1.6 GB."""
    from hatch_pyc.core.limits import MAX_PTH_SIZE

    wheel = write(tmp_path / NAME, {**sourceless(), "big.pth": b"#a\n" * (MAX_PTH_SIZE // 3 + 1)})
    _refused(wheel, capsys, f"has {MAX_PTH_SIZE + 3 - MAX_PTH_SIZE % 3} bytes, more than {MAX_PTH_SIZE}")


def test_a_record_of_more_rows_than_entries_can_have_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row is kept while RECORD is compared with the entries: 64 MiB of them took 1.9 GB."""
    from hatch_pyc.core.limits import MAX_RECORD_ROWS

    wheel = write(tmp_path / NAME, sourceless(), extra_record=b"x,,\n" * MAX_RECORD_ROWS)
    _refused(wheel, capsys, f"RECORD has more than {MAX_RECORD_ROWS} rows")


def test_an_entry_points_file_larger_than_its_limit_is_refused() -> None:
    from hatch_pyc.core.limits import MAX_ENTRY_POINTS_SIZE, LimitExceeded
    from hatch_pyc.wheel import wheelfile

    text = "[console_scripts]\nx = a:b\n" + "  continued\n" * (MAX_ENTRY_POINTS_SIZE // 12 + 1)
    with pytest.raises(LimitExceeded, match=r"entry_points\.txt is larger than"):
        wheelfile.scripts("w.whl", text)
    with pytest.raises(LimitExceeded, match=r"entry_points\.txt is larger than"):
        wheelfile.console_scripts("w.whl", text)


def _inflating_past(entries: dict[str, bytes], name: str, extra: int) -> bytes:
    """An archive of ``entries`` whose entry ``name`` declares its own size and CRC while its
    deflate stream goes on with ``extra`` zero bytes: zipfile's read() inflates them all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, entries[name] + bytes(extra))  # first: its headers come first
        for other, data in entries.items():
            if other != name:
                zf.writestr(other, data)
    return _first_declaring(buffer.getvalue(), entries[name])


def test_dist_info_that_inflates_past_its_size_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pypa/installer reads .dist-info files with ZipFile.read, which asks zlib for up to 1 GiB
    before it cuts the output to the declared size: a 1 MiB wheel cost install 2.1 GB."""
    wheel = write(tmp_path / NAME, sourceless())
    wheel.write_bytes(_inflating_past(_entries(wheel), f"{DIST}/RECORD", 64 * 1024 * 1024))
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(f"{DIST}/RECORD") == _entries(wheel)[f"{DIST}/RECORD"]  # as declared, to zipfile
    _refused(wheel, capsys, "RECORD: its compressed data inflates to more than the")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_entries_compressed_otherwise_than_deflate_are_refused(
    method: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    entries = _entries(wheel)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data, compress_type=method if name.endswith(".pyc") else None)
    _refused(wheel, capsys, f"is compressed with method {method}: hatch-pyc reads only stored and deflated entries")


def _claiming(target: Path, entries: dict[str, bytes], claimed: dict[str, bytes], algorithm: str) -> Path:
    """A wheel of ``entries`` whose RECORD gives, in ``algorithm``, the digests of ``claimed``'s bytes."""
    rows = [
        (name, f"{algorithm}={records.record_hash(data, algorithm)}", str(len(data)))
        for name, data in {**entries, **claimed}.items()
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        zf.writestr(f"{DIST}/RECORD", records.render(DIST, rows))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    return target


@pytest.mark.parametrize("algorithm", records.ALGORITHMS)
def test_record_is_verified_with_the_bytes_that_were_looked_at(tmp_path: Path, algorithm: str) -> None:
    # Round 15: the check loaded a pyc, then hashed another reading of it for a SHA-512 row of
    # RECORD; a pyc written over the wheel in place between the two matched RECORD.
    honest = sourceless()
    planted = {"demo/core.pyc": pyc(b"open('marker', 'w')\n")}
    looked_at = _claiming(tmp_path / "looked-at" / NAME, honest, planted, algorithm)
    rewritten = _claiming(tmp_path / "rewritten" / NAME, {**honest, **planted}, planted, algorithm)
    with open_artifact(str(looked_at)) as artifact:
        artifact.read("demo/core.pyc")
        artifact.archive = zipfile.ZipFile(rewritten)  # the file at the path, rewritten
        assert "demo/core.pyc: content does not match its RECORD hash" in record_problems(artifact)
    with open_artifact(str(looked_at)) as artifact:
        artifact.read("demo/core.pyc")
        artifact.archive = zipfile.ZipFile(rewritten)
        # Read again, and differing: matched by no RECORD row.
        artifact.read("demo/core.pyc")
        assert artifact.digests[("demo/core.pyc", algorithm)][0] == CHANGED
        assert "demo/core.pyc: content does not match its RECORD hash" in record_problems(artifact)
