"""The bytecode metadata file: written, read back, and refused when it is not what hatch-pyc writes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from hatch_pyc import __version__
from hatch_pyc.build import bytecode_metadata
from hatch_pyc.core.errors import BadArtifact
from hatch_pyc.core.interpreters import Interpreter
from hatch_pyc.core.layouts import SOURCELESS
from hatch_pyc.wheel.artifact import Artifact, open_artifact

INTERPRETER = Interpreter("cpython", "3.12.4", "cpython-312", "cb0d0d0a")


def _document(**changes: object) -> dict:
    text = bytecode_metadata.render(
        interpreters=[INTERPRETER], layout=SOURCELESS, optimize=[0], invalidation_mode="checked-hash", modules=3
    )
    document = json.loads(text)
    document.update(changes)
    return document


def _pyz(tmp_path: Path, content: bytes) -> Artifact:
    target = tmp_path / "app.pyz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(bytecode_metadata.FILENAME, content)
        zf.writestr("__main__.py", b"")
    target.write_bytes(buffer.getvalue())
    return open_artifact(str(target))


def test_render_is_sorted_json_that_reads_back(tmp_path: Path) -> None:
    document = _document()
    assert document["hatch_pyc_version"] == __version__
    assert document["interpreters"][0] == {**INTERPRETER.__dict__, "python_tag": "cp312"}
    text = bytecode_metadata.render(
        interpreters=[INTERPRETER], layout=SOURCELESS, optimize=[0], invalidation_mode="checked-hash", modules=3
    )
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    with _pyz(tmp_path, text.encode()) as artifact:
        read = bytecode_metadata.read(artifact)
    assert read is not None
    assert read.document == document
    assert (read.layout, read.interpreters, read.python_tags) == (SOURCELESS, (INTERPRETER,), ("cp312",))
    assert (read.optimize, read.invalidation_mode, read.modules) == ((0,), "checked-hash", 3)
    assert (read.format, read.hatch_pyc_version) == (bytecode_metadata.FORMAT_VERSION, __version__)


def test_render_lists_the_interpreters_in_version_order_whatever_order_they_came_in() -> None:
    given = [Interpreter("cpython", f"3.{minor}.0", f"cpython-3{minor}", "") for minor in (13, 9, 15, 11)]
    text = bytecode_metadata.render(
        interpreters=given, layout=SOURCELESS, optimize=[0], invalidation_mode="checked-hash", modules=1
    )
    listed = [entry["version"] for entry in json.loads(text)["interpreters"]]
    assert listed == ["3.9.0", "3.11.0", "3.13.0", "3.15.0"]
    assert text == bytecode_metadata.render(
        interpreters=given[::-1], layout=SOURCELESS, optimize=[0], invalidation_mode="checked-hash", modules=1
    )


def test_read_gives_the_defaults_of_what_is_not_recorded(tmp_path: Path) -> None:
    document = _document()
    for key in ("optimize", "invalidation_mode", "modules", "hatch_pyc_version"):
        del document[key]
    free = {**document["interpreters"][0], "free_threaded": True}
    del free["python_tag"]
    document["interpreters"] = [document["interpreters"][0], free]
    with _pyz(tmp_path, json.dumps(document).encode()) as artifact:
        read = bytecode_metadata.read(artifact)
    assert read is not None
    assert (read.optimize, read.invalidation_mode, read.modules, read.hatch_pyc_version) == ((0,), None, 0, None)
    assert [i.free_threaded for i in read.interpreters] == [False, True]
    assert read.python_tags == ("cp312", "")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[]", "it lacks one of format, layout, interpreters"),
        (json.dumps(_document(format=2)).encode(), "format 2; this hatch-pyc reads format 1"),
        (json.dumps(_document(format=True)).encode(), "format True"),
        (json.dumps(_document(layout="flat")).encode(), "layout 'flat' is none of"),
        (json.dumps(_document(modules=-1)).encode(), "modules -1 is not a count"),
        (json.dumps(_document(optimize=[3])).encode(), "optimize [3] is not a list of 0, 1 and 2"),
        (json.dumps(_document(invalidation_mode="x")).encode(), "invalidation_mode 'x' is none of the modes"),
        (json.dumps(_document(interpreters=[])).encode(), "interpreters is not a non-empty list"),
        (json.dumps(_document(interpreters=[{"version": "3"}])).encode(), "an interpreter lacks one of"),
        (b'{"format": NaN}', "NaN is not a number JSON allows"),
        (b"[" * 100_000, "nested too deeply"),
        (b"\xff", "is not valid bytecode metadata"),
    ],
)
def test_metadata_that_is_not_what_hatch_pyc_writes_is_refused(tmp_path: Path, content: bytes, says: str) -> None:
    with _pyz(tmp_path, content) as artifact, pytest.raises(BadArtifact) as info:
        bytecode_metadata.read(artifact)
    assert f"{bytecode_metadata.FILENAME} is not valid bytecode metadata" in str(info.value)
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"magic_number": "a70d0d0b"}, "is not 4 bytes of hex ending in 0d0a"),
        ({"version": "3.12"}, "is not major.minor.micro"),
        ({"free_threaded": "no"}, "free_threaded 'no' is not true or false"),
    ],
)
def test_interpreters_are_validated(tmp_path: Path, entry: dict, says: str) -> None:
    document = _document()
    document["interpreters"][0].update(entry)
    with _pyz(tmp_path, json.dumps(document).encode()) as artifact, pytest.raises(BadArtifact, match=says):
        bytecode_metadata.read(artifact)
