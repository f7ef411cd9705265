"""The file names in pycs' code objects, for ``check``: found fast where the pyc's
interpreter is at hand, and within hatch-pyc's limits whatever the pyc holds.

A worker of the pyc's own interpreter loads each pyc with ``marshal.loads`` under memory
and CPU limits it sets on itself (:func:`hatch_pyc._shipped.worker.serve_filenames`), on the other
core while this process reads and hashes the next entries. The bounded pure-Python reader
(:func:`hatch_pyc.check.bytecode.code_filenames`), slower, reads the rest: pycs of
other interpreters, every pyc where the worker cannot limit itself, and what is left once a
worker has died on a crafted pyc.
"""

from __future__ import annotations

import json
import queue
from dataclasses import dataclass

from hatch_pyc._shipped import worker
from hatch_pyc.check import bytecode
from hatch_pyc.core.limits import (
    MARSHAL_BYTES_PER_CPU_SECOND,
    MARSHAL_MEMORY,
    MAX_HELD,
    Budget,
    LimitExceeded,
)
from hatch_pyc.core.processes import OVER_TIME, WorkerProcess

#: Wall-clock seconds a worker may take beyond its CPU limit before it is killed: it only
#: computes, so it never waits that long unless something outside stops it.
_SLACK_SECONDS = 30


@dataclass(frozen=True)
class Filenames:
    """The file names a pyc's code objects carry."""

    #: How many different names.
    count: int
    #: The first of them, sorted: the one name when there is one.
    first: str
    #: The first absolute path among them, which names the build machine's directory.
    absolute: str | None


#: Who wrote a pyc, which decides its code objects' layout: ``("pypy", (3, 11))``.
Writer = tuple[str, tuple[int, int]]


def _walked(data: bytes, writer: Writer, budget: Budget) -> Filenames | str:
    try:
        names = bytecode.code_filenames(data, writer[1], budget, writer[0])
    except bytecode.InvalidBytecode as exc:
        return str(exc)
    return Filenames(len(names), names[0], worker.build_path(names))


#: Bytes the pipe to the worker holds (Linux, up to /proc/sys/fs/pipe-max-size by default): the
#: checking process goes on reading and hashing while the worker is a few pycs behind, instead
#: of waiting for it at every 64 KiB.
_PIPE_SIZE = 1024 * 1024


def _widen(process: WorkerProcess[None, tuple[int, bytes, Writer]]) -> None:
    """Make the pipe to ``process`` hold :data:`_PIPE_SIZE` bytes where the system allows it."""
    try:
        import fcntl

        assert process.process.stdin is not None
        fcntl.fcntl(process.process.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # not Linux, or more than it allows
        pass


class FilenameReader:
    """Reads the file names of pycs handed to :meth:`submit`; :meth:`finished` and
    :meth:`close` give them back as ``(key, result)`` in the order they were handed in.

    ``executable`` (an interpreter whose magic number is ``magic``) runs the worker for
    the pycs of that magic number; with None, every pyc goes to the pure-Python reader.
    """

    def __init__(self, budget: Budget, executable: str | None, magic: bytes, name: str) -> None:
        self._budget = budget
        self._executable = executable
        self._magic = magic
        self._name = name
        #: The worker, with ``(key, data, writer)`` of each pyc it has not answered for; the
        #: bytes it holds are kept under MAX_HELD.
        self._process: WorkerProcess[None, tuple[int, bytes, Writer]] | None = None
        self._replies: queue.SimpleQueue[tuple[None, bytes | None]] = queue.SimpleQueue()
        self._done: list[tuple[int, Filenames | str]] = []
        self._sent = 0

    def submit(self, key: int, magic: bytes, writer: Writer, data: bytes) -> None:
        """Read the marshal ``data`` (a pyc without its header) that ``writer`` wrote."""
        process = self._worker() if magic == self._magic else None
        if process is None:
            self._done.append((key, _walked(data, writer, self._budget)))
            return
        if process.in_flight and process.held + len(data) > MAX_HELD:
            self._collect(wait=True)
        self._sent += len(data)
        request: worker.FilenamesRequest = {"size": len(data)}
        self._collect(wait=not process.send((key, data, writer), request, data, flush=False))

    def start(self) -> None:
        """Start the worker now, before the first pyc is at hand."""
        self._worker()

    def wait(self) -> None:
        """Wait for every result still out: what the checking process holds for them is freed."""
        if self._process is not None and self._executable is not None:
            self._collect(wait=True)

    def finished(self) -> list[tuple[int, Filenames | str]]:
        """The results that are in, in the order of :meth:`submit`."""
        done, self._done = self._done, []
        return done

    def close(self) -> list[tuple[int, Filenames | str]]:
        """Wait for every result still out, stop the worker, and return what :meth:`finished` would."""
        if self._process is not None and self._executable is not None:
            self._process.finish()
            self._collect(wait=True)
        self.kill()
        return self.finished()

    def kill(self) -> None:
        """Stop the worker, whatever state it is in; later pycs go to the pure-Python reader."""
        if self._process is not None:
            self._process.kill()
            self._executable = None

    def _worker(self) -> WorkerProcess[None, tuple[int, bytes, Writer]] | None:
        if self._process is None and self._executable is not None:
            limits = (self._budget.cpu_seconds, MARSHAL_BYTES_PER_CPU_SECOND, MARSHAL_MEMORY)
            self._process = WorkerProcess(self._executable, ["--filenames", *map(str, limits)], self._replies, None)
            _widen(self._process)
        return self._process if self._executable is not None else None

    def _collect(self, wait: bool) -> None:
        """Take the worker's answers: those in already, or with ``wait`` all of them."""
        process = self._process
        if process is None:
            return
        if wait and process.in_flight:
            process.flush()
        seconds = self._budget.cpu_seconds + self._sent / MARSHAL_BYTES_PER_CPU_SECOND + _SLACK_SECONDS
        while process.in_flight:
            if wait:
                try:
                    _, line = self._replies.get(timeout=seconds)
                except queue.Empty:
                    self.kill()
                    raise LimitExceeded(self._over_time()) from None
            else:
                try:
                    _, line = self._replies.get_nowait()
                except queue.Empty:
                    return
            if line is None:
                self._died(process)
                return
            key, _, _ = process.answered()
            reply: worker.FilenamesReply = json.loads(line)
            if "error" in reply:
                self._done.append((key, reply["error"]))
            else:
                self._budget.take_objects(reply["objects"])
                self._done.append((key, Filenames(reply["names"], reply["first"], reply["absolute"])))

    def _died(self, process: WorkerProcess[None, tuple[int, bytes, Writer]]) -> None:
        """The worker ended before answering everything: say why, then read the rest here."""
        status = process.wait()
        left = process.unanswered()
        self.kill()
        if status in OVER_TIME:
            raise LimitExceeded(self._over_time())
        if status != worker.NO_LIMITS and left:
            key, _, _ = left.pop(0)
            self._done.append((key, f"{self._name} died loading it (exit status {status})"))
        self._done.extend((key, _walked(data, writer, self._budget)) for key, data, writer in left)

    def _over_time(self) -> str:
        return (
            f"{self._budget.label}: loading its bytecode took {self._name} more CPU time than "
            f"{self._budget.cpu_seconds} seconds and one per {MARSHAL_BYTES_PER_CPU_SECOND // 2**20} MiB "
            "(a limit of hatch-pyc)"
        )
