"""What an install would change for the names the standard library and other installed
distributions answer (:func:`hatch_pyc.check.landing.environment_problems`), on a fake
environment in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_pyc.check.landing import Environment, Places, audit_wheel, environment_problems, real_path
from hatch_pyc.core import layouts

INFO = "demo_pkg-0.1.0.dist-info"
DATA = "demo_pkg-0.1.0.data"


def _places(root: Path) -> Places:
    site = root / "lib" / "python3.11" / "site-packages"
    (root / "bin").mkdir(parents=True, exist_ok=True)
    site.mkdir(parents=True, exist_ok=True)
    (root / "stdlib").mkdir(exist_ok=True)
    return Places(
        schemes={"purelib": real_path(str(site)), "platlib": real_path(str(site)), "data": real_path(str(root))}
        | {"scripts": real_path(str(root / "bin")), "headers": real_path(str(root / "include"))},
        # What site added at start-up comes after site-packages: an editable checkout, the base's
        # site-packages of a venv that sees them.
        path=[real_path(str(root / "stdlib")), real_path(str(site)), real_path(str(root / "checkout"))],
        stdlib=frozenset({"json", "os", "_gdbm"}),
        suffixes=(".cpython-311-x86_64-linux-gnu.so", ".so"),
    )


def _installed(root: Path, *files: str) -> None:
    for file in files:
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def problems(
    root: Path,
    *entries: str,
    layout: str | None = "sourceless",
    replacing: tuple[str, ...] = (),
    texts: dict[str, str] | None = None,
) -> list[str]:
    places = _places(root)
    audit = audit_wheel(
        [*entries, f"{INFO}/RECORD"],
        data_dir=DATA,
        dist_info=INFO,
        layout=None if layout is None else layouts.layout(layout),
        archive_name="demo_pkg.zip",
        read_text=lambda entry: (texts or {}).get(entry, ""),
        places=places,
    )
    ours = {*audit.landed.values(), *(str(root / file) for file in replacing)}
    return environment_problems(audit, Environment(places, ours))


SITE = "lib/python3.11/site-packages"


@pytest.mark.parametrize(
    ("installed", "entries", "says"),
    [
        # A package directory is found before the module of the same name.
        ([f"{SITE}/victim.py"], ["victim/__init__.pyc"], "in place of victim.py"),
        # An extension module before a source, a source before bytecode.
        ([f"{SITE}/victim.py"], ["victim.cpython-311-x86_64-linux-gnu.so"], "in place of victim.py"),
        ([f"{SITE}/victim.pyc"], ["victim.py"], "in place of victim.pyc"),
        # Inside another distribution's package.
        (
            [f"{SITE}/pip/__init__.py", f"{SITE}/pip/_internal/cli/main.py"],
            ["pip/_internal/cli/main/__init__.pyc"],
            "inside a package of another installed distribution",
        ),
        ([f"{SITE}/pip/__init__.py"], ["pip/extra.py"], "a package of another installed distribution"),
        # A namespace package other distributions share, made this distribution's own.
        ([f"{SITE}/google/protobuf/__init__.py"], ["google/__init__.py"], "a namespace package it shares"),
        # The scripts directory is searched first by every console script.
        ([], [f"{DATA}/scripts/json.py"], "the standard library's module"),
        ([f"{SITE}/requests/__init__.py"], [f"{DATA}/scripts/requests.py"], "which is searched after it"),
        # Site-packages is searched before the directories installed .pth files add.
        (["editable/victim/__init__.py", f"{SITE}/victim.pth"], ["victim.py"], "which is searched after it"),
        # A package in the scripts directory beside a file in another distribution's package.
        ([f"{SITE}/victim/__init__.py"], [f"{DATA}/scripts/victim/__init__.py", "victim/data.txt"], "victim"),
    ],
)
def test_a_name_another_distribution_answers_is_not_taken(
    tmp_path: Path, installed: list[str], entries: list[str], says: str
) -> None:
    _installed(tmp_path, *installed)
    if f"{SITE}/victim.pth" in installed:
        (tmp_path / SITE / "victim.pth").write_text(str(tmp_path / "editable") + "\n")
    found = problems(tmp_path, *entries, layout=None if entries[0].endswith(".py") else "sourceless")
    assert any(says in problem for problem in found), found


def test_what_no_one_answers_yet_and_namespace_packages_are_fine(tmp_path: Path) -> None:
    _installed(tmp_path, f"{SITE}/google/protobuf/__init__.py", f"{SITE}/other.py")
    assert problems(tmp_path, "demo/__init__.pyc", "demo/core.pyc", "google/mine/__init__.pyc") == []


def test_the_version_being_replaced_is_not_another_distribution(tmp_path: Path) -> None:
    _installed(tmp_path, f"{SITE}/demo/__init__.py", f"{SITE}/demo/old.py")
    assert problems(tmp_path, "demo/__init__.pyc", "demo/core.pyc")
    assert (
        problems(
            tmp_path,
            "demo/__init__.pyc",
            "demo/core.pyc",
            replacing=(f"{SITE}/demo/__init__.py", f"{SITE}/demo/old.py"),
        )
        == []
    )


def test_a_regular_package_in_a_directory_searched_later_takes_a_namespace_package(tmp_path: Path) -> None:
    """A namespace package's portions are gathered only when no directory on sys.path has a
    regular package of that name: one in a directory the wheel's .pth adds takes it over."""
    _installed(tmp_path, f"{SITE}/google/protobuf/__init__.py")
    found = problems(
        tmp_path,
        "demo/__init__.py",
        "demo/_vendor/google/__init__.py",
        "demo.pth",
        layout=None,
        texts={"demo.pth": "demo/_vendor\n"},
    )
    assert any("in place of the namespace package" in problem for problem in found), found


@pytest.mark.parametrize(
    ("installed", "entries", "says"),
    [
        # A directory on sys.path after site-packages (an editable checkout, the base's site-packages).
        (["checkout/victim.py"], ["victim.py"], "which is searched after it"),
        # A module of a namespace package whose other portion is searched after site-packages.
        (["checkout/ns/victim_mod.py"], ["ns/victim_mod.py"], "would be imported as ns.victim_mod"),
        # A data file inside another distribution's package, however deep.
        ([f"{SITE}/victimpkg/__init__.py"], ["victimpkg/NOTES.txt"], "inside a package of another"),
        ([f"{SITE}/victimpkg/__init__.py"], ["victimpkg/sub/deeper/x.py"], "inside a package of another"),
        # A module of the standard library this interpreter was built without.
        ([], ["_gdbm.py"], "named like _gdbm of the standard library"),
    ],
)
def test_what_site_added_and_what_the_standard_library_lacks_are_not_taken(
    tmp_path: Path, installed: list[str], entries: list[str], says: str
) -> None:
    _installed(tmp_path, *installed)
    (tmp_path / "checkout").mkdir(exist_ok=True)
    found = problems(tmp_path, *entries, layout=None)
    assert any(says in problem for problem in found), found


def test_a_pth_line_to_a_directory_of_another_distribution_is_refused(tmp_path: Path) -> None:
    _installed(tmp_path, f"{SITE}/victimpkg/__init__.py", f"{SITE}/victimpkg/helpers.py")
    found = problems(tmp_path, "victimpkg/NOTES.txt", "extra.pth", layout=None, texts={"extra.pth": "victimpkg\n"})
    assert any("holds files of another installed distribution" in problem for problem in found), found
