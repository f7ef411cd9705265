"""Wheels and bundles made in memory, and the command run in-process, for the unit tier's
hostile corpora (tests/unit/check/test_hostile_in_memory.py, tests/unit/wheel/test_artifact.py)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import marshal
import struct
import zipfile
from pathlib import Path

import pytest

from hatch_pyc import cli
from hatch_pyc.build import bootstrap
from hatch_pyc.build import bytecode_metadata as metadata
from hatch_pyc.core import layouts
from hatch_pyc.core.interpreters import running
from hatch_pyc.wheel import records

HERE = running().interpreter
DIST = "demo_pkg-0.1.0.dist-info"
NAME = f"demo_pkg-0.1.0-{HERE.python_tag}-none-any.whl"
SOURCE = b"def answer():\n    return 42\n"
WHEEL = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {HERE.python_tag}-none-any\n"


def pyc(source: bytes, magic: bytes = importlib.util.MAGIC_NUMBER) -> bytes:
    """A checked-hash pyc of ``source`` with the code name ``<demo/core.py>``, as the sourceless layout ships it."""
    code = compile(source, "<demo/core.py>", "exec", dont_inherit=True)
    header = magic + struct.pack("<I", 3) + importlib.util.source_hash(source)
    return header + marshal.dumps(code)


def meta(layout: str) -> bytes:
    return metadata.render(
        interpreters=[HERE], layout=layouts.layout(layout), optimize=[0], invalidation_mode="checked-hash", modules=2
    ).encode()


def sourceless() -> dict[str, bytes]:
    """A sourceless wheel's entries, RECORD left out (the writer adds it)."""
    return {
        "demo/__init__.pyc": pyc(b""),
        "demo/core.pyc": pyc(SOURCE),
        f"{DIST}/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.1.0\n",
        f"{DIST}/WHEEL": WHEEL.encode(),
        f"{DIST}/{metadata.METADATA_PATH}": meta("sourceless"),
    }


def write(target: Path, entries: dict[str, bytes], record: bool = True, extra_record: bytes = b"") -> Path:
    """A wheel of ``entries`` and (with ``record``) a matching RECORD, plus ``extra_record`` rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if record:
            rendered = records.render(DIST, [records.row(name, data) for name, data in entries.items()])
            zf.writestr(f"{DIST}/RECORD", extra_record + rendered)
    target.write_bytes(buffer.getvalue())
    return target


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def bundle(target: Path, main: bytes, extra: dict[str, bytes] | None = None) -> Path:
    """A ``.pyz`` whose bytecode is fine and whose ``__main__.py`` is ``main``, with ``extra`` entries."""
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("demo/__init__.pyc", pyc(b""))
        zf.writestr("__main__.py", main)
        zf.writestr(metadata.FILENAME, meta("zipapp"))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return target


def bootstrap_of(entry: str = "demo:main", groups: dict[str, tuple[str, str]] | None = None) -> bytes:
    """The ``__main__.py`` hatch-pyc writes for ``entry`` (and a runtime extracting ``groups``)."""
    runtime = bootstrap.Runtime("b", groups, {}) if groups is not None else None
    values = bootstrap.Bootstrap(entry, "demo.pyz", HERE.named, HERE.magic_number, runtime=runtime)
    return bootstrap.write(values)


#: WHEEL and METADATA of the ``evil`` distribution the bounds tests build.
EVIL_WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
EVIL_METADATA = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"


def evil_wheel(
    path: Path, files: dict[str, bytes], wheel_text: str = EVIL_WHEEL, metadata: str = EVIL_METADATA
) -> Path:
    """A wheel of ``files`` at ``path`` with the ``evil`` dist-info and a RECORD that matches."""
    dist_info = "evil-1.0.dist-info"
    entries = {**files, f"{dist_info}/WHEEL": wheel_text.encode(), f"{dist_info}/METADATA": metadata.encode()}
    rows = []
    for name, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{name},sha256={digest},{len(data)}\n")
    entries[f"{dist_info}/RECORD"] = ("".join(rows) + f"{dist_info}/RECORD,,\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    return path
