"""Where ``verify`` takes each module's source from: one root per top-level name, chosen as a
build maps one directory to it, and each module exactly at ``<root>/<its path>``."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from hatch_pyc.check.source_tree import SourceRoot, SourceTree


def _tree(tmp_path: Path, *sources: list[str]) -> SourceTree:
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True)
    tree = SourceTree(str(scratch))
    for number, files in enumerate(sources):
        root = tmp_path / f"source{number}"
        for name in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(f"# {name}\n")
        tree.add(str(root))
    return tree


DEMO = ["demo/__init__.py", "demo/core.py", "demo/sub/__init__.py"]


def test_the_root_holding_most_of_a_top_level_names_modules_is_its_only_one(tmp_path: Path) -> None:
    tree = _tree(tmp_path, ["src/demo/__init__.py", "src/demo/core.py", "src/demo/sub/__init__.py", "ex/demo/core.py"])
    root = tree.root(DEMO)
    assert root == SourceRoot(0, "src/", f"{tmp_path}/source0/src/")
    assert tree.at(root, "demo/core.py") == (f"{tmp_path}/source0/src/demo/core.py",) * 2
    # A module only another root has has no source: no file merely ending in its path stands in.
    only_there = _tree(tmp_path / "other", ["src/demo/__init__.py", "src/demo/sub/__init__.py", "ex/demo/core.py"])
    root = only_there.root(DEMO)
    assert root is not None
    assert root.prefix == "src/"
    assert only_there.at(root, "demo/core.py") is None


def test_more_modules_win_over_a_shorter_root(tmp_path: Path) -> None:
    tree = _tree(tmp_path, ["demo/core.py", "lib/demo/__init__.py", "lib/demo/core.py", "lib/demo/sub/__init__.py"])
    root = tree.root(DEMO)
    assert root is not None
    assert root.prefix == "lib/"


@pytest.mark.parametrize(
    ("files", "prefix"),
    [
        (["examples/legacy/mod.py", "src/mod.py"], "src/"),  # a tie: the shortest root
        (["b/mod.py", "a/mod.py"], "a/"),  # as short: the first by name
        (["mod.py", "src/mod.py"], ""),
    ],
)
def test_ties_go_to_the_shortest_root(tmp_path: Path, files: list[str], prefix: str) -> None:
    root = _tree(tmp_path, files).root(["mod.py"])
    assert root is not None
    assert root.prefix == prefix


def test_each_source_is_its_own_tree(tmp_path: Path) -> None:
    """A root is in one source: a dependency's sdist does not lend modules to the project's."""
    tree = _tree(tmp_path, ["p/src/demo/__init__.py"], ["q/demo/__init__.py", "q/demo/core.py"])
    root = tree.root(["demo/__init__.py", "demo/core.py"])
    assert root == SourceRoot(1, "q/", f"{tmp_path}/source1/q/")
    assert tree.root(["other/__init__.py"]) is None


#: A copy of ``demo`` kept as test data, with one module more than the package has.
FIXTURE = ["tests/fixtures/demo/__init__.py", "tests/fixtures/demo/core.py", "tests/fixtures/demo/sub/__init__.py"]
FIXTURE_PATHS = [*DEMO, "demo/extra.py"]


def _project(tmp_path: Path, config: dict[str, str], files: list[str], top: str = "") -> SourceTree:
    """A tree of one source: a project whose build files are ``config`` (name: text), as a
    directory, or with ``top`` an sdist whose members are all below ``top``."""
    source = tmp_path / "project"
    for name, text in [*config.items(), *((name, f"# {name}\n") for name in files)]:
        (source / top / name).parent.mkdir(parents=True, exist_ok=True)
        (source / top / name).write_text(text)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    tree = SourceTree(str(scratch))
    if top:
        with tarfile.open(tmp_path / f"{top}.tar.gz", "w:gz") as archive:
            archive.add(source / top, arcname=top)
        tree.add(str(tmp_path / f"{top}.tar.gz"))
    else:
        tree.add(str(source))
    return tree


def _prefix(tree: SourceTree, paths: list[str] = FIXTURE_PATHS) -> str:
    root = tree.root(paths)
    assert root is not None
    return root.prefix


HATCH = '[tool.hatch.build.targets.wheel]\npackages = ["lib/demo"]\n'


@pytest.mark.parametrize(
    ("config", "root"),
    [
        ({"pyproject.toml": HATCH}, "lib/"),
        ({"pyproject.toml": '[tool.hatch.build]\npackages = ["lib/demo"]\n'}, "lib/"),
        ({"pyproject.toml": '[tool.hatch.build.targets.wheel]\nsources = ["lib"]\n'}, "lib/"),
        ({"pyproject.toml": '[tool.hatch.build]\nsources = {"lib" = ""}\n'}, "lib/"),
        ({"pyproject.toml": '[tool.hatch.build.targets.wheel.sources]\n"lib/demo" = "demo"\n'}, "lib/"),
        ({"pyproject.toml": '[tool.setuptools]\npackage-dir = {"" = "lib"}\n'}, "lib/"),
        ({"pyproject.toml": '[tool.setuptools.package-dir]\ndemo = "lib/demo"\n'}, "lib/"),
        ({"pyproject.toml": '[tool.setuptools.packages.find]\nwhere = ["lib"]\n'}, "lib/"),
        ({"pyproject.toml": '[tool.pdm.build]\npackage-dir = "lib"\n'}, "lib/"),
        ({"pyproject.toml": '[tool.poetry]\npackages = [{include = "demo", from = "lib"}]\n'}, "lib/"),
        ({"setup.py": "", "setup.cfg": "[options]\npackage_dir =\n    =lib\n"}, "lib/"),
        ({"setup.cfg": "[options]\npackages = find:\n[options.packages.find]\nwhere = lib\n"}, "lib/"),
        # Only the project's own files are included, as they are: its directory is the root.
        ({"pyproject.toml": '[tool.hatch.build.targets.wheel]\nonly-include = ["demo"]\n'}, ""),
    ],
)
def test_the_roots_a_build_configuration_declares_come_first(tmp_path: Path, config: dict[str, str], root: str) -> None:
    """Even over the conventional ``src/`` and a copy with more of the modules."""
    files = [*(f"lib/{path}" for path in DEMO), *FIXTURE, "tests/fixtures/demo/extra.py"]
    files += ["src/demo/__init__.py", "src/demo/core.py", "src/demo/sub/__init__.py", "src/demo/extra.py"]
    files += [path for path in DEMO if root == ""]
    assert _prefix(_project(tmp_path, config, files)) == root


def test_a_larger_copy_elsewhere_is_not_the_root_of_a_conventional_layout(tmp_path: Path) -> None:
    """``src/demo`` has three modules, ``tests/fixtures/demo`` those and one more: the package
    is ``src/``'s, and the module only the copy has has no source."""
    files = [f"src/{path}" for path in DEMO] + [*FIXTURE, "tests/fixtures/demo/extra.py"]
    tree = _project(tmp_path, {"pyproject.toml": '[project]\nname = "demo"\n'}, files, top="demo-0.1.0")
    root = tree.root(FIXTURE_PATHS)
    assert root == SourceRoot(0, "demo-0.1.0/src/", "demo-0.1.0.tar.gz!demo-0.1.0/src/")
    assert tree.at(root, "demo/extra.py") is None
    assert tree.at(root, "demo/core.py") is not None
    # The project's own directory is conventional too (a flat layout), and an sdist's PKG-INFO
    # makes it a project's; a project deeper down is test data.
    flat = [*DEMO, *FIXTURE, "tests/fixtures/demo/extra.py", "tests/fixtures/pyproject.toml"]
    assert _prefix(_project(tmp_path / "flat", {"PKG-INFO": "Name: demo\n"}, flat, top="demo-0.1.0")) == "demo-0.1.0/"


def test_a_configuration_that_cannot_be_read_declares_nothing(tmp_path: Path) -> None:
    files = [f"src/{path}" for path in DEMO] + [*FIXTURE, "tests/fixtures/demo/extra.py", "lib/demo/__init__.py"]
    for number, text in enumerate(["[tool.hatch", "a = " + "[" * 100_000, "[tool.setuptools]\npackage-dir = 3\n"]):
        tree = _project(tmp_path / str(number), {"pyproject.toml": text, "setup.cfg": "no section"}, files)
        assert _prefix(tree) == "src/"
    # Roots outside the project, or renamed packages, are none: the conventional ones stand.
    for number, config in enumerate(
        [
            '[tool.hatch.build.targets.wheel]\nsources = ["../lib", "/lib"]\n',
            '[tool.setuptools.package-dir]\ndemo = "lib/code"\n',
        ]
    ):
        assert _prefix(_project(tmp_path / f"out{number}", {"pyproject.toml": config}, files)) == "src/"


def test_where_neither_holds_a_name_the_root_with_most_of_it_is_taken(tmp_path: Path) -> None:
    """A name the configuration says nothing of (a vendored copy, a dependency laid out as no
    convention says): the majority rule, as for a directory of sources that is no project."""
    files = [f"lib/{path}" for path in DEMO] + ["vendor/other/__init__.py", "vendor/other/core.py", "x/other/core.py"]
    tree = _project(tmp_path, {"pyproject.toml": HATCH}, files)
    assert _prefix(tree, ["other/__init__.py", "other/core.py"]) == "vendor/"
    assert _prefix(tree, DEMO) == "lib/"


def test_an_sdist_of_too_many_name_parts_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Members deep enough that their names hold more parts in all than the limit (made small
    here): each part is a directory to walk and make."""
    from hatch_pyc.check import source_tree
    from hatch_pyc.core.limits import MAX_NAME_DEPTH, LimitExceeded

    monkeypatch.setattr(source_tree, "MAX_SDIST_PARTS", 1_000)
    sdist = tmp_path / "deep-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for number in range(1_000 // MAX_NAME_DEPTH + 1):
            tar.addfile(tarfile.TarInfo("deep-1.0/" + "d/" * (MAX_NAME_DEPTH - 2) + f"f{number}"))
    tree = SourceTree(str(tmp_path / "sources"))
    (tmp_path / "sources").mkdir()
    with pytest.raises(LimitExceeded, match="more than 1000 name parts in all its members"):
        tree.add(str(sdist))
