"""PyPy as a target: its own magic number, cache tag and wheel tag, installed into a PyPy venv."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, MakeVenv, python_or_skip, run, set_hook_options
from test_cli import HATCH_PYC
from test_sourceless import SOURCELESS, SOURCELESS_LOADERS, exercise
from test_zip import ZIP, ZIP_LOADERS


def pypy_or_skip() -> Path:
    found = shutil.which("pypy3")
    if found is None:
        pytest.skip("PyPy is not installed (no pypy3 on PATH; .ci/run installs Debian's pypy3 with apt-get)")
    return Path(found)


def describe(python: Path) -> dict[str, str]:
    code = (
        "import importlib.util, json, sys\n"
        "print(json.dumps({'magic': importlib.util.MAGIC_NUMBER.hex(), 'cache_tag': sys.implementation.cache_tag,"
        " 'tag': 'pp%d%d' % sys.version_info[:2], 'version': '%d.%d' % sys.version_info[:2]}))"
    )
    return dict(json.loads(run([python, "-c", code]).stdout))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "loaders"),
    [
        (SOURCELESS.format(version="pypy3"), SOURCELESS_LOADERS),
        (ZIP + '\npython = "pypy3"', ZIP_LOADERS),
    ],
    ids=["sourceless", "zip"],
)
def test_wheel_for_pypy(
    options: str, loaders: list[str], demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    pypy = pypy_or_skip()
    info = describe(pypy)
    set_hook_options(demo, options)
    wheel = build_wheel(demo)
    assert wheel.name == f"demo_pkg-0.1.0-{info['tag']}-none-any.whl"
    assert wheels.requires_python(wheel) == f"=={info['version']}.*,>=3.8"
    (recorded,) = wheels.bytecode_metadata(wheel)["interpreters"]
    assert recorded["implementation"] == "pypy"
    assert (recorded["magic_number"], recorded["cache_tag"], recorded["python_tag"]) == (
        info["magic"],
        info["cache_tag"],
        info["tag"],
    )

    venv = make_venv(pypy)
    venv.pip("install", wheel)
    exercise(venv, loaders)
    assert run([*HATCH_PYC, "check", wheel, "--python", venv.python, "--verify-code"]).returncode == 0

    # CPython of the same version refuses it, with pip and with uv.
    cpython = make_venv(python_or_skip(info["version"]))
    refused = cpython.pip("install", wheel, check=False)
    assert refused.returncode != 0
    assert "is not a supported wheel on this platform" in refused.stderr
    refused = cpython.uv_install(wheel, check=False)
    assert refused.returncode != 0
    assert f"`{info['tag']}`" in " ".join(refused.stderr.split())


@pytest.mark.slow
def test_cpython_wheel_is_refused_on_pypy(demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    pypy = pypy_or_skip()
    version = describe(pypy)["version"]
    python_or_skip(version)
    set_hook_options(demo, SOURCELESS.format(version=version))
    wheel = build_wheel(demo)
    assert wheel.name == f"demo_pkg-0.1.0-cp{version.replace('.', '')}-none-any.whl"
    venv = make_venv(pypy)
    refused = venv.pip("install", wheel, check=False)
    assert "is not a supported wheel on this platform" in refused.stderr
    assert venv.uv_install(wheel, check=False).returncode != 0
    checked = run([*HATCH_PYC, "check", wheel, "--python", venv.python], check=False)
    assert checked.returncode == 1
    assert "pypy" in checked.stdout
