"""``bundle --with-dependencies`` where nothing can install them: one line saying how to get uv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from inmemory import DIST, NAME, run_cli, sourceless, write

from hatch_pyc.bundle import make


def test_no_uv_and_no_pip_says_how_to_get_uv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A `uv tool install hatch-pyc` environment without the bundle extra: no uv, and no pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "tool"], check=True)
    python = tmp_path / "tool" / "bin" / "python"
    monkeypatch.setattr(make, "find_uv", lambda: None)
    entries = sourceless()
    entries[f"{DIST}/METADATA"] += b"Requires-Dist: click>=8\nRequires-Dist: rich\n"
    wheel = write(tmp_path / NAME, entries)
    out = tmp_path / "app.pyz"
    code, stdout, stderr = run_cli(
        capsys, "bundle", str(wheel), "--with-dependencies", "--python", str(python), "-o", str(out)
    )
    assert (code, stdout) == (2, "")
    assert stderr == (
        "hatch-pyc: --with-dependencies: the bundle's dependencies (click>=8, rich) are installed with uv, or with "
        f"the target interpreter's pip, and neither is here: no uv on PATH or beside hatch-pyc, and {python} has no "
        "pip; install hatch-pyc with its bundle extra, which brings uv (uv tool install --reinstall "
        "'hatch-pyc[bundle]'), or put uv on PATH\n"
    )
    assert not out.exists()


def test_the_target_interpreters_pip_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(make, "find_uv", lambda: None)
    make._check_installer(sys.executable, ["click"], "--with-dependencies")
