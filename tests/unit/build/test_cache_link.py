"""An install keeps the pycs it wrote in the compile cache as second names of the files, or copies."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from hatch_pyc._shipped import worker
from hatch_pyc.build.cache import CompileCache, linked_name, open_cache

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no owners and modes on this system")

KEY = "ab" + "0" * 62
PYC = b"\x00" * 16 + b"code"


def _cache(tmp_path: Path) -> CompileCache:
    cache = open_cache(os.fspath(tmp_path / "cache"), pytest.fail)
    assert cache is not None
    return cache


def _installed(tmp_path: Path, mode: int = 0o644, data: bytes = PYC) -> Path:
    file = tmp_path / "site-packages" / "m.cpython-311.pyc"
    file.parent.mkdir(exist_ok=True)
    file.write_bytes(data)
    file.chmod(mode)
    return file


def _entry(cache: CompileCache) -> Path:
    return Path(cache.directory, KEY[:2], worker.entry_name(KEY, PYC))


def _link(cache: CompileCache) -> Path:
    return Path(cache.directory, KEY[:2], linked_name(worker.entry_name(KEY, PYC)))


def test_a_file_only_its_owner_can_write_is_kept_as_a_second_name(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    file = _installed(tmp_path)
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))
    assert _link(cache).samefile(file)
    assert not _entry(cache).exists()
    assert cache.holds(KEY, PYC)  # install and check compare the bytes they read with the pyc's
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))  # there already: nothing to do
    assert cache.write_error is None


def test_a_build_takes_only_an_entry_reached_through_the_cache_alone(tmp_path: Path) -> None:
    # A build reads the entry's file again when it writes the wheel. An install's link is a
    # file that had a second name, and someone may hold it open for writing since (round 15):
    # never taken, even once its other name is gone.
    cache = _cache(tmp_path)
    file = _installed(tmp_path)
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))
    assert cache.load(KEY, 100) is None
    file.unlink()
    assert cache.load(KEY, 100) is None
    assert cache.holds(KEY, PYC)
    # What the build stores then, beside it, only its owner may read and write; the next
    # build (which lists the cache again) takes it.
    cache.store(KEY, PYC)
    assert _entry(cache).stat().st_mode & 0o777 == 0o600
    assert _cache(tmp_path).load(KEY, 100) == os.fspath(_entry(cache))
    # One that others may write, or with another name, is not taken either.
    _entry(cache).chmod(0o664)
    assert _cache(tmp_path).load(KEY, 100) is None
    _entry(cache).chmod(0o600)
    os.link(_entry(cache), tmp_path / "elsewhere.pyc")
    assert _cache(tmp_path).load(KEY, 100) is None


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_a_file_others_could_write_is_copied(tmp_path: Path, mode: int) -> None:
    # Through a second name, whoever can write the installed file would write the entry.
    cache = _cache(tmp_path)
    file = _installed(tmp_path, mode)
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))
    assert not _link(cache).exists()
    assert not _entry(cache).samefile(file)
    assert cache.holds(KEY, PYC)


def test_where_no_link_can_be_made_the_file_is_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def across(source: str, target: str, **options: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", source)

    monkeypatch.setattr(os, "link", across)
    cache = _cache(tmp_path)
    file = _installed(tmp_path)
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))
    assert not _link(cache).exists()
    assert not _entry(cache).samefile(file)
    assert cache.holds(KEY, PYC)


def test_a_file_that_no_longer_holds_the_verified_bytes_is_not_kept(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    for mode in (0o664, 0o644):  # copied, then linked
        file = _installed(tmp_path, mode, b"\x00" * 16 + b"other code")
        cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(file), len(PYC))
        # A second name of other bytes is a damaged entry, which a reader takes for a miss.
        assert not cache.holds(KEY, PYC)
        file.unlink()
        assert cache.load(KEY, 100) is None
    # The next install that finds the pyc exact puts a whole entry in its place.
    cache.link(KEY, worker.entry_name(KEY, PYC), os.fspath(_installed(tmp_path)), len(PYC))
    assert cache.holds(KEY, PYC)
