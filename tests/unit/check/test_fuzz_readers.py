"""Bounded fuzzing of the bytecode reader: random and mutated marshal data, never anything but
our error.

Every input either reads or raises hatch-pyc's own error type: never another exception,
never a hang (hypothesis' deadline), whatever the bytes.
"""

from __future__ import annotations

import contextlib
import marshal
import sys
from pathlib import Path

from fuzzing import FUZZ, mutations
from hypothesis import given
from hypothesis import strategies as st

from hatch_pyc.check import bytecode
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.limits import Budget

VERSIONS = [(3, 8), (3, 10), (3, 11), (3, 13), (3, 14)]
#: Marshal data of a real module, to mutate.
REAL = marshal.dumps(compile(Path(bytecode.__file__).read_text(), "<hatch_pyc/check/bytecode.py>", "exec"))


def _read(data: bytes, version: tuple[int, int]) -> None:
    with contextlib.suppress(bytecode.InvalidBytecode, HatchPycError):
        bytecode.code_filenames(data, version, Budget("fuzz"))


@FUZZ
@given(data=st.binary(max_size=4096), version=st.sampled_from(VERSIONS))
def test_random_marshal_data(data: bytes, version: tuple[int, int]) -> None:
    _read(b"\xe3" + data, version)
    _read(data, version)


@FUZZ
@given(data=mutations(REAL))
def test_mutated_marshal_data(data: bytes) -> None:
    _read(data, sys.version_info[:2])
