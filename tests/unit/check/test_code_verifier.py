"""The code verifier's workers: verdicts for every pyc handed in, in parallel, and a worker's death."""

from __future__ import annotations

import importlib.util
import marshal
import os
import stat
import sys
from pathlib import Path

from hatch_pyc.check.code_verifier import DIED, CodeVerifier


def _pyc(source: bytes, name: str) -> bytes:
    code = compile(source, name, "exec", dont_inherit=True)
    return importlib.util.MAGIC_NUMBER + b"\3\0\0\0" + importlib.util.source_hash(source) + marshal.dumps(code)


def test_every_pyc_gets_its_verdict_from_two_workers() -> None:
    verifier = CodeVerifier(sys.executable, jobs=2)
    expected = {}
    for number in range(60):
        source = f"def f{number}():\n    return {number}\n".encode()
        pyc = _pyc(source, f"<m{number}.py>")
        if number % 7 == 3:  # the code of another source, with this source's hash
            pyc = pyc[:16] + marshal.dumps(compile(b"x = 1\n", f"<m{number}.py>", "exec"))
        expected[number] = number % 7 == 3
        verifier.submit(number, 0, f"<m{number}.py>", source, pyc)
    verdicts = dict(verifier.finished())
    verdicts.update(verifier.close())
    assert {number: problem is not None for number, problem in verdicts.items()} == expected
    assert verdicts[3] == "its code is not what its source compiles to"


def test_a_worker_that_dies_makes_each_pyc_it_held_a_problem(tmp_path: Path) -> None:
    dies = tmp_path / "python"
    dies.write_text("#!/bin/sh\nkill -9 $$\n")
    dies.chmod(dies.stat().st_mode | stat.S_IEXEC)
    verifier = CodeVerifier(os.fspath(dies), jobs=2)
    for number in range(4):
        verifier.submit(number, 0, "<m.py>", b"x = 1\n", _pyc(b"x = 1\n", "<m.py>"))
    verdicts = sorted(verifier.close())
    assert [number for number, _ in verdicts] == [0, 1, 2, 3]
    assert all(problem == f"{DIED} (exit status -9)" for _, problem in verdicts), verdicts
