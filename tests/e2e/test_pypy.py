"""PyPy as a target: its own magic number, cache tag and wheel tags, installed into PyPy venvs
by pip and by uv, and refused by both installers everywhere else."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, MakeVenv, pypy_or_skip, python_or_skip, run, set_hook_options
from test_cli import HATCH_PYC
from test_sourceless import SOURCELESS, SOURCELESS_LOADERS, exercise
from test_zip import ZIP, ZIP_LOADERS

from hatch_pyc.check import bytecode
from hatch_pyc.core.limits import Budget

VERSIONS = ["3.9", "3.11"]
OTHER = {"3.9": "3.11", "3.11": "3.9"}
#: No pyc written at import: any pyc loaded is one the wheel shipped.
ENV_NO_WRITE = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def describe(python: Path) -> dict[str, str]:
    code = (
        "import importlib.util, json, sys, sysconfig\n"
        "print(json.dumps({'magic': importlib.util.MAGIC_NUMBER.hex(), 'cache_tag': sys.implementation.cache_tag,"
        " 'tag': 'pp%d%d' % sys.version_info[:2], 'version': '%d.%d' % sys.version_info[:2],"
        " 'abi': sysconfig.get_config_var('SOABI').replace('-', '_')}))"
    )
    return dict(json.loads(run([python, "-c", code]).stdout))


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("layout", "loaders"), [("sourceless", SOURCELESS_LOADERS), ("zip", ZIP_LOADERS)], ids=["sourceless", "zip"]
)
def test_wheel_for_pypy_installs_with_pip_and_uv_there_only(
    version: str, layout: str, loaders: list[str], demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    pypy = pypy_or_skip(version)
    info = describe(pypy)
    options = SOURCELESS.format(version=pypy) if layout == "sourceless" else ZIP + f'\npython = "{pypy}"'
    set_hook_options(demo, options)
    wheel = build_wheel(demo)
    tag = info["tag"]
    assert wheel.name == f"demo_pkg-0.1.0-{tag}-none.{info['abi']}-any.manylinux_2_17_x86_64.whl"
    assert wheels.wheel_tags(wheel) == sorted(
        f"{tag}-{abi}-{platform}" for abi in ("none", info["abi"]) for platform in ("any", "manylinux_2_17_x86_64")
    )
    assert wheels.requires_python(wheel) == f"=={version}.*,>=3.8"
    (recorded,) = wheels.bytecode_metadata(wheel)["interpreters"]
    assert (recorded["implementation"], recorded["magic_number"], recorded["cache_tag"], recorded["python_tag"]) == (
        "pypy",
        info["magic"],
        info["cache_tag"],
        tag,
    )

    with_pip, with_uv = make_venv(pypy), make_venv(pypy)
    with_pip.pip("install", wheel)
    with_uv.uv_install(wheel)
    for venv in (with_pip, with_uv):
        exercise(venv, loaders)
    assert run([*HATCH_PYC, "check", wheel, "--python", with_uv.python, "--verify-code"]).returncode == 0

    # CPython of the same version and the other PyPy refuse it, with pip and with uv.
    for other in (python_or_skip(version), pypy_or_skip(OTHER[version])):
        venv = make_venv(other)
        refused = venv.pip("install", wheel, check=False)
        assert refused.returncode != 0
        assert "is not a supported wheel on this platform" in refused.stderr
        refused = venv.uv_install(wheel, check=False)
        assert refused.returncode != 0, refused.stderr


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_cpython_wheel_is_refused_on_pypy(
    version: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    pypy = pypy_or_skip(version)
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


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_pypy_alongside_bundle_canonical_bytes_and_the_bytecode_reader(
    version: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv, tmp_path: Path
) -> None:
    pypy = pypy_or_skip(version)
    info = describe(pypy)
    # Alongside, for the build's CPython and this PyPy: one wheel, each loading its own pycs.
    set_hook_options(demo, f'python = ["{sys.executable}", "{pypy}"]\ncache = false')
    alongside = build_wheel(demo)
    assert f"demo/__pycache__/core.{info['cache_tag']}.pyc" in wheels.names(alongside)
    venv = make_venv(pypy)
    venv.uv_install(alongside)
    loaded = run([venv.python, "-c", "import demo.core as m; print(m.__cached__)"], env=ENV_NO_WRITE).stdout
    assert loaded.strip().endswith(f"core.{info['cache_tag']}.pyc")

    # Canonical bytes: another hash seed and another job count give the same wheel.
    set_hook_options(demo, SOURCELESS.format(version=pypy) + "\ncache = false\njobs = 1")
    first = build_wheel(demo, env={"PYTHONHASHSEED": "1"})
    set_hook_options(demo, SOURCELESS.format(version=pypy) + "\ncache = false\njobs = 3")
    second = build_wheel(demo, env={"PYTHONHASHSEED": "2"})
    assert first.read_bytes() == second.read_bytes()

    # The pure-Python bytecode reader reads what this PyPy writes.
    for name in wheels.names(first):
        if name.endswith(".pyc"):
            data = wheels.read(first, name)[16:]
            names = bytecode.code_filenames(data, (3, int(version.split(".")[1])), Budget(name), "pypy")
            assert len(names) == 1
            assert not names[0].strip("<").startswith("/")  # a path in the wheel, none of the build machine

    # A .pyz bundle for this PyPy runs with it.
    pyz = tmp_path / "demo.pyz"
    run([*HATCH_PYC, "bundle", first, "--python", pypy, "--entry-point", "demo.core:main", "-o", pyz])
    assert run([pypy, pyz, "foo", "x"]).stdout == "demo known,unknown\n"
    assert run([*HATCH_PYC, "check", pyz, "--python", pypy, "--verify-code"]).returncode == 0
