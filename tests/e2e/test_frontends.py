"""Every common frontend gets the same wheel: python -m build, uv build, pip wheel, hatch build."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import wheels
from helpers import MakeVenv, copy_project, only_wheel, run, set_hook_options, uv


@pytest.mark.slow
def test_frontends_build_the_same_wheel(demo: Path, tmp_path: Path, wheelhouse: Path, make_venv: MakeVenv) -> None:
    # Isolated build environments find hatch-pyc (not on PyPI here) in the wheelhouse, as
    # README's Install section says: uv build --find-links, hatch (which makes its build
    # environment with uv) UV_FIND_LINKS, and PIP_FIND_LINKS for the pip-based ones.
    env = {**os.environ, "PIP_FIND_LINKS": str(wheelhouse)}
    hatch = make_venv()
    hatch.uv_install("hatch")
    # Each frontend compiles for itself: none gets its pycs from another one's cache entries.
    set_hook_options(demo, "cache = false")
    commands = {
        "build": [sys.executable, "-m", "build", "--wheel", "--outdir", "{out}", "."],
        "uv": [
            uv(),
            "build",
            "--python",
            sys.executable,
            "--find-links",
            wheelhouse,
            "--wheel",
            "--out-dir",
            "{out}",
            ".",
        ],
        "pip": [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", "{out}", "."],
        "hatch": [hatch.path / "bin" / "hatch", "build", "-t", "wheel", "{out}"],
    }
    built = {}
    for name, command in commands.items():
        out = tmp_path / name
        extra = {"UV_FIND_LINKS": str(wheelhouse)} if name == "hatch" else {}
        run([str(part).format(out=out) for part in command], cwd=demo, env={**env, **extra})
        built[name] = only_wheel(out)
    reference = built["build"].read_bytes()
    assert any(name.endswith(".pyc") for name in wheels.names(built["build"]))
    for name, wheel in built.items():
        assert wheel.read_bytes() == reference, name


@pytest.mark.slow
@pytest.mark.parametrize("hatchling", ["hatchling==1.26.3", "hatchling"])
def test_oldest_and_newest_hatchling_and_state_put_back_for_the_next_build(
    hatchling: str, demo: Path, tmp_path: Path, wheelhouse: Path, make_venv: MakeVenv
) -> None:
    """The oldest hatchling hatch-pyc supports and the newest; a sourceless wheel, then an
    editable one in the same process, which must not see what the hook changed."""
    venv = make_venv()
    venv.uv_install("--find-links", wheelhouse, hatchling, "hatch-pyc", "editables")
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    out = tmp_path / "out"
    run([venv.python, "-m", "hatchling", "build", "-t", "wheel:standard,editable", "-d", out], cwd=demo)
    (sourceless,) = out.glob(f"*-cp{sys.version_info[0]}{sys.version_info[1]}-none-any.whl")
    (editable,) = out.glob("*-py3-none-any.whl")
    assert wheels.requires_python(sourceless) == f"=={sys.version_info[0]}.{sys.version_info[1]}.*,>=3.8"
    assert wheels.requires_python(editable) == ">=3.8"
    script = "demo_pkg-0.1.0.data/scripts/demo-script"
    assert b"Launcher written by hatch-pyc" in wheels.read(sourceless, script)
    original = (demo / "scripts" / "demo-script").read_bytes()
    # The original script, its shebang rewritten by hatchling as usual.
    assert wheels.read(editable, script).split(b"\n", 1)[1] == original.split(b"\n", 1)[1]
    app = make_venv()
    app.uv_install(sourceless)
    assert run([app.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"


@pytest.mark.slow
@pytest.mark.parametrize("frontend", ["build", "uv"])
def test_a_bundle_with_dependencies_builds_in_isolation_with_no_uv_on_path(
    frontend: str, tmp_path: Path, wheelhouse: Path
) -> None:
    """The hook asks the build environment for uv: neither uv nor pip is on PATH, and uv's
    build environments have no pip."""
    project = copy_project("clickapp", tmp_path / "src")
    path = "/usr/bin:/bin"
    assert shutil.which("uv", path=path) is None
    env = {**os.environ, "PATH": path, "PIP_FIND_LINKS": str(wheelhouse), "UV_FIND_LINKS": str(wheelhouse)}
    out = tmp_path / "out"
    if frontend == "build":
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", out, project]
    else:  # the frontend itself, by its path: the build environment it makes gets no uv from PATH
        command = [uv(), "build", "-p", sys.executable, "--wheel", "--out-dir", out, project]
    run(command, env=env)
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    pyz = out / f"clickapp-2.0.0-{tag}.pyz"
    assert run([sys.executable, pyz, "you"], env={"PATH": path}).stdout.startswith("hello you from clickapp.cli")
