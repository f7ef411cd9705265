"""The code verifier compares all that a pyc's code does, as stored, with what its source
compiles to: not code equality, which a pyc of crafted bytecode passes."""

from __future__ import annotations

import dis
import importlib.util
import marshal
import opcode
import os
import py_compile
import subprocess
import sys
import types
from pathlib import Path

import pytest

from hatch_pyc._shipped import worker
from hatch_pyc.check.code_verifier import CodeVerifier

SOURCE = b"""\
import os


def choose(mode):
    if mode == "debug":
        return "debug branch"
    return "normal branch"


class Box:
    def size(self, items):
        return len([item for item in items if item]) + 1


RESULT = choose(os.environ.get("DEMO_MODE", "normal"))
"""
#: The name the verifier compiles the source with; other tools' pycs may name it otherwise.
DFILE = "demo/core.py"
NOT_ITS_CODE = "its code is not what its source compiles to"


def _header(source: bytes) -> bytes:
    return importlib.util.MAGIC_NUMBER + b"\3\0\0\0" + importlib.util.source_hash(source)


def _honest() -> types.CodeType:
    return compile(SOURCE, DFILE, "exec", dont_inherit=True)


def _function(code: types.CodeType, name: str) -> types.CodeType:
    return next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


def _replace_function(code: types.CodeType, name: str, new: types.CodeType) -> types.CodeType:
    consts = tuple(new if isinstance(c, types.CodeType) and c.co_name == name else c for c in code.co_consts)
    return code.replace(co_consts=consts)


def _specialized(data: bytes) -> bytes:
    """``data`` with ``choose``'s ``COMPARE_OP ==`` made the specialized instruction for
    strings, as the bytes of its ``co_code`` (a code object would store it de-specialized)."""
    honest = _function(marshal.loads(data), "choose")
    compare = next(i for i in dis.get_instructions(honest) if i.opname == "COMPARE_OP")
    specialized = dis._all_opmap[opcode._specializations["COMPARE_OP"][-1]]  # type: ignore[attr-defined]
    raw = honest.co_code
    crafted = raw[: compare.offset] + bytes((specialized,)) + raw[compare.offset + 1 :]
    assert data.count(raw) == 1
    return data.replace(raw, crafted)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="specialized instructions: CPython 3.11+")
def test_a_specialized_instruction_is_not_its_base_instruction() -> None:
    data = worker.canonical_dumps(_honest())
    crafted = _specialized(data)
    # What the verifier compared before: code equality takes the crafted code for the honest.
    assert marshal.loads(crafted) == _honest()
    assert worker.code_digest(crafted) != worker.code_digest(data)
    if sys.version_info[:2] == (3, 11):
        # COMPARE_OP_STR_JUMP with a zero jump mask in its cache never jumps: the branch
        # runs whatever the mode.
        namespace: dict[str, object] = {}
        exec(marshal.loads(crafted), namespace)
        assert namespace["choose"]("normal") == "debug branch"  # type: ignore[operator]


def test_co_filename_alone_may_differ() -> None:
    code = _honest()
    elsewhere = compile(SOURCE, "/build/elsewhere/core.py", "exec", dont_inherit=True)
    assert worker.code_digest(marshal.dumps(elsewhere)) == worker.code_digest(worker.canonical_dumps(code))
    other = marshal.dumps(compile(SOURCE.replace(b"+ 1", b"+ 2"), DFILE, "exec", dont_inherit=True))
    assert worker.code_digest(other) != worker.code_digest(worker.canonical_dumps(code))


def test_constants_differ_by_type() -> None:
    digests = {
        worker.code_digest(marshal.dumps(compile(f"x = {value}\n", DFILE, "exec", dont_inherit=True)))
        for value in ("1", "1.0", "True", "-0.0", "0.0", "(1,)", "(1.0,)")
    }
    assert len(digests) == 7


def test_verifier_compares_every_field(tmp_path: Path) -> None:
    honest = _honest()
    header = _header(SOURCE)
    # Another tool's pyc of the same source, under another name: its marshal bytes differ
    # from hatch-pyc's (co_filename, back-references, interning), its code does not.
    source_path = tmp_path / "core.py"
    source_path.write_bytes(SOURCE)
    compiled = py_compile.compile(
        str(source_path),
        cfile=str(tmp_path / "core.pyc"),
        dfile="/home/someone/site-packages/demo/core.py",
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
    other_tool = Path(compiled).read_bytes()
    assert other_tool[16:] != worker.canonical_dumps(honest)
    choose = _function(honest, "choose")
    size = _function(_function(honest, "Box"), "size")
    deeper = _replace_function(_function(honest, "Box"), "size", size.replace(co_stacksize=size.co_stacksize + 1))
    first_line = choose.replace(co_firstlineno=1)
    generator = choose.replace(co_flags=choose.co_flags | 0x20)
    pycs = {
        "hatch-pyc": header + worker.canonical_dumps(honest),
        "other tool": other_tool,
        "stack size": header + marshal.dumps(_replace_function(honest, "Box", deeper)),
        "first line": header + marshal.dumps(_replace_function(honest, "choose", first_line)),
        "flags": header + marshal.dumps(_replace_function(honest, "choose", generator)),
    }
    # Code equality ignores the stack size: the old comparison took this pyc for the honest one.
    assert marshal.loads(pycs["stack size"][16:]) == honest
    if sys.version_info >= (3, 11):
        qualname = choose.replace(co_qualname="elsewhere")
        pycs["qualified name"] = header + marshal.dumps(_replace_function(honest, "choose", qualname))
        assert marshal.loads(pycs["qualified name"][16:]) == honest
        pycs["specialized"] = header + _specialized(worker.canonical_dumps(honest))
    verifier = CodeVerifier(sys.executable, jobs=2)
    names = list(pycs)
    for key, name in enumerate(names):
        verifier.submit(key, 0, DFILE, SOURCE, pycs[name], "m.pyc")
    verdicts = {names[key]: problem for key, problem in verifier.close()}
    assert verdicts == {name: None if name in ("hatch-pyc", "other tool") else NOT_ITS_CODE for name in names}


#: Sets whose items' hashes are the same in every process: their stored order decides the
#: order they iterate in (where hashes collide in the table, 1 and 9 do), and is compared;
#: sets holding strings or bytes iterate in an order of the hash seed, and writers store
#: them in differing orders.
SETS_SOURCE = b"""\
big = 1001
for first in {1, 9}:
    break


def member(x):
    return (
        x in {9, 1, 17},
        x in {1001, 1, 2**40, -3, 2**61 + 8},
        x in {1.0, 9.0, 17.5},
        x in {True, 9, False, 8},
        x in {(1, 2), (9,), 1, (1.0, 9)},
        x in {"e", "b", "a", "d"},
        x in {"a", 1, 9, b"x"},
        x in {(1, "a"), (9, "b"), 17},
        x in {None, 1, 9},
    )
"""


def _swap_int_set(data: bytes) -> bytes:
    """``data`` with the items of its one-and-nine frozenset stored the other way round,
    back-references renumbered: the bytes marshal would write for a set that iterates 9 first."""
    reader = worker._Reader(data, sys.version_info[:2], sys.implementation.name)
    root = reader.read()
    nodes = [root]
    found = []
    seen = set()
    while nodes:
        node = nodes.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.code == ord(">") and [item.parts for item in node.parts[1:]] == [[_int_bytes(1)], [_int_bytes(9)]]:
            found.append(node)
        nodes.extend(part for part in node.parts if isinstance(part, worker._Node))
    (node,) = found
    node.parts[1:] = node.parts[:0:-1]
    writer = worker._Writer(reader.uses)
    writer.write(root)
    return b"".join(writer.out)


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(4, "little", signed=True)


def test_the_order_of_a_set_of_ints_is_compared() -> None:
    honest = compile(SETS_SOURCE, DFILE, "exec", dont_inherit=True)
    data = worker.canonical_dumps(honest)
    crafted = _swap_int_set(data)
    # What the verifier compared before: the same constants, items sorted.
    assert marshal.loads(crafted) == marshal.loads(data)
    # marshal adds the items in their stored order, and 1 and 9 collide: the loop takes 9.
    runs: list[object] = []
    for stream in (data, crafted):
        namespace: dict[str, object] = {}
        exec(marshal.loads(stream), namespace)
        runs.append(namespace["first"])
    assert runs == [1, 9]
    assert worker.code_digest(crafted) != worker.code_digest(data)
    # The stream rewrite keeps the order too (CPython before 3.11, free-threaded builds).
    assert worker.canonicalize(crafted) != worker.canonicalize(data)
    assert worker.code_digest(worker.canonicalize(crafted)) == worker.code_digest(crafted)
    verifier = CodeVerifier(sys.executable, jobs=1)
    header = _header(SETS_SOURCE)
    verifier.submit(0, 0, DFILE, SETS_SOURCE, header + data, "m.pyc")
    verifier.submit(1, 0, DFILE, SETS_SOURCE, header + crafted, "m.pyc")
    assert dict(verifier.close()) == {0: None, 1: NOT_ITS_CODE}


#: Compiled in another process: ``py_compile`` of the source, and ``marshal.dumps`` of its
#: code with frozensets (nested, of ints and of strings) added as constants, which no source
#: compiles to but other writers may store.
OTHER_PROCESS = """\
import marshal, py_compile, sys
source, cfile = sys.argv[1:3]
py_compile.compile(source, cfile=cfile, dfile="/elsewhere/demo/core.py", doraise=True,
                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
code = compile(open(source, "rb").read(), "demo/core.py", "exec", dont_inherit=True)
nested = (
    frozenset([frozenset([9, 1]), frozenset([2, 10]), (1, frozenset([17, 1])), 25]),
    frozenset([frozenset(["b", "a"]), frozenset([9, 1]), "c", 1]),
    (frozenset([9, 1, 17]), frozenset([(9, 1), (1, 9), 17, 1.5])),
)
sys.stdout.buffer.write(marshal.dumps(code.replace(co_consts=code.co_consts + nested)))
"""


def _other_process(source: Path, cfile: Path, seed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(source), str(cfile)], env=env, capture_output=True, check=True
    )
    return result.stdout


def test_honest_pycs_of_sets_from_other_processes_verify(tmp_path: Path) -> None:
    source = tmp_path / "core.py"
    source.write_bytes(SETS_SOURCE)
    header = _header(SETS_SOURCE)
    pycs = {"hatch-pyc": header + worker.canonical_dumps(compile(SETS_SOURCE, DFILE, "exec", dont_inherit=True))}
    nested = set()
    for seed in ("0", "1", "2", "3"):
        dumped = _other_process(source, tmp_path / f"core.{seed}.pyc", seed)
        pycs[f"py_compile, hash seed {seed}"] = (tmp_path / f"core.{seed}.pyc").read_bytes()
        nested.add(worker.code_digest(dumped))
    # Nested frozensets: one digest whatever the hash seed of the process that wrote them.
    assert len(nested) == 1
    verifier = CodeVerifier(sys.executable, jobs=2)
    names = list(pycs)
    for key, name in enumerate(names):
        verifier.submit(key, 0, DFILE, SETS_SOURCE, pycs[name], "m.pyc")
    assert {names[key]: problem for key, problem in verifier.close()} == dict.fromkeys(names)
