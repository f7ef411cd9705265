"""Where `hatch-pyc install` puts a wheel when no --python names an interpreter: as uv finds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatch_pyc.core.interpreters import TargetError
from hatch_pyc.install import find_environment


def _venv(root: Path) -> Path:
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    return python


def test_an_activated_virtual_environment_first(tmp_path: Path) -> None:
    _venv(tmp_path)
    found = find_environment({"VIRTUAL_ENV": str(tmp_path / "active")}, str(tmp_path))
    assert found == os.path.join(tmp_path / "active", "bin", "python")


def test_else_dot_venv_in_the_working_directory_or_above(tmp_path: Path) -> None:
    python = _venv(tmp_path)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_environment({}, str(deep)) == str(python)
    assert find_environment({"VIRTUAL_ENV": ""}, str(tmp_path)) == str(python)


def test_else_one_line_saying_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as info:
        find_environment({}, str(tmp_path))
    assert str(info.value) == (
        "hatch-pyc: no environment to install into: give --python, activate a virtual environment (VIRTUAL_ENV), "
        f"or create .venv in {tmp_path} or a directory above it"
    )
