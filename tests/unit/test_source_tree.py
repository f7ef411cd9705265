"""Where ``verify`` takes each module's source from: one root per top-level name, chosen as a
build maps one directory to it, and each module exactly at ``<root>/<its path>``."""

from __future__ import annotations

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
