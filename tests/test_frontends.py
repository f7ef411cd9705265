"""Every common frontend gets the same wheel: python -m build, uv build, pip wheel, hatch build."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import wheels
from helpers import MakeVenv, only_wheel, run, set_hook_options, uv


@pytest.mark.slow
def test_frontends_build_the_same_wheel(demo: Path, tmp_path: Path, wheelhouse: Path, make_venv: MakeVenv) -> None:
    # Isolated build environments find hatch-pyc (not on PyPI here) in the wheelhouse, as
    # README's Install section says: uv build --find-links, PIP_FIND_LINKS for the others.
    env = {**os.environ, "PIP_FIND_LINKS": str(wheelhouse)}
    hatch = make_venv()
    hatch.uv_install("hatch")
    # Each frontend compiles for itself: none gets its pycs from another one's cache entries.
    set_hook_options(demo, "cache = false")
    commands = {
        "build": [sys.executable, "-m", "build", "--wheel", "--outdir", "{out}", "."],
        "uv": [uv(), "build", "--find-links", wheelhouse, "--wheel", "--out-dir", "{out}", "."],
        "pip": [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", "{out}", "."],
        "hatch": [hatch.path / "bin" / "hatch", "build", "-t", "wheel", "{out}"],
    }
    built = {}
    for name, command in commands.items():
        out = tmp_path / name
        run([str(part).format(out=out) for part in command], cwd=demo, env=env)
        built[name] = only_wheel(out)
    reference = built["build"].read_bytes()
    assert any(name.endswith(".pyc") for name in wheels.names(built["build"]))
    for name, wheel in built.items():
        assert wheel.read_bytes() == reference, name
