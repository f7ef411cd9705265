"""``verify``'s one-line messages for sources it cannot use: each one's exact text."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from inmemory import DIST, NAME, SOURCE, bundle, run_cli, sourceless, write


def sdist(target: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """An sdist of ``files`` under ``<name>-<version>/``, with a PKG-INFO naming it."""
    base = f"{name.replace('-', '_')}-{version}"
    members = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(), **files}
    with tarfile.open(target, "w:gz") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


def test_another_projects_sdist_is_one_line_not_one_per_pyc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    other = sdist(tmp_path / "other_pkg-2.0.tar.gz", "other-pkg", "2.0", {"src/other/__init__.py": b""})
    assert run_cli(capsys, "verify", str(wheel), "--source", str(other)) == (
        1,
        f"{NAME}: --source other_pkg-2.0.tar.gz is the sdist of other-pkg 2.0, not of demo-pkg 0.1.0: give "
        "demo-pkg's sdist with --source\n",
        "",
    )
    again = sdist(tmp_path / "third-1.tar.gz", "Third", "1", {})
    assert run_cli(capsys, "verify", str(wheel), "--source", str(other), "--source", str(again)) == (
        1,
        f"{NAME}: --source other_pkg-2.0.tar.gz, third-1.tar.gz are the sdists of other-pkg 2.0, Third 1, not of "
        "demo-pkg 0.1.0: give demo-pkg's sdist with --source\n",
        "",
    )


def test_the_projects_own_sdist_is_compared_module_by_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path / NAME, sourceless())
    # The name is the wheel's, spelled otherwise: its modules are looked for, one line each.
    own = sdist(tmp_path / "demo_pkg-0.1.0.tar.gz", "Demo_Pkg", "0.1.0", {"src/demo/core.py": SOURCE})
    code, out, err = run_cli(capsys, "verify", str(wheel), "--source", str(own))
    assert (code, err) == (1, "")
    assert out == (
        f"{NAME}: demo/__init__.pyc: no source for it (demo/__init__.py, not in "
        "demo_pkg-0.1.0.tar.gz!Demo_Pkg-0.1.0/src/)\n"
    )
    # Another project's sdist beside the project's own is no problem (a bundle's dependencies).
    other = sdist(tmp_path / "other_pkg-2.0.tar.gz", "other-pkg", "2.0", {})
    assert run_cli(capsys, "verify", str(wheel), "--source", str(other), "--source", str(own))[1] == out


def test_a_bundle_names_the_projects_in_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyz = bundle(tmp_path / "app.pyz", b"", {f"{DIST}/METADATA": b"", "click-8.1.7.dist-info/METADATA": b""})
    other = sdist(tmp_path / "other_pkg-2.0.tar.gz", "other-pkg", "2.0", {})
    assert run_cli(capsys, "verify", str(pyz), "--source", str(other)) == (
        1,
        "app.pyz: --source other_pkg-2.0.tar.gz is the sdist of other-pkg 2.0, not of any project in it "
        "(click 8.1.7, demo_pkg 0.1.0): give their sdist with --source\n",
        "",
    )
