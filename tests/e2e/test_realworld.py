"""Real hatchling projects from PyPI, built sourceless, pass their own test suites.

Each sdist is built by ``uv build`` in an isolated environment with its own build hooks
(hatch-vcs writes a version module, which must be compiled too), then installed into a
fresh venv and tested from a copy of its ``tests/`` directory, so that only the installed
sourceless wheel can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
import wheels
from helpers import MakeVenv, find_python, only_wheel, run, uv

#: ``(name, version, import name, test requirements)``. No test of these suites needs the
#: library's source; one that did would be deselected here with its reason.
PROJECTS = [
    ("platformdirs", "4.3.8", "platformdirs", ["pytest", "pytest-mock", "appdirs==1.4.4"]),
    ("filelock", "3.18.0", "filelock", ["pytest", "pytest-asyncio", "pytest-mock", "pytest-timeout", "virtualenv"]),
]

HOOK = '\n[tool.hatch.build.targets.wheel.hooks.pyc]\nlayout = "sourceless"\n'


def fetch_sdist(name: str, version: str, tools: Path, dest: Path) -> Path:
    """Download the sdist with pip; its metadata step needs the project's build backend."""
    run(
        [
            *(tools / "bin" / "python", "-m", "pip", "download", "--quiet", "--no-deps", "--no-build-isolation"),
            *("--no-binary", name, "--dest", dest, f"{name}=={version}"),
        ]
    )
    (sdist,) = dest.glob(f"{name}-{version}.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(dest, filter="data")
    return dest / f"{name}-{version}"


@pytest.mark.realworld
@pytest.mark.parametrize(("name", "version", "package", "test_requirements"), PROJECTS)
def test_real_project_passes_its_own_tests_from_a_sourceless_wheel(
    name: str,
    version: str,
    package: str,
    test_requirements: list[str],
    tmp_path: Path,
    wheelhouse: Path,
    make_venv: MakeVenv,
) -> None:
    tools = make_venv()
    tools.uv_install("hatchling", "hatch-vcs")
    tree = fetch_sdist(name, version, tools.path, tmp_path / "sdist")
    pyproject = tree / "pyproject.toml"
    text = pyproject.read_text()
    assert '  "hatchling>=1.27",\n' in text
    pyproject.write_text(text.replace('  "hatchling>=1.27",\n', '  "hatchling>=1.27",\n  "hatch-pyc",\n') + HOOK)

    out = tmp_path / "dist"
    uv_build = [uv(), "build", "-p", sys.executable, "--wheel", "--out-dir", out, tree]
    run(uv_build, env={**os.environ, "UV_FIND_LINKS": str(wheelhouse)})
    wheel = only_wheel(out)
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert wheel.name == f"{name}-{version}-{tag}-none-any.whl"
    files = wheels.check_record(wheel)
    sources = [f for f in files if f.endswith(".py")]
    assert sources == wheels.selection_sources({f: wheels.read(wheel, f) for f in sources})
    # hatch-vcs's version file, written by a hook that runs before ours, is compiled too.
    assert f"{package}/version.pyc" in files

    venv = make_venv()
    venv.uv_install(wheel, *test_requirements)
    site = venv.site_packages()
    # No source but the stub of the top-level package, which runs its bytecode.
    assert list((site / package).rglob("*.py")) == [site / package / "__init__.py"]
    assert (site / package / "__init__.py").read_bytes().startswith(wheels.STUB)
    code = f"import importlib; print(importlib.import_module('{package}.version').__spec__.origin)"
    origin = run([venv.python, "-c", code]).stdout.strip()
    assert origin == str(site / package / "version.pyc")

    # The tests run from a directory holding only them and the project's pytest config.
    tests = tmp_path / "tests-only"
    shutil.copytree(tree / "tests", tests / "tests")
    shutil.copy(pyproject, tests / "pyproject.toml")
    result = run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", "tests"],
        cwd=tests,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert " passed" in result.stdout.splitlines()[-1]


#: Runs under each target: what a tool that lists its own package sees.
LISTING = """
import importlib, importlib.resources, json, os, pkgutil, sys
package = importlib.import_module(sys.argv[1])
modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(package.__path__, sys.argv[1] + ".")]
print(json.dumps({
    "iter_modules": sorted(m.name for m in pkgutil.iter_modules(package.__path__)),
    "walk_packages": sorted(m.__name__ for m in modules),
    "listdir": sorted(os.listdir(package.__path__[0])) if os.path.isdir(package.__path__[0]) else None,
    "files": sorted(p.name for p in importlib.resources.files(package).iterdir()),
    "missing": sorted(m.__name__ for m in modules if not os.path.exists(m.__file__)),
}))
"""


@pytest.mark.realworld
@pytest.mark.parametrize("layout", ["sourceless", "zip"])
def test_a_wheel_for_several_interpreters_lists_its_package_as_a_wheel_for_one(
    layout: str, tmp_path: Path, make_venv: MakeVenv
) -> None:
    """boltons from PyPI, converted for CPython 3.11 and 3.12 at once: ``pkgutil``, ``os.listdir``
    and ``importlib.resources`` see the package as they see it from a wheel for one interpreter,
    on both, and every module's ``__file__`` exists where it does there."""
    others = [python for version in ("3.11", "3.12") if (python := find_python(version)) is not None]
    if len(others) < 2:
        pytest.skip("CPython 3.11 and 3.12 are not both installed")
    tools = make_venv()
    run([tools.python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "--dest", tmp_path / "pypi", "boltons==26.2.0"])  # fmt: skip
    plain = only_wheel(tmp_path / "pypi")
    hatch_pyc = [sys.executable, "-m", "hatch_pyc"]
    run([*hatch_pyc, "convert", plain, "--layout", layout, "-o", tmp_path / "one", "--python", others[0]])
    run([*hatch_pyc, "convert", plain, "--layout", layout, "-o", tmp_path / "two", *("--python", others[0]),
         *("--python", others[1])])  # fmt: skip
    seen = {}
    for name in ("one", "two"):
        for python in others if name == "two" else others[:1]:
            venv = make_venv(python)
            venv.uv_install(only_wheel(tmp_path / name))
            seen[name, str(python)] = json.loads(run([venv.python, "-c", LISTING, "boltons"]).stdout)
    single = seen["one", str(others[0])]
    assert len(single["iter_modules"]) > 20
    if layout == "zip":
        # An archive for one interpreter holds its stub compiled too; one for several cannot.
        single["files"].remove("__init__.pyc")
    for python in others:
        assert seen["two", str(python)] == single, python


@pytest.mark.realworld
def test_a_package_that_reads_its_grammar_beside_its_file_runs_from_a_zip_layout_wheel(
    tmp_path: Path, make_venv: MakeVenv
) -> None:
    """parso from PyPI opens its grammar files beside its ``__file__``: converted to the zip layout,
    it ships beside the archive (the build says so) and parses; ``check`` is content."""
    tools = make_venv()
    run([tools.python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "--dest", tmp_path / "pypi", "parso==0.8.7"])  # fmt: skip
    converted = run(
        [sys.executable, "-m", "hatch_pyc", "convert", only_wheel(tmp_path / "pypi"), "--layout", "zip",
         "-o", tmp_path / "out"]
    )  # fmt: skip
    assert "ships parso beside its archive" in converted.stderr
    wheel = only_wheel(tmp_path / "out")
    venv = make_venv()
    venv.uv_install(wheel)
    parsed = run([venv.python, "-c", "import parso; print(parso.parse('x = 1').children[0].type)"])
    assert parsed.stdout == "expr_stmt\n"
    run([sys.executable, "-m", "hatch_pyc", "check", wheel, "--python", venv.python, "--verify-code"])
