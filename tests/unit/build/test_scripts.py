"""Compiled scripts: which scripts are Python, the module their code moves to, the launcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hatch_pyc.build import scripts


@pytest.mark.parametrize(
    ("first_line", "python"),
    [
        (b"#!python", True),
        (b"#!/usr/bin/env python3", True),
        (b"#!/usr/bin/python3.12 -I", True),
        (b"#!/opt/pypy3/bin/pypy3", True),
        (b"#!/usr/bin/env pythonw", True),
        (b"#!/bin/sh", False),
        (b"#!/usr/bin/env bash", False),
        (b"print('no shebang')", False),
        (b"#!/usr/bin/env python" + b"3" * 600, False),
    ],
)
def test_python_shebangs(first_line: bytes, python: bool) -> None:
    assert (scripts.python_shebang(first_line + b"\nbody\n") == first_line) is python


@pytest.mark.parametrize(
    ("data", "in_wheel"),
    [
        (b"#!/usr/bin/env python3\nx\n", b"#!python\nx\n"),
        (b"#!/usr/bin/python3.12 -I -u\nx\n", b"#!python -I -u\nx\n"),
        (b"#!python\nx\n", b"#!python\nx\n"),
        (b"x = 1\n", b"x = 1\n"),
    ],
)
def test_scripts_as_a_wheel_carries_them(data: bytes, in_wheel: bytes) -> None:
    assert scripts.as_in_wheel(data) == in_wheel
    assert scripts.as_in_wheel(in_wheel) == in_wheel


@pytest.mark.parametrize(
    ("distribution", "script", "module"),
    [
        ("demo_pkg", "demo-script", "_hatch_pyc_scripts.demo_pkg.demo_script"),
        ("demo_pkg", "scripts/tool.py", "_hatch_pyc_scripts.demo_pkg.tool_py"),
        ("x", "2fa", "_hatch_pyc_scripts.x._2fa"),
    ],
)
def test_module_names(distribution: str, script: str, module: str) -> None:
    assert scripts.module_name(distribution, script) == module
    assert scripts.module_path(module) == module.replace(".", "/") + ".py"


def test_compile_script_writes_the_source_as_in_the_wheel(tmp_path: Path) -> None:
    compiled = scripts.compile_script(
        b"#!/usr/bin/env python3\nprint(1)\n",
        distribution="d",
        script="tool",
        display="bin/tool",
        out_dir=str(tmp_path),
    )
    assert compiled is not None
    module, launcher = compiled
    assert (module.path, module.display, module.filename) == ("_hatch_pyc_scripts/d/tool.py", "bin/tool", "tool")
    assert Path(module.source).read_bytes() == b"#!python\nprint(1)\n"
    assert launcher.startswith(b"#!/usr/bin/env python3\n")
    assert (
        scripts.compile_script(b"#!/bin/sh\n", distribution="d", script="s", display="s", out_dir=str(tmp_path)) is None
    )


def test_the_launcher_runs_the_code_as_main_with_its_arguments_and_exit_status(tmp_path: Path) -> None:
    package = tmp_path / "_hatch_pyc_scripts" / "d"
    package.mkdir(parents=True)
    (package / "tool.py").write_text(
        "import sys\nprint(__name__, sys.argv[1:], __file__.endswith('tool'))\nsys.exit(3)\n"
    )
    launcher = tmp_path / "tool"
    launcher.write_bytes(scripts.launcher(b"#!python", "_hatch_pyc_scripts.d.tool"))
    result = subprocess.run(
        [sys.executable, str(launcher), "a", "b"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert (result.returncode, result.stdout) == (3, "__main__ ['a', 'b'] True\n")
