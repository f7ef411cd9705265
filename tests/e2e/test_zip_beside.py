"""The zip layout ships a package whose modules read data files beside their own ``__file__``
beside its archive, sourceless, as the sourceless layout does (in an archive ``open`` finds no
such file), says so in one build line, and the rest stays in the archive: built by the hook and
by ``convert``, for one interpreter and for several, installed with uv, checked, verified."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
import wheels
from helpers import MakeVenv, find_python, hatchling_build, only_wheel, run

from hatch_pyc.build import stubs

PYPROJECT = """\
[build-system]
requires = ["hatchling", "hatch-pyc"]
build-backend = "hatchling.build"

[project]
name = "grammar-app"
version = "1.0"

[tool.hatch.build.targets.wheel]
packages = ["src/grammar", "src/plain"]

[tool.hatch.build.targets.wheel.hooks.pyc]
layout = "zip"
cache = false
"""
FILES = {
    "src/grammar/__init__.py": "from grammar.parse import rules\n",
    "src/grammar/parse.py": (
        "import os\n\n"
        "def rules():\n"
        "    with open(os.path.join(os.path.dirname(__file__), 'rules.txt')) as f:\n"
        "        return f.read().split()\n"
    ),
    "src/grammar/rules.txt": "expr term factor\n",
    "src/plain/__init__.py": (
        "from importlib.resources import files\n\nTEXT = files('plain').joinpath('data.txt').read_text()\n"
    ),
    "src/plain/data.txt": "plain data\n",
}
USE = (
    "import grammar, plain\n"
    "print(grammar.rules(), plain.TEXT.strip(), type(plain.__loader__).__name__,"
    " grammar.parse.__file__.endswith('.pyc'))\n"
)
SAYS = (
    "the zip layout ships grammar beside its archive, as the sourceless layout does: its modules find data files by "
    "__file__, which are not files inside an archive"
)


def _project(root: Path, options: str = "") -> Path:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pyproject.toml").write_text(PYPROJECT + options)
    return root


def _layout(wheel: Path) -> tuple[list[str], list[str]]:
    """The wheel's files beside the archive (but its .dist-info) and the archive's."""
    with zipfile.ZipFile(wheel) as zf:
        outside = sorted(n for n in zf.namelist() if ".dist-info/" not in n)
        with zf.open("grammar_app.zip") as inner, zipfile.ZipFile(inner) as archive:
            return outside, sorted(n for n in archive.namelist() if not n.endswith("/"))


def _works(wheel: Path, python: Path, make_venv: MakeVenv) -> None:
    venv = make_venv(python)
    venv.uv_install(wheel)
    assert run([venv.python, "-c", USE]).stdout == "['expr', 'term', 'factor'] plain data zipimporter True\n"
    run([sys.executable, "-m", "hatch_pyc", "check", wheel, "--python", venv.python, "--verify-code"])


def test_the_hook_ships_a_package_that_reads_beside_its_file_beside_the_archive(
    tmp_path: Path, make_venv: MakeVenv
) -> None:
    project = _project(tmp_path / "src")
    built = hatchling_build(project, tmp_path / "out")
    assert f"hatch-pyc: {SAYS}" in built.stderr + built.stdout
    wheel = only_wheel(tmp_path / "out")
    outside, inside = _layout(wheel)
    tag = f"{sys.version_info[0]}{sys.version_info[1]}"
    assert outside == [
        "grammar/__init__.py",
        f"grammar/__pycache__/__init__.cpython-{tag}.pyc",
        "grammar/parse.pyc",
        "grammar/rules.txt",
        "grammar_app.pth",
        "grammar_app.zip",
    ]
    assert not any(name.startswith("grammar/") for name in inside)
    assert {"plain/__init__.py", "plain/__init__.pyc", "plain/data.txt"} <= set(inside)
    _works(wheel, Path(sys.executable), make_venv)
    run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", tmp_path / "sdist"], cwd=project)
    verified = run(
        [sys.executable, "-m", "hatch_pyc", "verify", wheel, "--source", next((tmp_path / "sdist").iterdir())]
    )
    assert verified.stdout.startswith("ok: ")


@pytest.mark.slow
def test_convert_for_several_interpreters_does_the_same(tmp_path: Path, make_venv: MakeVenv) -> None:
    pythons = [python for version in ("3.11", "3.12") if (python := find_python(version)) is not None]
    if len(pythons) < 2:
        pytest.skip("CPython 3.11 and 3.12 are not both installed")
    project = _project(tmp_path / "src")
    plain = hatchling_build(project, tmp_path / "plain", env={"HATCH_BUILD_NO_HOOKS": "true"})
    assert "hatch-pyc" not in plain.stderr
    names = [arg for python in pythons for arg in ("--python", str(python))]
    converted = run(
        [sys.executable, "-m", "hatch_pyc", "convert", only_wheel(tmp_path / "plain"), "--layout", "zip", "-o",
         tmp_path / "out", *names]
    )  # fmt: skip
    assert f"hatch-pyc: warning: {SAYS}" in converted.stderr
    wheel = only_wheel(tmp_path / "out")
    outside, inside = _layout(wheel)
    # The newest interpreter's bytecode of the modules below the top level is in their places.
    assert "grammar/parse.pyc" in outside
    assert not any(name.startswith("grammar/") for name in inside)
    for python in pythons:
        _works(wheel, python, make_venv)
    assert json.loads(run([sys.executable, "-m", "hatch_pyc", "inspect", "--json", wheel]).stdout)["layout"] == "zip"


def test_check_names_a_package_in_the_archive_that_may_read_beside_its_file(tmp_path: Path) -> None:
    """A zip-layout wheel whose archive holds such a package (as earlier versions, or other
    tools, build it): ``check`` says which, in one note."""
    built = hatchling_build(_project(tmp_path / "src"), tmp_path / "out")
    assert built.returncode == 0
    wheel = only_wheel(tmp_path / "out")
    with zipfile.ZipFile(wheel) as zf:
        beside = [name for name in zf.namelist() if name.startswith("grammar/")]
        moved = {name: zf.read(name) for name in beside if "__pycache__" not in name}
        # In the archive, the stub of a wheel for one interpreter, as this version writes it there.
        tag = sys.implementation.cache_tag
        moved["grammar/__init__.py"] = stubs.stub(stubs.selector_package("grammar-app"), "grammar/__init__.py", tag)
        archive = io.BytesIO()
        with (
            zf.open("grammar_app.zip") as inner,
            zipfile.ZipFile(inner) as source,
            zipfile.ZipFile(archive, "w") as target,
        ):
            for info in source.infolist():
                target.writestr(info, source.read(info))
            for name, data in moved.items():
                target.writestr(name, data)
    changes: dict[str, bytes | None] = {name: None for name in beside}
    changes["grammar_app.zip"] = archive.getvalue()
    tampered = wheels.rewrite(wheel, tmp_path / "moved" / wheel.name, changes)
    checked = run([sys.executable, "-m", "hatch_pyc", "check", tampered], check=False)
    assert (
        "note: grammar_app.zip: grammar may read data files beside __file__ (its code names it), which are not files "
        "inside an archive: build the wheel with this version of hatch-pyc, which ships such packages beside the "
        "archive, or in the sourceless layout"
    ) in checked.stdout.splitlines()
    assert "grammar may read" not in run([sys.executable, "-m", "hatch_pyc", "check", wheel]).stdout
