"""Bounded fuzzing of the readers: random and mutated pycs and wheels, never anything but our error.

Every input either reads or raises hatch-pyc's own error type: never another exception,
never a hang (hypothesis' deadline), whatever the bytes.
"""

from __future__ import annotations

import contextlib
import marshal
import sys
from pathlib import Path

import pytest
from helpers import copy_project, hatchling_build, only_wheel, set_hook_options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hatch_pyc import bytecode
from hatch_pyc.check import check_wheel, inspect_artifact
from hatch_pyc.errors import HatchPycError
from hatch_pyc.limits import Budget

VERSIONS = [(3, 8), (3, 10), (3, 11), (3, 13), (3, 14)]
FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Marshal data of a real module, to mutate.
REAL = marshal.dumps(compile(Path(bytecode.__file__).read_text(), "<hatch_pyc/bytecode.py>", "exec"))


def _read(data: bytes, version: tuple[int, int]) -> None:
    with contextlib.suppress(bytecode.InvalidBytecode, HatchPycError):
        bytecode.code_filenames(data, version, Budget("fuzz"))


@FUZZ
@given(data=st.binary(max_size=4096), version=st.sampled_from(VERSIONS))
def test_random_marshal_data(data: bytes, version: tuple[int, int]) -> None:
    _read(b"\xe3" + data, version)
    _read(data, version)


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "int32"]))
        if kind == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[position:]
        else:
            data[position : position + 4] = draw(
                st.sampled_from([b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\0\0\0\x80"])
            )
        if not data:
            data = bytearray(b"c")
    return bytes(data)


@FUZZ
@given(data=mutations(REAL))
def test_mutated_marshal_data(data: bytes) -> None:
    _read(data, sys.version_info[:2])


@pytest.fixture(scope="module")
def small_wheel(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("fuzz")
    demo = copy_project("demo", root / "src")
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    hatchling_build(demo, root / "out")
    return only_wheel(root / "out").read_bytes()


def test_mutated_wheels(small_wheel: bytes, tmp_path: Path) -> None:
    target = tmp_path / "demo_pkg-0.1.0-cp311-none-any.whl"

    @FUZZ
    @given(data=mutations(small_wheel))
    def read(data: bytes) -> None:
        target.write_bytes(data)
        for reader in (inspect_artifact, check_wheel):
            with contextlib.suppress(HatchPycError):
                reader(target)

    read()
