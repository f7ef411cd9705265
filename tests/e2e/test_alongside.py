"""The alongside layout: what the wheel holds, and what an installed copy does with it."""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, MakeVenv, hatchling_build, only_wheel, run, set_hook_options, uv

TAG = sys.implementation.cache_tag
DEMO_MODULES = [
    "demo/__init__.py",
    "demo/__main__.py",
    "demo/a_names.py",
    "demo/bom.py",
    "demo/core.py",
    "demo/crlf.py",
    "demo/latin1.py",
    "demo/ns/plugin.py",
    "demo/selfsource.py",
    "demo/sub/__init__.py",
    "demo/sub/deep/__init__.py",
    "demo/sub/deep/mod.py",
]


def pyc_of(module: str, level: int = 0) -> str:
    return importlib.util.cache_from_source(module, optimization=level or "")


def test_every_shipped_module_gets_a_pyc_and_nothing_else_changes(demo: Path, build_wheel: BuildWheel) -> None:
    wheel = build_wheel(demo)
    files = wheels.check_record(wheel)
    modules = sorted(name for name in files if name.endswith(".py") and ".data/" not in name)
    assert modules == DEMO_MODULES
    pycs = sorted(name for name in files if name.endswith(".pyc"))
    assert pycs == sorted(pyc_of(module) for module in DEMO_MODULES)
    # Shared data and scripts are not modules: shipped as they are, never compiled.
    assert "demo_pkg-0.1.0.data/data/share/demo/helper.py" in files
    assert "demo_pkg-0.1.0.data/scripts/demo-script" in files
    assert "demo/data.txt" in files
    assert wheel.name == "demo_pkg-0.1.0-py3-none-any.whl"


def test_pycs_hold_the_right_code_and_no_build_path(demo: Path, build_wheel: BuildWheel) -> None:
    wheel = build_wheel(demo)
    build_dir = str(demo).encode()
    for module in DEMO_MODULES:
        data = wheels.read(wheel, pyc_of(module))
        assert build_dir not in data, module
        assert b"/tmp" not in data, module
        source = wheels.read(wheel, module)
        # checked-hash pyc (PEP 552): flags 0b11, then the source hash the import system checks.
        assert data[4:8] == b"\x03\x00\x00\x00"
        assert data[8:16] == importlib.util.source_hash(source)
        code = wheels.load_pyc(data)
        # The import system puts the installed path there; the pyc names the module in <>.
        assert {c.co_filename for c in wheels.code_objects(code)} == {f"<{module}>"}
        assert code == compile(source, module, "exec", dont_inherit=True)


def test_bytecode_metadata_describes_the_compiling_interpreter(demo: Path, build_wheel: BuildWheel) -> None:
    meta = wheels.bytecode_metadata(build_wheel(demo))
    assert meta["layout"] == "alongside"
    assert meta["optimize"] == [0]
    assert meta["invalidation_mode"] == "checked-hash"
    assert meta["modules"] == len(DEMO_MODULES)
    (interpreter,) = meta["interpreters"]
    assert interpreter == {
        "implementation": "cpython",
        "version": ".".join(map(str, sys.version_info[:3])),
        "python_tag": f"cp{sys.version_info[0]}{sys.version_info[1]}",
        "cache_tag": TAG,
        "magic_number": importlib.util.MAGIC_NUMBER.hex(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    }


def test_optimize_levels_and_invalidation_modes(demo: Path, build_wheel: BuildWheel) -> None:
    set_hook_options(demo, 'optimize = [0, 2]\ninvalidation-mode = "unchecked-hash"')
    wheel = build_wheel(demo)
    files = set(wheels.names(wheel))
    for module in DEMO_MODULES:
        assert pyc_of(module, 0) in files
        assert pyc_of(module, 2) in files
        assert pyc_of(module, 1) not in files
        assert wheels.read(wheel, pyc_of(module, 2))[4:8] == b"\x01\x00\x00\x00"
    # optimize 2 drops docstrings and asserts; 0 keeps them.
    plain = wheels.load_pyc(wheels.read(wheel, pyc_of("demo/sub/deep/mod.py")))
    optimized = wheels.load_pyc(wheels.read(wheel, pyc_of("demo/sub/deep/mod.py", 2)))
    assert "The answer." in repr(wheels.code_objects(plain)[1].co_consts)
    assert "The answer." not in repr(wheels.code_objects(optimized)[1].co_consts)
    assert wheels.bytecode_metadata(wheel)["optimize"] == [0, 2]


def test_timestamp_mode_warns_and_records_the_reproducible_time(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'invalidation-mode = "timestamp"')
    result = hatchling_build(demo, tmp_path / "out", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert "stale" in result.stderr + result.stdout
    data = wheels.read(only_wheel(tmp_path / "out"), pyc_of("demo/core.py"))
    assert data[4:8] == b"\x00\x00\x00\x00"
    assert int.from_bytes(data[8:12], "little") == 1700000000


def test_exclude_globs_skip_modules(demo: Path, build_wheel: BuildWheel) -> None:
    set_hook_options(demo, 'exclude = ["demo/sub/", "crlf.py"]')
    files = set(wheels.names(build_wheel(demo)))
    assert pyc_of("demo/core.py") in files
    assert pyc_of("demo/crlf.py") not in files
    assert pyc_of("demo/sub/deep/mod.py") not in files
    assert "demo/sub/deep/mod.py" in files


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_installed_wheel_imports_from_shipped_pycs(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv, installer: str
) -> None:
    wheel = build_wheel(demo)
    venv = make_venv()
    before = venv.files()
    if installer == "pip":
        venv.pip("install", "--no-compile", wheel)
    else:
        venv.uv_install(wheel)
    site = venv.site_packages()
    for module in DEMO_MODULES:
        assert (site / pyc_of(module)).read_bytes() == wheels.read(wheel, pyc_of(module)), module

    importable = [m.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for m in DEMO_MODULES]
    imports = "import " + ", ".join(name for name in importable if not name.endswith("__main__"))
    check = "; assert demo.latin1.GREETING == 'caf\\xe9' and demo.bom.BOM == 'bom \\xe9t\\xe9'"
    result = run(
        [venv.python, "-v", "-c", imports + check + "; assert demo.crlf.crlf() == 'crlf'"],
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )
    for module in DEMO_MODULES:
        if module.endswith("__main__.py"):
            continue
        assert f"code object from '{site / pyc_of(module)}'" in result.stderr, module
        # The source is never compiled: its own path never appears as the code's origin.
        assert f"code object from '{site / module}'" not in result.stderr, module

    run_main = run([venv.python, "-m", "demo", "foo", "nope"], env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert run_main.stdout == "demo known,unknown\n"
    cli = run([venv.path / "bin" / "demo-cli", "exit3"], check=False)
    assert cli.returncode == 3

    distribution = (
        "import importlib.metadata as m; print(m.distribution('demo-pkg').read_text('extra_metadata/hatch_pyc.json'))"
    )
    assert '"layout": "alongside"' in run([venv.python, "-c", distribution]).stdout

    if installer == "pip":
        venv.pip("uninstall", "-y", "demo-pkg")
    else:
        run([uv(), "pip", "uninstall", "-p", venv.python, "demo-pkg"])
    assert venv.files() == before


def test_pip_compile_rewrites_shipped_pycs_identically(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    """pip compiles on install by default; for checked-hash pycs it writes the same code back."""
    wheel = build_wheel(demo)
    venv = make_venv()
    venv.pip("install", wheel)
    site = venv.site_packages()
    data = (site / pyc_of("demo/core.py")).read_bytes()
    assert wheels.load_pyc(data) == wheels.load_pyc(wheels.read(wheel, pyc_of("demo/core.py")))


def test_pypa_installer_skips_pycache_entries_with_a_warning(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    wheel = build_wheel(demo)
    venv = make_venv()
    venv.uv_install("installer")
    result = run([venv.python, "-m", "installer", "--no-compile-bytecode", wheel])
    assert "Installing files in a __pycache__ directory poses a security risk" in result.stderr
    site = venv.site_packages()
    assert not list((site / "demo").rglob("*.pyc"))
    assert run([venv.python, "-m", "demo", "foo"]).stdout == "demo known\n"


def test_uv_compile_bytecode_rewrites_shipped_pycs(demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    wheel = build_wheel(demo)
    venv = make_venv()
    venv.uv_install("--compile-bytecode", wheel)
    installed = (venv.site_packages() / pyc_of("demo/core.py")).read_bytes()
    shipped = wheels.read(wheel, pyc_of("demo/core.py"))
    assert installed[4:8] == b"\x00\x00\x00\x00"  # uv wrote a timestamp pyc over ours
    assert wheels.load_pyc(installed) == wheels.load_pyc(shipped)
