"""The reader of pycs' file names behind ``check``: the limited ``marshal.loads`` worker and the
pure-Python reader give the same answers, and every way a worker can end is handled.

In-process and fast: real pycs of the standard library and crafted marshal data, read by
real worker processes of the running interpreter.
"""

from __future__ import annotations

import importlib.util
import marshal
import stat
import struct
import sys
import sysconfig
from pathlib import Path

import pytest

from hatch_pyc._shipped import worker
from hatch_pyc.check import filenames
from hatch_pyc.check.filenames import FilenameReader, Filenames
from hatch_pyc.core.limits import Budget, LimitExceeded

MAGIC = importlib.util.MAGIC_NUMBER
WRITER = (sys.implementation.name, sys.version_info[:2])


def _code(source: str, filename: str) -> bytes:
    return marshal.dumps(compile(source, filename, "exec", dont_inherit=True))


def _read_all(reader: FilenameReader, datas: list[bytes]) -> dict[int, Filenames | str]:
    results: dict[int, Filenames | str] = {}
    try:
        for key, data in enumerate(datas):
            reader.submit(key, MAGIC, WRITER, data)
            results.update(reader.finished())
        results.update(reader.close())
    finally:
        reader.kill()
    return results


def _stdlib_pycs(count: int) -> list[bytes]:
    sources = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:count]
    return [_code(path.read_text(encoding="utf-8"), f"<{path.name}>") for path in sources]


def _worker() -> FilenameReader:
    return FilenameReader(Budget("test"), sys.executable, MAGIC, "this python")


def _walker() -> FilenameReader:
    return FilenameReader(Budget("test"), None, MAGIC, "this python")


def test_the_worker_and_the_pure_reader_agree_on_real_and_crafted_pycs(tmp_path: Path) -> None:
    nested = "def f():\n    def g():\n        return lambda: 1\n    return g\nclass C:\n    x = [i for i in ()]\n"
    crafted = [
        _code(nested, "/home/builder/src/demo/core.py"),
        _code(nested, "C:\\build\\demo\\core.py"),
        marshal.dumps(compile(nested, "<a>", "exec").replace(co_consts=(compile("1", "<b>", "eval"),))),
        _code(nested, "<a>") + b"N",
        _code(nested, "<a>")[:-3],
        marshal.dumps(("not", "code")),
        b"garbage",
        # Written without back-references: loading and dumping it gives other bytes, so the
        # worker tells the end of the code by loading it again without its last byte.
        marshal.dumps(compile(nested, "<a>", "exec"), 2),
        marshal.dumps(compile(nested, "<a>", "exec"), 2) + b"N",
    ]
    datas = [*_stdlib_pycs(150), *crafted]
    fast, slow = _read_all(_worker(), datas), _read_all(_walker(), datas)
    assert len(fast) == len(slow) == len(datas)
    for key in range(len(datas)):
        # The messages of the two readers differ; whether the data is valid, and the names, do not.
        assert isinstance(fast[key], str) == isinstance(slow[key], str), (key, fast[key], slow[key])
        if not isinstance(fast[key], str):
            assert fast[key] == slow[key], key
    answers = [fast[len(datas) - len(crafted) + number] for number in range(len(crafted))]
    assert answers[0] == Filenames(1, "/home/builder/src/demo/core.py", "/home/builder/src/demo/core.py")
    assert answers[1] == Filenames(1, "C:\\build\\demo\\core.py", "C:\\build\\demo\\core.py")
    assert answers[2] == Filenames(2, "<a>", None)
    assert answers[3] == "bytes after the code object"
    assert all(isinstance(answer, str) for answer in answers[4:7])
    assert "not a code object" in str(answers[5])
    assert answers[7] == Filenames(1, "<a>", None)
    assert answers[8] == "bytes after the code object"


def test_the_worker_tells_the_codes_end_by_loading_never_by_dumping(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dumping a frozenset dumps each item to sort them (3.11+): frozensets nested 16 deep,
    # 399 bytes of a pyc, take seconds to dump and none to load.
    nested: frozenset[object] = frozenset([0])
    for level in range(8):
        nested = frozenset([nested, (level, nested)])
    code = compile("X = 1", "<a>", "exec")
    data = marshal.dumps(code.replace(co_consts=(*code.co_consts, nested)))
    dumped: list[object] = []
    monkeypatch.setattr(worker.marshal, "dumps", lambda *args: dumped.append(args))
    assert worker.read_filenames(data)["names"] == 1
    assert worker.read_filenames(data + b"N") == {"error": "bytes after the code object"}
    assert dumped == []


@pytest.mark.parametrize(
    "after",
    [b"N", worker._BYTES_16 + bytes(16), b"r\x00\x00\x00\x00", b"\xff"],
    ids=["none", "16 bytes", "a reference", "no object"],
)
def test_any_bytes_after_the_code_are_found_whatever_they_hold(after: bytes) -> None:
    """The pair the worker loads ends with 16 random bytes; bytes after the code are read in
    their place, and are never those but by chance."""
    data = _code("def f():\n    return 1\n", "<a>")
    assert worker.read_filenames(data) == {"names": 1, "first": "<a>", "absolute": None, "objects": 4}
    assert worker.read_filenames(data + after) == {"error": "bytes after the code object"}


def test_bytes_after_code_that_fills_half_the_workers_memory_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded twice at once it fits, three times it does not: the loads that tell its end must
    not hold a third copy, and a load that runs out of memory says nothing about its end."""
    monkeypatch.setattr(filenames, "MARSHAL_MEMORY", 100 * 2**20)
    code = compile("x = 1", "<a>", "exec")
    data = marshal.dumps(code.replace(co_consts=(*code.co_consts, [None] * 4_400_000)))  # 35 MB loaded
    (answer,) = _read_all(_worker(), [data + b"N"]).values()
    assert answer == "bytes after the code object"


def test_only_running_out_of_data_says_nothing_follows_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any other failure of the load without the last byte (a limit reached, say) is no answer."""
    data = _code("x = 1", "<a>") + b"N"
    loads = marshal.loads

    def limited(data: bytes | memoryview) -> object:
        if isinstance(data, memoryview):  # the load without the last byte
            raise RecursionError("maximum recursion depth exceeded")
        return loads(data)

    monkeypatch.setattr(worker.marshal, "loads", limited)
    assert worker.read_filenames(data) == {
        "error": "where its code ends cannot be told: RecursionError: maximum recursion depth exceeded"
    }


def test_a_size_that_lies_costs_the_worker_its_memory_limit_not_the_machines(tmp_path: Path) -> None:
    prefix = _code("x = 1", "<a>")
    prefix = prefix[: prefix.index(b"s", 1)]
    (answer,) = _read_all(_worker(), [prefix + b"(\xff\xff\xff\x7f"]).values()
    assert answer == "loading it takes more memory than hatch-pyc allows: its sizes are not its own"


def test_a_pyc_that_takes_too_much_cpu_is_a_limit(tmp_path: Path) -> None:
    huge_int = b"\xec" + struct.pack("<i", 500_000) + b"\xff\x7f" * 500_000
    rehash = b"{" + (b"r" + struct.pack("<i", 0) + b"N") * 10_000 + b"0"
    reader = FilenameReader(Budget("test", cpu_seconds=1), sys.executable, MAGIC, "this python")
    with pytest.raises(LimitExceeded, match="more CPU time than 1 seconds and one per 32 MiB"):
        _read_all(reader, [b"(" + struct.pack("<i", 2) + huge_int + rehash])


@pytest.mark.parametrize("executable", [sys.executable, None], ids=["worker", "walker"])
def test_both_readers_count_objects_against_the_artifacts_budget(executable: str | None) -> None:
    nones = marshal.dumps(compile("x = 1", "<a>", "exec").replace(co_consts=(None,) * 100_000))
    reader = FilenameReader(Budget("test", max_objects=2_000_000), executable, MAGIC, "this python")
    with pytest.raises(LimitExceeded, match="more than 2000000 objects in its bytecode"):
        _read_all(reader, [nones] * 25)


def _fake_python(tmp_path: Path, script: str) -> str:
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_worker_that_crashes_names_the_pyc_and_the_rest_is_read_here(tmp_path: Path) -> None:
    """A crash (here a shell that reads the first request and kills itself as a segfault
    would) is a problem of the pyc it was loading; the pycs after it still get answers."""
    crash = _fake_python(tmp_path, "read line; kill -SEGV $$")
    datas = _stdlib_pycs(20)
    results = _read_all(FilenameReader(Budget("test"), crash, MAGIC, "this python"), datas)
    assert results[0] == "this python died loading it (exit status -11)"
    assert all(isinstance(results[key], Filenames) for key in range(1, len(datas)))


def test_a_system_where_the_worker_cannot_limit_itself_reads_everything_here(tmp_path: Path) -> None:
    unlimited = _fake_python(tmp_path, "exit 3")
    datas = _stdlib_pycs(20)
    results = _read_all(FilenameReader(Budget("test"), unlimited, MAGIC, "this python"), datas)
    assert all(isinstance(results[key], Filenames) for key in range(len(datas)))


def test_pycs_of_another_interpreter_go_to_the_pure_reader(tmp_path: Path) -> None:
    reader = FilenameReader(Budget("test"), _fake_python(tmp_path, "exit 1"), b"\x00\x00\r\n", "another")
    (answer,) = _read_all(reader, [_code("x = 1", "<a>")]).values()
    assert answer == Filenames(1, "<a>", None)
