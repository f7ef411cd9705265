"""Attacks from two security reviews, each as the artifact that got unverified code to run after
hatch-pyc said ok, and what a user sees now.

Every artifact starts as a real wheel or ``.pyz`` the hook built from the demo project and is
changed the way the reviewer changed it (``wheels.rewrite`` keeps RECORD consistent). Its code
writes a marker file when it runs. Each test asserts the command's answer (exit 1 with one
``<artifact>: ...`` line naming the file, or exit 2 with one ``hatch-pyc: ...`` line), that a
refused install wrote nothing into the venv, and that the marker never appears, not even when
the venv's Python starts and imports the demo package afterwards.

The cases are named after the reviews' scripts: ``h1-NN`` (installed with ``hatch-pyc
install``), ``h2-NN`` (checked with ``check --verify-code`` and ``verify --source``, installed
with uv, ``.pyz`` bundles). Two are not here, by design: h1-13 (an extension module beside a
verified source: native code is counted, not verified) and h2-09 (another interpreter's pyc,
checked for the default target only, as documented).
"""

from __future__ import annotations

import contextlib
import dis
import importlib.machinery
import importlib.util
import io
import marshal
import opcode
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

import pytest
import wheels
from helpers import PROJECTS, Venv, copy_project, demo_artifacts, find_python, only_wheel
from wheels import rewrite

from hatch_pyc import cli

CACHE_TAG = sys.implementation.cache_tag
#: site-packages below a venv's ``lib`` (and ``lib64``, a link to it): ``python3.11/site-packages``.
SITE = f"python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
DATA = "demo_pkg-0.1.0.data"
SELECTOR = "_hatch_pyc_bytecode_demo_pkg"
CORE_CACHED = f"demo/__pycache__/core.{CACHE_TAG}.pyc"
#: What every refusal of an archive whose readers could disagree says.
TWO_DIRECTORIES = "zipimport and zipfile"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real artifacts of the demo project: alongside, sourceless and zip wheels, a .pyz, and the
    alongside wheel as another backend would have built it (no pycs, no bytecode metadata)."""
    root = tmp_path_factory.mktemp("built")
    found = demo_artifacts(root)
    alongside = found["alongside"]
    dropped = {
        name: None for name in wheels.names(alongside) if "__pycache__" in name or name.endswith("hatch_pyc.json")
    }
    found["plain"] = rewrite(alongside, root / "plain" / alongside.name, dropped)  # type: ignore[arg-type]
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One venv (with pip) for every refused install: a refusal writes nothing into it."""
    return Venv(tmp_path_factory.mktemp("venv") / "venv", sys.executable)


@dataclass
class Ran:
    code: int
    out: str
    err: str


def hatch_pyc(*args: str | os.PathLike[str]) -> Ran:
    """``hatch-pyc ARGS``, run in this process as the command line would."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(arg) for arg in args])
    ran = Ran(code, out.getvalue(), err.getvalue())
    assert "Traceback" not in ran.err, ran
    assert "internal error" not in ran.err, ran
    return ran


def assert_problem(ran: Ran, artifact: Path, *says: str) -> None:
    """Exit 1, every line of the answer ``<artifact>: ...``, one of them saying all of ``says``."""
    assert ran.code == 1, ran
    lines = ran.out.splitlines()
    assert lines, ran
    assert all(line.startswith(f"{artifact.name}: ") for line in lines), ran
    assert any(all(piece in line for piece in says) for line in lines), (says, ran)


def assert_unusable(ran: Ran, *says: str) -> None:
    """Exit 2 with one ``hatch-pyc: ...`` line saying all of ``says``."""
    assert ran.code == 2, ran
    lines = ran.err.splitlines()
    assert len(lines) == 1, ran
    assert lines[0].startswith("hatch-pyc: "), ran
    assert all(piece in lines[0] for piece in says), (says, ran)


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def refused_install(venv: Venv, wheel: Path, marker: Path, *, code: int, says: tuple[str, ...], run: str) -> Ran:
    """``hatch-pyc install`` refuses ``wheel`` (``code`` 1 with a line naming ``says``, or 2), the
    venv is as it was, and its Python runs ``run`` without the marker appearing. Whatever a
    wrongly accepted install wrote is removed afterwards, so that the next test starts clean."""
    before, tree = venv.files(), _tree(venv.path)
    ran = hatch_pyc("install", wheel, "--python", venv.python)
    after = venv.files()
    started = subprocess.run(
        [venv.python, "-c", run], capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    )
    for path in sorted(_tree(venv.path) - tree, key=lambda path: len(path.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if code == 1:
        assert_problem(ran, wheel, *says)
        assert ran.err.splitlines()[-1] == "hatch-pyc: not installed; nothing was written", ran
    else:
        assert_unusable(ran, *says)
    assert after == before, sorted(after ^ before)
    assert not marker.exists(), started
    return ran


def marker_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')\n"


def pyc(source: str, filename: str) -> bytes:
    """A checked-hash pyc of ``source`` (as the demo's bytecode metadata records), compiled by the
    running interpreter (the default target)."""
    data = source.encode()
    code = compile(data, filename, "exec", dont_inherit=True)
    return importlib.util.MAGIC_NUMBER + struct.pack("<I", 3) + importlib.util.source_hash(data) + marshal.dumps(code)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in files.items():
            out.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def two_directories(good: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of the archive ``good`` with a second central directory: the 32-bit end record
    names one where the entries of ``replace`` are other data (what zipimport reads before
    CPython 3.13), the zip64 end record the genuine one (what zipfile reads)."""

    def split(archive: bytes) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        end = archive.rfind(b"PK\x05\x06")
        size, offset = struct.unpack("<II", archive[end + 12 : end + 20])
        directory = archive[offset : offset + size]
        entries, at = [], 0
        while at < len(directory):
            lengths = sum(struct.unpack("<HHH", directory[at + 28 : at + 34]))
            name_length = struct.unpack("<H", directory[at + 28 : at + 30])[0]
            entries.append((directory[at + 46 : at + 46 + name_length].decode(), directory[at : at + 46 + lengths]))
            at += 46 + lengths
        return archive[:offset], directory, entries

    local, genuine, entries = split(good)
    other_local, _, others = split(zip_of(replace))
    moved = {}
    for name, entry in others:
        changed = bytearray(entry)
        changed[42:46] = struct.pack("<I", struct.unpack("<I", entry[42:46])[0] + len(local))
        moved[name] = bytes(changed)
    directory = b"".join(moved.pop(name, entry) for name, entry in entries) + b"".join(moved.values())
    body = local + other_local
    separator = b"XXXX"
    genuine_at = len(body) + len(directory) + len(separator)
    count = len(entries)
    zip64_at = genuine_at + len(genuine)
    zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(genuine), genuine_at)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_at, 1)
    size = len(directory) + len(separator) + len(genuine) + len(zip64) + len(locator)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, size, len(body), 0)
    return body + directory + separator + genuine + zip64 + locator + end


def inner_zip(wheel: Path, edit: Callable[[dict[str, bytes]], None]) -> dict[str, bytes]:
    """The zip layout wheel's changes: its archive ``demo_pkg.zip`` rewritten by ``edit``."""
    with zipfile.ZipFile(io.BytesIO(wheels.read(wheel, "demo_pkg.zip"))) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    edit(files)
    return {"demo_pkg.zip": zip_of(files)}


def rewrite_pyz(pyz: Path, target: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of the bundle ``pyz`` (its shebang kept) with its files changed by ``edit``."""
    data = pyz.read_bytes()
    with zipfile.ZipFile(pyz) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    edit(files)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        out.write(data[: data.index(b"PK\x03\x04")])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
    return target


def converted(plain: Path, tmp_path: Path, layout: str, files: dict[str, bytes]) -> Path:
    """A legitimate wheel of ``layout`` that ``hatch-pyc convert`` makes of ``plain`` with ``files`` added."""
    source = rewrite(plain, tmp_path / "plain" / plain.name, files)  # type: ignore[arg-type]
    ran = hatch_pyc("convert", source, "--layout", layout, "--no-cache", "-o", tmp_path / "converted")
    assert ran.code == 0, ran
    return only_wheel(tmp_path / "converted")


# Bytecode nothing verifies, where the import system finds it: check and install refuse it.
#: ``{case: (changes to the alongside wheel given the marker, what the line says, what the venv's Python runs)}``
UNVERIFIED: dict[str, tuple[Callable[[Path], dict[str, bytes]], tuple[str, ...], str]] = {
    "h1-00-a-legacy-pyc-with-no-source": (
        lambda marker: {"demo/evil.pyc": pyc(marker_code(marker), "<demo/evil.py>")},
        ("demo/evil.pyc", "no source"),
        "import demo.evil",
    ),
    "h1-02-a-package-pyc-through-data-lib64": (
        lambda marker: {
            f"{DATA}/data/lib64/{SITE}/demo/core/__init__.pyc": pyc(marker_code(marker) + "X = 1\n", "<demo/core.py>")
        },
        (f"{DATA}/data/lib64/{SITE}/demo/core/__init__.pyc",),
        "import demo.core",
    ),
    "h1-06-a-pyc-in-the-scripts-directory": (
        lambda marker: {f"{DATA}/scripts/demo.pyc": pyc(marker_code(marker), "<demo.py>")},
        (f"{DATA}/scripts/demo.pyc", "scripts directory"),
        "import demo.core",
    ),
    "h1-07-a-pyc-in-data-bin": (
        lambda marker: {f"{DATA}/data/bin/pip.pyc": pyc(marker_code(marker), "<pip.py>")},
        (f"{DATA}/data/bin/pip.pyc", "scripts directory"),
        "import demo.core",
    ),
    "scripts-directory-a-pycache-pyc": (
        lambda marker: {f"{DATA}/scripts/__pycache__/demo.{CACHE_TAG}.pyc": pyc(marker_code(marker), "<demo.py>")},
        (f"{DATA}/scripts/__pycache__/demo.{CACHE_TAG}.pyc",),
        "import demo.core",
    ),
    "scripts-directory-an-extension-module": (
        lambda marker: {f"{DATA}/data/bin/demo{importlib.machinery.EXTENSION_SUFFIXES[0]}": b"\x7fELF"},
        (f"{DATA}/data/bin/demo{importlib.machinery.EXTENSION_SUFFIXES[0]}", "scripts directory"),
        "import demo.core",
    ),
    "h1-09-a-pth-line-to-bin-and-a-sitecustomize-pyc-there": (
        lambda marker: {
            "demo_h1.pth": b"../../../bin\n",
            f"{DATA}/scripts/sitecustomize.pyc": pyc(marker_code(marker), "<sitecustomize.py>"),
        },
        (f"{DATA}/scripts/sitecustomize.pyc",),
        "pass",
    ),
    "h1-12-a-pth-line-to-an-archive-the-wheel-installs-outside-site-packages": (
        lambda marker: {
            "demo_h1.pth": b"../../../h1.zip\n",
            f"{DATA}/data/h1.zip": zip_of({"zmod.pyc": pyc(marker_code(marker), "<zmod.py>")}),
        },
        ("zmod.pyc", "no source"),
        "import zmod",
    ),
    # Round 2: what the interpreter reads beside its executable, and a script that is a zip.
    "r2-04-a-pth-file-beside-the-interpreter": (
        lambda marker: {
            f"{DATA}/scripts/python._pth": b"../lib/evil\n",
            f"{DATA}/data/lib/evil/encodings/__init__.pyc": pyc(marker_code(marker), "<encodings.py>"),
        },
        (f"{DATA}/scripts/python._pth", "find its paths at start-up"),
        "pass",
    ),
    "r3-07-a-script-that-is-bytecode": (
        lambda marker: {f"{DATA}/scripts/evil-tool": pyc(marker_code(marker), "<evil-tool>")},
        (f"{DATA}/scripts/evil-tool", "a script that is bytecode"),
        "pass",
    ),
    "r2-03-a-script-that-is-a-zip-application": (
        lambda marker: {
            f"{DATA}/scripts/evil-tool": b"#!python\n"
            + zip_of({"__main__.pyc": pyc(marker_code(marker), "<__main__.py>")}),
        },
        ("__main__.pyc", "no source"),
        "pass",
    ),
    "h1-14-a-package-pyc-and-its-source-under-data-LIB": (
        lambda marker: {
            "demo/core/__init__.pyc": pyc(marker_code(marker) + "X = 1\n", "<demo/core.py>"),
            f"{DATA}/data/LIB/{SITE}/demo/core/__init__.py": b"X = 1\n",
        },
        ("demo/core/__init__.pyc",),
        "import demo.core",
    ),
}


@pytest.mark.parametrize("case", list(UNVERIFIED))
def test_bytecode_nothing_verifies_is_refused(case: str, built: dict[str, Path], venv: Venv, tmp_path: Path) -> None:
    changes, says, run = UNVERIFIED[case]
    marker = tmp_path / "marker"
    wheel = rewrite(built["alongside"], tmp_path / "attack" / built["alongside"].name, changes(marker))  # type: ignore[arg-type]
    assert_problem(hatch_pyc("check", wheel), wheel, *says)
    assert_problem(hatch_pyc("check", "--verify-code", wheel), wheel, *says)
    refused_install(venv, wheel, marker, code=1, says=says, run=run)


# Code that runs at every start of Python: check names it, install refuses it unless told.
def _startup_changes(built: dict[str, Path], tmp_path: Path, case: str, marker: Path) -> Path:
    code = marker_code(marker)
    line = f"import os; {code.strip()}\n".encode()
    alongside: dict[str, dict[str, bytes]] = {
        "h1-01-a-pth-import-line-through-data-lib64": {f"{DATA}/data/lib64/{SITE}/zz_h1.pth": line},
        "h1-08-sitecustomize-in-a-directory-a-pth-line-adds": {
            "demo_h1.pth": b"h1extra\n",
            "h1extra/sitecustomize.py": code.encode(),
        },
        "usercustomize-in-a-directory-a-pth-line-adds": {
            "demo_h1.pth": b"h1extra\n",
            "h1extra/usercustomize.py": code.encode(),
        },
        "h1-10-sitecustomize-in-an-archive-a-pth-line-adds": {
            "demo_h1.pth": b"h1extra.zip\n",
            "h1extra.zip": zip_of({"sitecustomize.py": code.encode()}),
        },
        "h1-19-sitecustomize-at-the-top-of-site-packages": {"sitecustomize.py": code.encode()},
        "h1-20-a-pth-import-line-through-data-lib": {f"{DATA}/data/lib/{SITE}/zz_h1.pth": line},
        "h2-06-sitecustomize-in-a-package-directory-a-pth-line-adds": {
            "demo_pkg-extra.pth": b"demo/_site\n",
            "demo/_site/sitecustomize.py": code.encode(),
        },
        "a-pth-path-line-to-bin": {"demo_h1.pth": b"../../../bin\n"},
        "a-pth-path-line-to-an-absolute-directory": {"demo_h1.pth": b"/opt/x\n"},
        "a-pth-path-line-to-the-directory-above-the-venv": {"demo_h1.pth": b"../../../..\n"},
    }
    if case in alongside:
        return rewrite(built["alongside"], tmp_path / "attack" / built["alongside"].name, alongside[case])  # type: ignore[arg-type]
    if case == "h2-05-sitecustomize-in-the-zip-layouts-archive":
        changes = inner_zip(built["zip"], lambda files: files.update({"sitecustomize.py": code.encode()}))
        return rewrite(built["zip"], tmp_path / "attack" / built["zip"].name, changes)  # type: ignore[arg-type]
    assert case == "h1-18-a-zip-layout-wheel-of-a-sitecustomize-module"
    return converted(built["plain"], tmp_path, "zip", {"sitecustomize.py": code.encode()})


STARTUP = {
    "h1-01-a-pth-import-line-through-data-lib64": "zz_h1.pth",
    "h1-08-sitecustomize-in-a-directory-a-pth-line-adds": "sitecustomize",
    "usercustomize-in-a-directory-a-pth-line-adds": "usercustomize",
    "h1-10-sitecustomize-in-an-archive-a-pth-line-adds": "sitecustomize",
    "h1-18-a-zip-layout-wheel-of-a-sitecustomize-module": "sitecustomize",
    "h1-19-sitecustomize-at-the-top-of-site-packages": "sitecustomize",
    "h1-20-a-pth-import-line-through-data-lib": "zz_h1.pth",
    "h2-05-sitecustomize-in-the-zip-layouts-archive": "sitecustomize",
    "h2-06-sitecustomize-in-a-package-directory-a-pth-line-adds": "sitecustomize",
    "a-pth-path-line-to-bin": "../../../bin",
    "a-pth-path-line-to-an-absolute-directory": "/opt/x",
    "a-pth-path-line-to-the-directory-above-the-venv": "../../../..",
}


@pytest.mark.parametrize("case", list(STARTUP))
def test_startup_code_is_named_and_install_refuses_it(
    case: str, built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    wheel = _startup_changes(built, tmp_path, case, marker)
    ran = hatch_pyc("check", wheel)
    assert ran.code == 0, ran
    startup = [line for line in ran.out.splitlines() if line.startswith("start-up code: ")]
    assert any(STARTUP[case] in line for line in startup), ran
    refused_install(venv, wheel, marker, code=1, says=("allow-startup-code",), run="import demo")


# Wheels installers would read differently: refused whole, as bad artifacts.
def _unusable_wheel(built: dict[str, Path], tmp_path: Path, case: str, marker: Path) -> Path:
    alongside, code = built["alongside"], marker_code(marker)
    line = f"import os; {code.strip()}\n".encode()
    evil = pyc(code + "X = 1\n", "<demo/core.py>")
    tags = alongside.name.removeprefix("demo_pkg-0.1.0-")
    if case == "h1-03-file-name-0.1-dist-info-0.1.0-a-pth-in-the-file-names-data-directory":
        return rewrite(alongside, tmp_path / f"demo_pkg-0.1-{tags}", {"demo_pkg-0.1.data/purelib/zz_h1.pth": line})
    if case == "h1-04-file-name-0.1-dist-info-0.1.0-a-source-in-each-data-directory":
        changes: dict[str, bytes | None] = {
            CORE_CACHED: pyc(code + "X = 1\n", "demo/core.py"),
            "demo/core.py": None,
            f"{DATA}/purelib/demo/core.py": (code + "X = 1\n").encode(),
            "demo_pkg-0.1.data/purelib/demo/core.py": b"X = 1\n",
        }
        return rewrite(alongside, tmp_path / f"demo_pkg-0.1-{tags}", changes)
    if case == "h1-05-file-name-Demo_Pkg-a-decoy-source-in-the-data-directory":
        changes = {"demo/core/__init__.pyc": evil, f"{DATA}/purelib/demo/core/__init__.py": b"X = 1\n"}
        return rewrite(alongside, tmp_path / f"Demo_Pkg-0.1.0-{tags}", changes)
    if case == "h2-07-a-second-data-directory":
        return rewrite(alongside, tmp_path / alongside.name, {"x.data/purelib/sitecustomize.py": code.encode()})
    if case == "h1-16-ntfs-stream-names":
        changes = {"demo/core/__init__.pyc::$DATA": b"not even bytecode", "zz_h1.pth::$DATA": line}
        return rewrite(alongside, tmp_path / alongside.name, changes)
    if case == "a-short-8.3-name-of-a-module":
        return rewrite(alongside, tmp_path / alongside.name, {"demo/CORE~1.PY": code.encode()})
    if case == "h1-11-h1-17-two-central-directories-in-an-archive-a-pth-line-adds":
        archive = two_directories(zip_of({"zmod.py": b"X = 1\n"}), {"zmod.pyc": pyc(code, "<zmod.py>")})
        return rewrite(alongside, tmp_path / alongside.name, {"demo_h1.pth": b"h1extra.zip\n", "h1extra.zip": archive})
    if case == "h2-10-two-central-directories-in-the-zip-layouts-archive":
        archive = two_directories(wheels.read(built["zip"], "demo_pkg.zip"), {"demo/core.pyc": evil})
        return rewrite(built["zip"], tmp_path / built["zip"].name, {"demo_pkg.zip": archive})
    assert case == "two-central-directories-in-the-wheel"
    target = tmp_path / alongside.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(two_directories(alongside.read_bytes(), {CORE_CACHED: pyc(code, "demo/core.py")}))
    return target


UNUSABLE = {
    "h1-03-file-name-0.1-dist-info-0.1.0-a-pth-in-the-file-names-data-directory": ("demo_pkg-0.1.data",),
    "h1-04-file-name-0.1-dist-info-0.1.0-a-source-in-each-data-directory": ("demo_pkg-0.1.data",),
    "h1-05-file-name-Demo_Pkg-a-decoy-source-in-the-data-directory": ("Demo_Pkg-0.1.0.data",),
    "h2-07-a-second-data-directory": ("x.data",),
    "h1-16-ntfs-stream-names": ("::$DATA", "unsafe entry"),
    "a-short-8.3-name-of-a-module": ("demo/CORE~1.PY", "unsafe entry"),
    "h1-11-h1-17-two-central-directories-in-an-archive-a-pth-line-adds": ("h1extra.zip", TWO_DIRECTORIES),
    "h2-10-two-central-directories-in-the-zip-layouts-archive": ("demo_pkg.zip", TWO_DIRECTORIES),
    "two-central-directories-in-the-wheel": (TWO_DIRECTORIES,),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_wheels_installers_read_differently_are_refused(
    case: str, built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    wheel = _unusable_wheel(built, tmp_path / "attack", case, marker)
    assert_unusable(hatch_pyc("check", wheel), *UNUSABLE[case])
    refused_install(venv, wheel, marker, code=2, says=UNUSABLE[case], run="import demo.core, zmod")


# Sourceless and zip wheels: the files hatch-pyc writes beside the bytecode, edited.
def _stub_edit(files: dict[str, bytes], marker: Path) -> None:
    files["demo/__init__.py"] += marker_code(marker).encode()


def _selector_edit(files: dict[str, bytes], marker: Path) -> None:
    files[f"{SELECTOR}/__init__.py"] += b"\n" + marker_code(marker).encode()


def _selector_extra(files: dict[str, bytes], marker: Path) -> None:
    files[f"{SELECTOR}/extra.py"] = marker_code(marker).encode()


#: ``{case: (layout, the edit, the file named, what its line says)}``
EDITED: dict[str, tuple[str, Callable[[dict[str, bytes], Path], None], str, str]] = {
    "h2-01-the-selector-of-a-sourceless-wheel": (
        "sourceless",
        _selector_edit,
        f"{SELECTOR}/__init__.py",
        "not what hatch-pyc writes",
    ),
    "h2-02-a-stub-of-a-sourceless-wheel": ("sourceless", _stub_edit, "demo/__init__.py", "not what hatch-pyc writes"),
    "an-extra-source-in-the-selector-of-a-sourceless-wheel": (
        "sourceless",
        _selector_extra,
        f"{SELECTOR}/extra.py",
        "hatch-pyc never writes",
    ),
    "h2-03-the-selector-in-the-zip-layouts-archive": (
        "zip",
        _selector_edit,
        f"{SELECTOR}/__init__.py",
        "not what hatch-pyc writes",
    ),
    "a-stub-in-the-zip-layouts-archive": ("zip", _stub_edit, "demo/__init__.py", "not what hatch-pyc writes"),
}


@pytest.mark.parametrize("case", list(EDITED))
def test_edited_stubs_and_selectors_are_refused(case: str, built: dict[str, Path], venv: Venv, tmp_path: Path) -> None:
    layout, edit, name, what = EDITED[case]
    says = (name, what)
    marker = tmp_path / "marker"
    base = built[layout]
    if layout == "zip":
        changes = inner_zip(base, lambda files: edit(files, marker))
    else:
        genuine = wheels.entries(base)
        files = dict(genuine)
        edit(files, marker)
        changes = {entry: data for entry, data in files.items() if genuine.get(entry) != data}
    wheel = rewrite(base, tmp_path / "attack" / base.name, changes)  # type: ignore[arg-type]
    assert_problem(hatch_pyc("check", wheel), wheel, *says)
    assert_problem(hatch_pyc("verify", wheel, "--source", PROJECTS / "demo", "--jobs", "1"), wheel, name)
    refused_install(venv, wheel, marker, code=1, says=says, run="import demo.core")


def test_h2_04_a_source_beside_a_sourceless_pyc_is_refused(built: dict[str, Path], venv: Venv, tmp_path: Path) -> None:
    """The path finder imports ``demo/core.py`` in place of the verified ``demo/core.pyc``."""
    marker = tmp_path / "marker"
    source = marker_code(marker) + "def main(argv=None):\n    return 0\n"
    sourceless = built["sourceless"]
    wheel = rewrite(sourceless, tmp_path / "attack" / sourceless.name, {"demo/core.py": source.encode()})
    says = ("demo/core.pyc", "source", "beside")
    assert_problem(hatch_pyc("check", wheel), wheel, *says)
    assert_problem(hatch_pyc("verify", wheel, "--source", PROJECTS / "demo", "--jobs", "1"), wheel, "demo/core.py")
    refused_install(venv, wheel, marker, code=1, says=says, run="import demo.core")


def _specialised() -> dict[str, int]:
    """The specialised forms of ``COMPARE_OP`` the running interpreter has, by name."""
    table = getattr(opcode, "_specialized_opmap", None) or dis._all_opmap  # type: ignore[attr-defined]
    return {name: value for name, value in table.items() if name.startswith("COMPARE_OP_") and "ADAPTIVE" not in name}


def test_h2_08_a_specialised_opcode_is_not_the_code_of_its_source(
    built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    """``COMPARE_OP`` replaced by a specialised form whose inline cache decides the jump: code
    equality de-specialises, so the pyc must be compared as hatch-pyc writes it, byte for byte."""
    alongside = built["alongside"]
    genuine = wheels.read(alongside, CORE_CACHED)
    module = marshal.loads(genuine[16:])
    (main,) = [const for const in module.co_consts if isinstance(const, CodeType) and const.co_name == "main"]
    specialised = _specialised()
    assert specialised, "this interpreter has no specialised COMPARE_OP"
    value = specialised.get("COMPARE_OP_STR_JUMP") or specialised.get("COMPARE_OP_STR") or min(specialised.values())
    at = next(instruction.offset for instruction in dis.get_instructions(main) if instruction.opname == "COMPARE_OP")
    assert genuine.count(main.co_code) == 1
    patched_code = bytearray(main.co_code)
    patched_code[at] = value
    patched = genuine.replace(main.co_code, bytes(patched_code))
    wheel = rewrite(alongside, tmp_path / "attack" / alongside.name, {CORE_CACHED: patched})
    says = (CORE_CACHED,)
    assert_problem(hatch_pyc("check", "--verify-code", wheel), wheel, *says)
    refused_install(venv, wheel, tmp_path / "marker", code=1, says=says, run="import demo.core")


def test_h2_12_verify_compiles_each_module_from_its_own_source_only(built: dict[str, Path], tmp_path: Path) -> None:
    """An sdist that also holds ``examples/legacy/demo/core.py``: a ``demo/core.pyc`` compiled from
    that file is not what the sdist compiles ``demo/core.py`` to."""
    marker = tmp_path / "marker"
    legacy = f"# the 0.0.1 module, kept as an example\n{marker_code(marker)}def main(argv=None):\n    return 0\n"
    project = copy_project("demo", tmp_path / "sources")
    (project / "examples" / "legacy" / "demo").mkdir(parents=True)
    (project / "examples" / "legacy" / "demo" / "core.py").write_text(legacy)
    sdist = tmp_path / "demo_pkg-0.1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname="demo_pkg-0.1.0")
    sourceless = built["sourceless"]
    genuine = wheels.read(sourceless, "demo/core.pyc")
    filename = marshal.loads(genuine[16:]).co_filename
    data = legacy.encode()
    compiled = compile(data, filename, "exec", dont_inherit=True)
    evil = genuine[:8] + importlib.util.source_hash(data) + marshal.dumps(compiled)
    wheel = rewrite(sourceless, tmp_path / "attack" / sourceless.name, {"demo/core.pyc": evil})
    ran = hatch_pyc("verify", wheel, "--source", sdist, "--jobs", "1")
    assert_problem(ran, wheel, "demo/core.pyc")
    assert not marker.exists()


def test_h1_15_sourceless_bytecode_over_another_distributions_module_is_refused(
    built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    """A sourceless wheel of ``pip/_internal/cli/main/__init__.py``: that package would beat pip's
    own ``pip/_internal/cli/main.py``, and the venv's ``pip`` command would run its bytecode."""
    marker = tmp_path / "marker"
    module = "pip/_internal/cli/main/__init__.py"
    wheel = converted(built["plain"], tmp_path, "sourceless", {module: marker_code(marker).encode()})
    placed = f"{module[:-3]}.pyc"
    assert placed in wheels.names(wheel)
    ran = refused_install(venv, wheel, marker, code=1, says=(placed,), run="import pip._internal.cli.main")
    lines = [line for line in ran.out.splitlines() if placed in line]
    assert any(
        "would be imported as" in line or "a package of another installed distribution" in line for line in lines
    ), ran


def _main_edit(files: dict[str, bytes], marker: Path) -> None:
    files["__main__.py"] = files["__main__.py"].replace(
        b"import sys\n", b"import sys\n" + marker_code(marker).encode(), 1
    )


def _runtime_source(files: dict[str, bytes], marker: Path) -> None:
    # zipimport checks the runtime's pyc against a source beside it, and runs the source.
    files["_hatch_pyc_index.py"] = marker_code(marker).encode()


def _stdlib_shadow(files: dict[str, bytes], marker: Path) -> None:
    files["hashlib.py"] = (
        marker_code(marker)
        + "import importlib.util, os, sys, sysconfig\n"
        + "spec = importlib.util.spec_from_file_location("
        + "'hashlib', os.path.join(sysconfig.get_paths()['stdlib'], 'hashlib.py'))\n"
        + "sys.modules['hashlib'] = module = importlib.util.module_from_spec(spec)\n"
        + "spec.loader.exec_module(module)\n"
    ).encode()


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        pytest.param(_main_edit, "__main__.py", id="h2-11-an-extra-line-in-main"),
        pytest.param(_stdlib_shadow, "hashlib.py", id="h2-13-a-standard-library-module-at-the-root"),
        pytest.param(_runtime_source, "_hatch_pyc_index.py", id="r6-03-a-source-of-the-bundle-runtime"),
    ],
)
def test_edited_bundles_are_refused(
    edit: Callable[[dict[str, bytes], Path], None], says: str, built: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    pyz = rewrite_pyz(built["pyz"], tmp_path / "attack" / built["pyz"].name, lambda files: edit(files, marker))
    assert_problem(hatch_pyc("check", pyz), pyz, says)
    assert not marker.exists()


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("demo/core.pyc", id="h2-14-a-pyc-in-another-central-directory"),
        pytest.param("__main__.py", id="h2-15-another-main"),
    ],
)
def test_bundles_with_two_central_directories_are_refused(entry: str, built: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    pyz = built["pyz"]
    with zipfile.ZipFile(pyz) as archive:
        genuine = archive.read(entry)
    other = (
        pyc(marker_code(marker), "<demo/core.py>") if entry.endswith(".pyc") else marker_code(marker).encode() + genuine
    )
    crafted = tmp_path / "attack" / pyz.name
    crafted.parent.mkdir()
    crafted.write_bytes(two_directories(pyz.read_bytes(), {entry: other}))
    assert_unusable(hatch_pyc("check", crafted), TWO_DIRECTORIES)
    assert_unusable(hatch_pyc("verify", crafted, "--source", PROJECTS / "demo", "--jobs", "1"), TWO_DIRECTORIES)
    assert not marker.exists()


# Round 5: hatch-pyc's own files compiled, and the zip layout's packages beside its archive.
def test_r5_01_a_pyc_beside_the_zip_layouts_archive_under_a_name_it_holds_is_refused(
    built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    """site-packages comes before the archive on sys.path: a sourceless selector package (or
    stub) there would run in place of the archive's."""
    marker = tmp_path / "marker"
    for name in (f"{SELECTOR}/__init__.pyc", "demo/__init__.pyc"):
        changes = {name: pyc(marker_code(marker), f"<{name[:-1]}>")}
        wheel = rewrite(built["zip"], tmp_path / name.replace("/", "-") / built["zip"].name, changes)  # type: ignore[arg-type]
        says = (name, "demo_pkg.zip holds it too")
        assert_problem(hatch_pyc("check", "--verify-code", wheel), wheel, *says)
        refused_install(venv, wheel, marker, code=1, says=says, run="import demo")


def test_r5_03_a_pyc_for_an_interpreter_the_metadata_does_not_record_is_refused(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """Checked for that interpreter: a pyc of the right hash and other code, which it would run."""
    tag = "cpython-312" if CACHE_TAG != "cpython-312" else "cpython-311"
    other = find_python(f"{tag[8]}.{tag[9:]}")
    if other is None:
        pytest.skip(f"no {tag} here")
    marker = tmp_path / "marker"
    source = wheels.read(built["alongside"], "demo/core.py")
    bad = struct.pack("<I", 3) + importlib.util.source_hash(source)  # the header's fields but the magic
    changes = {
        f"demo/__pycache__/core.{tag}.pyc": b"\0\0\r\n" + bad + marshal.dumps(compile(marker_code(marker), "x", "exec"))
    }
    wheel = rewrite(built["alongside"], tmp_path / "r5-03" / built["alongside"].name, changes)  # type: ignore[arg-type]
    says = (f"demo/__pycache__/core.{tag}.pyc", "no interpreter the bytecode metadata records")
    assert_problem(hatch_pyc("check", "--python", other, wheel), wheel, *says)
    verified = hatch_pyc("verify", wheel, "--source", PROJECTS / "demo")
    assert f"demo/__pycache__/core.{tag}.pyc: bytecode for {tag}, which the bytecode metadata does not record" in (
        verified.out
    )


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(f"{DATA}/scripts/{SELECTOR}.py", id="r6-01-the-scripts-directory"),
        pytest.param("aaa_dir/demo/__init__.py", id="r6-02-a-directory-a-pth-line-adds"),
    ],
)
def test_r6_a_name_the_zip_layouts_archive_holds_anywhere_else_on_sys_path_is_refused(
    where: str, built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    """A console script's directory (its sys.path[0]) or a directory a .pth line adds before the
    archive: a selector package or stub there runs in place of the archive's."""
    marker = tmp_path / "marker"
    changes = {where: marker_code(marker).encode(), "aaa.pth": b"aaa_dir\n"}
    wheel = rewrite(built["zip"], tmp_path / "r6" / built["zip"].name, changes)  # type: ignore[arg-type]
    says = (where, "demo_pkg.zip holds it too")
    assert_problem(hatch_pyc("check", "--verify-code", wheel), wheel, *says)
    refused_install(venv, wheel, marker, code=1, says=says, run="import demo")


def test_r8_entry_points_that_expand_for_hours_are_refused_before_anything_parses_them(
    built: dict[str, Path], venv: Venv, tmp_path: Path
) -> None:
    """configparser's references in entry_points.txt, which pypa/installer's parser expands:
    nine levels of seven references each would take it hours (the writer starts with them)."""
    marker = tmp_path / "marker"
    levels = ["[console_scripts]", "a0 = demo:main"]
    levels += [f"a{level} = " + f"%(a{level - 1})s" * 7 for level in range(1, 10)]
    changes = {"demo_pkg-0.1.0.dist-info/entry_points.txt": ("\n".join(levels) + "\n").encode()}
    wheel = rewrite(built["alongside"], tmp_path / "r8" / built["alongside"].name, changes)  # type: ignore[arg-type]
    refused_install(
        venv, wheel, marker, code=2, says=("entry_points.txt refers to other values with '%('",), run="import demo"
    )


def test_a_wheel_swapped_while_it_installs_is_refused(
    built: dict[str, Path], venv: Venv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Round 13: the writer and the check each open the wheel by its path. Another wheel of the
    # same names renamed over it between the two opens was written and moved into place.
    marker = tmp_path / "marker"
    wheel = shutil.copy(built["alongside"], tmp_path / built["alongside"].name)
    evil = rewrite(built["alongside"], tmp_path / "evil" / wheel.name, {"demo/core.py": marker_code(marker).encode()})
    from hatch_pyc import install

    opened = install._Staged.__init__

    def swapped(self: install._Staged, path: str, *args: object, **options: object) -> None:
        opened(self, str(evil), *args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(install._Staged, "__init__", swapped)
    ran = refused_install(venv, Path(wheel), marker, code=1, says=("demo/core.py",), run="import demo.core")
    assert "not what was checked (the file changed on disk while it was installed)" in ran.out
