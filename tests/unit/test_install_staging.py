"""The staged writer of ``install``: pypa/installer writing below a staging directory, in a thread
or in a process of its own (wheels of many entries), the same files and RECORD either way."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from hatch_pyc import install
from hatch_pyc.install import _Staged, _WriterFailed

DIST = "demo_pkg-1.0.dist-info"


def _wheel(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """demo_pkg 1.0 holding ``files``, its RECORD listing them."""
    entries = {**files, f"{DIST}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    entries[f"{DIST}/METADATA"] = b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n"
    rows = []
    for name, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{name},sha256={digest},{len(data)}")
    entries[f"{DIST}/RECORD"] = ("\n".join([*rows, f"{DIST}/RECORD,,"]) + "\n").encode()
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    tmp_path.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _paths(prefix: Path) -> dict[str, str]:
    site = prefix / "lib" / "site-packages"
    site.mkdir(parents=True)
    return {
        "purelib": str(site),
        "platlib": str(site),
        "scripts": str(prefix / "bin"),
        "data": str(prefix),
        "headers": str(prefix / "include" / "demo-pkg"),
    }


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


FILES = {f"demo/m{number}.py": f"X = {number}\n".encode() for number in range(50)} | {"demo/__init__.py": b""}


def test_a_process_of_its_own_writes_what_the_thread_writes(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, FILES)
    trees = []
    for alone in (False, True):
        prefix = tmp_path / f"alone-{alone}"
        paths = _paths(prefix)
        staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=alone)
        assert (staged.process is not None) is alone
        staged.verdict()
        staged.finish()
        staged.move()
        staged.cleanup()
        trees.append(_tree(prefix))
    assert trees[0] == trees[1]
    assert trees[1]["lib/site-packages/demo/m7.py"] == b"X = 7\n"
    assert b"demo/m7.py,sha256=" in trees[1][f"lib/site-packages/{DIST}/RECORD"]
    assert trees[1][f"lib/site-packages/{DIST}/INSTALLER"] == b"hatch-pyc\n"
    assert not any(".hatch-pyc-install-" in name for name in trees[1])


def test_what_goes_wrong_in_the_process_is_said_and_undone(tmp_path: Path) -> None:
    """A file where a directory must go (the check refuses it; this writer is not told):
    the process says what it raised, and undo leaves nothing behind."""
    wheel = _wheel(tmp_path, {"demo/a": b"file", "demo/a/b.py": b""})
    paths = _paths(tmp_path / "prefix")
    staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=True)
    staged.verdict()
    with pytest.raises(_WriterFailed, match=r"^(NotADirectoryError|FileExistsError): "):
        staged.finish()
    staged.undo()
    assert os.listdir(paths["purelib"]) == []


def test_undo_stops_the_process_and_removes_the_staging_directory(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, FILES)
    paths = _paths(tmp_path / "prefix")
    staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=True)
    assert staged.process is not None
    staged.undo()
    assert staged.process.returncode is not None
    assert os.listdir(paths["purelib"]) == []


def test_the_process_ends_and_cleans_up_when_its_input_ends_before_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installing process gone (its end of the pipe closed) while the writer waits for the
    check past what it may write ahead: it stops and removes the staging directory itself."""
    wheel = _wheel(tmp_path, {"demo/big.bin": os.urandom(64 * 1024), "demo/after.py": b""})
    paths = _paths(tmp_path / "prefix")
    monkeypatch.setattr(install, "_ALONE", install._ALONE.replace("_write_alone(", "_write_alone(ahead=1024, "))
    staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=True)
    assert staged.process is not None
    assert staged.process.stdin is not None
    staged.process.stdin.close()
    with pytest.raises(_WriterFailed, match="_Cancelled"):
        staged.finish()
    assert os.listdir(paths["purelib"]) == []


def test_a_process_that_cannot_be_started_leaves_the_writing_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(install.subprocess, "Popen", refuse)
    wheel = _wheel(tmp_path, FILES)
    paths = _paths(tmp_path / "prefix")
    staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=True)
    assert staged.process is None
    assert staged.thread is not None
    staged.verdict()
    staged.finish()
    staged.move()
    staged.cleanup()
    assert (Path(paths["purelib"]) / "demo" / "m7.py").read_bytes() == b"X = 7\n"


Writing = tuple[threading.Thread, threading.Event, threading.Event, Path]


def _writing(tmp_path: Path, wheel: Path, ahead: int) -> Writing:
    """The thread writer of ``wheel`` into a staging directory, the check not done yet."""
    paths = _paths(tmp_path / "prefix")
    staging = tmp_path / "staging"
    staging.mkdir()
    checked, cancelled = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            install._write(str(wheel), paths, str(staging), "cpython-311", sys.executable, checked, cancelled, ahead)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread, checked, cancelled, staging


def _staged_bytes(staging: Path) -> int:
    return sum(path.stat().st_size for path in staging.rglob("*") if path.is_file())


def test_the_writer_parses_no_outsized_metadata_before_the_verdict(tmp_path: Path) -> None:
    """pypa/installer parses WHEEL, RECORD and entry_points.txt whole before it writes: larger
    than a wheel of that many entries needs (the check refuses such a RECORD at little cost),
    they wait for the verdict."""
    (tmp_path / "honest").mkdir()
    honest = _wheel(tmp_path / "honest", FILES)
    with zipfile.ZipFile(honest) as archive:
        assert install._parsed_within_bounds(str(honest), archive, DIST)
    for name, data in ((f"{DIST}/RECORD", b"x,,\n" * 2_000_000), (f"{DIST}/WHEEL", b"K: v\n" * 20_000)):
        wheel = tmp_path / name.replace("/", "-") / honest.name
        wheel.parent.mkdir()
        with zipfile.ZipFile(honest) as source, zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in source.namelist():
                archive.writestr(entry, data if entry == name else source.read(entry))
        with zipfile.ZipFile(wheel) as archive:
            assert not install._parsed_within_bounds(str(wheel), archive, DIST)


def test_the_bound_before_the_verdict_holds_within_a_file(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, {"demo/__init__.py": b"", "demo/big.bin": bytes(8 * 1024 * 1024)})
    thread, checked, cancelled, staging = _writing(tmp_path, wheel, 1024 * 1024)
    thread.join(0.3)
    assert thread.is_alive()
    assert _staged_bytes(staging) <= 1024 * 1024 + 1024 * 1024 + 256 * 1024 + 1
    cancelled.set()
    checked.set()
    thread.join(10)
    assert not thread.is_alive()


def _record(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        rows = archive.read(f"{DIST}/RECORD").decode().splitlines()
    return {row.split(",")[0]: row.split(",")[1] for row in rows}


SCRIPT = {"demo_pkg-1.0.data/scripts/tool": b"#!python\nprint('tool')\n"}


@pytest.mark.parametrize("alone", [False, True], ids=["thread", "process"])
def test_the_writer_keeps_the_digest_of_each_entry_it_read_as_the_wheel_holds_it(tmp_path: Path, alone: bool) -> None:
    # The check read one file at the wheel's path, the writer another (swapped in between):
    # each entry the writer read is compared with the RECORD the check found every entry to match.
    checked = _wheel(tmp_path / "checked", {**FILES, **SCRIPT})
    swapped = _wheel(tmp_path / "swapped", {**FILES, **SCRIPT, "demo/m7.py": b"open('marker', 'w')\n"})
    paths = _paths(tmp_path / "prefix")
    for wheel, changed in ((checked, []), (swapped, ["demo/m7.py"])):
        staged = _Staged(str(wheel), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=alone)
        staged.verdict()
        staged.finish()
        # The script was written with another first line (#!/usr/bin/python3): its digest is
        # of the wheel's bytes, as RECORD has it.
        assert staged.read["demo_pkg-1.0.data/scripts/tool"] == _record(checked)["demo_pkg-1.0.data/scripts/tool"]
        assert install._unchecked(staged.read, _record(checked), DIST) == changed
        staged.undo()
    # An entry only the writer's wheel holds was never checked either.
    extra = _wheel(tmp_path / "extra", {**FILES, **SCRIPT, "demo/evil.pth": b"import os\n"})
    staged = _Staged(str(extra), paths, paths["purelib"], "cpython-311", "/usr/bin/python3", alone=alone)
    staged.verdict()
    staged.finish()
    assert install._unchecked(staged.read, _record(checked), DIST) == ["demo/evil.pth"]
    staged.undo()
