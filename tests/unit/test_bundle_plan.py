"""What a bundle will be, decided without a file: entry point, names, bootstrap, native manifest."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hatch_pyc._shipped import bundle_index
from hatch_pyc.bundle import plan as bundle_plan
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BundleError
from hatch_pyc.core.interpreters import Interpreter, running

HERE = running().interpreter
OTHER = Interpreter("cpython", "3.99.0", "cpython-399", "ffff0d0a")


@pytest.mark.parametrize(
    ("configured", "scripts", "key", "expected"),
    [
        ("a:b", {}, "--entry-point", "a:b"),
        (None, {"tool": "pkg.cli:main"}, "--entry-point", "pkg.cli:main"),
        (None, {}, "--entry-point", "--entry-point: the project has no console scripts; give --entry-point"),
        (
            None,
            {"b": "x:y", "a": "x:z"},
            "t.entry-point",
            "t.entry-point: the project has 2 console scripts (a = x:z, b = x:y); set it to a console script's name",
        ),
        ("b", {"b": "x:y", "a": "x:z"}, "--entry-point", "x:y"),
        ("c", {"b": "x:y"}, "--entry-point", "--entry-point: 'c' is no console script of the project (b = x:y)"),
    ],
)
def test_the_entry_point_is_the_configured_one_or_the_only_script(
    configured: str | None, scripts: dict, key: str, expected: str
) -> None:
    if ":" in expected and not expected.startswith(key):
        assert bundle_plan.entry_point(configured, scripts, key) == expected
    else:
        with pytest.raises(BundleError, match=re.escape(expected)):
            bundle_plan.entry_point(configured, scripts, key)


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("def main(): pass\nclass C: pass\nx = y = 1\n", {"main", "C", "x", "y"}),
        ("from os import path as p\nimport a.b\n", {"p", "a"}),
        ("try:\n    def main(): pass\nexcept ImportError:\n    main = None\n", {"main"}),
        ("if True:\n    def main(): pass\n", {"main"}),
        ("x: int = 1\nx += 1\n", {"x"}),
        ("from os import *\n", None),
        ("def __getattr__(name): pass\n", None),
    ],
)
def test_top_level_names(source: str, names: set | None) -> None:
    assert bundle_plan._top_level_names(ast.parse(source)) == names


def test_an_entry_point_without_its_module_or_function_is_refused(tmp_path: Path) -> None:
    cli = tmp_path / "cli.py"
    cli.write_text("def main():\n    pass\n")
    modules = [Module(str(cli), "pkg/cli.py", "src/pkg/cli.py")]
    bundle_plan.check_entry_point("pkg.cli:main", modules, "k")
    bundle_plan.check_entry_point("pkg.cli:main.sub", modules, "k")
    with pytest.raises(
        BundleError, match=re.escape("k: 'pkg.cli:run': src/pkg/cli.py defines no run at its top level")
    ):
        bundle_plan.check_entry_point("pkg.cli:run", modules, "k")
    with pytest.raises(BundleError, match=re.escape("k: 'pkg.other:main': the bundle has no module pkg.other")):
        bundle_plan.check_entry_point("pkg.other:main", modules, "k")
    bundle_plan.check_entry_point("pkg.other:main", modules, "k", precompiled=["pkg/other.pyc"])


def test_names_and_shebangs() -> None:
    assert bundle_plan.pyz_name("Demo-Pkg", "1.0", OTHER) == "demo_pkg-1.0-cp399.pyz"
    assert bundle_plan.default_shebang(OTHER) == "/usr/bin/env python3.99"
    platform = bundle_plan.Platform("cp399-cp399-linux_x86_64", "linux", "x86_64", (".so",))
    assert bundle_plan.pyz_name("a", "2", OTHER, platform) == "a-2-cp399-cp399-linux_x86_64.pyz"


def test_the_extraction_manifest_groups_files_and_names_modules_by_their_longest_suffix() -> None:
    platform = bundle_plan.Platform("t", "linux", "x86_64", (".so", ".abi3.so", ".cpython-311-x86_64-linux-gnu.so"))
    files = {"a/_x.cpython-311-x86_64-linux-gnu.so": 3, "b/_y.abi3.so": 4, "c.libs/libz.so.1": 5, "six.pyc": 6}
    digests = {"a": "aa", "b": "bb", "c.libs": "cc", "six": "66"}
    manifest = bundle_plan.extraction(files, digests, platform)
    assert manifest.modules == {"a._x": "a/_x.cpython-311-x86_64-linux-gnu.so", "b._y": "b/_y.abi3.so"}
    assert manifest.suffixes == (".abi3.so", ".cpython-311-x86_64-linux-gnu.so")
    assert manifest.groups == {
        "a": ("aa", "3 a/_x.cpython-311-x86_64-linux-gnu.so"),
        "b": ("bb", "4 b/_y.abi3.so"),
        "c.libs": ("cc", "5 c.libs/libz.so.1"),
        "six": ("66", "6 six.pyc"),
    }
    assert manifest.digest == bundle_plan.extraction(dict(reversed(files.items())), digests, platform).digest
    assert manifest.digest != bundle_plan.extraction(files, {**digests, "six": "67"}, platform).digest
    with pytest.raises(BundleError, match="a file name with a line break"):
        bundle_plan.extraction({"a/b\nc": 1}, {"a": "aa"}, platform)


def _run_bootstrap(tmp_path: Path, interpreter: Interpreter) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text("import sys\ndef main():\n    print('ran', sys.argv[1:])\n    return 4\n")
    main = tmp_path / "__main__.py"
    main.write_bytes(bundle_plan.bootstrap("app:main", interpreter, "app-1.0.pyz", ["app-1.0.dist-info"]))
    shutil.copy(bundle_index.__file__, tmp_path / f"{bundle_plan.INDEX_MODULE}.py")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([sys.executable, str(main), "x"], capture_output=True, text=True, env=env)


def test_the_bootstrap_runs_the_entry_point_on_its_interpreter(tmp_path: Path) -> None:
    result = _run_bootstrap(tmp_path, HERE)
    assert (result.returncode, result.stdout, result.stderr) == (4, "ran ['x']\n", "")


def test_the_bootstrap_refuses_another_interpreter_in_one_line(tmp_path: Path) -> None:
    result = _run_bootstrap(tmp_path, OTHER)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("app-1.0.pyz needs CPython 3.99 (bytecode magic ffff0d0a); this is CPython ")
    assert result.stderr.count("\n") == 1


def test_every_input_string_is_a_literal_in_the_bootstrap() -> None:
    text = bundle_plan.bootstrap("app:main", HERE, "x');import os;('", ["x');import os;('"]).decode()
    ast.parse(text)
    assert "import os;" not in text.replace("x');import os;('", "").replace("x');import os;('", "")


def test_packages_that_run_from_files_on_disk_and_why() -> None:
    native = ["black/linegen.cpython-311-x86_64-linux-gnu.so", "rpds/rpds.cpython-311-x86_64-linux-gnu.so"]
    paths = [
        *native,
        "black/linegen.py",
        "black/__init__.py",
        "blib2to3/Grammar.txt",
        "blib2to3/pgen2/driver.py",
        "certifi/cacert.pem",
        "certifi/core.py",
        "rpds/__init__.py",
        "markupsafe/_speedups.c",
        "markupsafe/__init__.py",
        "pkg/py.typed",
        "pkg/mod.pyi",
        "numpy.libs/libopenblas.so",
        "tool-1.0.dist-info/METADATA",
    ]
    uses_file = ["blib2to3/pgen2/driver.py", "markupsafe/__init__.py"]
    assert bundle_plan.extracted_packages(paths, native, uses_file) == {
        "black": "extension modules beside pure-Python ones",
        "blib2to3": "data files that its modules find by __file__",
    }
