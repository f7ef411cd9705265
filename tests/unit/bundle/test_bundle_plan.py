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
from hatch_pyc._shipped.bundle_runtime import INDEX_MODULE
from hatch_pyc.build import bootstrap
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
    shutil.copy(bundle_index.__file__, tmp_path / f"{INDEX_MODULE}.py")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([sys.executable, str(main), "x"], capture_output=True, text=True, env=env)


def test_the_bootstrap_runs_the_entry_point_on_its_interpreter(tmp_path: Path) -> None:
    result = _run_bootstrap(tmp_path, HERE)
    assert (result.returncode, result.stdout, result.stderr) == (4, "ran ['x']\n", "")


def test_the_bootstrap_refuses_another_interpreter_in_one_line(tmp_path: Path) -> None:
    result = _run_bootstrap(tmp_path, OTHER)
    assert result.returncode == 1
    assert result.stdout == ""
    # The file that was run (sys.argv[0]), which may have been renamed since the build.
    main = tmp_path / "__main__.py"
    assert result.stderr.startswith(f"{main} needs CPython 3.99 (bytecode magic ffff0d0a); this is CPython ")
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
    assert bundle_plan.extracted_packages(paths, native, uses_file.__contains__) == {
        "black": "extension modules beside pure-Python ones",
        "blib2to3": "data files that its modules find by __file__",
    }


def _native_bootstrap(needed: tuple[str, ...] = ()) -> bytes:
    """A bootstrap with native code, a runtime and resources, as ``make_bundle`` writes one."""
    platform = bundle_plan.Platform("cp311-cp311-linux_x86_64", "linux", "x86_64", (".abi3.so", ".so"))
    files = {"a/_x.abi3.so": 3, "a/__init__.pyc": 2, "six.pyc": 6}
    manifest = bundle_plan.extraction(files, {"a": "aa", "six": "66"}, platform, needed)
    dist_infos = ["a-1.0.dist-info", "six-1.16.0.dist-info"]
    return bundle_plan.bootstrap("a.cli:main.run", HERE, "a-1.0.pyz", dist_infos, manifest, resources=True)


@pytest.mark.parametrize(
    "main",
    [
        bundle_plan.bootstrap("app:main", HERE, "app-1.0.pyz", ["app-1.0.dist-info"]),
        bundle_plan.bootstrap("app:main", OTHER, "x');import os;('", ["x');import os;('", "\n"], resources=True),
        _native_bootstrap(),
        _native_bootstrap(("six",)),
    ],
    ids=["plain", "odd strings", "native", "native, needed"],
)
def test_the_bootstrap_is_read_back_by_name_and_written_again_byte_for_byte(main: bytes) -> None:
    values = bootstrap.read(ast.parse(main))
    assert values is not None
    assert bootstrap.write(values) == main


def test_the_values_read_back_are_those_written() -> None:
    values = bootstrap.read(ast.parse(_native_bootstrap(("six",))))
    assert values == bootstrap.Bootstrap(
        entry="a.cli:main.run",
        bundle="a-1.0.pyz",
        python=HERE.named,
        magic=HERE.magic_number,
        dist_infos=("a-1.0.dist-info", "six-1.16.0.dist-info"),
        resources=True,
        native=bootstrap.Native("cp311-cp311-linux_x86_64", "linux", "x86_64", (".abi3.so",)),
        runtime=bootstrap.Runtime(
            digest=values.runtime.digest if values and values.runtime else "",
            groups={"a": ("aa", "2 a/__init__.pyc\n3 a/_x.abi3.so"), "six": ("66", "6 six.pyc")},
            modules={"a._x": "a/_x.abi3.so"},
            needed=("six",),
        ),
    )
    main = _native_bootstrap().decode()
    # The runtime's install() takes keywords only; the bundle's name is written once.
    assert "_hatch_pyc_runtime.install(\n    label=BUNDLE,\n    digest=" in main
    assert "needed=(),\n)" in main
    assert main.count("a-1.0.pyz") == 1


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("label=BUNDLE", "label='a-1.0.pyz'"),
        ("    label=BUNDLE,\n", ""),
        ("    label=BUNDLE,\n", "    BUNDLE,\n"),
        ("serve(dist_infos=['a-1.0.dist-info', 'six-1.16.0.dist-info'])", "serve(**{'dist_infos': []})"),
        ("ENTRY = 'a.cli:main.run'", "ENTRY = 'a.cli:main.run'\nENTRY = 'b:c'"),
        ("ENTRY = 'a.cli:main.run'", "ENTRY = ['a.cli:main.run']"),
        ("MAGIC = ", "MAGIC = 1 or "),
        ("TAG = ", "TAG = b"),
        ("SUFFIXES = ('.abi3.so',)", "SUFFIXES = ['.abi3.so']"),
        ("needed=()", "needed=[]"),
        ("modules={'a._x': 'a/_x.abi3.so'}", "modules={'a._x': 1}"),
        ("groups={'a': ('aa',", "groups={'a': ('aa', 'x',"),
        ("_hatch_pyc_resources.serve()", "_hatch_pyc_resources.serve(1)"),
        ("_hatch_pyc_index.serve(dist_infos=['a-1.0.dist-info', 'six-1.16.0.dist-info'])", "pass"),
        ("SYS_PLATFORM = 'linux'\n", ""),
    ],
)
def test_values_that_cannot_be_read_by_name_are_none(old: str, new: str) -> None:
    main = _native_bootstrap().decode()
    assert old in main
    assert bootstrap.read(ast.parse(main.replace(old, new, 1))) is None


@pytest.mark.parametrize("entry", ["app:main()", "app;import os:main", "app:ma in", "app:", "app.:main", "app:class"])
def test_an_entry_point_that_is_no_dotted_name_is_never_written_as_code(entry: str) -> None:
    with pytest.raises(BundleError, match="is not 'module:function' of dotted identifiers"):
        bundle_plan.bootstrap(entry, HERE, "app-1.0.pyz", [])


def test_the_modules_a_bundle_may_not_hold_at_its_top_are_the_standard_librarys() -> None:
    names = [
        "hashlib.py",
        "email/__init__.pyc",
        "json/decoder.pyc",  # a namespace portion: the standard library's package is found first
        "os.cpython-311-x86_64-linux-gnu.so",
        "ssl.cpython-39-x86_64-linux-gnu.so",  # not loaded by this interpreter
        "abc.foo.py",
        "demo/__init__.pyc",
        "_hatch_pyc_runtime.pyc",
        "a/hashlib.pyc",
        "csv.txt",
    ]
    stdlib = ["hashlib", "email", "json", "os", "ssl", "abc", "csv", "a"]
    suffixes = [".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"]
    assert bootstrap.stdlib_shadows(names, stdlib, suffixes) == {
        "email": "email/__init__.pyc",
        "hashlib": "hashlib.py",
        "os": "os.cpython-311-x86_64-linux-gnu.so",
    }
    assert bootstrap.stdlib_shadows(["ssl.cpython-39-x86_64-linux-gnu.so"], stdlib, []) == {
        "ssl": "ssl.cpython-39-x86_64-linux-gnu.so"
    }
    probed = running().imports["stdlib"]
    assert {"hashlib", "os", "sys"} <= set(probed)
    assert not [name for name in probed if name.startswith("_hatch_pyc")]


def test_the_bootstrap_refuses_another_platform_in_one_line(tmp_path: Path) -> None:
    platform = bundle_plan.Platform("cp311-cp311-plan9_mips", "plan9", "mips", (".so",))
    manifest = bundle_plan.extraction({"a/_x.so": 3}, {"a": "aa"}, platform)
    main = tmp_path / "__main__.py"
    main.write_bytes(bundle_plan.bootstrap("a:main", HERE, "a-1.0.pyz", [], manifest))
    result = subprocess.run([sys.executable, str(main)], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"{main} holds extension modules for cp311-cp311-plan9_mips; this is CPython ")
    assert result.stderr.count("\n") == 1
