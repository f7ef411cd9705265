"""A converted wheel's tags and file name: interpreters in version order (cp39 before cp311)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from packaging.tags import parse_tag
from packaging.utils import parse_wheel_filename

from hatch_pyc import convert
from hatch_pyc.core.interpreters import Interpreter
from hatch_pyc.core.layouts import ALONGSIDE, SOURCELESS

SIX = "six-1.17.0-py2.py3-none-any.whl"
SEVERAL = "cp311.cp313.cp314.cp315.cp39-none-any"


def _artifact(name: str) -> Any:
    return cast(Any, SimpleNamespace(path=f"/in/{name}", tags=frozenset(parse_wheel_filename(name)[3])))


def test_a_wheel_for_several_interpreters_is_named_and_tagged_in_version_order() -> None:
    artifact = _artifact(SIX)
    interpreter = Interpreter("cpython", "3.11.1", "cpython-311", "")
    tags = convert._tags(artifact, SOURCELESS, interpreter, SEVERAL)
    assert tags == ["cp39-none-any", "cp311-none-any", "cp313-none-any", "cp314-none-any", "cp315-none-any"]
    name = convert._file_name(artifact, tags)
    assert name == "six-1.17.0-cp39.cp311.cp313.cp314.cp315-none-any.whl"
    # Order within a compressed tag set means nothing to installers: the same tags either way.
    assert parse_wheel_filename(name)[3] == frozenset(parse_tag(SEVERAL))


def test_an_unchanged_wheel_keeps_its_name_and_its_tags_in_version_order() -> None:
    artifact = _artifact("pkg-1.0-cp39.cp311-none-any.whl")
    interpreter = Interpreter("cpython", "3.11.1", "cpython-311", "")
    tags = convert._tags(artifact, ALONGSIDE, interpreter, None)
    assert tags == ["cp39-none-any", "cp311-none-any"]
    assert convert._file_name(artifact, tags) == "pkg-1.0-cp39.cp311-none-any.whl"
