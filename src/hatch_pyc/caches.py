"""What hatch-pyc's caches hold, and pruning them (``hatch-pyc cache``).

Two caches: the compile cache (``<dir>/v1/<2 hex>/<62 hex>-<64 hex>.pyc``, see
:mod:`hatch_pyc.build.cache`; ``<dir>`` is ``HATCH_PYC_CACHE_DIR`` or the user cache
directory), and the directories bundles extract into (``<root>/<32 hex>``, see
:mod:`hatch_pyc._shipped.bundle_runtime`; ``<root>`` is ``HATCH_PYC_BUNDLE_ROOT`` or ``pyz`` in
the user cache directory). Only what has those names, is the user's own and is no link is
counted or removed; anything else there is left alone, and no link is followed. A bundle
extraction directory is moved aside (renamed, in one step) before it is removed, so that a
bundle starting meanwhile finds it whole or not at all, and extracts it again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hatch_pyc._shipped.bundle_runtime import DONE, extraction_root, user_cache_dir
from hatch_pyc.core.errors import HatchPycError

#: The compile cache's own directory inside its directory (:class:`hatch_pyc.build.cache.CompileCache`).
COMPILE_VERSION = "v1"
#: A shard of the compile cache: the first two hex digits of the keys it holds.
SHARD = re.compile(r"^[0-9a-f]{2}$")
#: A compile cache entry (:func:`hatch_pyc._shipped.worker.entry_name`), one being written
#: (:func:`hatch_pyc._shipped.worker.store_entry`), or an install's link to a pyc it installed
#: (:func:`hatch_pyc.build.cache.linked_name`).
ENTRY = re.compile(r"^\.?[0-9a-f]{62}-[0-9a-f]{64}\.(pyc(\.\d+\.partial)?|link)$")
#: A bundle's extraction directory (:func:`hatch_pyc._shipped.bundle_runtime.extraction_digest`),
#: or one a start (``_set_aside``) or a prune set aside to remove.
EXTRACTION = re.compile(r"^([0-9a-f]{32}|\.(damaged|pruned)-[A-Za-z0-9_]+)$")
#: What a bundle writes at the top of its extraction directory besides its groups: a group's
#: completion marker, and the directories it writes a group into or sets a damaged one aside in.
MARKER = re.compile(rf"^{re.escape(DONE)}[0-9a-f]{{64}}$")
WORK = re.compile(r"^\.(partial|damaged)-[A-Za-z0-9_]+$")
DAY = 24 * 60 * 60


class CacheError(HatchPycError):
    """A cache directory that cannot be listed or pruned safely; the message says why."""


@dataclass(frozen=True)
class Extraction:
    """One bundle's extraction directory."""

    path: str
    files: int
    size: int
    #: When a bundle last used it (its modification time; a start refreshes it daily), in seconds.
    last_used: float

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "files": self.files, "size": self.size, "last_used": int(self.last_used)}


@dataclass(frozen=True)
class Listing:
    """What the caches hold: the compile cache's entries, and each bundle extraction directory."""

    compile_cache: str
    entries: int
    entries_size: int
    bundle_root: str
    extractions: list[Extraction] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "compile_cache": {"path": self.compile_cache, "entries": self.entries, "size": self.entries_size},
            "bundle_root": {
                "path": self.bundle_root,
                "size": sum(each.size for each in self.extractions),
                "extractions": [each.as_dict() for each in self.extractions],
            },
        }


@dataclass(frozen=True)
class Pruned:
    """What :func:`prune` removed: counts and bytes of each cache, and the directories."""

    compile_cache: str
    entries: int
    entries_size: int
    bundle_root: str
    extractions: list[str] = field(default_factory=list)
    extractions_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "compile_cache": {"path": self.compile_cache, "removed": self.entries, "size": self.entries_size},
            "bundle_root": {"path": self.bundle_root, "removed": self.extractions, "size": self.extractions_size},
        }


def compile_cache_dir(environ: Mapping[str, str] | None = None, given: str | None = None) -> str:
    """The compile cache's directory: ``given``, else ``HATCH_PYC_CACHE_DIR``, else the user
    cache directory (as a build finds it)."""
    environ = os.environ if environ is None else environ
    chosen = given or environ.get("HATCH_PYC_CACHE_DIR") or user_cache_dir(environ)
    return os.path.abspath(os.path.expanduser(chosen))


def _own(found: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or found.st_uid == os.getuid()


def _directory(path: str) -> bool:
    """Whether ``path`` is a directory of the user's own, and no link; False if it is missing.
    Raises :class:`CacheError` for a link or anything else in its place."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CacheError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(found.st_mode) or not _own(found):
        raise CacheError(f"{path} is a symbolic link, no directory, or not yours: hatch-pyc leaves it alone")
    return True


def _entries(path: str, pattern: re.Pattern[str], directory: bool) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    """The entries of ``path`` named by ``pattern`` that are directories (or, not ``directory``,
    regular files) of the user's own, never through a link."""
    try:
        listing = list(os.scandir(path))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CacheError(f"{path} cannot be listed: {exc.strerror or exc}") from None
    for entry in sorted(listing, key=lambda entry: entry.name):
        if not pattern.match(entry.name):
            continue
        try:
            found = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # removed meanwhile
        kind = stat.S_ISDIR if directory else stat.S_ISREG
        if kind(found.st_mode) and _own(found):
            yield entry, found


def _tree_size(path: str) -> tuple[int, int]:
    """The number of regular files below ``path`` and their bytes, no link followed."""
    files = size = 0
    for directory, _, names in os.walk(path, followlinks=False):
        for name in names:
            try:
                found = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if stat.S_ISREG(found.st_mode):
                files += 1
                size += found.st_size
    return files, size


def _compile_entries(directory: str) -> Iterator[tuple[str, os.DirEntry[str], os.stat_result]]:
    """Each compile cache entry in ``directory``: its shard's path, the entry, its status."""
    versioned = os.path.join(directory, COMPILE_VERSION)
    if not _directory(directory) or not _directory(versioned):
        return
    for shard, _ in _entries(versioned, SHARD, directory=True):
        for entry, found in _entries(shard.path, ENTRY, directory=False):
            yield shard.path, entry, found


def _extractions(root: str) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    """The bundle extraction directories in ``root``: those named and filled as a bundle does."""
    if _directory(root):
        for entry, found in _entries(root, EXTRACTION, directory=True):
            if _extracted(entry.path, aside=entry.name.startswith(".")):
                yield entry, found


def _extracted(path: str, aside: bool) -> bool:
    """Whether the directory ``path`` holds what a bundle writes: a group's completion marker,
    or nothing but the directories a start works in (an interrupted first start); ``aside``, a
    directory set aside, ``old`` or nothing."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    if aside:
        return set(names) <= {"old"}
    return any(MARKER.match(name) for name in names) or all(WORK.match(name) for name in names)


def list_caches(environ: Mapping[str, str] | None = None, cache_dir: str | None = None) -> Listing:
    """What the compile cache (``cache_dir``, or as :func:`compile_cache_dir` finds it) and the
    bundle extraction root hold."""
    directory = compile_cache_dir(environ, cache_dir)
    root = extraction_root(environ)
    entries = size = 0
    for _, _, found in _compile_entries(directory):
        entries += 1
        size += found.st_size
    extractions = []
    for entry, found in _extractions(root):
        files, bytes_ = _tree_size(entry.path)
        extractions.append(Extraction(entry.path, files, bytes_, found.st_mtime))
    return Listing(directory, entries, size, root, extractions)


def prune(
    *,
    everything: bool = False,
    older_than: float | None = None,
    environ: Mapping[str, str] | None = None,
    cache_dir: str | None = None,
    now: float | None = None,
) -> Pruned:
    """Remove, with ``everything``, every compile cache entry and every bundle extraction
    directory; with ``older_than`` (days), the bundle extraction directories no bundle used
    for that long. Raises :class:`CacheError` when a directory cannot be removed."""
    directory = compile_cache_dir(environ, cache_dir)
    root = extraction_root(environ)
    entries = entries_size = 0
    if everything:
        shards = set()
        for shard, entry, found in list(_compile_entries(directory)):
            _unlink(entry.path)
            entries += 1
            entries_size += found.st_size
            shards.add(shard)
        for shard in sorted(shards):
            _rmdir_if_empty(shard)
    cutoff = None if everything or older_than is None else (time.time() if now is None else now) - older_than * DAY
    removed, removed_size = [], 0
    if everything or cutoff is not None:
        for entry, found in list(_extractions(root)):
            if cutoff is not None and found.st_mtime >= cutoff:
                continue
            removed_size += _tree_size(entry.path)[1]
            _remove_tree(root, entry.path)
            removed.append(entry.path)
    return Pruned(directory, entries, entries_size, root, removed, removed_size)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass  # another prune, or a build replacing it
    except OSError as exc:
        raise CacheError(f"{path} cannot be removed: {exc.strerror or exc}") from None


def _rmdir_if_empty(path: str) -> None:
    # Not empty: a build wrote an entry meanwhile, or something not hatch-pyc's is there.
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _remove_tree(root: str, path: str) -> None:
    """Move ``path`` aside into ``root`` in one rename, then remove it without following a link."""
    try:
        aside = tempfile.mkdtemp(prefix=".pruned-", dir=root)
        os.rename(path, os.path.join(aside, "old"))
    except FileNotFoundError:
        return  # removed meanwhile
    except OSError as exc:
        raise CacheError(f"{path} cannot be removed: {exc.strerror or exc}") from None
    shutil.rmtree(aside, ignore_errors=True)  # never follows a link in it
    if os.path.lexists(aside):
        raise CacheError(f"{path} could not be removed whole: what is left is in {aside}")
