"""``--json`` on ``convert``, ``bundle``, ``verify`` and ``install``: one object on stdout with
what the lines say, the same exit status, and an error still one line on stderr; run in-process
on a small wheel another backend could have built."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from inmemory import DIST, HERE, run_cli, write

SOURCE = b"def main():\n    print('hello')\n"


@pytest.fixture
def plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain wheel with a console script, and its sources in ``tmp_path / "src"``."""
    monkeypatch.setenv("HATCH_PYC_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "src" / "demo").mkdir(parents=True)
    (tmp_path / "src" / "demo" / "__init__.py").write_bytes(SOURCE)
    return write(
        tmp_path / "demo_pkg-0.1.0-py3-none-any.whl",
        {
            "demo/__init__.py": SOURCE,
            f"{DIST}/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.1.0\nRequires-Dist: click\n",
            f"{DIST}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            f"{DIST}/entry_points.txt": b"[console_scripts]\ndemo = demo:main\n",
        },
    )


def _interpreter() -> dict[str, object]:
    return {
        "implementation": HERE.implementation,
        "version": HERE.version,
        "python_tag": HERE.python_tag,
        "cache_tag": HERE.cache_tag,
        "magic_number": HERE.magic_number,
        "free_threaded": False,
    }


def _convert(capsys: pytest.CaptureFixture[str], plain: Path) -> Path:
    out = plain.parent / "dist"
    code, stdout, _ = run_cli(capsys, "convert", "-q", "--json", str(plain), "--layout", "sourceless", "-o", str(out))
    assert code == 0
    document = json.loads(stdout)
    written = out / f"demo_pkg-0.1.0-{HERE.python_tag}-none-any.whl"
    assert document == {
        "input": str(plain),
        "output": str(written),
        "layout": "sourceless",
        "interpreters": [_interpreter()],
    }
    return written


def test_convert_and_verify(plain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = _convert(capsys, plain)
    source = str(plain.parent / "src")
    code, stdout, stderr = run_cli(capsys, "verify", "--json", str(wheel), "--source", source)
    assert (code, stderr) == (0, "")
    document = json.loads(stdout)
    assert document == {
        "artifact": str(wheel),
        "source": [source],
        "ok": True,
        "pycs": document["pycs"],
        "sources": 0,
        "interpreters": [f"{HERE.implementation} {HERE.version}"],
        "problems": [],
    }
    assert document["pycs"] > 0
    lines = run_cli(capsys, "verify", str(wheel), "--source", source)[1]
    compiler = f"{HERE.implementation} {HERE.version}"
    assert lines == f"ok: the {document['pycs']} pycs of {wheel.name} are what {compiler} compiles from src\n"

    (plain.parent / "src" / "demo" / "__init__.py").write_bytes(SOURCE + b"x = 1\n")
    code, stdout, stderr = run_cli(capsys, "verify", "--json", "-q", str(wheel), "--source", source)
    document = json.loads(stdout)
    assert (code, stderr, document["ok"]) == (1, "", False)
    assert document["problems"]
    assert all("demo/__init__" in problem for problem in document["problems"])

    missing = str(plain.parent / "missing.tar.gz")
    assert run_cli(capsys, "verify", "--json", str(wheel), "--source", missing) == (
        2,
        "",
        f"hatch-pyc: {missing}: no such file\n",
    )


def test_bundle(plain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = plain.parent / "app.pyz"
    code, stdout, _ = run_cli(capsys, "bundle", "-q", "--json", str(plain), "-o", str(output))
    assert code == 0
    assert json.loads(stdout) == {
        "wheel": str(plain),
        "output": str(output),
        "entry_point": "demo:main",
        "interpreter": _interpreter(),
        "size": output.stat().st_size,
    }
    code, stdout, stderr = run_cli(
        capsys, "bundle", "--json", str(plain), "--entry-point", "nothere", "-o", str(output)
    )
    assert (code, stdout) == (2, "")
    warning, error = stderr.splitlines()
    assert warning.startswith("hatch-pyc: warning: demo-pkg 0.1.0's bundle leaves out its dependencies (click)")
    assert error.startswith("hatch-pyc: ")
    assert "nothere" in error


def test_install(plain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = _convert(capsys, plain)
    venv = plain.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    code, stdout, stderr = run_cli(capsys, "install", "--json", str(wheel), "--python", python)
    assert code == 0
    assert stderr == "hatch-pyc: installs no dependencies; install these with pip or uv: click\n"
    document = json.loads(stdout)
    site_packages = document["site_packages"]
    record = Path(site_packages, DIST, "RECORD").read_text().splitlines()
    assert document == {
        "wheel": str(wheel),
        "python": document["python"],
        "site_packages": site_packages,
        "ok": True,
        "problems": [],
        "files": len(record),
        "dependencies": ["click"],
    }
    assert Path(document["python"]).parent == venv / "bin"
    assert Path(site_packages).is_relative_to(venv)

    code, stdout, stderr = run_cli(capsys, "install", "--json", str(wheel), "--python", python)
    assert (code, stderr) == (1, "hatch-pyc: not installed; nothing was written\n")
    document = json.loads(stdout)
    assert document["problems"][0].startswith("demo-pkg is installed already (")
    assert {**document, "problems": []} == {
        "wheel": str(wheel),
        "python": python,
        "site_packages": None,
        "ok": False,
        "problems": [],
        "files": 0,
        "dependencies": [],
    }


def test_an_unusable_wheel_is_one_line_on_stderr_and_no_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.whl")
    for command in ("convert", "bundle", "verify", "install"):
        extra = ["--source", str(tmp_path)] if command == "verify" else []
        extra += ["--python", sys.executable] if command == "install" else []
        code, stdout, stderr = run_cli(capsys, command, "--json", missing, *extra)
        assert (code, stdout) == (2, ""), command
        assert stderr.count("\n") == 1, (command, stderr)
        assert stderr.startswith(f"hatch-pyc: {missing}"), (command, stderr)
