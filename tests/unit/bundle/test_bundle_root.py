"""Where bundles extract (``HATCH_PYC_BUNDLE_ROOT``), what a moved root must be, and the time of
last use a start leaves for ``hatch-pyc cache prune --older-than``."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from hatch_pyc._shipped import bundle_runtime
from hatch_pyc.bundle import plan

DAY = 24 * 60 * 60


def test_the_bundle_root_moves_with_its_environment_variable(tmp_path: Path) -> None:
    assert bundle_runtime.extraction_root({"XDG_CACHE_HOME": str(tmp_path)}) == str(tmp_path / "hatch-pyc" / "pyz")
    moved = {"XDG_CACHE_HOME": str(tmp_path), "HATCH_PYC_BUNDLE_ROOT": "relative/root"}
    assert bundle_runtime.extraction_root(moved) == os.path.abspath("relative/root")
    assert bundle_runtime.extraction_root({**moved, "HATCH_PYC_BUNDLE_ROOT": ""}).endswith("/hatch-pyc/pyz")


def test_a_start_refreshes_a_day_old_extraction_directory(tmp_path: Path) -> None:
    directory = tmp_path / "dir"
    directory.mkdir()
    for age, refreshed in ((2 * DAY, True), (DAY / 2, False)):
        then = time.time() - age
        os.utime(directory, (then, then))
        bundle_runtime._used(str(directory), os.lstat(directory))
        assert (os.lstat(directory).st_mtime > then + 60) is refreshed


def test_a_moved_bundle_root_may_lie_in_a_shared_sticky_directory(tmp_path: Path) -> None:
    """As ``/tmp/bundles`` with ``HATCH_PYC_BUNDLE_ROOT``: the root itself must be private, not
    its parent; under the user cache directory, ``hatch-pyc`` above ``pyz`` must be too."""
    files = {"pkg/__init__.pyc": b"init"}
    hasher = hashlib.sha256()
    bundle_runtime.group_hash("pkg/__init__.pyc", 4, hasher)
    hasher.update(b"init")
    groups = plan.extraction({"pkg/__init__.pyc": 4}, {"pkg": hasher.hexdigest()}, None).groups
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    digest = bundle_runtime.extraction_digest(groups)
    for own_parent, extracted in ((True, False), (False, True)):
        root = shared / f"root-{own_parent}"
        finder = bundle_runtime.ExtractedFinder(
            "app.pyz", files.__getitem__, str(root), digest, groups, {}, own_parent=own_parent
        )
        finder.find_spec("pkg")
        assert (root / digest / "pkg" / "__init__.pyc").exists() is extracted
