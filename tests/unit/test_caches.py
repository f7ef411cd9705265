"""``hatch-pyc cache``: what the compile cache and the bundle extraction directories hold, and
pruning only hatch-pyc's own of them, never through a link."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hatch_pyc import caches
from hatch_pyc._shipped import bundle_runtime
from hatch_pyc.core.errors import HatchPycError

ENTRY = "a" * 62 + "-" + "b" * 64 + ".pyc"
DIGEST = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
MARKER = bundle_runtime.DONE + "c" * 64
DAY = 24 * 60 * 60


def _environ(tmp_path: Path) -> dict[str, str]:
    return {"HATCH_PYC_CACHE_DIR": str(tmp_path / "cache"), "HATCH_PYC_BUNDLE_ROOT": str(tmp_path / "root")}


def _entry(tmp_path: Path, shard: str = "12", name: str = ENTRY, data: bytes = b"pyc") -> Path:
    path = tmp_path / "cache" / "v1" / shard / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _extraction(tmp_path: Path, name: str = DIGEST, age_days: float = 0, marker: bool = True) -> Path:
    path = tmp_path / "root" / name
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "__init__.pyc").write_bytes(b"12345")
    if marker:
        (path / MARKER).touch()
    used = time.time() - age_days * DAY
    os.utime(path, (used, used))
    return path


def test_list_counts_entries_and_extraction_directories_and_nothing_else(tmp_path: Path) -> None:
    _entry(tmp_path, data=b"1234")
    _entry(tmp_path, shard="ab", name="." + ENTRY + ".77.partial", data=b"12")
    _entry(tmp_path, shard="cd", name=ENTRY.replace(".pyc", ".link"), data=b"123")  # an install's link
    _entry(tmp_path, name="notes.txt", data=b"not an entry")
    _entry(tmp_path, shard="zz", data=b"not a shard")
    _extraction(tmp_path, age_days=3)
    _extraction(tmp_path, name="a" * 32, marker=False)  # no marker, files: not a bundle's
    (tmp_path / "root" / "mine").mkdir()
    (tmp_path / "root" / OTHER).symlink_to(tmp_path / "root" / DIGEST)
    listing = caches.list_caches(_environ(tmp_path))
    assert (listing.compile_cache, listing.entries, listing.entries_size) == (str(tmp_path / "cache"), 3, 9)
    assert listing.bundle_root == str(tmp_path / "root")
    ((path, files, size),) = [(e.path, e.files, e.size) for e in listing.extractions]
    assert (path, files, size) == (str(tmp_path / "root" / DIGEST), 2, 5)
    assert time.time() - listing.extractions[0].last_used == pytest.approx(3 * DAY, abs=60)
    document = listing.as_dict()
    assert document["compile_cache"] == {"path": str(tmp_path / "cache"), "entries": 3, "size": 9}
    assert document["bundle_root"]["size"] == 5
    assert set(document["bundle_root"]["extractions"][0]) == {"path", "files", "size", "last_used"}


def test_nothing_there_is_an_empty_listing(tmp_path: Path) -> None:
    listing = caches.list_caches(_environ(tmp_path))
    assert (listing.entries, listing.extractions) == (0, [])


def test_prune_older_than_removes_only_extraction_directories_unused_that_long(tmp_path: Path) -> None:
    old = _extraction(tmp_path, age_days=10)
    fresh = _extraction(tmp_path, name=OTHER, age_days=1)
    entry = _entry(tmp_path)
    pruned = caches.prune(older_than=5, environ=_environ(tmp_path))
    assert pruned.extractions == [str(old)]
    assert pruned.extractions_size == 5
    assert pruned.entries == 0
    assert not old.exists()
    assert fresh.exists()
    assert entry.exists()
    assert os.listdir(tmp_path / "root") == [OTHER]  # nothing left aside


def test_prune_all_removes_hatch_pycs_own_and_leaves_the_rest(tmp_path: Path) -> None:
    _entry(tmp_path)
    foreign = _entry(tmp_path, shard="34", name="notes.txt")
    _extraction(tmp_path)
    interrupted = tmp_path / "root" / OTHER / ".partial-abc123"
    interrupted.mkdir(parents=True)
    stranger = _extraction(tmp_path, name="a" * 32, marker=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    (tmp_path / "root" / ("b" * 32)).symlink_to(outside)
    (tmp_path / "cache" / "v1" / "56").symlink_to(outside)
    pruned = caches.prune(everything=True, environ=_environ(tmp_path))
    assert (pruned.entries, pruned.entries_size) == (1, 3)
    assert sorted(pruned.extractions) == [str(tmp_path / "root" / DIGEST), str(tmp_path / "root" / OTHER)]
    assert not (tmp_path / "cache" / "v1" / "12").exists()  # its shard, emptied
    assert foreign.exists()
    assert stranger.exists()
    assert (outside / "precious").read_text() == "keep"
    assert sorted(os.listdir(tmp_path / "root")) == ["a" * 32, "b" * 32]


@pytest.mark.parametrize("which", ["cache", "root"])
def test_a_cache_directory_that_is_a_link_is_refused_in_one_line(tmp_path: Path, which: str) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / which).symlink_to(real)
    with pytest.raises(HatchPycError) as info:
        caches.prune(everything=True, environ=_environ(tmp_path))
    assert str(info.value) == (
        f"hatch-pyc: {tmp_path / which} is a symbolic link, no directory, or not yours: hatch-pyc leaves it alone"
    )
