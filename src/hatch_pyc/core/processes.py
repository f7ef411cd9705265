"""Worker processes: :mod:`hatch_pyc._shipped.worker` run by a target interpreter. The one place that starts them.

They speak the protocol stated in :mod:`hatch_pyc._shipped.worker`: a request is a JSON line and its
payloads, a reply one JSON line, in order. Always ``-I -B``: nothing from the environment
variables or the user's site-packages reaches a worker (``PYTHONNODEBUGRANGES``,
``PYTHONOPTIMIZE``, ``PYTHONPATH``); the target's own site-packages and its ``.pth`` files do,
as at any start of it (the probe reports the ``sys.path`` they make). The worker runs from
its module's own pyc where the installation holds one for the target (a script is compiled
at every start: 14 ms for ``worker.py``), loaded by its path, not from ``sys.path``, where
the target's site-packages could answer the name.
A reader thread passes each reply line to a queue (one worker's own, or one that several
share, each line tagged with its worker), then None when the worker stops writing. stderr
goes to a temporary file, never a pipe nobody reads: its last line says why a worker died.

A worker answers its requests in order, so each :class:`WorkerProcess` keeps what it was
sent and has not answered, oldest first, with the bytes that holds: the client that
compiles, the one that verifies code and the one that reads file names all pipeline their
requests through it, and what a dead worker leaves unanswered is known in one place.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Generic, TypeVar

from hatch_pyc._shipped import worker

Tag = TypeVar("Tag")
Item = TypeVar("Item")
#: Requests a client hands a worker before it takes a reply: the worker never waits for the
#: next, and no request waits behind a worker busy with a big one while another idles.
IN_FLIGHT = 2
#: How a worker ends when it goes past its CPU limit: the soft limit's signal, or the hard one's.
OVER_TIME = {-number for number in (getattr(signal, "SIGXCPU", 0), getattr(signal, "SIGKILL", 0)) if number}
#: The bytes a worker's input pipe holds (Linux; 64 KiB by default): the request a worker
#: reads next is written whole while it works on the one before, unless it is bigger.
_PIPE_SIZE = 1024 * 1024

if TYPE_CHECKING:
    #: The request lines of the protocol, one per serving mode (types of the stub only).
    Request = worker.CompileRequest | worker.VerifyRequest | worker.FilenamesRequest


class WorkerProcess(Generic[Tag, Item]):
    """One worker: ``executable`` with ``options`` (``-X no_debug_ranges``) runs ``worker.py``
    with ``mode`` (``--verify``). Its replies go to ``replies`` as ``(tag, line)``; the client's
    ``Item`` for each request it has not answered yet waits in :attr:`in_flight`."""

    def __init__(
        self,
        executable: str,
        mode: Sequence[str],
        replies: queue.SimpleQueue[tuple[Tag, bytes | None]],
        tag: Tag,
        *,
        options: Sequence[str] = (),
    ) -> None:
        self.executable = executable
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in kill()
        self.process = subprocess.Popen(
            _command(executable, options, mode),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            bufsize=64 * 1024,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if sys.platform == "linux":
            import fcntl

            with contextlib.suppress(OSError):  # more than /proc/sys/fs/pipe-max-size, say
                fcntl.fcntl(self.process.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        threading.Thread(target=_forward, args=(tag, self.process.stdout, replies), daemon=True).start()
        #: ``(item, bytes it holds)`` of each request sent and not answered, oldest first.
        self.in_flight: deque[tuple[Item, int]] = deque()
        #: The bytes of the requests in flight.
        self.held = 0

    def send(self, item: Item, header: Request, *payloads: bytes, flush: bool = True) -> bool:
        """Write one request, for the client's ``item``; False if the worker is gone (its reader
        then says so, and ``item`` is among those :meth:`unanswered` gives back)."""
        size = sum(map(len, payloads))
        self.in_flight.append((item, size))
        self.held += size
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(header).encode() + b"\n")
            for payload in payloads:
                self.process.stdin.write(payload)
            if flush:
                self.process.stdin.flush()
        except (OSError, ValueError):  # a closed pipe, or closed by us
            return False
        return True

    def answered(self) -> Item:
        """The item of the oldest request, which the reply just taken answers."""
        item, size = self.in_flight.popleft()
        self.held -= size
        return item

    def unanswered(self) -> list[Item]:
        """The items of every request not answered, oldest first, which the client takes back."""
        items = [item for item, _ in self.in_flight]
        self.in_flight.clear()
        self.held = 0
        return items

    def flush(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.flush()

    def finish(self) -> None:
        """Close the worker's input: it answers what it has, then ends."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def death(self) -> str:
        """Why the worker ended: its exit status, and the last line it wrote to stderr."""
        try:
            status = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # its output closed, yet it runs: stop it
            self.process.kill()
            status = self.process.wait()
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            lines = self._stderr.read().decode(errors="replace").strip().splitlines()
            if lines:
                return f"exit status {status}: {lines[-1]}"
        return f"exit status {status}"

    def kill(self) -> None:
        """Stop the worker, whatever state it is in."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(OSError), self.process:
            # Popen's exit closes the pipes and waits for the process.
            pass
        self._stderr.close()


def run_once(executable: str, mode: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``worker.py`` with ``mode`` (``--info``) to its end: its exit status, stdout and
    stderr as text (bytes that are not UTF-8 replaced: whatever ``executable`` is, it says
    what it says). Raises what :func:`subprocess.run` raises for an executable that cannot
    be run (OSError) or takes longer than ``timeout`` seconds."""
    return subprocess.run(
        _command(executable, (), mode), capture_output=True, encoding="utf-8", errors="replace", timeout=timeout
    )


#: Loads ``worker.py`` (its path is the first argument) as a module, which takes its pyc from
#: ``__pycache__`` when that is current, and runs its ``main`` with the arguments after it.
_BOOT = (
    "import sys, importlib.util as u; s = u.spec_from_file_location('worker', sys.argv[1]); "
    "m = u.module_from_spec(s); s.loader.exec_module(m); sys.exit(m.main(sys.argv[1:]))"
)


def _command(executable: str, options: Sequence[str], mode: Sequence[str]) -> list[str]:
    return [executable, *options, "-I", "-B", "-c", _BOOT, worker.__file__, *mode]


def _forward(tag: Tag, lines: IO[bytes], into: queue.SimpleQueue[tuple[Tag, bytes | None]]) -> None:
    """Pass each line the worker writes to ``into``, then None when it stops writing."""
    with contextlib.suppress(OSError, ValueError):
        for line in lines:
            into.put((tag, line))
    into.put((tag, None))
