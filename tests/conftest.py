"""Fixtures: real projects in temp dirs, real builds, real venvs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import PROVISIONED, REPO, Venv, copy_project, hatchling_build, only_wheel, run

# Native CPython 3.14 and 3.15 and PyPy 3.11, where `.ci/interpreters` left them: found by
# name (`python = "3.14"`, `pypy3.11`) as any interpreter on PATH is, by the hook too.
if PROVISIONED.is_dir():
    os.environ["PATH"] = f"{PROVISIONED}{os.pathsep}{os.environ.get('PATH', '')}"

# Each test gets a user cache of its own (bundles extract into it), and uv and pip keep theirs.
_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
os.environ.setdefault("UV_CACHE_DIR", str(_USER_CACHE / "uv"))
os.environ.setdefault("PIP_CACHE_DIR", str(_USER_CACHE / "pip"))


@pytest.fixture(scope="session", autouse=True)
def session_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A compile cache and user cache for what module- and session-wide fixtures build, which
    run before any test's own (below)."""
    root = tmp_path_factory.mktemp("caches")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HATCH_PYC_CACHE_DIR", str(root / "pyc-cache"))
        patch.setenv("XDG_CACHE_HOME", str(root / "user-cache"))
        yield


@pytest.fixture(autouse=True)
def compile_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh compile cache and user cache for each test (never the user's), which builds and
    bundles run by the test share."""
    directory = tmp_path / "pyc-cache"
    monkeypatch.setenv("HATCH_PYC_CACHE_DIR", str(directory))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return directory


@pytest.fixture
def build_wheel(tmp_path: Path) -> Callable[..., Path]:
    """Build a project's wheel in a fresh process; returns the wheel's path."""
    counter = iter(range(1000))

    def build(project: Path, **kwargs: object) -> Path:
        out = tmp_path / f"dist-{next(counter)}"
        hatchling_build(project, out, **kwargs)
        return only_wheel(out)

    return build


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a hatch-pyc wheel, for frontends that build in isolation."""
    out = tmp_path_factory.mktemp("wheelhouse")
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out], cwd=REPO)
    return out


@pytest.fixture
def make_venv(tmp_path: Path) -> Callable[..., Venv]:
    counter = iter(range(1000))

    def make(python: Path | str = sys.executable) -> Venv:
        return Venv(tmp_path / f"venv-{next(counter)}", python)

    return make


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A fresh copy of the demo project."""
    return copy_project("demo", tmp_path / "src")
