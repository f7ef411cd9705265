"""Bounded fuzzing of the artifact readers: mutated real wheels, never anything but our error."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from fuzzing import FUZZ, mutations
from helpers import copy_project, hatchling_build, only_wheel, set_hook_options
from hypothesis import given

from hatch_pyc.check.checker import check_wheel, inspect_artifact
from hatch_pyc.core.errors import HatchPycError


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
