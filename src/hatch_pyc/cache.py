"""The compile cache: pycs of earlier builds, reused when nothing that shapes them changed.

An entry is a pyc file, stored under a key made of everything its bytes depend on: the
source's hash, the target interpreter (implementation, version, magic number, cache tag),
the optimize level, the invalidation mode (and the recorded source time in timestamp
mode), the pyc's path in the wheel and the file name its code objects carry, and
hatch-pyc's own version and compiler code. Since the pycs are a function of those alone
(see :mod:`hatch_pyc.worker`), a wheel comes out byte-identical with or without the cache.

An entry is named ``<key>-<hash of its contents>.pyc``: a truncated or damaged entry no
longer matches its name, and is a miss. The compiling process writes it beside its final
name and renames it into place (:func:`hatch_pyc.worker.store_entry`), so a reader
(another build running at the same time, say) sees a whole entry or none. The build adds
the entry file itself to the wheel: each pyc is written once, hit or miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from hatch_pyc import __version__, worker
from hatch_pyc.interpreters import Interpreter


def user_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """The platform's per-user cache directory for hatch-pyc.

    Written out here (the conventions of platformdirs) because a build hook's dependencies
    are installed into every build environment of its users.
    """
    environ = os.environ if environ is None else environ
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "hatch-pyc", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "hatch-pyc")
    return os.path.join(environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "hatch-pyc")


def _compiler_digest() -> str:
    """Hash of the worker's code: a change to it (even without a release) changes the keys."""
    return hashlib.sha256(Path(worker.__file__).read_bytes()).hexdigest()


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
            level,
            invalidation_mode,
            mtime if invalidation_mode == "timestamp" else 0,
            path,
            dfile,
        ]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def prefix(self, key: str) -> str:
        """Where the entries of ``key`` go, less their ``-<hash>.pyc`` ending."""
        return os.path.join(self.directory, key[:2], key[2:])

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

    def load(self, key: str) -> str | None:
        """The file of the pyc stored under ``key``; None when there is none or it is damaged."""
        for name in self._names(key[:2]).get(key[2:], []):
            entry = os.path.join(self.directory, key[:2], name)
            try:
                with open(entry, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if name == f"{key[2:]}-{hashlib.sha256(data).hexdigest()}.pyc":
                return entry
        self.misses += 1
        return None
