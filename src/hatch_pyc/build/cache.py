"""The compile cache: pycs of earlier builds, reused when nothing that shapes them changed.

An entry is a pyc file, stored under a key made of everything its bytes depend on: the
source's hash, the target interpreter (implementation, version, magic number, cache tag),
the optimize level, the invalidation mode (and the recorded source time in timestamp
mode), the pyc's path in the wheel and the file name its code objects carry, and
hatch-pyc's own version and compiler code. Since the pycs are a function of those alone
(see :mod:`hatch_pyc._shipped.worker`), a wheel comes out byte-identical with or without the cache.

An entry is named ``<key>-<hash of the key and its contents>.pyc``: a truncated or damaged
entry, or one renamed to another key, no longer matches its name, and is a miss. Only a
regular file of a size plausible for its source is read (never a link, FIFO or device).
The compiling process writes an entry beside its final name and renames it into place
(:func:`hatch_pyc._shipped.worker.store_entry`), so a reader (another build running at the same
time, say) sees a whole entry or none. An install makes its entries second names of the
pycs it wrote (:meth:`CompileCache.link`), under names of their own that only installs and
checks take (:func:`linked_name`): a build reads an entry's file again when it writes the
wheel, and a file that has or had a second name in site-packages may have been changed
since through it. The build adds the entry file itself to the wheel:
each pyc is written once, hit or miss.

A hit is trusted: whoever can write the directory can plant an entry under any key, since
a key is computed from public inputs. So, as ssh's strict modes do, a cache directory (or
anything in it) that is a link, belongs to another user or is writable by group or others,
or that lies below a directory another user owns or anyone may write to (without the sticky
bit of ``/tmp``), is not used: :func:`open_cache` says why in one warning line and the
build compiles everything. Restoring a cache written by an untrusted job is trusting that
job; no check here can tell.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from hatch_pyc import __version__
from hatch_pyc._shipped import worker
from hatch_pyc._shipped.bundle_runtime import untrusted_path
from hatch_pyc.core.interpreters import Interpreter


def _compiler_digest() -> str:
    """Hash of the worker's code: a change to it (even without a release) changes the keys."""
    return hashlib.sha256(Path(worker.__file__).read_bytes()).hexdigest()


def open_cache(directory: str, warn: Callable[[str], None]) -> CompileCache | None:
    """The compile cache in ``directory`` (made, private, if missing), or None after one
    ``warn`` line when it cannot be trusted (see the module docstring)."""
    try:
        os.makedirs(os.path.join(directory, "v1"), mode=0o700, exist_ok=True)
        problem = untrusted(directory)
    except OSError as exc:
        problem = f"{directory} cannot be used: {exc.strerror or exc}"
    if problem is not None:
        warn(f"not using the compile cache: {problem}; compiling every module")
        return None
    return CompileCache(directory)


def untrusted(directory: str) -> str | None:
    """Why another user could put entries into the cache in ``directory``, or None."""
    root = os.path.abspath(directory)
    inside = [root, os.path.join(root, "v1")]
    with contextlib.suppress(OSError):
        inside += [os.path.join(inside[1], shard) for shard in sorted(os.listdir(inside[1]))]
    return untrusted_path(inside)


class CompileCache:
    """Pycs of earlier builds in ``directory``; ``misses`` counts this build's failed lookups."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.join(directory, "v1")
        self.misses = 0
        #: The first error met while writing an entry; the build goes on without it.
        self.write_error: str | None = None
        self._compiler = _compiler_digest()
        #: Entry names per shard directory, listed once per build.
        self._shards: dict[str, dict[str, list[str]]] = {}

    def key(
        self,
        *,
        source_hash: str,
        interpreter: Interpreter,
        level: int,
        invalidation_mode: str,
        mtime: int,
        path: str,
        dfile: str,
        debug_ranges: bool,
    ) -> str:
        """The key of one pyc: a hash of everything its bytes depend on (``source_hash``: the
        source's SHA-256, hex)."""
        parts = [
            __version__,
            self._compiler,
            source_hash,
            interpreter.implementation,
            interpreter.version,
            interpreter.magic_number,
            interpreter.cache_tag,
            # A free-threaded build writes its pycs another way (hatch_pyc._shipped.worker.FREE_THREADED).
            interpreter.free_threaded,
            level,
            invalidation_mode,
            mtime if invalidation_mode == "timestamp" else 0,
            path,
            dfile,
            debug_ranges,
        ]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def _names(self, shard: str) -> dict[str, list[str]]:
        if shard not in self._shards:
            names: dict[str, list[str]] = {}
            try:
                listing = os.listdir(os.path.join(self.directory, shard))
            except OSError:
                listing = []
            for name in listing:
                if not name.startswith("."):  # an entry being written
                    names.setdefault(name.partition("-")[0], []).append(name)
            self._shards[shard] = names
        return self._shards[shard]

    def load(self, key: str, source_size: int) -> str | None:
        """The file of the pyc stored under ``key`` for a source of ``source_size`` bytes;
        None when there is none, or it is damaged, or stored under another key; and never an
        install's link (:func:`linked_name`), nor a file with another name or that others may
        write: the build reads the file again when it writes the wheel, and only a file that
        was only ever reached through the private cache cannot have changed since."""
        for name in self._names(key[:2]).get(key[2:], []):
            if not name.endswith(".pyc"):  # an install's link (linked_name)
                continue
            entry = os.path.join(self.directory, key[:2], name)
            limit = MAX_PYC_PER_SOURCE_BYTE * source_size + MAX_PYC_OVERHEAD
            data = _read_regular_file(entry, limit, alone=True)
            if data is not None and name == worker.entry_name(key, data):
                return entry
        self.misses += 1
        return None

    def holds(self, key: str, data: bytes) -> bool:
        """Whether ``data`` is the entry stored under ``key``: a pyc compiled (or verified
        byte for byte) from the source ``key`` names, by its interpreter, with its options."""
        name = worker.entry_name(key, data)
        return any(
            _read_regular_file(os.path.join(self.directory, key[:2], each), len(data)) == data
            for each in (name, linked_name(name))
        )

    def store(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``; a failure is remembered in :attr:`write_error`, not raised."""
        try:
            worker.store_entry(self.directory, key, data)
        except OSError as exc:
            self.write_error = self.write_error or f"{exc.filename or self.directory}: {exc.strerror or exc}"

    def link(self, key: str, name: str, file: str, size: int) -> None:
        """Keep the installed pyc ``file`` (``size`` bytes) as the entry ``name`` of ``key``
        (:func:`~hatch_pyc._shipped.worker.entry_name` of the bytes that were verified): as a
        second name of that file (:func:`linked_name`) where the file system allows one and
        nobody but this user can write it, so that the cache costs no copy; else a copy of its
        bytes, if they still match ``name``. Either way a reader compares the bytes. A failure
        is remembered in :attr:`write_error`, not raised."""
        directory = os.path.join(self.directory, key[:2])
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            if _private(os.lstat(file)):
                # Else a copy: an entry there (damaged, since the check compared the pyc), no
                # links on this file system, or the cache on another.
                with contextlib.suppress(OSError):
                    os.link(file, os.path.join(directory, linked_name(name)), follow_symlinks=False)
                    return
        except OSError as exc:
            self.write_error = self.write_error or f"{exc.filename or self.directory}: {exc.strerror or exc}"
            return
        data = _read_regular_file(file, size)
        if data is not None and worker.entry_name(key, data) == name:
            self.store(key, data)


def linked_name(name: str) -> str:
    """The name of an install's link to a pyc it installed whose entry name is ``name``."""
    return name.removesuffix(".pyc") + ".link"


def _private(status: os.stat_result) -> bool:
    """Whether the file of ``status`` is a regular one only this user can write (POSIX)."""
    mine = hasattr(os, "geteuid") and status.st_uid == os.geteuid()
    return stat.S_ISREG(status.st_mode) and mine and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


#: A pyc larger than this many bytes per source byte, plus the overhead, is no pyc of it.
MAX_PYC_PER_SOURCE_BYTE = 20
MAX_PYC_OVERHEAD = 1024 * 1024


def _read_regular_file(path: str, limit: int, alone: bool = False) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a link, FIFO or device) of at most
    ``limit`` bytes, with ``alone`` one of no other name that only its owner may write; None
    otherwise, without blocking or reading more than ``limit``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):
            return None
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        foreign = hasattr(os, "geteuid") and status.st_uid != os.geteuid()
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit or foreign:
            return None
        if alone and hasattr(os, "geteuid") and (status.st_nlink != 1 or not _private(status)):
            return None
        # One byte more than the limit: a file that grew since fstat is refused too. A regular
        # file gives all that is asked in one read, up to its end.
        data = os.read(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None
