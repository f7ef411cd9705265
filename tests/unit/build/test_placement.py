"""Placement: which modules get which pycs, which lose their source, which keep columns."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from hatch_pyc.build.placement import LayoutError, place, refuse_extension_modules
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.layouts import ALONGSIDE, SOURCELESS, ZIP, layout
from hatch_pyc.wheel import archive

MODULES = [Module(f"/s/{p}", p, p) for p in ("demo/__init__.py", "demo/core.py", "demo/selfsource.py")]
ALL = frozenset(m.path for m in MODULES)
KEPT = frozenset({"demo/selfsource.py"})


@pytest.mark.parametrize(
    ("name", "keep", "legacy", "sourceless", "ranges"),
    [
        ("alongside", [], set(), set(), ALL),
        ("alongside", ["demo/selfsource.py"], set(), set(), ALL),
        ("sourceless", [], ALL, ALL, set()),
        ("sourceless", ["demo/self*"], ALL - KEPT, ALL - KEPT, KEPT),
        ("zip", [], ALL, ALL, set()),
        ("zip", ["demo/selfsource.py"], ALL, ALL - KEPT, KEPT),
    ],
)
def test_place(name: str, keep: list[str], legacy: set, sourceless: set, ranges: set) -> None:
    placement = place(layout(name), MODULES, keep)
    assert (placement.legacy, placement.sourceless, placement.debug_ranges) == (legacy, sourceless, ranges)
    assert placement.kept == (KEPT if keep else frozenset())


@pytest.mark.parametrize("name", ["alongside", "sourceless", "zip"])
@pytest.mark.parametrize(("debug_ranges", "expected"), [(True, ALL), (False, frozenset())])
def test_debug_ranges_option_overrides_where_the_source_ships(
    name: str, debug_ranges: bool, expected: frozenset
) -> None:
    assert place(layout(name), MODULES, [], debug_ranges).debug_ranges == expected


def test_requests_of_the_alongside_layout_name_pycache_pycs_at_each_level() -> None:
    requests = place(ALONGSIDE, MODULES, []).requests(MODULES, [0, 2], "cpython-312")
    core = requests[1]
    assert core.module is MODULES[1]
    assert core.pycs == (
        (0, "demo/__pycache__/core.cpython-312.pyc"),
        (2, "demo/__pycache__/core.cpython-312.opt-2.pyc"),
    )
    assert (core.dfile, core.debug_ranges) == ("<demo/core.py>", True)


def test_requests_of_a_sourceless_layout_name_one_legacy_pyc_at_the_lowest_level() -> None:
    requests = place(SOURCELESS, MODULES, ["demo/selfsource.py"]).requests(MODULES, [1, 2], "cpython-312")
    assert [request.pycs for request in requests] == [
        ((1, "demo/__init__.pyc"),),
        ((1, "demo/core.pyc"),),
        (
            (1, "demo/__pycache__/selfsource.cpython-312.opt-1.pyc"),
            (2, "demo/__pycache__/selfsource.cpython-312.opt-2.pyc"),
        ),
    ]
    assert [request.dfile for request in requests] == ["<demo/__init__.py>", "<demo/core.py>", "demo/selfsource.py"]
    assert [request.debug_ranges for request in requests] == [False, False, True]


def test_extension_modules_cannot_go_into_an_archive() -> None:
    refuse_extension_modules(["a/b.py", "a/c.pyc"], ZIP)
    with pytest.raises(
        LayoutError, match=re.escape("and the wheel has 2: a/_x.pyd, a/_y.cpython-311-x86_64-linux-gnu.so")
    ):
        refuse_extension_modules(["a/_y.cpython-311-x86_64-linux-gnu.so", "a/_x.pyd"], ZIP)


def test_archives_are_sorted_dated_once_and_hold_the_directories_zipimport_needs(tmp_path: Path) -> None:
    source = tmp_path / "b.py"
    source.write_bytes(b"y = 2\n")
    target = tmp_path / "out.zip"
    archive.write_zip(str(target), {"pkg/sub/b.py": str(source), "pkg/a.py": b"x = 1\n"}, compress=False)
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["pkg/", "pkg/a.py", "pkg/sub/", "pkg/sub/b.py"]
        assert {info.date_time for info in zf.infolist()} == {archive.FIXED_TIME}
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}
    first = target.read_bytes()
    archive.write_zip(str(target), {"pkg/a.py": b"x = 1\n", "pkg/sub/b.py": str(source)}, compress=False)
    assert target.read_bytes() == first
    # Only where zipimport could need one for a namespace package.
    archive.write_zip(
        str(target), {"reg/__init__.pyc": b"", "reg/ns/x.pyc": b"", "a-1.dist-info/licenses/L": b""}, compress=False
    )
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["a-1.dist-info/licenses/L", "reg/__init__.pyc", "reg/ns/", "reg/ns/x.pyc"]


def test_a_zipapp_starts_with_its_shebang_and_is_executable(tmp_path: Path) -> None:
    target = tmp_path / "app.pyz"
    archive.write_zip(str(target), {"__main__.py": b"print(1)\n"}, shebang="/usr/bin/env python3.12", compress=True)
    assert target.read_bytes().startswith(b"#!/usr/bin/env python3.12\n")
    assert target.stat().st_mode & 0o777 == archive.EXECUTABLE_MODE
    with zipfile.ZipFile(target) as zf:
        assert zf.getinfo("__main__.py").compress_type == zipfile.ZIP_DEFLATED


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        archive.write_zip(str(tmp_path / "out.zip"), {"a.py": str(tmp_path / "missing")}, compress=False)
    assert list(tmp_path.iterdir()) == []
