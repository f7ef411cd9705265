"""Which shipped files are modules, and reading them: every unusable file is one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatch_pyc.core.discovery import Module, read_source, select_modules
from hatch_pyc.core.errors import HatchPycError


def test_only_files_the_import_system_can_name_are_modules() -> None:
    files = [Module(source=f"/p/{path}", path=path, display=path) for path in ("pkg/mod.py", "pkg/a.b.py", "x-y.py")]
    assert [module.path for module in select_modules(files, [])] == ["pkg/mod.py"]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: os.mkfifo(path), "is not a regular file"),
        (lambda path: os.symlink("/dev/zero", path), "is not a regular file"),
        (lambda path: os.symlink(path.parent / "nowhere", path), "cannot be read: No such file or directory"),
        (lambda path: os.symlink(path, path), "cannot be read: Too many levels of symbolic links"),
    ],
)
def test_a_source_that_is_not_a_file_is_refused_in_one_line(tmp_path: Path, make: object, says: str) -> None:
    path = tmp_path / "mod.py"
    make(path)  # type: ignore[operator]
    with pytest.raises(HatchPycError, match=says) as raised:
        read_source(str(path), "src/pkg/mod.py")
    assert str(raised.value).startswith("hatch-pyc: src/pkg/mod.py ")
    assert "\n" not in str(raised.value)
