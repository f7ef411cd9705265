"""Compile modules to pycs: from the cache, or in worker processes of the target (never in
the build process, whose flags and environment would change what it compiles).

The bytes of each pyc are a function of the module's source, its path in the wheel, the
target interpreter and the options alone (see :mod:`hatch_pyc._shipped.worker`), so whichever
process compiles a module, in whatever order, and whether it comes from the cache, the
wheel comes out the same.
"""

from __future__ import annotations

import collections
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hatch_pyc._shipped import worker
from hatch_pyc.build.cache import CompileCache
from hatch_pyc.build.placement import Request
from hatch_pyc.core import interpreters
from hatch_pyc.core.discovery import Module, read_source
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.interpreters import Interpreter, Target
from hatch_pyc.core.processes import IN_FLIGHT, WorkerProcess


@dataclass(frozen=True)
class CompiledModule:
    module: Module
    #: ``(optimize level, path of the pyc in the wheel, file holding it)``: the file is in the
    #: output directory, or the compile cache's entry.
    pycs: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class CompileError:
    display: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.display, self.line, self.column) if part is not None)
        return f"{where}: {self.message}"


class CompilationFailed(HatchPycError):
    """Some modules do not compile; ``errors`` has one entry per broken module."""

    def __init__(self, errors: list[CompileError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {error}" for error in errors)
        count = f"{len(errors)} module{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{count} failed to compile:\n{lines}")


class WorkerFailed(HatchPycError):
    """A worker process died instead of reporting its results."""


@dataclass(frozen=True)
class Compilation:
    interpreter: Interpreter
    modules: tuple[CompiledModule, ...]
    #: How many of the modules came from the compile cache.
    from_cache: int = 0


@dataclass(frozen=True)
class Progress:
    """How far a compilation is: modules done (``cached`` of them from the cache) of ``total``."""

    done: int
    cached: int
    total: int
    seconds: float


class ProgressReporter:
    """Calls ``report`` with a progress line once compiling has taken ``delay`` seconds, then
    at most every ``interval`` seconds: long builds say what they do, short ones stay quiet."""

    def __init__(self, report: Callable[[str], None], delay: float = 2.0, interval: float = 10.0) -> None:
        self.report = report
        self.delay = delay
        self.interval = interval
        self._next = delay

    def __call__(self, progress: Progress) -> None:
        if progress.seconds >= self._next and progress.done < progress.total:
            self._next = progress.seconds + self.interval
            self.report(
                f"hatch-pyc: {progress.done} of {progress.total} modules compiled "
                f"({progress.cached} from the cache) in {progress.seconds:.0f} s"
            )


#: A job for the worker (see :func:`hatch_pyc._shipped.worker.compile_job`) and the source it compiles.
Job = tuple["worker.CompileJob", bytes]


def _drive(python: list[str], out_dir: str, take: Callable[[], Job], results: queue.SimpleQueue[Any]) -> None:
    """Feed one worker process (``python`` and its options) the jobs ``take`` gives until it
    raises IndexError (none left); put each result (or the exception that ended the worker)
    in ``results``."""
    replies: queue.SimpleQueue[tuple[None, bytes | None]] = queue.SimpleQueue()
    #: The worker, with the name of each module it was given and has not answered for, oldest
    #: (the one it compiles) first.
    process: WorkerProcess[None, str] = WorkerProcess(
        python[0], ["--serve", out_dir], replies, None, options=python[1:]
    )
    try:
        while True:
            while len(process.in_flight) < IN_FLIGHT:
                try:
                    job, source = take()
                except IndexError:
                    break
                request: worker.CompileRequest = {**job, "size": len(source)}
                process.send(job["display"], request, source)
            if not process.in_flight:
                break
            _, line = replies.get()
            if line is None:
                compiling = process.unanswered()[0]
                raise WorkerFailed(
                    f"{compiling}: the compile worker ({python[0]}) died compiling it, {process.death()}"
                )
            results.put(json.loads(line))
            process.answered()
        process.finish()
        process.wait()
    except BaseException as exc:
        results.put(exc)
    finally:
        process.kill()


def _compile(job_list: list[Job], out_dir: str, target: Target, jobs: int) -> Iterator[worker.CompileResult]:
    """Compile every job, yielding results as they come, in up to ``jobs`` processes of
    ``target`` at a time.

    Never in the build process: its flags and environment (``-X no_debug_ranges``,
    ``PYTHONINTMAXSTRDIGITS``) would change what it compiles. Modules without column
    positions are compiled by workers started with ``-X no_debug_ranges``, the others by
    workers started without: the option is the only way to get CPython's own code without
    them (it also merges nested code objects only the columns told apart), and it costs
    less CPU than compiling them.
    """
    stripped: list[Job] = []
    plain: list[Job] = []
    for job in job_list:
        (plain if job[0]["debug_ranges"] or not target.interpreter.has_columns else stripped).append(job)
    groups = (([target.executable, "-X", "no_debug_ranges"], stripped), ([target.executable], plain))
    for python, group in groups:
        if group:
            yield from _pool(group, out_dir, python, min(jobs, len(group)))


def _pool(job_list: list[Job], out_dir: str, python: list[str], workers: int) -> Iterator[worker.CompileResult]:
    """Compile every job in ``workers`` processes of ``python``, each taking the next job
    when free; yield the results as they come."""
    # Biggest first. One worker takes from that end, the others from the small end: a worker
    # process keeps the memory of the biggest module it compiled, so one worker holds that
    # much instead of each. Both ends meet in modules of middling size, so no worker idles
    # long while another finishes.
    jobs = collections.deque(sorted(job_list, key=lambda job: -len(job[1])))
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threads = [
        threading.Thread(
            target=_drive, args=(python, out_dir, jobs.pop if number else jobs.popleft, results), daemon=True
        )
        for number in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in job_list:
            result = results.get()
            if isinstance(result, BaseException):
                raise result
            yield result
    finally:
        # A failure (or Ctrl-C) here: leave no job for the other workers, and wait for them.
        jobs.clear()
        for thread in threads:
            thread.join()


def compile_modules(
    requests: Sequence[Request],
    out_dir: str,
    *,
    invalidation_mode: str,
    mtimes: Sequence[int] | None = None,
    jobs: int = 1,
    target: Target | None = None,
    cache: CompileCache | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Compilation:
    """Compile what ``requests`` ask (each module's pycs, as :mod:`hatch_pyc.build.placement` placed
    them) into ``out_dir``, each pyc at its path inside the wheel.

    ``mtimes`` gives the source time recorded in timestamp pycs. ``target`` is the
    interpreter to compile for (default: the one running the build); up to ``jobs`` worker
    processes of it share the modules. Pycs found in ``cache`` are not compiled again but
    taken from there; the others are stored there. ``progress`` is called after each module.
    Raises :class:`CompilationFailed` listing every module that does not compile, and
    :class:`WorkerFailed` naming the module a worker died on.
    """
    started = time.monotonic()
    found = target or interpreters.running()
    interpreter = found.interpreter
    results: dict[int, worker.CompileResult] = {}
    pending: list[Job] = []
    for index, request in enumerate(requests):
        module = request.module
        pycs: list[list[Any]] = [[level, path, None] for level, path in request.pycs]
        job: worker.CompileJob = {
            "id": index,
            "display": module.display,
            "dfile": request.dfile,
            "pycs": pycs,
            "mode": invalidation_mode,
            "debug_ranges": request.debug_ranges,
            "mtime": mtimes[index] if mtimes else 0,
            "cache_dir": cache.directory if cache is not None else None,
        }
        # Read once: the bytes hashed for the cache key are the bytes compiled.
        source = module.data if module.data is not None else read_source(module.source, module.display)
        if cache is not None:
            source_hash = hashlib.sha256(source).hexdigest()
            keys = [
                cache.key(
                    source_hash=source_hash,
                    interpreter=interpreter,
                    level=level,
                    invalidation_mode=invalidation_mode,
                    mtime=job["mtime"],
                    path=relpath,
                    dfile=job["dfile"],
                    debug_ranges=job["debug_ranges"],
                )
                for level, relpath in request.pycs
            ]
            entries = [cache.load(key, len(source)) for key in keys]
            if None not in entries:
                files = [entry for entry in entries if entry is not None]
                results[index] = {"id": index, "files": files, "error": None, "cache_error": None}
                continue
            for pyc, key in zip(pycs, keys, strict=True):
                pyc[2] = key
        pending.append((job, source))

    cached_count = len(results)
    for result in _compile(pending, out_dir, found, max(1, jobs)):
        results[result["id"]] = result
        if cache is not None and result["cache_error"] and cache.write_error is None:
            cache.write_error = result["cache_error"]
        if progress is not None:
            progress(Progress(len(results), cached_count, len(requests), time.monotonic() - started))

    errors = []
    compiled = []
    for index, request in enumerate(requests):
        module = request.module
        result = results[index]
        if result["error"]:
            error = result["error"]
            errors.append(CompileError(module.display, error["line"], error["column"], error["message"]))
        else:
            placed = zip(request.pycs, result["files"], strict=True)
            compiled.append(CompiledModule(module, tuple((level, path, file) for (level, path), file in placed)))
    if errors:
        raise CompilationFailed(errors)
    return Compilation(interpreter=interpreter, modules=tuple(compiled), from_cache=cached_count)
