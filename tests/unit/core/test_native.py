"""What is native code: one definition (:mod:`hatch_pyc.core.native`), which the bundle
runtime, shipping its own bytes in every bundle, agrees with."""

from __future__ import annotations

import pytest

from hatch_pyc._shipped.bundle_runtime import ExtractedFinder
from hatch_pyc.core import native


@pytest.mark.parametrize(
    ("path", "extension", "is_native"),
    [
        ("a/_x.cpython-312-x86_64-linux-gnu.so", True, True),
        ("_x.pyd", True, True),
        ("a/libz.dylib", False, True),
        ("a/z.dll", False, True),
        ("a.libs/libz-1234.so.1", False, True),
        ("a.libs/README", False, True),
        ("a.dylibs/anything", False, True),
        ("a.libs", False, False),
        ("a/core.py", False, False),
        ("a/sonnet.txt", False, False),
        ("a/so.py", False, False),
    ],
)
def test_native_files(path: str, extension: bool, is_native: bool) -> None:
    assert (native.is_extension_module(path), native.is_native(path)) == (extension, is_native)


def test_the_runtime_extracts_the_library_directories_native_names() -> None:
    groups = {name: ("00", f"1 {name}/x") for name in ("a.libs", "b.dylibs", "c", "d.lib", "libs")}
    finder = ExtractedFinder("app.pyz", lambda name: b"", "/nonexistent", "00", groups, {})
    assert finder._libraries == {group for group in groups if native.is_library_directory(group)}
    assert finder._libraries == {"a.libs", "b.dylibs"}
