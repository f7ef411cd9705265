"""A bundle's extracted packages are on ``sys.path`` as an installed tool's site-packages is:
code that maps its own files to module names through ``sys.path`` (as pylint's astroid does),
finds plugins by listing a directory, or lists its package's modules with ``pkgutil`` runs
from the bundle as installed; and nothing but the bundle's own names imports from there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MakeVenv, copy_project, hatchling_build, run

HATCH_PYC = Path(sys.executable).parent / "hatch-pyc"

INSTALLED = [
    "pluginapp.plugins.count: counts",
    "pluginapp.plugins.greet: greets",
    "itself: pluginapp.cli pluginapp",
    "iter_modules: ['count', 'greet']",
    "walk_packages: ['pluginapp.cli', 'pluginapp.plugins', 'pluginapp.plugins.count', 'pluginapp.plugins.greet']",
    "on sys.path: True",
]


@pytest.fixture(scope="module")
def pluginapp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """pluginapp's wheel and its bundle, built by the hook."""
    work = tmp_path_factory.mktemp("pluginapp")
    out = work / "out"
    hatchling_build(copy_project("pluginapp", work / "src"), out)
    (wheel,) = out.glob("*.whl")
    (pyz,) = out.glob("*.pyz")
    return wheel, pyz


def _start(pyz: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, pyz, *args], env={**os.environ, "XDG_CACHE_HOME": str(cache)})


def test_a_bundle_finds_its_plugins_through_sys_path_as_installed(
    pluginapp: tuple[Path, Path], tmp_path: Path, make_venv: MakeVenv
) -> None:
    wheel, pyz = pluginapp
    venv = make_venv()
    venv.uv_install(wheel)
    installed = run([venv.path / "bin" / "pluginapp"])
    assert installed.stdout.splitlines() == INSTALLED

    for start in ("first", "warm"):
        started = _start(pyz, tmp_path / "cache")
        assert (started.stdout, started.stderr) == (installed.stdout, ""), start

    # Its packages run from the archive (pluginapp reads its files beside __file__, so it is
    # extracted all the same), and from a private directory where the cache cannot be written.
    archived = tmp_path / "archived.pyz"
    run([HATCH_PYC, "bundle", wheel, "--run-from", "archive", "-o", archived])
    assert _start(archived, tmp_path / "cache").stdout == installed.stdout
    blocked = tmp_path / "blocked"
    blocked.write_text("")  # a file where the cache would be: even root cannot write there
    private = _start(pyz, blocked)
    assert private.stdout == installed.stdout
    assert "; extracted to " in private.stderr
    assert run([HATCH_PYC, "check", pyz]).returncode == 0


def test_only_the_bundles_own_names_import_from_its_directory_on_sys_path(
    pluginapp: tuple[Path, Path], tmp_path: Path, make_venv: MakeVenv
) -> None:
    """A module written into the directory (``pluginapp plant``: beside the package, at run
    time, after the start's checks) imports and is listed where pluginapp is installed, and
    from the bundle is neither; the next start removes it."""
    wheel, pyz = pluginapp
    venv = make_venv()
    venv.uv_install(wheel)
    installed = run([venv.path / "bin" / "pluginapp", "plant", "planted_module"])
    assert installed.stdout.splitlines() == ["planted code ran", "planted_module: imported", "listed: True"]

    cache = tmp_path / "cache"
    planted = _start(pyz, cache, "plant", "planted_module")
    assert planted.stdout.splitlines() == ["planted_module: not importable", "listed: False"]
    (root,) = (cache / "hatch-pyc" / "pyz").iterdir()
    assert (root / "planted_module.py").exists()
    # A name of the standard library too: the standard library's module answers.
    shadow = _start(pyz, cache, "plant", "colorsys")
    assert shadow.stdout.splitlines() == ["colorsys: imported", "listed: True"]

    again = _start(pyz, cache)
    assert again.stdout.splitlines() == INSTALLED
    assert again.stderr.startswith(f"{pyz.name}: warning: removed ")
    assert not (root / "planted_module.py").exists()
    assert not (root / "colorsys.py").exists()
