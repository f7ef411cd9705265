"""Comparing pycs with what their shipped sources compile to, in worker processes of the target.

``check --verify-code`` and ``install`` compile every shipped source whose pyc the target
would load and compare the code (:func:`hatch_pyc._shipped.worker.verify`). Loading a pyc to compare
it never happens in the checking process. Each request goes to the one of ``jobs`` workers
with the fewest in flight, at most :data:`~hatch_pyc.core.processes.IN_FLIGHT` each, so that
verification uses every core while the checking process reads the next entries. A pyc
without column positions is compared again in a worker started with ``-X no_debug_ranges``,
as the build starts the workers that compile such pycs. What is sent and not yet answered
is kept under :data:`~hatch_pyc.core.limits.MAX_HELD` bytes.

With the compile cache, a hash-based pyc the cache holds byte for byte under the key of its
source, path, level, file name and the target (what a build of that source for that
interpreter stores, :mod:`hatch_pyc.build.cache`) is what the target compiles: it is not
compared again. With ``keep`` (an install, which writes these pycs anyway; a check writes
nothing), each pyc a worker finds to be exactly what it writes is handed on, for the install
to keep in the cache once it is in place, so that installing the same wheel again, or a
wheel built here, compiles nothing. A cache another
user could write to is not opened (:func:`hatch_pyc.build.cache.open_cache`).
"""

from __future__ import annotations

import hashlib
import json
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hatch_pyc._shipped import worker
from hatch_pyc.check import bytecode
from hatch_pyc.core.limits import (
    MAX_HELD,
    VERIFY_BYTES_PER_CPU_SECOND,
    VERIFY_CPU_SECONDS,
    VERIFY_DEATHS,
    VERIFY_MEMORY,
    LimitExceeded,
)
from hatch_pyc.core.processes import IN_FLIGHT, OVER_TIME, WorkerProcess

if TYPE_CHECKING:
    from hatch_pyc.build.cache import CompileCache
    from hatch_pyc.core.interpreters import Interpreter

#: What a worker's death means for the pycs it had not answered for.
DIED = "the interpreter comparing it with its source died on it"
#: A worker: whether it runs without column positions, and its number.
_Key = tuple[bool, int]
#: Given a pyc found to be the very bytes the target writes: its path in the artifact, its
#: compile cache key and its bytes.
Keep = Callable[[str, str, bytes], None]


@dataclass(frozen=True)
class _Request:
    key: int
    level: int
    dfile: str
    source: bytes
    pyc: bytes
    path: str
    #: Its compile cache key with column positions (True) and without (False).
    cache_keys: dict[bool, str] = field(default_factory=dict)


class CodeVerifier:
    """Verifies pycs handed to :meth:`submit`; :meth:`finished` and :meth:`close` give back
    ``(key, problem or None)``, in no particular order."""

    def __init__(
        self,
        executable: str,
        jobs: int,
        cache: CompileCache | None = None,
        target: Interpreter | None = None,
        keep: Keep | None = None,
        label: str = "the artifact",
    ) -> None:
        self.executable = executable
        #: The artifact's path, for the one line that refuses it whole.
        self.label = label
        self.jobs = max(1, jobs)
        self.cache = cache if target is not None else None
        self.target = target
        #: What is given the exact pycs: an install keeps them in the cache, a check nothing.
        self.keep = keep
        #: How many pycs the compile cache held, so that no worker compared them.
        self.cached = 0
        self._processes: dict[_Key, WorkerProcess[_Key, _Request]] = {}
        self._replies: queue.SimpleQueue[tuple[_Key, bytes | None]] = queue.SimpleQueue()
        self._done: list[tuple[int, str | None]] = []
        self._deaths = 0

    def submit(self, key: int, level: int, dfile: str, source: bytes, pyc: bytes, path: str) -> None:
        """Compare ``pyc`` (at ``path`` in its archive) with what ``source`` compiles to at
        ``level``, named ``dfile``."""
        cache_keys = self._cache_keys(level, dfile, source, pyc, path)
        if self.cache is not None and any(self.cache.holds(each, pyc) for each in cache_keys.values()):
            self.cached += 1
            self._done.append((key, None))
            return
        while self._busy() and self._take(wait=True):
            pass
        self._send((False, self._idlest()), _Request(key, level, dfile, source, pyc, path, cache_keys))
        self._take(wait=False)

    def _busy(self) -> bool:
        """Whether every worker with column positions has all the requests it should have, or
        the workers hold too much."""
        workers = [self._processes.get((False, number)) for number in range(self.jobs)]
        full = all(process is not None and len(process.in_flight) >= IN_FLIGHT for process in workers)
        return full or sum(process.held for process in self._processes.values()) > MAX_HELD

    def _idlest(self) -> int:
        """The worker with column positions that has the fewest requests in flight (then the
        fewest bytes): one busy with a big module would keep the next waiting while another idles."""

        def load(number: int) -> tuple[int, int]:
            process = self._processes.get((False, number))
            return (len(process.in_flight), process.held) if process is not None else (0, 0)

        return min(range(self.jobs), key=load)

    def _cache_keys(self, level: int, dfile: str, source: bytes, pyc: bytes, path: str) -> dict[bool, str]:
        if self.cache is None or self.target is None:
            return {}
        # The checker parsed this header before handing the pyc in. A hash-based pyc's header
        # is its source's alone, so the pyc is a function of the key; a timestamp one is not.
        header = bytecode.parse_header(pyc)
        if header.source_hash is None:
            return {}
        source_hash = hashlib.sha256(source).hexdigest()
        return {
            columns: self.cache.key(
                source_hash=source_hash,
                interpreter=self.target,
                level=level,
                invalidation_mode=header.mode,
                mtime=0,
                path=path,
                dfile=dfile,
                debug_ranges=columns,
            )
            for columns in (True, False)
        }

    def finished(self) -> list[tuple[int, str | None]]:
        """The verdicts that are in."""
        self._take(wait=False)
        done, self._done = self._done, []
        return done

    def close(self) -> list[tuple[int, str | None]]:
        """Wait for every verdict still out, stop the workers, and return what :meth:`finished` would."""
        try:
            while self._take(wait=True):
                pass
        finally:
            self.kill()
        done, self._done = self._done, []
        return done

    def kill(self) -> None:
        for process in self._processes.values():
            process.kill()
        self._processes.clear()

    def _send(self, where: _Key, request: _Request) -> None:
        process = self._processes.get(where)
        if process is None:
            options = ["-X", "no_debug_ranges"] if where[0] else []
            limits = (VERIFY_CPU_SECONDS, VERIFY_BYTES_PER_CPU_SECOND, VERIFY_MEMORY)
            process = self._processes[where] = WorkerProcess(
                self.executable, ["--verify", *map(str, limits)], self._replies, where, options=options
            )
        header: worker.VerifyRequest = {
            "level": request.level,
            "dfile": request.dfile,
            "source_size": len(request.source),
            "pyc_size": len(request.pyc),
        }
        process.send(request, header, request.source, request.pyc)  # if it died, its reader says so

    def _take(self, wait: bool) -> bool:
        """Handle one reply (waiting for it with ``wait``); False when none is left to wait for."""
        if not any(process.in_flight for process in self._processes.values()):
            return False
        try:
            where, line = self._replies.get(block=wait)
        except queue.Empty:
            return False
        process = self._processes[where]
        if line is None:
            # The worker is gone: each pyc it had not answered for is a problem, and the next
            # request starts another; past its CPU time, the artifact is refused whole.
            del self._processes[where]
            death = process.death()
            process.kill()
            if process.process.returncode in OVER_TIME:
                raise LimitExceeded(
                    f"{self.label}: compiling its sources to compare their pycs took a worker more CPU time than "
                    f"{VERIFY_CPU_SECONDS} seconds and one per {VERIFY_BYTES_PER_CPU_SECOND // 2**20} MiB "
                    "(a limit of hatch-pyc)"
                )
            self._deaths += 1
            if self._deaths > VERIFY_DEATHS:
                raise LimitExceeded(
                    f"{self.label}: the interpreter comparing its pycs with their sources died more than "
                    f"{VERIFY_DEATHS} times ({death}) (a limit of hatch-pyc)"
                )
            for request in process.unanswered():
                self._done.append((request.key, f"{DIED} ({death})"))
            return True
        request = process.answered()
        verdict: worker.Verdict = json.loads(line)
        if verdict.get("without_columns") and not where[0]:
            self._send((True, where[1]), request)
        else:
            if verdict.get("exact") and verdict["problem"] is None and self.keep and request.cache_keys:
                self.keep(request.path, request.cache_keys[not where[0]], request.pyc)
            self._done.append((request.key, verdict["problem"]))
        return True
