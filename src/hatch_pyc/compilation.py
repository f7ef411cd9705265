"""Compile modules to pycs, in the build process or spread over worker processes.

The bytes of each pyc are a function of the module's source, its path in the wheel, the
target interpreter and the options alone (see :mod:`hatch_pyc.worker`), so whichever
process compiles a module, and in whatever order, the wheel comes out the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from hatch_pyc import worker
from hatch_pyc.discovery import Module
from hatch_pyc.interpreters import Interpreter, Target


@dataclass(frozen=True)
class CompiledModule:
    module: Module
    #: ``(optimize level, path of the pyc inside the wheel and the output directory)``.
    pycs: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class CompileError:
    display: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.display, self.line, self.column) if part is not None)
        return f"{where}: {self.message}"


class CompilationFailed(Exception):
    """Some modules do not compile; ``errors`` has one entry per broken module."""

    def __init__(self, errors: list[CompileError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {error}" for error in errors)
        count = f"{len(errors)} module{'s' if len(errors) != 1 else ''}"
        super().__init__(f"hatch-pyc: {count} failed to compile:\n{lines}")


class WorkerFailed(Exception):
    """A worker process died instead of reporting its results."""


@dataclass(frozen=True)
class Compilation:
    interpreter: Interpreter
    modules: tuple[CompiledModule, ...]


def _partition(jobs: list[dict], sizes: list[int], count: int) -> list[list[dict]]:
    """Split jobs into ``count`` batches of similar total source size, largest first."""
    batches: list[list[dict]] = [[] for _ in range(count)]
    loads = [0] * count
    for size, job in sorted(zip(sizes, jobs, strict=True), key=lambda pair: -pair[0]):
        lightest = loads.index(min(loads))
        batches[lightest].append(job)
        loads[lightest] += size
    return [batch for batch in batches if batch]


def _run_workers(batches: list[list[dict]], out_dir: str, python: str) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-jobs-") as job_dir:
        processes = []
        for number, batch in enumerate(batches):
            job_file = os.path.join(job_dir, f"batch-{number}.json")
            with open(job_file, "w", encoding="utf-8") as f:
                json.dump({"jobs": batch, "out_dir": out_dir}, f)
            # -I: the user's PYTHONPATH, PYTHONSTARTUP or site-packages must not change the bytes.
            command = [python, "-I", "-B", worker.__file__, job_file]
            processes.append((job_file, subprocess.Popen(command, stderr=subprocess.PIPE)))
        # Wait for every worker before reading any result, so none outlives the job files.
        outcomes = [(job_file, process, process.communicate()[1]) for job_file, process in processes]
        reports = []
        for job_file, process, stderr in outcomes:
            if process.returncode != 0:
                message = stderr.decode(errors="replace").strip()
                raise WorkerFailed(f"hatch-pyc: compile worker {python} exited {process.returncode}: {message}")
            with open(job_file + ".result", encoding="utf-8") as f:
                reports.append(json.load(f))
        return reports


def compile_modules(
    modules: Sequence[Module],
    out_dir: str,
    *,
    optimize: Sequence[int],
    invalidation_mode: str,
    mtimes: Sequence[int] | None = None,
    jobs: int = 1,
    target: Target | None = None,
    legacy: Collection[str] = (),
) -> Compilation:
    """Compile ``modules`` into ``out_dir``, each pyc at its path inside the wheel.

    ``mtimes`` gives the source time recorded in timestamp pycs. ``target`` is the
    interpreter to compile for; without one the build's own interpreter compiles, in the
    build process when ``jobs`` is 1. Otherwise up to ``jobs`` worker processes of the target
    share the modules. Modules whose path is in ``legacy`` get a pyc beside their source
    (``pkg/mod.pyc``, at the lowest level of ``optimize``), the others ``__pycache__``
    pycs at every level. Raises :class:`CompilationFailed`
    listing every module that does not compile.
    """
    job_list = [
        {
            "source": module.source,
            "path": module.path,
            "dfile": module.filename or module.path,
            # A legacy pyc is loaded at every -O level: compile it at the lowest one asked
            # for, which keeps the asserts and docstrings the source has.
            "levels": [min(optimize)] if module.path in legacy else list(optimize),
            "mode": invalidation_mode,
            "mtime": mtimes[index] if mtimes else 0,
            "legacy": module.path in legacy,
        }
        for index, module in enumerate(modules)
    ]
    workers = max(1, min(jobs, len(job_list)))
    if target is None and workers == 1:
        reports = [worker.run(job_list, out_dir)]
    else:
        sizes = [os.path.getsize(module.source) for module in modules]
        executable = target.executable if target else sys.executable
        reports = _run_workers(_partition(job_list, sizes, workers), out_dir, executable)

    results = {result["path"]: result for report in reports for result in report["results"]}
    errors = []
    compiled = []
    for module in modules:
        result = results[module.path]
        if result["error"]:
            error = result["error"]
            errors.append(CompileError(module.display, error["line"], error["column"], error["message"]))
        else:
            pycs = tuple((level, path) for level, path in result["pycs"])
            compiled.append(CompiledModule(module=module, pycs=pycs))
    if errors:
        raise CompilationFailed(errors)
    if reports:
        interpreter = Interpreter(**reports[0]["interpreter"])
    else:
        interpreter = target.interpreter if target else Interpreter(**worker.interpreter_info())
    return Compilation(interpreter=interpreter, modules=tuple(compiled))
