"""RECORD: parsed, compared and written in one module."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from hatch_pyc.core.errors import BadArtifact
from hatch_pyc.wheel import records

DIST = "demo-1.0.dist-info"


def _digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()


FILES = {"demo/__init__.py": b"", "demo/core.py": b"x = 1\n", f"{DIST}/METADATA": b"Name: demo\n"}


def _hash_of(name: str, algorithm: str) -> tuple[str, int]:
    data = FILES[name]
    return _digest(data, algorithm).split("=", 1)[1], len(data)


def test_render_then_parse_gives_the_rows_and_lists_itself_last() -> None:
    rows = [records.row(name, data) for name, data in FILES.items()]
    text = records.render(DIST, rows).decode()
    assert text.endswith(f"{DIST}/RECORD,,\n")
    assert records.parse("w", text) == [*rows, (f"{DIST}/RECORD", "", "")]
    assert records.row("demo/core.py", b"x = 1\n") == ("demo/core.py", _digest(b"x = 1\n"), "6")


def test_render_quotes_names_as_csv() -> None:
    text = records.render(DIST, [records.row("a,b.py", b"")]).decode()
    assert text.startswith('"a,b.py",')
    assert records.parse("w", text)[0][0] == "a,b.py"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a.py,sha256=x\n", "w: RECORD line 1 has 2 fields, not 3"),
        ("a.py,sha256=x,1\nb.py,,,\n", "w: RECORD line 2 has 4 fields, not 3"),
        ('"a.py,sha256=x,1\n', "w: RECORD line 1 has 1 fields, not 3"),
        ("a" * 200_000 + ".py,,\n", "w: RECORD is not readable CSV: field larger than field limit"),
    ],
)
def test_unreadable_records_say_which_line(text: str, says: str) -> None:
    with pytest.raises(BadArtifact, match=re.escape(says)):
        records.parse("w", text)


def test_blank_lines_are_skipped() -> None:
    assert records.parse("w", "\n\na.py,,\n\n") == [("a.py", "", "")]


def _rows(**changes: tuple[str, str]) -> list[tuple[str, str, str]]:
    rows = [(name, _digest(data), str(len(data))) for name, data in FILES.items()]
    return [
        (name, *changes.get(name.replace("/", "_").replace(".", "_").replace("-", "_"), (d, s))) for name, d, s in rows
    ]


def test_an_intact_wheel_has_no_problems_with_any_allowed_hash() -> None:
    rows = [(name, _digest(data, "sha384"), str(len(data))) for name, data in FILES.items()]
    rows.append((f"{DIST}/RECORD", "", ""))
    names = [*FILES, f"{DIST}/RECORD", f"{DIST}/RECORD.jws"]
    assert records.problems(rows, names, DIST, _hash_of) == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"demo_core_py": (_digest(b"y = 2\n"), "6")}, "demo/core.py: content does not match its RECORD hash"),
        ({"demo_core_py": (_digest(b"x = 1\n"), "7")}, "demo/core.py: size 6 does not match RECORD's 7"),
        ({"demo_core_py": ("md5=abc", "6")}, "demo/core.py: RECORD gives no usable hash (md5=abc)"),
        ({"demo_core_py": ("", "6")}, "demo/core.py: RECORD gives no usable hash (none)"),
    ],
)
def test_each_mismatch_is_one_line(change: dict, says: str) -> None:
    assert records.problems(_rows(**change), list(FILES), DIST, _hash_of) == [says]


def test_files_only_one_side_lists_are_named() -> None:
    rows = [*_rows(), ("demo/gone.py", _digest(b""), "0"), (f"{DIST}/RECORD.p7s", "", "")]
    problems = records.problems(rows, [*FILES, "demo/extra.py"], DIST, _hash_of)
    assert problems == ["demo/extra.py: in the wheel but not in RECORD", "demo/gone.py: in RECORD but not in the wheel"]


def test_names_in_problems_cannot_draw_on_the_terminal() -> None:
    problems = records.problems([], ["demo/\x1b[2Jx.py"], DIST, _hash_of)
    assert problems == ["demo/\\x1b[2Jx.py: in the wheel but not in RECORD"]


@pytest.mark.parametrize(
    ("name", "unrecorded"),
    [(f"{DIST}/RECORD", True), (f"{DIST}/RECORD.jws", True), (f"{DIST}/RECORD.p7s", True), ("RECORD", False),
     (f"{DIST}/sub/RECORD", False), (f"{DIST}/METADATA", False)],
)  # fmt: skip
def test_what_record_rightly_leaves_out(name: str, unrecorded: bool) -> None:
    assert records.is_unrecorded(DIST, name) is unrecorded
