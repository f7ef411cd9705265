"""What a ``--reinstall`` removes of the installed version: only what can be proven its own."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from hatch_pyc.check.landing import Places, real_path
from hatch_pyc.install import InstallRefused, _recorded_files

VERSION = "python3.11"


def _row(prefix: Path, site: Path, relative: str, *, hashed: bool = True) -> str:
    """A RECORD row for the file at ``relative`` (to ``prefix``) as an installer writes it, written first."""
    file = prefix / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    if not file.exists():
        file.write_bytes(f"content of {relative}\n".encode())
    data = file.read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    name = os.path.relpath(file, site)
    return f"{name},sha256={digest},{len(data)}" if hashed else f"{name},,"


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    return Path(real_path(str(tmp_path / "prefix")))


def _places(prefix: Path) -> Places:
    site = prefix / "lib" / VERSION / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (prefix / "bin").mkdir(exist_ok=True)
    return Places(
        schemes={
            "purelib": str(site),
            "platlib": str(site),
            "scripts": str(prefix / "bin"),
            "data": str(prefix),
            "headers": str(prefix / "include" / VERSION / "demo-pkg"),
        },
        path=[str(prefix / "lib" / VERSION), str(site)],
    )


def _installed(prefix: Path, files: list[str], unhashed: tuple[str, ...] = ()) -> tuple[str, Places]:
    """demo-pkg 1.0 installed in ``prefix``, its RECORD listing ``files`` (relative to the prefix)."""
    places = _places(prefix)
    site = Path(places.schemes["purelib"])
    info = site / "demo_pkg-1.0.dist-info"
    info.mkdir()
    rows = [_row(prefix, site, file, hashed=file not in unhashed) for file in files]
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n")
    (info / "RECORD").write_text(
        "\n".join([*rows, "demo_pkg-1.0.dist-info/METADATA,,", "demo_pkg-1.0.dist-info/RECORD,,"])
    )
    return str(info), places


def _removed(dist_info: str, prefix: Path, places: Places) -> set[str]:
    return {str(Path(file).relative_to(prefix)) for file in _recorded_files(dist_info, places)}


SITE = f"lib/{VERSION}/site-packages"


def test_outside_a_venv_only_its_scripts_and_headers(prefix: Path) -> None:
    """For an interpreter that is no venv the data directory is its prefix: the interpreter's
    scripts, headers and libraries, and data files, stay."""
    own = [f"{SITE}/demo_pkg/__init__.py", "bin/demo-cli", f"include/{VERSION}/demo_pkg/demo.h"]
    theirs = [
        f"include/{VERSION}/Python.h",
        f"include/{VERSION}/cpython/object.h",
        f"include/{VERSION}/internal/pycore_x.h",
        f"bin/pydoc{VERSION[6:]}",
        f"bin/{VERSION}",
        "bin/idle3",
        "bin/2to3-3.11",
        f"lib/lib{VERSION}.so",
        f"lib/{VERSION}/os.py",
        f"lib/pkgconfig/{VERSION}.pc",
        "share/demo/readme.txt",
    ]
    dist_info, places = _installed(prefix, own + theirs)
    metadata = {f"{SITE}/demo_pkg-1.0.dist-info/METADATA", f"{SITE}/demo_pkg-1.0.dist-info/RECORD"}
    assert _removed(dist_info, prefix, places) == {*own, *metadata}
    assert all((prefix / file).exists() for file in theirs)


def test_in_a_venv_its_data_files_too_but_not_the_interpreters(prefix: Path) -> None:
    (prefix / "pyvenv.cfg").parent.mkdir(parents=True, exist_ok=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    theirs = [f"include/{VERSION}/Python.h", f"lib/{VERSION}/orphan.txt", f"lib64/{VERSION}/x.txt", "bin/activate"]
    dist_info, places = _installed(prefix, ["share/demo/readme.txt", "etc/demo.conf", *theirs])
    removed = _removed(dist_info, prefix, places)
    assert {"share/demo/readme.txt", "etc/demo.conf"} <= removed
    assert not removed & set(theirs)


def test_a_file_outside_site_packages_only_as_recorded(prefix: Path) -> None:
    """A script the RECORD names with no hash, or with another content than its hash, stays."""
    dist_info, places = _installed(
        prefix, ["bin/demo-cli", "bin/user-script", "bin/edited"], unhashed=("bin/user-script",)
    )
    (prefix / "bin" / "edited").write_text("changed by the user\n")
    assert _removed(dist_info, prefix, places) & {"bin/demo-cli", "bin/user-script", "bin/edited"} == {"bin/demo-cli"}


def test_egg_info_distributions_keep_their_names(prefix: Path) -> None:
    """An .egg-info's installed-files.txt lists its files; its top_level.txt or SOURCES.txt, or
    failing all, its project name, claims whole top-level names."""
    places = _places(prefix)
    site = Path(places.schemes["purelib"])
    listed = site / "legacy-1.0-py3.11.egg-info"
    listed.mkdir()
    (listed / "installed-files.txt").write_text("../legacy.py\n../../../../bin/legacy-tool\nPKG-INFO\n")
    named = site / "distro-2.0-py3.11.egg-info"
    named.mkdir()
    (named / "top_level.txt").write_text("distro\n")
    sourced = site / "sourced-1.0.egg-info"
    sourced.mkdir()
    (sourced / "SOURCES.txt").write_text("setup.py\nsrc/sourced_pkg/__init__.py\n")
    (site / "bare-3.0.egg-info").write_text("Metadata-Version: 1.1\nName: bare\nVersion: 3.0\n")
    theirs = [
        f"{SITE}/legacy.py",
        "bin/legacy-tool",
        f"{SITE}/distro/data.txt",
        f"{SITE}/sourced_pkg/cache.db",
        f"{SITE}/bare.py",
        f"{SITE}/legacy-1.0-py3.11.egg-info/PKG-INFO",
    ]
    dist_info, places = _installed(prefix, [f"{SITE}/demo_pkg/__init__.py", *theirs])
    removed = _removed(dist_info, prefix, places)
    assert f"{SITE}/demo_pkg/__init__.py" in removed
    assert not removed & set(theirs)


def test_a_top_level_name_another_distribution_claims_stays(prefix: Path) -> None:
    """Another distribution's package, even a file its RECORD leaves out, and a top-level
    module's bytecode; in a namespace package they share, only the directories none claims."""
    places = _places(prefix)
    site = Path(places.schemes["purelib"])
    other = site / "other-1.0.dist-info"
    other.mkdir()
    for file in ("other/__init__.py", "ns/theirs/__init__.py", "helper.py", "__pycache__/helper.cpython-311.pyc"):
        (site / file).parent.mkdir(parents=True, exist_ok=True)
        (site / file).write_text("")
    (other / "RECORD").write_text(
        "other/__init__.py,,\nns/theirs/__init__.py,,\nhelper.py,,\n__pycache__/helper.cpython-311.pyc,,\n"
    )
    own = [f"{SITE}/ns/ours/__init__.py", f"{SITE}/ns/ours/deep/x.py", f"{SITE}/demo.pth"]
    theirs = [
        f"{SITE}/other/generated.json",
        f"{SITE}/Other.py",
        f"{SITE}/ns/theirs/generated.dat",
        f"{SITE}/ns/loose.py",
        f"{SITE}/__pycache__/helper.cpython-312.pyc",
        f"{SITE}/other-1.0.dist-info/RECORD",
    ]
    dist_info, places = _installed(prefix, own + theirs)
    removed = _removed(dist_info, prefix, places)
    assert set(own) <= removed
    assert not removed & set(theirs)


def test_another_distribution_whose_files_cannot_be_told_refuses(prefix: Path) -> None:
    places = _places(prefix)
    site = Path(places.schemes["purelib"])
    (site / "broken-1.0.dist-info").mkdir()
    (site / "broken-1.0.dist-info" / "RECORD").write_text('"unclosed\n')
    dist_info, places = _installed(prefix, [f"{SITE}/demo_pkg/__init__.py"])
    with pytest.raises(InstallRefused, match="cannot tell which files"):
        _recorded_files(dist_info, places)
