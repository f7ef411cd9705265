"""Pyodide as a platform: a sourceless wheel compiled by Pyodide's own CPython, installed with
micropip in Pyodide under Node.js, as a page in a browser would install it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import wheels
from helpers import PYODIDE, WASM, BuildWheel, pyodide_or_skip, run, set_hook_options
from test_alongside import DEMO_MODULES
from test_sourceless import SOURCELESS, SOURCELESS_LOADERS, importable, line_of

NAMES = [importable(m) for m in DEMO_MODULES if not m.endswith("__main__.py")]
#: What a page does with the package: import every module, then a traceback from its code.
USE = """
import importlib, sys, traceback
for name in {names!r}:
    module = importlib.import_module(name)
    print(name, type(module.__spec__.loader).__name__, module.__file__.rsplit(".", 1)[-1])
import demo.core
try:
    demo.core.main(["boom"])
except RuntimeError:
    traceback.print_exc(file=sys.stdout)
"""


def micropip_wheel(version: str, into: Path) -> Path:
    """The micropip wheel this Pyodide's lock file names, from PyPI (its npm package has none)."""
    lock = json.loads((WASM / "node_modules" / f"pyodide{PYODIDE[version]}" / "pyodide-lock.json").read_text())
    wanted = lock["packages"]["micropip"]["version"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    run([*command, "--python-version", version, "-d", into, f"micropip=={wanted}"])
    (found,) = into.glob("micropip-*.whl")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.14", "3.15"])
def test_a_sourceless_wheel_for_pyodide_installs_with_micropip_and_runs(
    version: str, demo: Path, build_wheel: BuildWheel, tmp_path: Path
) -> None:
    python = pyodide_or_skip(version, tmp_path / "bin")
    set_hook_options(demo, SOURCELESS.format(version=python))
    wheel = build_wheel(demo)
    assert wheel.name == f"demo_pkg-0.1.0-cp{version.replace('.', '')}-none-any.whl"
    magic = run([python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"]).stdout.strip()
    assert [i["magic_number"] for i in wheels.bytecode_metadata(wheel)["interpreters"]] == [magic]

    micropip = micropip_wheel(version, tmp_path / "micropip")
    node = shutil.which("node")
    assert node is not None
    code = USE.format(names=NAMES)
    result = run([node, WASM / "micropip.mjs", PYODIDE[version], micropip, code, wheel])
    lines = result.stdout.splitlines()
    assert lines[: len(NAMES)] == SOURCELESS_LOADERS
    boom = line_of("src/demo/core.py", "raise RuntimeError")
    # The traceback names the module and line, with no source line: none ships.
    assert lines[-2:] == [f'  File "<demo/core.py>", line {boom}, in boom', "RuntimeError: boom from demo.core"]
    assert result.stderr == ""
