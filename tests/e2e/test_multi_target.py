"""One sourceless or zip wheel for every CPython from 3.9 to 3.15 found here, installed with uv and
with pip (which compiles the stubs) into a venv of each, and a clear error wherever bytecode
meets an interpreter it was not built for, single-interpreter wheels included."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, MakeVenv, find_python, python_or_skip, run, set_hook_options, uv
from test_sourceless import IMPORT_ALL, KEPT, line_of

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
READ_DATA = (
    "import importlib.resources as r, os, demo, demo.core\n"
    "print(r.files('demo').joinpath('data.txt').read_text().strip())\n"
    "print(os.path.basename(demo.core.__file__))\n"
)


def _found() -> dict[str, Path]:
    found = {version: find_python(version) for version in VERSIONS}
    pythons = {version: python for version, python in found.items() if python is not None}
    if len(pythons) < 2:
        pytest.skip(f"fewer than two of CPython {', '.join(VERSIONS)} are installed")
    return pythons


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["sourceless", "zip"])
def test_one_wheel_for_every_cpython(layout: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    pythons = _found()
    names = json.dumps([str(python) for python in pythons.values()])
    set_hook_options(demo, f'layout = "{layout}"\npython = {names}\nkeep-source = ["{KEPT}"]\ncache = false')
    wheel = build_wheel(demo)
    tags = ".".join(f"cp{version.replace('.', '')}" for version in pythons)
    assert wheel.name == f"demo_pkg-0.1.0-{tags}-none-any.whl"
    recorded = wheels.bytecode_metadata(wheel)["interpreters"]
    assert [i["python_tag"] for i in recorded] == [f"cp{v.replace('.', '')}" for v in pythons]
    boom = line_of("src/demo/core.py", "raise RuntimeError")

    ends = {next(iter(pythons)), list(pythons)[-1]}  # pythons is in version order
    for version, python in pythons.items():
        # pip compiles the stubs with each interpreter: the oldest and the newest here stand for the
        # rest (test_sourceless installs a wheel for one with pip on each).
        for installer in ("uv", "pip") if version in ends else ("uv",):
            venv = make_venv(python)
            if installer == "uv":
                venv.uv_install(wheel)
            else:
                venv.pip("install", wheel)  # pip compiles every shipped .py: the stubs, the selector
            cli = venv.path / "bin" / "demo-cli"
            assert run([cli, "foo"]).stdout == "demo known\n", (version, installer)
            failed = run([cli, "boom"], check=False)
            assert f'File "<demo/core.py>", line {boom}, in boom' in failed.stderr, (version, installer)
            data = run([venv.python, "-c", READ_DATA]).stdout.splitlines()
            assert data == ["payload", "core.pyc"], (version, installer)
            # The selector's loader, reading the bytecode for this interpreter, from the archive in the zip layout.
            loaders = run([venv.python, "-c", IMPORT_ALL, "demo", "demo.core"]).stdout.splitlines()
            assert loaders[1] == "demo.core Loader pyc", (version, installer)
            assert run([*HATCH_PYC_CHECK, wheel, "--python", venv.python, "--verify-code"]).returncode == 0

    # uv compiling after it installs, and pypa/installer through hatch-pyc install, leave it working too.
    here = pythons.get(f"{sys.version_info[0]}.{sys.version_info[1]}") or next(iter(pythons.values()))
    compiled, installed = make_venv(here), make_venv(here)
    compiled.uv_install("--compile-bytecode", wheel)
    run([*HATCH_PYC, "install", wheel, "--python", installed.python])
    for venv in (compiled, installed):
        assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"
    # Every pyc is what each recorded interpreter compiles from the sources.
    verified = run([*HATCH_PYC, "verify", wheel, "--source", demo])
    # 11 modules each and the selector's code; in the sourceless layout also the __pycache__ pycs of
    # the kept module, the stub and the selector's __init__ (zipimport reads none, and in an archive
    # for several interpreters the stub and __init__ are source alone).
    per_interpreter = 15 if layout == "sourceless" else 12
    assert verified.stdout.startswith(f"ok: the {len(recorded) * per_interpreter} pycs of ")

    # An interpreter not among its tags: both installers refuse it.
    other = python_or_skip("3.8")
    venv = make_venv(other)
    refused = venv.pip("install", wheel, check=False)
    assert refused.returncode != 0
    assert "is not a supported wheel on this platform" in refused.stderr
    assert venv.uv_install(wheel, check=False).returncode != 0


HATCH_PYC = [sys.executable, "-m", "hatch_pyc.cli"]
HATCH_PYC_CHECK = [*HATCH_PYC, "check"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layout", "several"), [("sourceless", False), ("zip", False), ("sourceless", True), ("zip", True)]
)
def test_bytecode_forced_onto_another_interpreter_fails_in_one_clear_line(
    layout: str, several: bool, demo: Path, build_wheel: BuildWheel, tmp_path: Path
) -> None:
    """Installed with --target for a version it has bytecode for, then put on PYTHONPATH of 3.8."""
    built_for = ["3.11", "3.12"] if several else ["3.11"]
    pythons = [python_or_skip(version) for version in built_for]
    other = python_or_skip("3.8")
    names = json.dumps([str(python) for python in pythons])
    set_hook_options(demo, f'layout = "{layout}"\npython = {names}\ncache = false')
    wheel = build_wheel(demo)
    site = tmp_path / "site"
    run([uv(), "pip", "install", "--no-config", "--target", site, "--python-version", built_for[0], wheel])
    code = "import site, sys; site.addsitedir(sys.argv[1]); import demo.core"
    result = run([other, "-c", code, site], check=False)
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    targets = ", ".join(f"CPython {version}" for version in built_for)
    version = run([other, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    assert last == (
        f"ImportError: demo-pkg 0.1.0 has bytecode for {targets}; this is CPython {version} at {other}: "
        "install the wheel built for this interpreter, or the sdist"
    )
    assert "bad magic number" not in result.stderr


@pytest.mark.slow
def test_convert_makes_one_wheel_for_several_interpreters(demo: Path, make_venv: MakeVenv, tmp_path: Path) -> None:
    pythons = [python_or_skip(version) for version in ("3.10", "3.12")]
    pyproject = demo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.hatch.build.targets.wheel.hooks.pyc]", ""))
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", tmp_path / "plain"], cwd=demo)
    (plain,) = (tmp_path / "plain").glob("*.whl")
    flags = [argument for python in pythons for argument in ("--python", str(python))]
    run([*HATCH_PYC, "convert", plain, "--layout", "zip", *flags, "-o", tmp_path / "out"])
    (converted,) = (tmp_path / "out").glob("*.whl")
    assert converted.name == "demo_pkg-0.1.0-cp310.cp312-none-any.whl"
    assert set(wheels.requires_python(converted).split(",")) == {"!=3.11.*", "<3.13", ">=3.10", ">=3.8"}
    for python in pythons:
        venv = make_venv(python)
        venv.uv_install(converted)
        assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"


def test_check_says_which_interpreters_pycs_it_compared_by_header_only(demo: Path, build_wheel: BuildWheel) -> None:
    """An alongside wheel for several interpreters: --verify-code compiles with the target only,
    and says how to compare the others' code."""
    pythons = _found()
    names = json.dumps([str(python) for python in pythons.values()])
    set_hook_options(demo, f"python = {names}\ncache = false")
    wheel = build_wheel(demo)
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    out = run([*HATCH_PYC_CHECK, wheel, "--verify-code"]).stdout
    others = [version for version in pythons if version != here]
    for version in others:
        assert (
            f"checked by their headers here, not their code: `hatch-pyc check --verify-code --python {version}`" in out
        )
    assert f"--python {here}`" not in out
