"""The .dist-info files: WHEEL, METADATA and entry points read, and the one wheel writer."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from hatch_pyc.core.errors import BadArtifact
from hatch_pyc.wheel import records, wheelfile

WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def test_wheel_fields() -> None:
    fields = wheelfile.parse_wheel("w", WHEEL + "Tag: py2-none-any\n")
    assert fields["Tag"] == ["py3-none-any", "py2-none-any"]
    assert fields["Root-Is-Purelib"] == ["true"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Generator: x\n", "WHEEL has no Wheel-Version or no Tag line"),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: true\n", "WHEEL has no Wheel-Version or no Tag line"),
        ("Wheel-Version: 2.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n", "hatch-pyc reads version 1.x only"),
        ("Wheel-Version: 1.x\nRoot-Is-Purelib: true\nTag: py3-none-any\n", "hatch-pyc reads version 1.x only"),
        ("Wheel-Version: 1.0\nTag: py3-none-any\n", "WHEEL has no Root-Is-Purelib: true or false"),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: maybe\nTag: py3-none-any\n", "no Root-Is-Purelib: true or false"),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: garbage\n", "WHEEL has a malformed Tag line garbage"),
        ("Wheel-Version: 1.0\x1b[2J\nRoot-Is-Purelib: true\nTag: py3-none-any\n", "Wheel-Version 1.0\\x1b[2J"),
    ],
)
def test_unusable_wheel_files(text: str, says: str) -> None:
    with pytest.raises(BadArtifact) as info:
        wheelfile.parse_wheel("w.whl", text)
    assert str(info.value).startswith("hatch-pyc: w.whl: ")
    assert says in str(info.value)


def test_tags_are_replaced_in_place_of_the_old_ones() -> None:
    text = wheelfile.wheel_with_tags(WHEEL, ["cp311-none-any", "cp312-none-any"])
    assert text == (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: cp311-none-any\nTag: cp312-none-any\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Name: a\nRequires-Python: >=3.8\n\nbody\n", "Name: a\nRequires-Python: ==3.11.*\n\nbody\n"),
        (
            "Name: a\n\nbody\nRequires-Python: >=3\n",
            "Name: a\nRequires-Python: ==3.11.*\n\nbody\nRequires-Python: >=3\n",
        ),
        ("Name: a\n", "Name: a\nRequires-Python: ==3.11.*\n"),
        ("Name: a\nrequires-python: >=3\nRequires-Python: <4\n", "Name: a\nRequires-Python: ==3.11.*\n"),
    ],
)
def test_requires_python_is_set_in_the_headers_only(text: str, expected: str) -> None:
    assert wheelfile.with_requires_python(text, "==3.11.*") == expected


def test_requirements_follow_markers_and_leave_extras_out() -> None:
    text = (
        "Name: a\nRequires-Dist: click>=8\nRequires-Dist: tomli; python_version < '3.11'\n"
        "Requires-Dist: rich; extra == 'fancy'\n\n"
    )
    environment = {"extra": "", "python_version": "3.10", "python_full_version": "3.10.4"}
    assert wheelfile.requirements("w", text, environment) == ["click>=8", "tomli; python_version < '3.11'"]
    assert wheelfile.requirements("w", text, {**environment, "python_version": "3.12"}) == ["click>=8"]
    with pytest.raises(BadArtifact, match="Requires-Dist 'click>>8' is invalid"):
        wheelfile.requirements("w", "Requires-Dist: click>>8\n\n", environment)


def test_console_scripts() -> None:
    text = (
        "[console_scripts]\nhttp = httpie.__main__:main [extra]\nHttps = httpie.core : main\n[gui_scripts]\ng = a:b\n"
    )
    assert wheelfile.console_scripts("w", text) == {"http": "httpie.__main__:main", "Https": "httpie.core:main"}
    assert wheelfile.console_scripts("w", "[other]\nx = a:b\n") == {}
    assert wheelfile.scripts("w", text) == ["http", "Https", "g"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "[console_scripts]\nx = os;import this:x\n",
            "console script 'x' is 'os;import this:x', not 'module:function'",
        ),
        ("[console_scripts]\nx = module\n", "console script 'x' is 'module', not 'module:function'"),
        ("[console_scripts]\nx = a:b\nx = a:c\n", "entry_points.txt is not readable"),
        ("x = a:b\n", "entry_points.txt is not readable"),
    ],
)
def test_console_scripts_a_bootstrap_cannot_import_are_refused(text: str, says: str) -> None:
    with pytest.raises(BadArtifact, match=re.escape(says)):
        wheelfile.console_scripts("w", text)


@pytest.mark.parametrize(
    "text", ["[console_scripts]\nx = not valid!\n", "[console_scripts]\nx = a:b\nx = a:c\n", "[console_scripts\n"]
)
def test_scripts_installer_would_refuse_are_refused_first(text: str) -> None:
    with pytest.raises(BadArtifact, match=re.escape("w: entry_points.txt is malformed")):
        wheelfile.scripts("w", text)


def test_the_writer_puts_dist_info_last_and_a_record_that_matches(tmp_path: Path) -> None:
    dist = "a-1.dist-info"
    source = tmp_path / "mod.py"
    source.write_bytes(b"x = 1\n")
    entries = {
        f"{dist}/METADATA": wheelfile.Entry(b"Name: a\n"),
        "z.py": wheelfile.Entry(str(source), 0o100755 << 16),
        "a/__init__.py": wheelfile.Entry(b""),
    }
    target = tmp_path / "a-1-py3-none-any.whl"
    wheelfile.write_wheel(str(target), entries, dist, (2020, 2, 2, 0, 0, 0))
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["a/__init__.py", "z.py", f"{dist}/METADATA", f"{dist}/RECORD"]
        assert archive.getinfo("z.py").external_attr == 0o100755 << 16
        assert {info.date_time for info in archive.infolist()} == {(2020, 2, 2, 0, 0, 0)}
        rows = records.parse("w", archive.read(f"{dist}/RECORD").decode())
        assert rows[1] == records.row("z.py", b"x = 1\n")
        assert rows[-1] == (f"{dist}/RECORD", "", "")
    first = target.read_bytes()
    wheelfile.write_wheel(str(target), dict(reversed(entries.items())), dist, (2020, 2, 2, 0, 0, 0))
    assert target.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mod.py", target.name])


def test_the_writer_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    entries = {"a.py": wheelfile.Entry(str(tmp_path / "missing.py"))}
    with pytest.raises(FileNotFoundError, match="missing"):
        wheelfile.write_wheel(str(tmp_path / "a-1-py3-none-any.whl"), entries, "a-1.dist-info", (2020, 2, 2, 0, 0, 0))
    assert list(tmp_path.iterdir()) == []


def test_entry_points_that_refer_to_other_values_are_refused_before_installer_expands_them() -> None:
    """Nine levels of six references each: pypa/installer's parser would take minutes."""
    levels = ["[console_scripts]", "a0 = x:y"]
    levels += [f"a{level} = " + f"%(a{level - 1})s" * 6 for level in range(1, 10)]
    with pytest.raises(BadArtifact, match=re.escape("w: entry_points.txt refers to other values with '%('")):
        wheelfile.scripts("w", "\n".join(levels) + "\n")
