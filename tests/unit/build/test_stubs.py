"""Wheels for several interpreters: the module manifest, the stubs, and the selector at run time
(a tree laid out by hand for the running interpreter, imported in a fresh process)."""

from __future__ import annotations

import importlib.util
import marshal
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hatch_pyc.build import stubs
from hatch_pyc.core.interpreters import running

HERE = running().interpreter
PACKAGE = stubs.selector_package("Demo-Pkg")


def test_the_manifest_names_modules_packages_and_namespaces() -> None:
    compiled = ["demo/__init__.py", "demo/core.py", "demo/ns/plugin.py", "demo/sub/__init__.py", "top.py"]
    shipped = [*compiled, "demo/kept.py"]
    assert stubs.manifest(compiled, shipped) == {
        "demo": True,
        "demo.core": False,
        "demo.ns": None,
        "demo.ns.plugin": False,
        "demo.sub": True,
        "top": False,
    }


@pytest.mark.parametrize(
    ("compiled", "kept", "says"),
    [
        (["nspkg/mod.py"], [], "nspkg is a namespace package (no nspkg/__init__.py)"),
        (["demo/core.py"], ["demo/__init__.py"], "keep-source names demo/__init__.py, a top-level module"),
        (["demo/__init__.py"], ["top.py"], "keep-source names top.py, a top-level module"),
    ],
)
def test_a_top_level_that_cannot_select_its_bytecode_is_refused(
    compiled: list[str], kept: list[str], says: str
) -> None:
    with pytest.raises(stubs.StubError, match=re.escape(says)):
        stubs.files(
            distribution="demo-pkg",
            version="1.0",
            interpreters=[HERE],
            compiled=compiled,
            kept=kept,
            shipped=[*compiled, *kept],
        )


def test_the_selector_code_is_named_by_cache_tag() -> None:
    path = stubs.selector_code_path(PACKAGE, "cpython-311")
    assert path == f"{PACKAGE}/cpython-311.pyc"
    assert stubs.selector_code_tag(path, PACKAGE) == "cpython-311"
    assert stubs.selector_code_tag(f"{PACKAGE}/cpython-311/demo.pyc", PACKAGE) is None
    assert stubs.selector_code_tag(f"{PACKAGE}/__init__.opt-1.pyc", PACKAGE) is None
    assert stubs.selector_code_tag(f"{PACKAGE}/__init__.pyc", PACKAGE) is None
    assert stubs.selector_code_tag("demo/cpython-311.pyc", PACKAGE) is None


def test_the_source_that_runs_on_every_interpreter_is_small() -> None:
    """The selector package's ``__init__.py``, which an archive for several interpreters ships
    as source alone, holds no module table: its size does not grow with the distribution."""
    targets = [
        type(HERE)(implementation="cpython", version=f"3.{minor}.0", cache_tag=f"cpython-3{minor}", magic_number="")
        for minor in (15, 9, 12)
    ]
    init = stubs.selector_init("demo-pkg 1.0", targets)
    assert len(init) < 1000
    assert b"'cpython-39': 'CPython 3.9', 'cpython-312': 'CPython 3.12', 'cpython-315': 'CPython 3.15'" in init
    assert not init.startswith(b'"""')


def test_tree_entries() -> None:
    assert stubs.tree_entry(f"{PACKAGE}/cpython-311/demo/core.pyc", PACKAGE) == ("cpython-311", "demo/core.pyc")
    assert stubs.tree_entry(f"{PACKAGE}/__init__.py", PACKAGE) is None
    assert stubs.tree_entry(f"{PACKAGE}/__pycache__/__init__.cpython-311.pyc", PACKAGE) is None
    assert stubs.tree_entry("demo/core.pyc", PACKAGE) is None
    assert PACKAGE == "_hatch_pyc_bytecode_demo_pkg"


SOURCES = {
    "demo/__init__.py": "from . import core\nVALUE = core.answer()\n",
    "demo/core.py": "def answer():\n    return 42\n\ndef boom():\n    raise RuntimeError('boom')\n",
    "demo/sub/__init__.py": "",
    "demo/ns/plugin.py": "NAME = 'plugin'\n",
}
USE = """
import os, sys, importlib.resources as resources
import demo, demo.sub, demo.ns.plugin
print(demo.VALUE, demo.ns.plugin.NAME, os.path.relpath(demo.core.__file__, sys.argv[1]))
print(resources.files("demo").joinpath("data.txt").read_text().strip())
if os.path.isdir(sys.argv[1]):
    print(open(os.path.join(os.path.dirname(demo.core.__file__), "data.txt")).read().strip())
try:
    demo.core.boom()
except RuntimeError:
    import traceback
    print(traceback.format_exc().splitlines()[-2].strip())
"""


def _pyc(source: str, path: str) -> bytes:
    code = compile(source, f"<{path}>", "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + struct.pack("<I", 3) + importlib.util.source_hash(source.encode())
    return header + marshal.dumps(code)


def _selector(targets: list, tag: str, sources: dict[str, str]) -> dict[str, bytes]:
    """The selector package for ``targets`` and the modules ``sources``, its code and their
    bytecode compiled by the running interpreter under ``tag``."""
    manifest = stubs.manifest(list(sources), list(sources))
    code = stubs.selector_code("demo-pkg 1.0", manifest, "").decode()
    files = {
        f"{PACKAGE}/__init__.py": stubs.selector_init("demo-pkg 1.0", targets),
        stubs.selector_code_path(PACKAGE, tag): _pyc(code, f"{PACKAGE}/{tag}.py"),
    }
    for path, source in sources.items():
        files[f"{PACKAGE}/{tag}/{path}c"] = _pyc(source, path)
    return files


def _lay_out(targets: list, tag: str) -> dict[str, bytes]:
    """A wheel's site-packages files for ``targets``, with bytecode for the running interpreter under ``tag``."""
    files = {"demo/__init__.py": stubs.stub(PACKAGE, "demo/__init__.py", None), "demo/data.txt": b"payload\n"}
    return {**files, **_selector(targets, tag, SOURCES)}


def _write(site: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(content)


def _run(path: Path, code: str = USE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(path), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env)


EXPECTED = ["42 plugin demo/core.pyc", "payload", "payload", 'File "<demo/core.py>", line 5, in boom']


def test_the_selector_runs_each_module_as_a_sourceless_wheel_would(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site, _lay_out([HERE], HERE.cache_tag))
    result = _run(site)
    assert result.stderr == ""
    assert result.stdout.splitlines() == EXPECTED


def test_the_selector_runs_from_an_archive_on_sys_path(tmp_path: Path) -> None:
    archive = tmp_path / "demo_pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path, content in _lay_out([HERE], HERE.cache_tag).items():
            zf.writestr(path, content)
    result = _run(archive)
    assert result.stderr == ""
    # Paths built from __file__ point into the archive, as zipimport's do: open() cannot read them.
    assert result.stdout.splitlines()[:2] == ["42 plugin demo/core.pyc", "payload"]


def test_an_interpreter_with_no_bytecode_gets_one_clear_import_error(tmp_path: Path) -> None:
    other = type(HERE)(implementation="cpython", version="3.99.0", cache_tag="cpython-399", magic_number="")
    site = tmp_path / "site"
    _write(site, _lay_out([other], other.cache_tag))
    result = _run(site, "import demo")
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    version = ".".join(map(str, sys.version_info[:3]))
    assert last == (
        f"ImportError: demo-pkg 1.0 has bytecode for CPython 3.99; this is CPython {version} at {sys.executable}: "
        "install the wheel built for this interpreter, or the sdist"
    )
    assert "bad magic" not in result.stderr


def test_the_selector_answers_no_name_the_standard_library_owns(tmp_path: Path) -> None:
    """A module table naming ``json.decoder`` (its bytecode in the tree, a stub ``json``) takes
    nothing from the standard library: the stub never runs for ``json``, so the finder leaves
    every name below it alone, and it sits after the built-in and frozen importers."""
    site = tmp_path / "site"
    sources = {**SOURCES, "json/__init__.py": "", "json/decoder.py": "open('MARKER', 'w')\n"}
    files = {
        "demo/__init__.py": stubs.stub(PACKAGE, "demo/__init__.py", None),
        "json/__init__.py": stubs.stub(PACKAGE, "json/__init__.py", None),
    }
    files.update(_selector([HERE], HERE.cache_tag, sources))
    _write(site, files)
    # site-packages comes after the standard library on sys.path, as addsitedir puts it.
    code = (
        "import site, sys; site.addsitedir(sys.argv[1])\n"
        "import demo, json.decoder\n"
        "print(json.decoder.__file__.startswith(sys.argv[1]))\n"
        "names = [getattr(f, '__name__', type(f).__name__) for f in sys.meta_path]\n"
        "finder = names.index('Finder')\n"
        "print(finder > names.index('FrozenImporter'), finder < names.index('PathFinder'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.stderr == ""
    assert result.stdout.split() == ["False", "True", "True"]
    assert not (tmp_path / "MARKER").exists()


def test_a_wheel_for_one_interpreter_runs_its_bytecode_from_the_stub(tmp_path: Path) -> None:
    """The stub of a wheel for one interpreter runs the module's bytecode itself (no selector
    imported, no finder on sys.meta_path), and on another interpreter imports the selector
    package, whose __init__ refuses it in one line."""
    other = type(HERE)(implementation="cpython", version="3.99.0", cache_tag="cpython-399", magic_number="")
    for interpreter, site in ((HERE, tmp_path / "here"), (other, tmp_path / "other")):
        files = {
            "top.py": stubs.stub(PACKAGE, "top.py", interpreter.cache_tag),
            f"{PACKAGE}/__init__.py": stubs.selector_init("demo-pkg 1.0", [interpreter]),
            f"{PACKAGE}/{interpreter.cache_tag}/top.pyc": _pyc("VALUE = 42\n", "top.py"),
        }
        _write(site, files)
    code = (
        "import sys, top\n"
        "finder = any(getattr(f, '__name__', '') == 'Finder' for f in sys.meta_path)\n"
        "print(top.VALUE, any(n.startswith('_hatch') for n in sys.modules), finder)\n"
        "print(sorted(name for name in vars(top) if not name.startswith('__')))\n"
    )
    result = _run(tmp_path / "here", code)
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["42 False False", "['VALUE']"]
    refused = _run(tmp_path / "other", "import top")
    assert refused.stderr.splitlines()[-1].startswith(
        "ImportError: demo-pkg 1.0 has bytecode for CPython 3.99; this is "
    )
