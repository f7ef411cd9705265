"""Hostile input: a generated corpus of broken and crafted artifacts, fed to every command.

Each artifact starts as a real wheel or ``.pyz`` the hook built from the demo project and is
then damaged the way an attacker (or a broken tool) would: at the zip level, in RECORD,
WHEEL, METADATA and the bytecode metadata, in the pycs and their marshal data, as bombs, and
as wheels that check fine but cannot be installed whole. Every command must answer each with
its documented exit code and one ``hatch-pyc:`` line, never a traceback, within a time
limit; a refused install leaves the venv as it was; convert leaves its input as it was and
writes nothing when it fails.
"""

from __future__ import annotations

import importlib.util
import io
import marshal
import os
import posixpath
import resource
import signal
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import wheels
from helpers import PROJECTS, Venv, demo_artifacts, run, uv
from wheels import rewrite

from hatch_pyc import cli
from hatch_pyc.core.limits import MAX_ENTRIES, MAX_PYC_SIZE

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
HEADER_CHECKED = importlib.util.MAGIC_NUMBER + struct.pack("<I", 3)
HEADER_UNCHECKED = importlib.util.MAGIC_NUMBER + struct.pack("<I", 1)
#: Seconds any command may take on any input of the corpus.
TIME_LIMIT = 60


@dataclass(frozen=True)
class Case:
    label: str
    path: Path
    #: Exit status of ``check``, and a piece of what it prints.
    check: int
    says: str
    #: Exit status of ``install`` where it differs from check's (a wheel that checks fine
    #: but must not be installed).
    install: int | None = None
    #: A piece of what install prints, where it differs.
    install_says: str = ""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real artifacts of the demo project: alongside, sourceless and zip wheels and a .pyz."""
    root = tmp_path_factory.mktemp("built")
    return demo_artifacts(root)


def _entries(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_raw(target: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        warnings.simplefilter("ignore")  # the duplicate entries are the point
        for info, data in entries:
            out.writestr(info, data)
    return target


def _patch_central(data: bytes, name: str, offset: int, value: bytes) -> bytes:
    """Overwrite ``value`` at ``offset`` into the central directory record of entry ``name``."""
    raw = bytearray(data)
    encoded = name.encode()
    position = 0
    while True:
        position = raw.index(b"PK\x01\x02", position)
        length = struct.unpack("<H", raw[position + 28 : position + 30])[0]
        if bytes(raw[position + 46 : position + 46 + length]) == encoded:
            raw[position + offset : position + offset + len(value)] = value
            return bytes(raw)
        position += 4


def _marshal_code(consts: tuple[object, ...] = (None,), filename: str = "<demo/core.py>") -> bytes:
    return marshal.dumps(compile("x = 1\n", filename, "exec").replace(co_consts=consts))


def site_dir() -> str:
    """site-packages relative to the venv's ``lib`` directory: ``python3.11/site-packages``."""
    return f"python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"


def _code_prefix() -> bytes:
    """A code object's marshal bytes up to its first field (the bytecode string)."""
    data = _marshal_code()
    return data[: data.index(b"s", 1)]


def corpus(built: dict[str, Path], dest: Path) -> Iterator[Case]:
    alongside, sourceless, zip_wheel, pyz = built["alongside"], built["sourceless"], built["zip"], built["pyz"]
    info = wheels.dist_info(alongside)
    counter = iter(range(10_000))

    def place(name: str) -> Path:
        directory = dest / f"case-{next(counter)}"
        directory.mkdir(parents=True)
        return directory / name

    def changed(base: Path, changes: dict[str, bytes | None], *, fix_record: bool = True) -> Path:
        return rewrite(base, place(base.name), changes, fix_record=fix_record)

    def raw(base: Path, change: Callable[[bytes], bytes]) -> Path:
        target = place(base.name)
        target.write_bytes(change(base.read_bytes()))
        return target

    def extra(base: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
        return _write_raw(place(base.name), [*_entries(base).items(), *entries])  # type: ignore[list-item]

    # The zip level.
    not_zip = place(alongside.name)
    not_zip.write_text("hello")
    yield Case("not a zip", not_zip, 2, "not a readable zip archive")
    empty = place(alongside.name)
    empty.write_bytes(b"")
    yield Case("empty file", empty, 2, "not a readable zip archive")
    yield Case("truncated", raw(alongside, lambda d: d[: len(d) // 2]), 2, "not a readable zip archive")
    directory = place(alongside.name)
    directory.mkdir()
    yield Case("a directory", directory, 2, "no such file")
    text = place("demo_pkg-0.1.0-py3-none-any.txt")
    text.write_bytes(alongside.read_bytes())
    yield Case("not .whl or .pyz", text, 2, "not a wheel (.whl) or zipapp (.pyz)")
    badname = place("demo.whl")
    badname.write_bytes(alongside.read_bytes())
    yield Case("bad wheel file name", badname, 2, "demo.whl")
    for label, name in {
        "empty name": "",
        "escape sequence in a name": "demo/\x1b[2K\rok: fine.py",
        "newline in a name": "demo/x\nok: fine.py",
        "dot part": "demo/./core.py",
        "empty part": "demo//core.py",
        "dot-dot": "../evil.py",
        "absolute": "/etc/evil.py",
        "drive letter": "C:evil.py",
        "backslash": "demo\\evil.py",
        "right-to-left override": "demo/\u202eyp.live",
    }.items():
        yield Case(label, extra(alongside, [(zipfile.ZipInfo(name), b"x = 1\n")]), 2, "unsafe entry")
    placeholder = b"demo/evil.pyX../../x"
    with_nul = raw(
        extra(alongside, [(zipfile.ZipInfo(placeholder.decode()), b"x = 1\n")]),
        lambda d: d.replace(placeholder, b"demo/evil.py\0../../x"),
    )
    yield Case("a NUL in a name", with_nul, 2, "unsafe entry 'demo/evil.py\\x00../../x'")
    yield Case("an entry twice", extra(alongside, [("demo/core.py", b"x = 2\n")]), 2, "an entry appears twice")
    core = "demo/core.py"
    yield Case("encrypted", raw(alongside, lambda d: _patch_central(d, core, 8, b"\x01\x00")), 2, "cannot read")
    yield Case(
        "method 99",
        raw(alongside, lambda d: _patch_central(d, core, 10, b"\x63\x00")),
        2,
        "reads only stored and deflated entries",
    )
    yield Case("zip version 9.9", raw(alongside, lambda d: _patch_central(d, core, 6, b"\x63\x00")), 2, "version 9.9")
    yield Case("bad CRC", raw(alongside, lambda d: _patch_central(d, core, 16, b"\0\0\0\0")), 2, "cannot read")

    def corrupt_deflate(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entry = archive.getinfo(core)
        start = entry.header_offset + 30 + len(core.encode()) + len(entry.extra)
        return data[:start] + b"\xff" * 8 + data[start + 8 :]

    yield Case("corrupt deflate stream", raw(alongside, corrupt_deflate), 2, "cannot read")
    big = struct.pack("<I", 0x7FFFFFFF)
    yield Case("declared 2 GiB", raw(alongside, lambda d: _patch_central(d, core, 24, big)), 2, "zip bomb")
    ratio = struct.pack("<I", 100 * 1024 * 1024)
    yield Case("declared ratio", raw(alongside, lambda d: _patch_central(d, core, 24, ratio)), 2, "zip bomb")

    stored = place(alongside.name)
    with zipfile.ZipFile(alongside) as source, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        for name in source.namelist():
            out.writestr(name, source.read(name))
    # Nine entries under the limit for one, 2.25 GB together (stored: no ratio to catch).
    for name in sorted(_entries(alongside))[:9]:
        stored = raw(
            stored, lambda d, name=name: _patch_central(d, name, 20, struct.pack("<II", 250_000_000, 250_000_000))
        )
    yield Case("declared total over 2 GiB", stored, 2, "bytes uncompressed in all")
    many = place(alongside.name)
    with zipfile.ZipFile(many, "w") as out:
        for name, data in _entries(alongside).items():
            out.writestr(name, data)
        for number in range(MAX_ENTRIES + 1):
            out.writestr(f"d/{number}", b"")
    yield Case("too many entries", many, 2, f"more than {MAX_ENTRIES} entries")
    # Just under the limit: checked in time proportional to the entries (once quadratic).
    almost = place(alongside.name)
    with zipfile.ZipFile(alongside) as source, zipfile.ZipFile(almost, "w") as out:
        for name in source.namelist():
            if not name.endswith("/RECORD"):
                out.writestr(name, source.read(name))
        padding = [f"demo/pad/{number}" for number in range(MAX_ENTRIES - 100)]
        for name in padding:
            out.writestr(name, b"")
        empty = "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0"
        rows = [line for line in wheels.read(alongside, f"{info}/RECORD").decode().splitlines()]
        out.writestr(f"{info}/RECORD", "\n".join(rows + [f"{name},{empty}" for name in padding]) + "\n")
    yield Case("entries just under the limit", almost, 0, "ok")

    # RECORD.
    record = f"{info}/RECORD"
    yield Case("no RECORD", changed(alongside, {record: None}, fix_record=False), 2, "RECORD is missing")
    yield Case("RECORD of 2 fields", changed(alongside, {record: b"demo/core.py,sha256=abc\n"}), 2, "2 fields")
    huge = b'"' + b"x" * 300_000 + b'",sha256=a,1\n'
    yield Case("RECORD field over csv's limit", changed(alongside, {record: huge}), 2, "not readable CSV")
    yield Case("RECORD not UTF-8", changed(alongside, {record: b"\xff\xfe,,\n"}), 2, "not UTF-8")
    original = wheels.read(alongside, record)
    md5 = original.replace(b"demo/core.py,sha256=", b"demo/core.py,md5=")
    yield Case("RECORD with md5", changed(alongside, {record: md5}), 1, "no usable hash")
    yield Case(
        "a file that does not match RECORD",
        changed(alongside, {core: b"x = 2\n"}, fix_record=False),
        1,
        "demo/core.py: content does not match its RECORD hash",
    )
    yield Case(
        "RECORD names a missing file",
        changed(alongside, {record: original + b"demo/gone.py,sha256=x,1\n"}),
        1,
        "demo/gone.py: in RECORD but not in the wheel",
    )
    four = original.replace(b"demo/core.py,sha256=", b"demo/core.py,x,sha256=")
    yield Case("RECORD of 4 fields", changed(alongside, {record: four}, fix_record=False), 2, "4 fields")
    lying = b"\n".join(
        line.rsplit(b",", 1)[0] + b",1" if line.startswith(b"demo/core.py,") else line for line in original.split(b"\n")
    )
    yield Case("RECORD with a wrong size", changed(alongside, {record: lying}, fix_record=False), 1, "size")
    yield Case("RECORD with a NUL", changed(alongside, {record: original + b"demo/\0.py,sha256=x,1\n"}), 1, "RECORD")
    # WHEEL.
    wheel_file = f"{info}/WHEEL"
    good_wheel = wheels.read(alongside, wheel_file)
    yield Case("no WHEEL", changed(alongside, {wheel_file: None}), 2, "WHEEL is missing")
    for label, content, says in [
        ("WHEEL without Tag", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n", "no Tag line"),
        ("WHEEL with a garbage Tag", good_wheel + b"Tag: garbage\n", "malformed Tag line garbage"),
        ("WHEEL version 99", good_wheel.replace(b"Wheel-Version: 1.0", b"Wheel-Version: 99"), "Wheel-Version 99"),
        ("WHEEL without Root-Is-Purelib", good_wheel.replace(b"Root-Is-Purelib: true\n", b""), "Root-Is-Purelib"),
        ("WHEEL not UTF-8", good_wheel + b"X: \xff\n", "not UTF-8"),
        ("WHEEL version 2.0", good_wheel.replace(b"Wheel-Version: 1.0", b"Wheel-Version: 2.0"), "Wheel-Version 2.0"),
        (
            "WHEEL Root-Is-Purelib maybe",
            good_wheel.replace(b"Root-Is-Purelib: true", b"Root-Is-Purelib: maybe"),
            "Root-Is",
        ),
    ]:
        yield Case(label, changed(alongside, {wheel_file: content}), 2, says)
    other_tag = good_wheel.replace(b"Tag: py3-none-any", b"Tag: py2-none-any")
    yield Case(
        "WHEEL tag unlike the name's", changed(alongside, {wheel_file: other_tag}), 1, "differ from the file name"
    )
    yield Case("no METADATA", changed(alongside, {f"{info}/METADATA": None}), 2, "METADATA is missing")
    renamed = {name.replace(info, "other_pkg-0.1.0.dist-info"): data for name, data in _entries(alongside).items()}
    moved = changed(alongside, {**dict.fromkeys(_entries(alongside)), **renamed}, fix_record=False)
    yield Case(".dist-info of another project", moved, 2, "is not demo-pkg 0.1.0's")
    two = changed(alongside, {"other-1.0.dist-info/METADATA": b"Name: other\n"})
    yield Case("two .dist-info directories", two, 2, "found 2")

    # The bytecode metadata.
    meta = f"{info}/extra_metadata/hatch_pyc.json"
    document = wheels.read(alongside, meta).decode()
    magic = importlib.util.MAGIC_NUMBER.hex()
    for label, content in {
        "not JSON": "{not json",
        "nested 100000 deep": "[" * 100_000 + "]" * 100_000,
        "modules a string": document.replace('"modules": 12', '"modules": "12"'),
        "modules 1e400": document.replace('"modules": 12', '"modules": 1e400'),
        "modules NaN": document.replace('"modules": 12', '"modules": NaN'),
        "magic not hex": document.replace(magic, "zzzz0d0a"),
        "version '3'": document.replace(f'"version": "{".".join(map(str, sys.version_info[:3]))}"', '"version": "3"'),
        "no interpreters": document.replace('"interpreters": [', '"interpreters": [], "x": ['),
        "format 2": document.replace('"format": 1', '"format": 2'),
        "unknown layout": document.replace('"layout": "alongside"', '"layout": "weird"'),
        "optimize 7": document.replace('"optimize": [\n    0\n  ]', '"optimize": [7]'),
        "a list": "[]",
        "interpreters not a list": document.replace('"interpreters": [', '"interpreters": {"a": [').replace(
            "\n  ]\n}", "\n  ]}\n}"
        ),
        "implementation a number": document.replace('"implementation": "cpython"', '"implementation": 7'),
        "free_threaded a string": document.replace('"free_threaded": false', '"free_threaded": "no"'),
        "over 1 MiB": document.rstrip()[:-1] + ', "pad": "' + "x" * (1024 * 1024) + '"}',
    }.items():
        assert content != document, label
        yield Case(f"bytecode metadata: {label}", changed(alongside, {meta: content.encode()}), 2, "hatch_pyc.json")
    yield Case("bytecode metadata: not UTF-8", changed(alongside, {meta: b"\xff\xfe{"}), 2, "hatch_pyc.json")

    # Pycs and their marshal data (sourceless: nothing to fall back on).
    prefix = _code_prefix()
    target = "demo/core.pyc"
    for label, body in {
        "negative length": prefix + b"s\xff\xff\xff\xff",
        "nested 3000 deep": prefix + b")\x01" * 3000,
        "garbage": b"this is not marshal data",
        "trailing bytes": _marshal_code() + b"N",
        "truncated marshal": _marshal_code()[:-5],
        "a count past the end": prefix + b"(\xff\xff\xff\x7f",
        "a back-reference to nothing": prefix + b"r\x05\x00\x00\x00",
        "an unknown type": prefix + b"?",
        "root not code": marshal.dumps(("a", "tuple")),
        "a long of 2**30 digits": prefix + b"l\x00\x00\x00\x40",
        "a short string past the end": prefix + b"z\xff",
        "an interned string past the end": prefix + b"A\x00\x00\x01\x00",
        "a dict with no end": prefix + b"{NN",
        "a back-reference flag on None": prefix + b"\xcePP",
        "a set of -5": prefix + b"<\xfb\xff\xff\xff",
        "an old float past the end": prefix + b"f\xff1.5",
        "a file name that is not a string": marshal.dumps(compile("x = 1", "f", "exec")).replace(
            b"\xda\x01f", b"\xe9\x07\x00\x00\x00", 1
        ),
    }.items():
        yield Case(
            f"pyc: {label}", changed(sourceless, {target: HEADER_CHECKED + b"\0" * 8 + body}), 1, "not valid bytecode"
        )
    yield Case("pyc: 8 bytes", changed(sourceless, {target: importlib.util.MAGIC_NUMBER * 2}), 1, "not valid bytecode")
    bad_flags = importlib.util.MAGIC_NUMBER + struct.pack("<I", 4) + b"\0" * 8 + _marshal_code()
    yield Case("pyc: unknown flags", changed(sourceless, {target: bad_flags}), 1, "unknown pyc flags")
    other_magic = b"\x00\x00\r\n" + struct.pack("<I", 3) + b"\0" * 8 + _marshal_code()
    yield Case("pyc: another magic number", changed(sourceless, {target: other_magic}), 1, "magic number 00000d0a")
    absolute = HEADER_CHECKED + b"\0" * 8 + _marshal_code(filename="/home/builder/demo/core.py")
    yield Case("pyc: a build path", changed(sourceless, {target: absolute}), 1, "absolute path of the build machine")
    nones = HEADER_CHECKED + b"\0" * 8 + _marshal_code(consts=(None,) * 1_000_000)
    bomb = {f"demo/bomb{number}.pyc": nones for number in range(25)}
    yield Case("pyc bomb: 25 pycs of a million objects", changed(sourceless, bomb), 2, "objects in its bytecode")
    # Seven pycs of 40 MiB of zeros, 40 KB each on disk: read whole, they would cost memory.
    huge = HEADER_CHECKED + b"\0" * 8 + bytes(40 * 1024 * 1024)
    seven = {f"demo/huge{number}.pyc": huge for number in range(7)}
    yield Case("pyc bomb: seven pycs of 40 MiB", changed(sourceless, seven), 2, f"more than {MAX_PYC_SIZE}")
    # A dict whose 10,000 keys are one 500,000-digit int: loading it hashes the int each time.
    huge_int = b"\xec" + struct.pack("<i", 500_000) + b"\xff\x7f" * 500_000
    rehash = b"{" + (b"r" + struct.pack("<i", 0) + b"N") * 10_000 + b"0"
    slow = HEADER_CHECKED + b"\0" * 8 + b"(" + struct.pack("<i", 2) + huge_int + rehash
    yield Case("pyc bomb: 5 seconds of CPU in 1 MB", changed(sourceless, {target: slow}), 2, "more CPU time")

    # Pycs beside their sources (alongside): the header and the code must be the source's.
    cached = importlib.util.cache_from_source(core)
    source = wheels.read(alongside, core)
    hidden = compile("import os\nHIDDEN = True\n", "<demo/core.py>", "exec")
    other_hash = HEADER_CHECKED + importlib.util.source_hash(b"HIDDEN = 1\n") + marshal.dumps(hidden)
    yield Case("pyc with another source's hash", changed(alongside, {cached: other_hash}), 1, "hash of another source")
    unchecked = HEADER_UNCHECKED + importlib.util.source_hash(source) + wheels.read(alongside, cached)[16:]
    yield Case(
        "pyc unchecked where checked is recorded", changed(alongside, {cached: unchecked}), 1, "unchecked-hash pyc"
    )
    right_hash = importlib.util.source_hash(source) + marshal.dumps(hidden)
    yield Case(
        "hidden code, checked-hash",
        changed(alongside, {cached: HEADER_CHECKED + right_hash}),
        0,
        "ok",
        install=1,
        install_says="demo/__pycache__/core.cpython-",
    )
    stranger = cached.replace(TAG.replace("cp", "cpython-"), "cpython-99")
    yield Case("a pyc for no recorded interpreter", changed(alongside, {stranger: other_hash}), 1, "no interpreter")

    # What is checked is decided by where files land, not by where they sit in the wheel.
    data = f"{info[: -len('.dist-info')]}.data"
    hidden_pyc = HEADER_CHECKED + right_hash
    for scheme in ("purelib", "platlib"):
        yield Case(
            f"hidden code over a source moved to .data/{scheme}",
            changed(alongside, {core: None, f"{data}/{scheme}/{core}": source, cached: hidden_pyc}),
            0,
            "ok",
            install=1,
            install_says="its code is not what its source compiles to",
        )
    victim = cached.replace("demo/", "victim/")
    yield Case("a pyc in another distribution's package", changed(alongside, {victim: hidden_pyc}), 1, "no source")
    yield Case(
        "a pyc with no source",
        changed(alongside, {core: None}),
        1,
        "a __pycache__ pyc with no source beside it from this wheel",
    )
    for label, name in {
        "__PYCACHE__": cached.replace("__pycache__", "__PYCACHE__"),
        "__pycache__ with a trailing dot": cached.replace("__pycache__", "__pycache__."),
        "__pycache__ with a trailing space": cached.replace("__pycache__", "__pycache__ "),
    }.items():
        yield Case(f"a directory spelled {label}", changed(alongside, {cached: None, name: hidden_pyc}), 1, "spelled")
    upper = cached.replace("/core.", "/CORE.")
    yield Case("a pyc named in capitals", changed(alongside, {cached: None, upper: hidden_pyc}), 1, "named unlike")
    yield Case(
        "one file at the root and in purelib", changed(alongside, {f"{data}/purelib/{core}": source}), 1, "one file"
    )
    yield Case(
        "a file and a directory of one name", changed(alongside, {f"{core}/inner.py": b""}), 1, "lands as a file"
    )
    yield Case("two names that differ by case", changed(alongside, {"demo/CORE.py": source}), 1, "land on one file")
    yield Case(
        "a pycache-like directory",
        changed(alongside, {f"demo/x__pycache__/{posixpath.basename(cached)}": hidden_pyc}),
        1,
        "bytecode with no source beside it",
    )
    yield Case("a stray legacy pyc", changed(alongside, {"demo/stray.pyc": hidden_pyc}), 1, "bytecode with no source")
    extra_zip = io.BytesIO()
    with zipfile.ZipFile(extra_zip, "w") as out:
        out.writestr("extra/__init__.py", source)
        out.writestr("extra/__init__.pyc", hidden_pyc)
    sourceless_zip = io.BytesIO()
    with zipfile.ZipFile(sourceless_zip, "w") as out:
        out.writestr("extra/__init__.pyc", hidden_pyc)
    on_path = {"extra.pth": b"extra.zip\n"}
    yield Case(
        "an undeclared archive on sys.path, its pyc beside a source",
        changed(alongside, {**on_path, "extra.zip": extra_zip.getvalue()}),
        0,
        "ok",
        install=1,
        install_says="extra.zip/extra/__init__.pyc: its code is not what its source compiles to",
    )
    yield Case(
        "an undeclared archive on sys.path, its pyc alone",
        changed(alongside, {**on_path, "extra.zip": sourceless_zip.getvalue()}),
        1,
        "extra.zip/extra/__init__.pyc: bytecode with no source beside it in an archive",
    )
    for label, changes in {
        "a .pth import line": {"extra.pth": b"import os\n"},
        "a .pth import line through .data/data": {f"{data}/data/lib/{site_dir()}/extra.pth": b"import os\n"},
        "a PEP 829 .start file": {"extra.start": b"demo.core:main\n"},
        "a sitecustomize module": {"sitecustomize.py": b"import os\n"},
    }.items():
        yield Case(label, changed(alongside, changes), 0, "start-up code", install=1, install_says="allow-startup-code")

    # The zip layout's archive.
    inner_name = "demo_pkg.zip"
    yield Case(
        "zip layout: archive not a zip", changed(zip_wheel, {inner_name: b"nope"}), 2, "not a readable zip archive"
    )
    inner = _entries(zip_wheel)[inner_name]
    inner_evil = io.BytesIO()
    with zipfile.ZipFile(inner_evil, "w") as out:
        out.writestr("../evil.pyc", b"x")
    yield Case("zip layout: .. inside", changed(zip_wheel, {inner_name: inner_evil.getvalue()}), 2, "unsafe entry")
    nested_bomb = _patch_central(inner, "demo/core.pyc", 24, struct.pack("<I", 0x7FFFFFFF))
    yield Case("zip layout: a bomb inside", changed(zip_wheel, {inner_name: nested_bomb}), 2, "zip bomb")
    inner_garbage = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(inner)) as source_zip, zipfile.ZipFile(inner_garbage, "w") as out:
        for name in source_zip.namelist():
            out.writestr(name, b"garbage" if name == "demo/core.pyc" else source_zip.read(name))
    yield Case(
        "zip layout: a garbage pyc inside",
        changed(zip_wheel, {inner_name: inner_garbage.getvalue()}),
        1,
        "not valid bytecode",
    )
    yield Case(
        "pyz: a garbage pyc",
        _write_raw(place(pyz.name), [*((n, b"junk" if n == target else d) for n, d in _entries(pyz).items())]),
        1,
        "not valid bytecode",
    )  # type: ignore[misc]

    # Wheels that check fine but cannot be installed whole.
    # Names past the name limits: every command refuses them, before anything walks them.
    for label, changes in [
        ("a 300-character name", {f"demo/{'x' * 300}.txt": b""}),
        ("3000 directories", {"/".join(["d"] * 3000) + "/f.txt": b""}),
    ]:
        yield Case(f"install: {label}", changed(alongside, changes), 2, "too long")
    for label, changes, says in [
        ("an unknown .data scheme", {f"{data}/elsewhere/f.txt": b""}, "in no scheme"),
        ("over the interpreter", {f"{data}/data/bin/python": b"#!/bin/sh\n"}, "which is there already"),
        (
            "a script name with ../",
            {f"{info}/entry_points.txt": b"[console_scripts]\n../evil = demo.cli:main\n"},
            "not a plain file name",
        ),
        (
            "a script named like a module",
            {f"{info}/entry_points.txt": b"[console_scripts]\njson.py = demo.cli:main\n"},
            "a module's name: in the scripts directory",
        ),
        ("a malformed entry point", {f"{info}/entry_points.txt": b"[console_scripts]\nx = not valid!\n"}, "malformed"),
        ("an entry point twice", {f"{info}/entry_points.txt": b"[console_scripts]\nx = a:b\nx = a:c\n"}, "malformed"),
        (
            "a console and a GUI script of one name",
            {f"{info}/entry_points.txt": b"[console_scripts]\nx = a:b\n[gui_scripts]\nx = a:b\n"},
            "would both install",
        ),
        ("a script and an entry point of one name", {f"{data}/scripts/demo-cli": b"#!/bin/sh\n"}, "would both install"),
    ]:
        yield Case(f"install: {label}", changed(alongside, changes), 0, "ok", install=2, install_says=says)


def _limited(command: list[str]) -> tuple[int, str, str]:
    """Run the hatch-pyc command in this process under a time limit, as ``hatch-pyc ...``."""
    out, err = io.StringIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err

    def expired(*_: object) -> None:
        raise TimeoutError(f"hatch-pyc {' '.join(command)} took more than {TIME_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TIME_LIMIT)
    try:
        code = cli.main(command)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.stdout, sys.stderr = stdout, stderr
    return code, out.getvalue(), err.getvalue()


def _one_refusal(code: int, err: str, label: str) -> None:
    assert "Traceback" not in err, (label, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1, (label, err)
        assert lines[0].startswith("hatch-pyc: "), (label, err)
        assert "internal error" not in err, (label, err)


@pytest.fixture(scope="module")
def cases(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    found = list(corpus(built, tmp_path_factory.mktemp("corpus")))
    assert len({case.label for case in found}) == len(found)
    return found


def test_the_corpus_covers_every_class(cases: list[Case]) -> None:
    assert len(cases) >= 120


@pytest.mark.slow
def test_inspect_and_check_answer_every_hostile_artifact(cases: list[Case]) -> None:
    failures = []
    for case in cases:
        before = case.path.read_bytes() if case.path.is_file() else None
        try:
            code, out, err = _limited(["inspect", str(case.path)])
            assert code in (0, 2), (case.label, out, err)
            _one_refusal(code, err, case.label)
            code, out, err = _limited(["check", str(case.path)])
            assert code == case.check, (case.label, code, out, err)
            assert case.says in out + err, (case.label, out, err)
            _one_refusal(code, err, case.label)
            assert "\x1b" not in out + err, case.label
            assert "\r" not in out + err, case.label
            if code == 1:
                assert all(line.startswith(case.path.name + ": ") for line in out.splitlines()), (case.label, out)
            assert (case.path.read_bytes() if case.path.is_file() else None) == before, case.label
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_install_refuses_every_hostile_wheel_and_leaves_the_venv_as_it_was(cases: list[Case], tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv", sys.executable)
    before = venv.files()
    for case in cases:
        if case.path.suffix != ".whl" or (case.check == 0 and case.install is None):
            continue
        code, out, err = _limited(["install", str(case.path), "--python", str(venv.python)])
        expected = case.install if case.install is not None else case.check
        assert code == expected, (case.label, code, out, err)
        assert (case.install_says or case.says) in out + err, (case.label, out, err)
        _one_refusal(code, err, case.label)
        assert venv.files() == before, case.label


@pytest.mark.slow
def test_convert_fails_cleanly_on_every_broken_wheel(cases: list[Case], tmp_path: Path) -> None:
    for number, case in enumerate(cases):
        if case.check == 0:
            continue
        before = case.path.read_bytes() if case.path.is_file() else None
        out_dir = tmp_path / f"out-{number}"
        code, out, err = _limited(["convert", str(case.path), "--layout", "sourceless", "-o", str(out_dir)])
        # Some damage is in files convert only copies (a pyc of a sourceless wheel): it may succeed.
        assert code in (0, 2), (case.label, code, out, err)
        _one_refusal(code, err, case.label)
        if code == 2:
            assert not out_dir.exists() or not any(out_dir.rglob("*")), case.label
        assert (case.path.read_bytes() if case.path.is_file() else None) == before, case.label


@pytest.mark.slow
def test_bundle_fails_cleanly_on_every_broken_wheel(cases: list[Case], tmp_path: Path) -> None:
    for number, case in enumerate(cases):
        if (case.check == 0 and case.install is None) or case.path.suffix != ".whl":
            continue
        out_dir = tmp_path / f"out-{number}"
        code, out, err = _limited(["bundle", str(case.path), "--entry-point", "demo.core:main", "-o", str(out_dir)])
        # As for convert: damage in a file bundling only copies may pass.
        assert code in (0, 2), (case.label, code, out, err)
        _one_refusal(code, err, case.label)
        if code == 2:
            assert not out_dir.exists() or not any(out_dir.rglob("*")), case.label


def test_the_worst_bomb_stays_within_time_and_memory(cases: list[Case]) -> None:
    """The command itself, as a user runs it, under an address-space limit."""
    bombs = [case for case in cases if "bomb" in case.label or "many" in case.label or "entries" in case.label]
    limit = 1024 * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    for case in bombs:
        for command in ("inspect", "check"):
            result = run(
                [Path(sys.executable).parent / "hatch-pyc", command, case.path],
                check=False,
                timeout=TIME_LIMIT,
                preexec_fn=cap,
            )
            assert result.returncode in (0, 2), (case.label, command, result.stderr)
            assert "Traceback" not in result.stderr, (case.label, result.stderr)


def test_install_failing_while_writing_removes_everything(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up part-way: the install is undone, and a retry works."""
    from hatch_pyc import install

    venv = Venv(tmp_path / "venv", sys.executable)
    before = venv.files()
    create = install._create
    calls = iter(range(1000))

    def fill_up(path: str) -> int:
        if next(calls) == 5:
            raise OSError(28, "No space left on device")
        return create(path)

    monkeypatch.setattr(install, "_create", fill_up)
    code, _out, err = _limited(["install", str(built["alongside"]), "--python", str(venv.python)])
    assert code == 2
    assert "No space left on device; everything written was removed" in err
    assert venv.files() == before
    monkeypatch.undo()
    assert _limited(["install", str(built["alongside"]), "--python", str(venv.python)])[0] == 0
    assert run([venv.python, "-c", "import demo.core"]).returncode == 0
    venv.pip("uninstall", "-y", "demo-pkg")
    assert venv.files() == before


def test_install_refuses_over_another_install_or_a_file_in_the_way(built: dict[str, Path], tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv", sys.executable)
    site = venv.site_packages()
    egg = site / "demo_pkg-0.0.1-py3.11.egg-info"
    egg.write_text("Metadata-Version: 1.0\nName: demo-pkg\n")
    code, out, _ = _limited(["install", str(built["alongside"]), "--python", str(venv.python)])
    assert code == 1
    assert "demo-pkg is installed already" in out
    assert "egg-info" in out
    egg.unlink()
    before = venv.files()
    (site / "demo").mkdir()
    (site / "demo" / "core.py").write_text("# somebody else's\n")
    code, _, err = _limited(["install", str(built["alongside"]), "--python", str(venv.python)])
    assert code == 2
    assert "demo/core.py would overwrite" in err
    assert (site / "demo" / "core.py").read_text() == "# somebody else's\n"
    (site / "demo" / "core.py").unlink()
    (site / "demo").rmdir()
    assert venv.files() == before
    uv()  # uv uninstall too: every file the install wrote is in RECORD
    assert _limited(["install", str(built["alongside"]), "--python", str(venv.python)])[0] == 0
    run([uv(), "pip", "uninstall", "-p", venv.python, "demo-pkg"])
    assert venv.files() == before


def test_a_hidden_code_pyc_is_refused_by_install_and_by_check_verify_code(cases: list[Case]) -> None:
    (case,) = [case for case in cases if case.label == "hidden code, checked-hash"]
    code, out, _ = _limited(["check", "--verify-code", str(case.path)])
    assert code == 1
    pyc = f"demo/__pycache__/core.{sys.implementation.cache_tag}.pyc"
    assert f"{pyc}: its code is not what its source compiles to (demo/core.py)" in out


def test_names_from_an_artifact_cannot_draw_on_the_terminal(cases: list[Case]) -> None:
    (case,) = [case for case in cases if case.label == "escape sequence in a name"]
    code, _, err = _limited(["check", str(case.path)])
    assert code == 2
    assert "\\x1b[2K\\rok: fine.py" in err
    assert os.linesep not in err.rstrip("\n")


def test_convert_failures_are_one_message_and_leave_no_output(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the project's backend would have built: no pycs, no bytecode metadata.
    hooked = built["alongside"]
    dropped = {name: None for name in wheels.names(hooked) if "__pycache__" in name or name.endswith("hatch_pyc.json")}
    alongside = rewrite(hooked, tmp_path / "plain" / hooked.name, dropped)  # type: ignore[arg-type]
    broken = rewrite(alongside, tmp_path / "broken" / alongside.name, {"demo/core.py": b"def f(:\n"})
    extension = rewrite(alongside, tmp_path / "ext" / alongside.name, {"demo/fast.abi3.so": b"\x7fELF"})
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for label, wheel, args, says in [
        ("a module that does not compile", broken, [], "1 module failed to compile"),
        ("an extension module in the zip layout", extension, ["--layout", "zip"], "cannot import extension modules"),
        (
            "an output directory that is a file",
            alongside,
            ["-o", str(a_file)],
            f"cannot write the converted wheel to {a_file}",
        ),
        (
            "an output directory nobody can make",
            alongside,
            ["-o", "/proc/hatch-pyc-out"],
            "cannot write the converted wheel",
        ),
    ]:
        before = wheel.read_bytes()
        out_dir = args[args.index("-o") + 1] if "-o" in args else str(tmp_path / f"out-{label}")
        command = ["convert", str(wheel), *args] + ([] if "-o" in args else ["-o", out_dir])
        code, out, err = _limited(command)
        assert code == 2, (label, out, err)
        assert says in err, (label, err)
        assert "Traceback" not in err, label
        assert wheel.read_bytes() == before, label
        assert not Path(out_dir).is_dir() or not any(Path(out_dir).iterdir()), label

    code, _, err = _limited(["convert", str(hooked), "--layout", "zip", "-o", str(tmp_path / "again")])
    assert code == 2
    assert "is a hatch-pyc wheel already (layout alongside, bytecode for cpython " in err
    assert not (tmp_path / "again").exists()

    # A disk that fills up while the wheel is written: no partial file, no new directory.
    from hatch_pyc import convert

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(convert.wheelfile, "write_wheel", full)
    out_dir = tmp_path / "full"
    code, _, err = _limited(["convert", str(alongside), "-o", str(out_dir)])
    assert code == 2
    assert err == f"hatch-pyc: cannot write the converted wheel to {out_dir}: No space left on device\n"
    assert not out_dir.exists()


def test_convert_writes_regular_files_whatever_modes_the_input_claims(built: dict[str, Path], tmp_path: Path) -> None:
    hooked = built["alongside"]
    dropped = {name: None for name in wheels.names(hooked) if "__pycache__" in name or name.endswith("hatch_pyc.json")}
    plain = rewrite(hooked, tmp_path / "plain" / hooked.name, dropped)  # type: ignore[arg-type]
    claimed = {"demo/core.py": 0o120777, "demo/sub/__init__.py": 0o104755, "demo/data.txt": 0o010644}
    odd = tmp_path / "odd" / plain.name
    odd.parent.mkdir()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename in claimed:
                info.external_attr = claimed[info.filename] << 16
            out.writestr(info, source.read(info))
    code, out, err = _limited(["convert", str(odd), "-o", str(tmp_path / "out")])
    assert code == 0, err
    with zipfile.ZipFile(out.strip()) as converted:
        modes = {name: converted.getinfo(name).external_attr >> 16 for name in claimed}
    assert modes == {"demo/core.py": 0o100777, "demo/sub/__init__.py": 0o100755, "demo/data.txt": 0o100644}


@pytest.mark.slow
def test_verify_answers_every_hostile_artifact(cases: list[Case], tmp_path: Path) -> None:
    """Against the demo project's own sources: a verdict, or one line and exit 2."""
    sources = PROJECTS / "demo"
    for case in cases:
        code, out, err = _limited(["verify", str(case.path), "--source", str(sources), "--jobs", "1"])
        assert code in (0, 1, 2), (case.label, code, out, err)
        _one_refusal(code, err, case.label)
        if code == 1:
            assert all(line.startswith(case.path.name + ": ") for line in out.splitlines()), (case.label, out)
