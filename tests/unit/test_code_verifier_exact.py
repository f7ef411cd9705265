"""The code verifier compares all that a pyc's code does, as stored, with what its source
compiles to: not code equality, which a pyc of crafted bytecode passes."""

from __future__ import annotations

import dis
import importlib.util
import marshal
import opcode
import py_compile
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
        verifier.submit(key, 0, DFILE, SOURCE, pycs[name])
    verdicts = {names[key]: problem for key, problem in verifier.close()}
    assert verdicts == {name: None if name in ("hatch-pyc", "other tool") else NOT_ITS_CODE for name in names}
