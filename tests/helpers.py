"""Helpers for the tests: running commands, finding interpreters, building, making venvs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
PYENV = Path("/root/.pyenv/versions")
#: Where ``.ci/interpreters`` leaves native CPython 3.14 and 3.15 and PyPy 3.11 (conftest.py
#: puts it on PATH).
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
PROVISIONED = Path(os.environ.get("HATCH_PYC_INTERPRETERS_DIR") or _CACHE / "hatch-pyc-ci" / "interpreters") / "bin"


def run(command: list[str | os.PathLike[str]], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``command``, capturing text output; fail the test with it if ``check`` and it fails."""
    check = kwargs.pop("check", True)
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        pytest.fail(f"{command} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def find_python(version: str) -> Path | None:
    """A CPython ``version`` (``"3.12"``) from pyenv or PATH, or None."""

    def patch(path: Path) -> int:
        release = path.parent.parent.name.removeprefix(f"{version}.")
        return int(release) if release.isdigit() else -1

    # The newest patch release: 3.12.10 after 3.12.9, which sorting the names would not give.
    for candidate in sorted(PYENV.glob(f"{version}.*/bin/python"), key=patch, reverse=True):
        return candidate
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


def python_or_skip(version: str) -> Path:
    python = find_python(version)
    if python is None:
        pytest.skip(
            f"CPython {version} is not installed (looked under {PYENV} and on PATH; `.ci/interpreters` "
            "provisions 3.14 and 3.15 from Debian's unstable suite)"
        )
    return python


def pypy_or_skip(version: str) -> Path:
    """PyPy ``version`` (``"3.11"``): ``pypy3.11`` on PATH (Debian's pypy3, or ``.ci/interpreters``)."""
    found = shutil.which(f"pypy{version}")
    if found is None:
        pytest.skip(
            f"PyPy {version} is not installed (no pypy{version} on PATH; .ci/run installs Debian's pypy3, "
            "`.ci/interpreters` PyPy 3.11 from Debian's unstable suite)"
        )
    return Path(found)


#: Pyodide, CPython built for WebAssembly, from the npm registry (``npm ci --prefix tests/wasm``),
#: by the version of CPython it is: a platform the tests ship bytecode to.
WASM = Path(__file__).resolve().parent / "wasm"
PYODIDE = {"3.14": "314", "3.15": "315"}


def pyodide_or_skip(version: str, bin_dir: Path) -> Path:
    """A ``python3.14`` command in ``bin_dir`` that runs Pyodide's CPython ``version`` under
    Node.js (``tests/wasm/python.mjs``: no venvs, no subprocesses), for the hook to compile
    with. Skips the test, naming what is missing."""
    node = shutil.which("node")
    package = PYODIDE[version]
    if node is None or not (WASM / "node_modules" / f"pyodide{package}").is_dir():
        pytest.skip(f"Pyodide {package} is not installed (needs node and `npm ci --prefix tests/wasm`)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    launcher = bin_dir / f"python{version}"
    launcher.write_text(f'#!/bin/sh\nexec "{node}" "{WASM / "python.mjs"}" {package} "$@"\n')
    launcher.chmod(0o755)
    return launcher


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        pytest.skip("uv is not on PATH")
    return found


def copy_project(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(PROJECTS / name, target)
    return target


def set_hook_options(project: Path, options: str) -> None:
    """Replace the body of the project's ``[tool.hatch.build.targets.wheel.hooks.pyc]`` table."""
    pyproject = project / "pyproject.toml"
    header = "[tool.hatch.build.targets.wheel.hooks.pyc]"
    text = pyproject.read_text()
    text = text[: text.index(header) + len(header)] + "\n" + options + "\n"
    pyproject.write_text(text)


def hatchling_build(
    project: Path, out: Path, *, env: dict[str, str] | None = None, python: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Build the wheel with hatchling's own CLI in a fresh process (no build isolation)."""
    full_env = {**os.environ, **(env or {})}
    return run(
        [python or sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out],
        cwd=project,
        env=full_env,
        check=check,
    )


def only_wheel(out: Path) -> Path:
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


class Venv:
    """A fresh virtual environment made by uv, with pip in it."""

    def __init__(self, path: Path, python: Path | str) -> None:
        self.path = path
        run([uv(), "venv", "--seed", "-q", "-p", python, path])
        self.python = path / "bin" / "python"

    def uv_install(self, *args: str | os.PathLike[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return run([uv(), "pip", "install", "-p", self.python, *args], check=check)

    def pip(self, *args: str | os.PathLike[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return run([self.python, "-m", "pip", "--disable-pip-version-check", *args], check=check)

    def site_packages(self) -> Path:
        return Path(run([self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())

    def files(self) -> set[str]:
        """Every file in the venv, relative to it: to see what an install left behind.

        uv leaves its own ``.lock`` file in a venv it installed into; that is not ours.
        """
        return {
            str(p.relative_to(self.path))
            for p in self.path.rglob("*")
            if (p.is_file() or p.is_symlink()) and p.name != ".lock"
        }


#: The ``build_wheel`` fixture: ``build_wheel(project, env=..., python=...) -> wheel path``.
BuildWheel = Callable[..., Path]
#: The ``make_venv`` fixture: ``make_venv(python=sys.executable) -> Venv``.
MakeVenv = Callable[..., Venv]


def demo_artifacts(root: Path) -> dict[str, Path]:
    """Real artifacts of the demo project built by the hook in ``root``: its alongside,
    sourceless and zip wheels (the zip one keeping a module's source) and a ``.pyz``."""
    demo = copy_project("demo", root / "src")
    found = {}
    for layout in ("alongside", "sourceless", "zip"):
        options = f'layout = "{layout}"\ncache = false'
        if layout == "zip":
            options += '\nkeep-source = ["demo/selfsource.py"]'
        set_hook_options(
            demo, options + ("\n[tool.hatch.build.targets.wheel.hooks.pyc.zipapp]" if layout == "sourceless" else "")
        )
        hatchling_build(demo, root / layout)
        found[layout] = only_wheel(root / layout)
    found["pyz"] = next((root / "sourceless").glob("*.pyz"))
    return found
