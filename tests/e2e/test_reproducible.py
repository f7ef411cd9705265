"""The same project gives the same wheel: across processes, hash seeds, jobs and compile order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import wheels
from helpers import REPO, MakeVenv, hatchling_build, only_wheel, python_or_skip, run, set_hook_options

from hatch_pyc._shipped import worker
from hatch_pyc.build.compilation import compile_modules
from hatch_pyc.build.placement import place
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.interpreters import running
from hatch_pyc.core.layouts import ALONGSIDE

# Compiling a file that names "foo" before one with {"foo", ...} constants changes the marshal
# output on CPython 3.12 and 3.13 (cpython gh-129724), interning "," first does on 3.8 to 3.12,
# and sets follow the hash seed before 3.11.
HISTORY_PROBE = """
import json, marshal, sys
sys.path.insert(0, sys.argv[1])
import worker
source = (
    'a = {"foo", "b c", 2, (1, "x")}\\nx = ","\\n'
    'def f():\\n    return {"foo", "b c", 2}, "a b", (None,)\\ny = (None,)\\n'
    'z = (1.5, 1.5, -0.0, 0.0, 1, 1.0, True, b"ab", b"ab", "q r", "q r", "\\\\u20ac", "", "\\\\xe9", 2**70)\\n'
)
for earlier in sys.argv[2:]:
    exec(compile(earlier, "earlier.py", "exec"), {})
code = compile(source, "pkg/mod.py", "exec", dont_inherit=True)
canonical = worker.canonical_dumps(code)
assert marshal.loads(canonical) == code
assert worker.canonical_dumps(marshal.loads(canonical)) == canonical  # a fixed point
# The stream rewrite, which free-threaded builds use on 3.13 and newer, is history-free too.
rewritten = worker.canonicalize(marshal.dumps(code))
assert marshal.loads(rewritten) == code
assert worker.canonicalize(rewritten) == rewritten
print(canonical.hex(), rewritten.hex())
"""


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"])
def test_canonical_bytecode_does_not_depend_on_process_history_or_hash_seed(version: str, tmp_path: Path) -> None:
    python = python_or_skip(version)
    worker_dir = str(Path(worker.__file__).parent)
    outputs = set()
    for seed, earlier in (
        ("0", []),
        ("1", ["import json as foo"]),
        ("2", ["import sys; sys.intern('b c'); foo=1"]),
        ("3", ["import sys; [sys.intern(s) for s in (',', 'q r', '\\u20ac', '\\xe9', '', 'pkg/mod.py')]"]),
        ("4", ["x = ('q r', 'b c', 1.5, 2**70, b'ab', '\\u20ac')"]),
    ):
        result = run([python, "-c", HISTORY_PROBE, worker_dir, *earlier], env={"PYTHONHASHSEED": seed})
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_compile_order_in_one_process_does_not_change_bytes(demo: Path, tmp_path: Path) -> None:
    sources = sorted((demo / "src").rglob("*.py"))
    modules = [Module(str(p), str(p.relative_to(demo / "src")), str(p)) for p in sources]
    shuffled = modules[:]
    random.Random(4).shuffle(shuffled)
    results = []
    for name, order in (("sorted", modules), ("shuffled", shuffled), ("reversed", modules[::-1])):
        out = tmp_path / name
        requests = place(ALONGSIDE, order, []).requests(order, [0, 1], running().interpreter.cache_tag)
        compilation = compile_modules(requests, str(out), invalidation_mode="checked-hash")
        results.append({p: Path(f).read_bytes() for m in compilation.modules for _, p, f in m.pycs})
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13"])
def test_wheel_is_byte_identical_across_builds_seeds_and_jobs(
    version: str, demo: Path, tmp_path: Path, make_venv: MakeVenv
) -> None:
    """Build under CPython ``version`` (hatchling needs 3.10+): in-process and in workers."""
    python = python_or_skip(version)
    venv = make_venv(python)
    venv.uv_install("hatchling", "-e", REPO)
    built = []
    for number, (seed, jobs) in enumerate((("1", 1), ("2", 1), ("3", 2), ("4", 3))):
        # No cache: each build compiles everything itself.
        set_hook_options(demo, f"jobs = {jobs}\noptimize = [0, 2]\ncache = false")
        out = tmp_path / f"out-{number}"
        hatchling_build(demo, out, env={"PYTHONHASHSEED": seed}, python=venv.python)
        built.append(only_wheel(out).read_bytes())
    assert all(wheel == built[0] for wheel in built)
    # The wheel's metadata names the interpreter that built it.
    meta = wheels.bytecode_metadata(only_wheel(tmp_path / "out-0"))
    assert meta["interpreters"][0]["python_tag"] == "cp" + version.replace(".", "")
