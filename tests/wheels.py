"""Reading built wheels the way a user (or an installer) would."""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import importlib.util
import io
import json
import marshal
import zipfile
from pathlib import Path
from types import CodeType

from hatch_pyc.build.bytecode_metadata import METADATA_PATH


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def read(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(name)


def dist_info(wheel: Path) -> str:
    (directory,) = {name.split("/")[0] for name in names(wheel) if name.split("/")[0].endswith(".dist-info")}
    return directory


def bytecode_metadata(wheel: Path) -> dict:
    return json.loads(read(wheel, f"{dist_info(wheel)}/{METADATA_PATH}"))


def check_record(wheel: Path) -> list[str]:
    """Every file is in RECORD with its right hash and size, and RECORD lists nothing else."""
    with zipfile.ZipFile(wheel) as zf:
        record_name = f"{dist_info(wheel)}/RECORD"
        rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
        recorded = {row[0] for row in rows}
        assert recorded == set(zf.namelist()), recorded ^ set(zf.namelist())
        for path, digest, size in rows:
            if path == record_name:
                assert (digest, size) == ("", "")
                continue
            data = zf.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}", path
            assert int(size) == len(data), path
    return sorted(recorded)


def code_objects(code: CodeType) -> list[CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found.extend(code_objects(const))
    return found


def load_pyc(data: bytes) -> CodeType:
    """The module code object of a pyc compiled by the running interpreter."""
    assert data[:4] == importlib.util.MAGIC_NUMBER
    return marshal.loads(data[16:])


def dist_info_text(wheel: Path, name: str) -> str:
    """A file of the wheel's ``.dist-info`` directory, e.g. ``METADATA`` or ``WHEEL``."""
    return read(wheel, f"{dist_info(wheel)}/{name}").decode()


def wheel_tags(wheel: Path) -> list[str]:
    return [
        line.split(":", 1)[1].strip() for line in dist_info_text(wheel, "WHEEL").splitlines() if line.startswith("Tag:")
    ]


def requires_python(wheel: Path) -> str | None:
    return email.parser.Parser().parsestr(dist_info_text(wheel, "METADATA"))["Requires-Python"]


def rewrite(wheel: Path, target: Path, changes: dict[str, bytes | None], *, fix_record: bool = True) -> Path:
    """Copy ``wheel`` to ``target`` with entries replaced (or dropped, for None); RECORD follows
    unless ``fix_record`` is false, as a careless tamperer would leave it."""
    with zipfile.ZipFile(wheel) as source:
        contents = {name: source.read(name) for name in source.namelist()}
    for name, data in changes.items():
        if data is None:
            contents.pop(name, None)
        else:
            contents[name] = data
    record = f"{dist_info(wheel)}/RECORD"
    if fix_record and record not in changes:
        lines = []
        for name, data in contents.items():
            if name == record:
                continue
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{name},sha256={digest},{len(data)}")
        contents[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in contents.items():
            out.writestr(name, data)
    return target


#: What the selector package of a sourceless or zip wheel is called, before the distribution.
SELECTOR = "_hatch_pyc_bytecode_"
#: The first line of a top-level module's stub.
STUB = b"# Written by hatch-pyc: runs this module's bytecode for the running interpreter"


def placed(name: str) -> str:
    """Where a pyc of the selector package's bytecode directories stands in for a module:
    ``_hatch_pyc_bytecode_demo_pkg/cpython-311/demo/__init__.pyc`` is ``demo/__init__.pyc``."""
    parts = name.split("/")
    if parts[0].startswith(SELECTOR) and len(parts) > 2 and name.endswith(".pyc"):
        return "/".join(parts[2:])
    return name


def selection_sources(files: dict[str, bytes]) -> list[str]:
    """The sources hatch-pyc writes into a sourceless or zip wheel: the stubs and the selector."""
    return sorted(
        name
        for name, data in files.items()
        if name.endswith(".py") and (data.startswith(STUB) or name.split("/")[0].startswith(SELECTOR))
    )


def own_pycs(files: dict[str, bytes]) -> list[str]:
    """The pycs hatch-pyc compiles of its own for a sourceless or zip wheel: the selector's code
    (``_hatch_pyc_bytecode_demo_pkg/cpython-311.pyc``) and the stubs and the selector's
    ``__init__.py`` compiled (``__pycache__`` pycs, or a pyc beside them in an archive)."""
    sources = selection_sources(files)
    found = []
    for name in files:
        parts = name.split("/")
        if not name.endswith(".pyc"):
            continue
        if parts[0].startswith(SELECTOR) and len(parts) == 2:
            found.append(name)
        elif len(parts) > 1 and parts[-2] == "__pycache__":
            source = "/".join([*parts[:-2], parts[-1].split(".")[0] + ".py"])
            if source in sources:
                found.append(name)
    return sorted(found)


def entries(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {name: zf.read(name) for name in zf.namelist()}
