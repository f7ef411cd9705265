"""The code verifier's workers: verdicts for every pyc handed in, in parallel, and a worker's death."""

from __future__ import annotations

import importlib.util
import marshal
import os
import stat
import sys
from pathlib import Path

import pytest

from hatch_pyc._shipped import worker
from hatch_pyc.build.cache import CompileCache, open_cache
from hatch_pyc.check import code_verifier
from hatch_pyc.check.code_verifier import DIED, CodeVerifier, Keep
from hatch_pyc.core import interpreters
from hatch_pyc.core.limits import VERIFY_DEATHS, LimitExceeded
from hatch_pyc.core.processes import IN_FLIGHT


def _pyc(source: bytes, name: str) -> bytes:
    code = compile(source, name, "exec", dont_inherit=True)
    return importlib.util.MAGIC_NUMBER + b"\3\0\0\0" + importlib.util.source_hash(source) + marshal.dumps(code)


def _under_its_hash(source: bytes) -> bytes:
    """A pyc of other code with ``source``'s hash in its header: a worker compiles ``source``."""
    return worker.pyc_header(source, "checked-hash", 0) + marshal.dumps(compile("", "<m.py>", "exec"))


def _problem(source: bytes) -> str:
    """The problem one worker finds with :func:`_under_its_hash` of ``source``."""
    verifier = CodeVerifier(sys.executable, jobs=1)
    verifier.submit(0, 0, "<m.py>", source, _under_its_hash(source), "m")
    ((_, problem),) = verifier.close()
    assert problem is not None
    return problem


def test_every_pyc_gets_its_verdict_from_two_workers() -> None:
    verifier = CodeVerifier(sys.executable, jobs=2)
    expected = {}
    for number in range(60):
        source = f"def f{number}():\n    return {number}\n".encode()
        pyc = _pyc(source, f"<m{number}.py>")
        if number % 7 == 3:  # the code of another source, with this source's hash
            pyc = pyc[:16] + marshal.dumps(compile(b"x = 1\n", f"<m{number}.py>", "exec"))
        expected[number] = number % 7 == 3
        verifier.submit(number, 0, f"<m{number}.py>", source, pyc, f"m{number}.pyc")
    verdicts = dict(verifier.finished())
    verdicts.update(verifier.close())
    assert {number: problem is not None for number, problem in verdicts.items()} == expected
    assert verdicts[3] == "its code is not what its source compiles to"


def test_a_worker_that_dies_makes_each_pyc_it_held_a_problem(tmp_path: Path) -> None:
    dies = tmp_path / "python"
    dies.write_text("#!/bin/sh\nkill -SEGV $$\n")
    dies.chmod(dies.stat().st_mode | stat.S_IEXEC)
    verifier = CodeVerifier(os.fspath(dies), jobs=2)
    for number in range(2):  # one for each worker, which dies with it
        verifier.submit(number, 0, "<m.py>", b"x = 1\n", _pyc(b"x = 1\n", "<m.py>"), "m.pyc")
    verdicts = sorted(verifier.close())
    assert [number for number, _ in verdicts] == [0, 1]
    assert all(problem == f"{DIED} (exit status -11)" for _, problem in verdicts), verdicts


def test_workers_that_die_again_and_again_refuse_the_artifact(tmp_path: Path) -> None:
    # Round 16: a crash costs the pycs the worker held and starts another, with its CPU time
    # afresh; a wheel of a thousand pycs that each crash one kept install busy 47 s.
    dies = tmp_path / "python"
    dies.write_text("#!/bin/sh\nkill -SEGV $$\n")
    dies.chmod(dies.stat().st_mode | stat.S_IEXEC)
    verifier = CodeVerifier(os.fspath(dies), jobs=1, label="evil.whl")

    def verify_all() -> None:
        for number in range(100):
            verifier.submit(number, 0, "<m.py>", b"x = 1\n", _pyc(b"x = 1\n", "<m.py>"), "m.pyc")
        verifier.close()

    says = f"evil.whl: the interpreter comparing .* died more than {VERIFY_DEATHS} times"
    with pytest.raises(LimitExceeded, match=says):
        verify_all()
    verifier.kill()


def test_a_source_whose_code_cannot_be_written_as_a_pyc_is_a_problem() -> None:
    # Round 16: the canonical marshal writer recursed past the limit on 400 nested lambdas,
    # and the worker died on it.
    source = ("x = " + "lambda: " * 400 + "1\n").encode()
    assert _problem(source).startswith("its source's code cannot be written as a pyc: RecursionError")


def test_no_worker_is_handed_more_than_it_can_start_on(tmp_path: Path) -> None:
    # Workers that take a while over each request, as one does over a big module.
    slow = tmp_path / "python"
    slow.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        "while line := sys.stdin.buffer.readline():\n"
        "    job = json.loads(line)\n"
        "    sys.stdin.buffer.read(job['source_size'] + job['pyc_size'])\n"
        "    time.sleep(0.5)\n"
        "    print(json.dumps({'problem': None}), flush=True)\n"
    )
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    verifier = CodeVerifier(os.fspath(slow), jobs=2)
    pyc = _pyc(b"x = 1\n", "<m.py>")
    try:
        for number in range(2 * IN_FLIGHT):
            verifier.submit(number, 0, "<m.py>", b"x = 1\n", pyc, "m.pyc")
        assert [len(process.in_flight) for process in verifier._processes.values()] == [IN_FLIGHT, IN_FLIGHT]
        assert verifier.finished() == []
        # One more waits for an answer, where it used to queue behind a busy worker's.
        verifier.submit(99, 0, "<m.py>", b"x = 1\n", pyc, "m.pyc")
        assert verifier.finished() != []
        assert max(len(process.in_flight) for process in verifier._processes.values()) <= IN_FLIGHT
    finally:
        verifier.kill()


def _store(cache: CompileCache) -> Keep:
    return lambda path, key, pyc: cache.store(key, pyc)


def _exact(source: bytes, name: str) -> bytes:
    """The pyc hatch-pyc writes: checked-hash, canonical marshal data."""
    code = compile(source, name, "exec", dont_inherit=True)
    return worker.pyc_header(source, "checked-hash", 0) + worker.canonical_dumps(code)


def test_the_compile_cache_serves_only_the_exact_pycs_a_worker_compared(tmp_path: Path) -> None:
    cache = open_cache(os.fspath(tmp_path / "cache"), pytest.fail)
    assert cache is not None
    target = interpreters.running().interpreter
    source = b'"""A docstring level 2 leaves out."""\n'
    exact = _exact(source, "<m.py>")
    other = exact[:16] + marshal.dumps(compile(b"x = 1\n", "<m.py>", "exec"))  # another code, this source's hash
    timestamp = worker.pyc_header(source, "timestamp", 0) + exact[16:]
    first = CodeVerifier(sys.executable, 1, cache, target, keep=_store(cache))
    for number, pyc in enumerate((exact, other, timestamp)):
        first.submit(number, 0, "<m.py>", source, pyc, "m.pyc")
    assert dict(first.close()) == {0: None, 1: "its code is not what its source compiles to", 2: None}
    assert first.cached == 0

    again = CodeVerifier(sys.executable, 1, cache, target, keep=_store(cache))
    again.submit(0, 0, "<m.py>", source, exact, "m.pyc")
    assert again.finished() == [(0, None)]
    assert again.cached == 1
    # Another level, file name or path is another key: compared by a worker again.
    again.submit(1, 2, "<m.py>", source, exact, "m.pyc")
    again.submit(2, 0, "<n.py>", source, exact, "m.pyc")  # the same code but for co_filename
    again.submit(3, 0, "<m.py>", source, exact, "n.pyc")
    # The tampered and the timestamp pyc were never stored: compared again, and refused again.
    again.submit(4, 0, "<m.py>", source, other, "m.pyc")
    again.submit(5, 0, "<m.py>", source, timestamp, "m.pyc")
    verdicts = dict(again.close())
    assert again.cached == 1
    assert verdicts == {1: "its code is not what its source compiles to", 2: None, 3: None, 4: verdicts[4], 5: None}
    assert verdicts[4] is not None

    # Only what a worker found byte for byte what it writes was stored: the pyc at its new path.
    last = CodeVerifier(sys.executable, 1, cache, target, keep=_store(cache))
    last.submit(0, 0, "<n.py>", source, exact, "m.pyc")
    last.submit(1, 0, "<m.py>", source, exact, "n.pyc")
    assert dict(last.close()) == {0: None, 1: None}
    assert last.cached == 1


def test_a_source_that_takes_too_much_memory_to_compile_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    # Short statements take hundreds of bytes each to compile: 4 MiB of them, gigabytes.
    monkeypatch.setattr(code_verifier, "VERIFY_MEMORY", 64 * 1024 * 1024)
    assert _problem(b"a\n" * 200_000) == "its source takes more memory to compile than hatch-pyc allows"


def test_a_source_that_takes_too_long_to_compile_refuses_the_artifact(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ints that all hash alike: folding their set display into a constant takes quadratic time.
    monkeypatch.setattr(code_verifier, "VERIFY_CPU_SECONDS", 0)
    items = ", ".join(str(k * (2**61 - 1)) for k in range(20_000))
    source = f"x = {{{items}}}\n".encode()
    verifier = CodeVerifier(sys.executable, jobs=1, label="evil.whl")
    verifier.submit(0, 0, "<m.py>", source, _under_its_hash(source), "m")
    with pytest.raises(LimitExceeded, match=r"evil.whl: compiling its sources .* took a worker more CPU time than 0 "):
        verifier.close()


def test_a_problem_quotes_at_most_a_few_hundred_characters_of_what_it_read() -> None:
    # Round 17: a 32 MiB coding name came back whole in "unknown encoding: ...", for each of
    # 62 modules: 2 GB of problems kept and printed, from a 2 MB wheel.
    problem = _problem(b"# coding: " + b"a" * 100_000 + b"\n")
    assert problem.startswith("its source does not compile: SyntaxError: unknown encoding")
    assert problem.endswith(" characters)")
    assert len(problem) < 300
