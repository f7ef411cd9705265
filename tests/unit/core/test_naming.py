"""Naming rules: pyc paths, cache tags, levels, co_filename, distribution file names."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from hatch_pyc.core import naming
from hatch_pyc.core.discovery import Module


@pytest.mark.parametrize(
    ("path", "level", "tag", "pyc"),
    [
        ("demo/core.py", 0, "cpython-311", "demo/__pycache__/core.cpython-311.pyc"),
        ("demo/core.py", 1, "cpython-311", "demo/__pycache__/core.cpython-311.opt-1.pyc"),
        ("demo/core.py", 2, "pypy310", "demo/__pycache__/core.pypy310.opt-2.pyc"),
        ("top.py", 0, "cpython-315", "__pycache__/top.cpython-315.pyc"),
        ("a.b/c.d.py", 0, "cpython-38", "a.b/__pycache__/c.d.cpython-38.pyc"),
    ],
)
def test_pycache_paths(path: str, level: int, tag: str, pyc: str) -> None:
    assert naming.pyc_path(path, level, tag) == pyc
    match = naming.CACHED_PYC.match(pyc.rsplit("/", 1)[-1])
    assert match is not None
    assert match["tag"] == tag
    assert match["stem"] == path.rsplit("/", 1)[-1][:-3]
    assert naming.pyc_level(pyc) == level


def test_pycache_paths_agree_with_the_import_system() -> None:
    tag = sys.implementation.cache_tag
    for level in (0, 1, 2):
        expected = importlib.util.cache_from_source("pkg/mod.py", optimization=level or "")
        assert naming.pyc_path("pkg/mod.py", level, tag) == expected


@pytest.mark.parametrize(("path", "legacy"), [("demo/core.py", "demo/core.pyc"), ("x.py", "x.pyc")])
def test_legacy_pyc_beside_the_source(path: str, legacy: str) -> None:
    assert naming.legacy_pyc_path(path) == legacy


@pytest.mark.parametrize("name", ["core.pyc", "core.cpython-311.opt-3.pyc", "core.opt-1.py"])
def test_names_that_are_no_pycache_pyc_of_a_level(name: str) -> None:
    assert naming.pyc_level(name) == 0


@pytest.mark.parametrize(
    ("name", "identifier"), [("Demo-Pkg", "demo_pkg"), ("demo.pkg", "demo_pkg"), ("a__b", "a_b"), ("X", "x")]
)
def test_distribution_names_as_in_file_names(name: str, identifier: str) -> None:
    assert naming.distribution_id(name) == identifier


@pytest.mark.parametrize(
    ("filename", "kept", "code_filename"),
    [(None, True, "demo/core.py"), (None, False, "<demo/core.py>"), ("bin/tool", False, "<bin/tool>")],
)
def test_code_filename_is_plain_only_beside_its_source(filename: str | None, kept: bool, code_filename: str) -> None:
    module = Module(source="/src/demo/core.py", path="demo/core.py", display="src/demo/core.py", filename=filename)
    assert naming.code_filename(module, kept) == code_filename
