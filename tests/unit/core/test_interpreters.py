"""Finding target interpreters, and the tags and Requires-Python that name them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import python_or_skip
from packaging.specifiers import SpecifierSet

from hatch_pyc.core import interpreters
from hatch_pyc.core.interpreters import Interpreter, TargetError


def fake_pyenv(root: Path, versions: dict[str, Path]) -> Path:
    for name, python in versions.items():
        bin_dir = root / "versions" / name / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(python)
    return root


def test_a_version_skips_broken_and_wrong_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = python_or_skip("3.12")
    other = python_or_skip("3.11")
    path_dir = tmp_path / "bin"
    path_dir.mkdir()
    # A pyenv shim for a version that is not active prints this and exits 127.
    shim = path_dir / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(path_dir))
    # Newest patch first: 3.12.99 is really a 3.11 and is passed over too.
    monkeypatch.setenv("PYENV_ROOT", str(fake_pyenv(tmp_path / "pyenv", {"3.12.1": real, "3.12.99": other})))
    target = interpreters.find("3.12")
    assert target.executable == str(tmp_path / "pyenv/versions/3.12.1/bin/python")
    assert target.interpreter.minor == (3, 12)
    assert target.interpreter.python_tag == "cp312"


def test_nothing_found_says_where_it_looked_and_what_it_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = python_or_skip("3.11")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(fake_pyenv(tmp_path / "pyenv", {"3.12.0": other})))
    with pytest.raises(TargetError) as info:
        interpreters.find("3.12")
    assert str(info.value) == "hatch-pyc: " + (
        f"no CPython 3.12 found (looked for python3.12 on PATH and {tmp_path}/pyenv/versions/3.12.*; "
        f"{tmp_path}/pyenv/versions/3.12.0/bin/python is {other.parent.parent.name})"
    )


@pytest.mark.parametrize(
    ("spec", "named"), [("3.99", "CPython 3.99"), ("3.7", "CPython 3.7"), ("3.16t", "free-threaded CPython 3.16")]
)
def test_a_version_outside_the_supported_ones_names_them(
    spec: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused before looking: even an interpreter of that version on PATH would be refused.
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError) as info:
        interpreters.find(spec)
    assert str(info.value) == (
        f"hatch-pyc: {named} is not a supported target: hatch-pyc compiles for CPython 3.8 to 3.15 and PyPy 3.8 to 3.11"
    )


def test_a_free_threaded_version_takes_only_a_free_threaded_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = python_or_skip("3.12")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(fake_pyenv(tmp_path / "pyenv", {"3.12.0t": default, "3.12.1": default})))
    with pytest.raises(TargetError) as info:
        interpreters.find("3.12t")
    version = default.parent.parent.name
    assert str(info.value) == "hatch-pyc: " + (
        f"no free-threaded CPython 3.12 found (looked for python3.12t on PATH and {tmp_path}/pyenv/versions/3.12.*t; "
        f"{tmp_path}/pyenv/versions/3.12.0t/bin/python is {version})"
    )
    assert interpreters.find("3.12").interpreter.free_threaded is False


def test_a_path_or_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = python_or_skip("3.10")
    assert interpreters.find(str(real)).interpreter.minor == (3, 10)
    monkeypatch.setenv("PATH", f"{real.parent}{os.pathsep}{os.environ['PATH']}")
    assert interpreters.find("python").executable == str(real)
    with pytest.raises(TargetError, match="does not exist"):
        interpreters.find(str(tmp_path / "python"))


def test_finding_soon_gives_what_finding_gives_or_raises_what_it_raises(tmp_path: Path) -> None:
    real = python_or_skip("3.10")
    found = interpreters.find_soon(str(real))
    assert found() == interpreters.find(str(real))
    assert found() == found()  # asked again, as for each of several artifacts
    missing = interpreters.find_soon(str(tmp_path / "python"))
    for _ in range(2):
        with pytest.raises(TargetError, match="does not exist"):
            missing()
    assert interpreters.find_soon(None) is interpreters.running


INTERPRETER = Interpreter(implementation="cpython", version="3.11.7", cache_tag="cpython-311", magic_number="a70d0d0a")
PYPY = Interpreter(implementation="pypy", version="3.11.13", cache_tag="pypy311", magic_number="b0010d0a")


@pytest.mark.parametrize(
    ("project", "narrowed"),
    [
        ("", "==3.11.*"),
        (">=3.8", "==3.11.*,>=3.8"),
        (">=3.9,<4", "<4,==3.11.*,>=3.9"),
        ("!=3.11.0", "!=3.11.0,==3.11.*"),
    ],
)
def test_requires_python_is_narrowed_to_the_target(project: str, narrowed: str) -> None:
    assert interpreters.narrowed_requires_python(project, [INTERPRETER]) == narrowed


@pytest.mark.parametrize(
    ("interpreter", "soabi", "platform", "tag"),
    [
        (INTERPRETER, "cpython-311-x86_64-linux-gnu", "linux-x86_64", "cp311-none-any"),
        (PYPY, "pypy311-pp73", "linux-x86_64", "pp311-none.pypy311_pp73-any.manylinux_2_17_x86_64"),
        (PYPY, "pypy311-pp73-aarch64-linux-gnu", "linux-aarch64", "pp311-none.pypy311_pp73-any.manylinux_2_17_aarch64"),
        (PYPY, "pypy311-pp73", "macosx-11.0-arm64", "pp311-none.pypy311_pp73-any.macosx_11_0_arm64"),
    ],
)
def test_the_wheel_tag_is_one_only_that_interpreter_takes(
    interpreter: Interpreter, soabi: str, platform: str, tag: str
) -> None:
    target = interpreters.Target("python", interpreter, {}, {"soabi": soabi, "platform": platform})
    assert interpreters.wheel_tag(target) == tag


@pytest.mark.parametrize("project", ["<3.11", ">=3.12", "==3.10.*"])
def test_requires_python_that_excludes_the_target_is_an_error(project: str) -> None:
    with pytest.raises(TargetError, match=f"project.requires-python '{project}' excludes the target interpreter"):
        interpreters.narrowed_requires_python(project, [INTERPRETER])


def _cpython(minor: int) -> Interpreter:
    return Interpreter(implementation="cpython", version=f"3.{minor}.1", cache_tag=f"cpython-3{minor}", magic_number="")


@pytest.mark.parametrize(
    ("minors", "project", "narrowed"),
    [
        ([10, 11, 12], ">=3.8", "<3.13,>=3.10,>=3.8"),
        ([11, 13], "", "!=3.12.*,<3.14,>=3.11"),
        ([9, 10, 13, 14, 15], ">=3.9", "!=3.11.*,!=3.12.*,<3.16,>=3.9"),
    ],
)
def test_requires_python_of_several_interpreters_admits_their_versions_only(
    minors: list[int], project: str, narrowed: str
) -> None:
    found = interpreters.narrowed_requires_python(project, [_cpython(minor) for minor in minors])
    assert found == narrowed
    admitted = SpecifierSet(found)
    assert [m for m in range(8, 17) if admitted.contains(f"3.{m}.1")] == minors


def test_several_cpython_targets_are_one_compressed_tag_set() -> None:
    platform = {"soabi": "cpython-311-x86_64-linux-gnu", "platform": "linux-x86_64"}
    targets = [interpreters.Target("python", _cpython(minor), {}, platform) for minor in (12, 9, 10)]
    assert interpreters.wheel_tags(targets) == "cp39.cp310.cp312-none-any"
    assert interpreters.wheel_tags(targets[:1]) == "cp312-none-any"


def test_the_standard_library_names_include_what_its_directories_hold() -> None:
    """sys.stdlib_module_names leaves out _sysconfigdata_<abi>_<platform>, which sysconfig
    imports by name from sys.path: a bundle's module of that name would be imported instead."""
    import sysconfig

    from hatch_pyc._shipped import worker

    names = worker.stdlib_names()
    assert sysconfig._get_sysconfigdata_name() in names  # type: ignore[attr-defined]
    assert {"json", "os", "sys", "encodings"} <= set(names)
    assert "site-packages" not in names


def test_tags_names_and_cache_tags_sort_in_version_order_not_text_order() -> None:
    tags = ["cp311", "cp313", "cp314", "cp315", "cp39"]
    assert sorted(tags, key=interpreters.version_order) == ["cp39", "cp311", "cp313", "cp314", "cp315"]
    names = ["CPython 3.15", "CPython 3.9", "CPython 3.10"]
    assert sorted(names, key=interpreters.version_order) == ["CPython 3.9", "CPython 3.10", "CPython 3.15"]
    cache_tags = ["cpython-315", "cpython-39", "pypy311", "pypy39"]
    assert sorted(cache_tags, key=interpreters.version_order) == ["cpython-39", "cpython-315", "pypy39", "pypy311"]
    full = ["cp311-none-any", "cp39-none-any", "py3-none-any", "py27-none-any", "py2-none-any"]
    assert sorted(full, key=interpreters.version_order) == [
        "cp39-none-any",
        "cp311-none-any",
        "py2-none-any",
        "py27-none-any",
        "py3-none-any",
    ]
    # Where text order and version order agree, nothing moves.
    same = ["cp310", "cp312", "cp313"]
    assert sorted(same, key=interpreters.version_order) == sorted(same)


def test_interpreters_in_version_order() -> None:
    pypy = Interpreter("pypy", "3.9.19", "pypy39", "")
    found = interpreters.in_version_order([_cpython(15), pypy, _cpython(9), _cpython(11)])
    assert [i.version for i in found] == ["3.9.1", "3.11.1", "3.15.1", "3.9.19"]


def test_a_compressed_tag_set_of_one_and_two_digit_minors_is_in_version_order() -> None:
    platform = {"soabi": "cpython-311-x86_64-linux-gnu", "platform": "linux-x86_64"}
    targets = [interpreters.Target("python", _cpython(minor), {}, platform) for minor in (11, 13, 14, 15, 9)]
    assert interpreters.wheel_tags(targets) == "cp39.cp311.cp313.cp314.cp315-none-any"


def test_version_order_is_total_and_cheap_on_numbers_of_any_length() -> None:
    # A WHEEL Tag line or the bytecode metadata's free text can hold a number past int()'s
    # 4,300 digits: it sorts by its value, as a short one does, without int().
    long = "1" * 5000
    names = [f"py{long}-none-any", "py3-none-any", f"py{long[:-1]}2-none-any", "cp311-none-any", f"a{long}"]
    assert (
        sorted(names, key=interpreters.version_order)
        == [
            f"a{long}",
            "cp311-none-any",
            f"py{long}-none-any",  # Python 1.111...
            f"py{long[:-1]}2-none-any",
            "py3-none-any",
        ]
    )
    # Equal values (a leading zero) are ordered as written, whatever order they came in.
    assert sorted([f"x {long}", "x 7", f"x 0{long}", "x 10"], key=interpreters.version_order) == [
        "x 7",
        "x 10",
        f"x 0{long}",
        f"x {long}",
    ]


def test_an_interpreter_that_prints_what_is_not_utf8_is_a_target_error(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_bytes(b"#!/bin/sh\nprintf '\\377\\376'\n")
    fake.chmod(0o755)
    for found in (lambda: interpreters.find(str(fake)), interpreters.find_soon(str(fake))):
        with pytest.raises(TargetError, match="did not describe itself"):
            found()
