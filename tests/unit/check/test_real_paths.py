"""Directories resolved from their parents' real paths are what ``realpath`` makes of them,
links (relative, absolute, to ``.``, dangling, in a loop) and ``..`` among their parts."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from hatch_pyc.check.landing import Places, _RealPaths, destinations, real_path

pytestmark = pytest.mark.skipif(os.sep != "/", reason="POSIX paths and links")


def _tree(root: Path) -> None:
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "real" / "x").mkdir(parents=True)
    (root / "a" / "link").symlink_to("../real")
    (root / "abs").symlink_to(root / "a" / "b")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "dangling").symlink_to("nowhere")
    (root / "dot").symlink_to(".")


@pytest.mark.parametrize("backwards", [False, True])
def test_each_directory_resolves_as_realpath_does(tmp_path: Path, backwards: bool) -> None:
    _tree(tmp_path)
    parts = ["a", "b", "link", "x", "abs", "loop1", "dangling", "dot", "..", ".", "new"]
    paths = sorted(
        (f"{tmp_path}/{'/'.join(combo)}" for count in range(1, 4) for combo in itertools.product(parts, repeat=count)),
        reverse=backwards,
    )
    resolve = _RealPaths()
    assert [resolve(path) for path in paths] == [real_path(path) for path in paths]


def test_destinations_resolve_through_links(tmp_path: Path) -> None:
    _tree(tmp_path)
    site = str(tmp_path / "a")

    places = Places(schemes={"purelib": site}, path=[site])
    landed = destinations(
        ["link/x/m.py", "b/c/n.py", "new/o.py"],
        data_dir="d.data",
        root_scheme="purelib",
        places=places,
        resolve=real_path,
    )
    assert landed == {
        "link/x/m.py": f"{real_path(str(tmp_path))}/real/x/m.py",
        "b/c/n.py": f"{real_path(site)}/b/c/n.py",
        "new/o.py": f"{real_path(site)}/new/o.py",
    }
