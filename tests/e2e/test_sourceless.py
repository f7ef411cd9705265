"""Sourceless wheels: built for each CPython found, installed with pip and uv, refused elsewhere."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import wheels
from helpers import (
    PROJECTS,
    PYENV,
    BuildWheel,
    MakeVenv,
    Venv,
    find_python,
    hatchling_build,
    only_wheel,
    python_or_skip,
    run,
    set_hook_options,
    uv,
)
from test_alongside import DEMO_MODULES

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
KEPT = "demo/selfsource.py"
#: The top-level package, whose __init__ is a stub in sourceless and zip wheels.
TOP = "demo/__init__.py"
SOURCELESS = 'layout = "sourceless"\npython = "{version}"\nkeep-source = ["demo/selfsource.py"]'


def line_of(relative: str, text: str) -> int:
    """The line number of ``text`` in a file of the demo fixture."""
    lines = (PROJECTS / "demo" / relative).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def importable(module: str) -> str:
    return module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


# Runs under every target version (3.8 syntax): how each demo module was loaded.
IMPORT_ALL = """
import importlib, sys
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    print(name, type(module.__spec__.loader).__name__, module.__file__.rsplit(".", 1)[-1])
import demo.selfsource, demo.latin1, demo.bom, demo.crlf
assert demo.selfsource.own_source_lines() > 5
assert demo.latin1.GREETING == "caf\\xe9" and demo.bom.BOM == "bom \\xe9t\\xe9" and demo.crlf.crlf() == "crlf"
"""


#: The top-level package is a stub that runs its bytecode; the rest load as legacy pycs, the kept one from source.
SOURCELESS_LOADERS = [
    f"{importable(m)} SourceFileLoader py" if m in (KEPT, TOP) else f"{importable(m)} SourcelessFileLoader pyc"
    for m in DEMO_MODULES
    if not m.endswith("__main__.py")
]


def exercise(venv: Venv, loaders: list[str] = SOURCELESS_LOADERS) -> None:
    """What a user of the installed wheel does: import, run, read tracebacks.

    ``loaders`` says how each demo module must load: ``name LoaderType suffix-of-__file__``.
    """
    names = [importable(m) for m in DEMO_MODULES if not m.endswith("__main__.py")]
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    loaded = run([venv.python, "-c", IMPORT_ALL, *names], env=env).stdout.splitlines()
    assert loaded == loaders

    assert run([venv.python, "-m", "demo", "foo", "nope"], env=env).stdout == "demo known,unknown\n"
    bin_dir = venv.path / "bin"
    assert run([bin_dir / "demo-cli", "exit3"], check=False).returncode == 3
    # Run where another file sits at the module's relative path (a checkout of another
    # version, say): the traceback names the module and its line, but shows none of it.
    elsewhere = venv.path.parent / f"{venv.path.name}-cwd"
    (elsewhere / "demo").mkdir(parents=True, exist_ok=True)
    (elsewhere / "demo" / "core.py").write_text("NOT THIS FILE\n" * 100)
    boom = run([bin_dir / "demo-cli", "boom"], check=False, cwd=elsewhere)
    assert boom.returncode == 1
    assert f'File "<demo/core.py>", line {line_of("src/demo/core.py", "raise RuntimeError")}, in boom' in boom.stderr
    assert "NOT THIS FILE" not in boom.stderr
    assert boom.stderr.endswith("RuntimeError: boom from demo.core\n")
    getsource = "import inspect, demo.core\ntry: inspect.getsource(demo.core.boom)\nexcept OSError as e: print(e)"
    shown = run([venv.python, "-I", "-B", "-c", getsource], cwd=elsewhere, env=env).stdout
    assert shown == "could not get source code\n"

    script = run([bin_dir / "demo-script", "7", "x"], check=False, env=env)
    assert script.returncode == 7
    assert script.stdout == "demo-script ran __main__ ['7', 'x'] A Python script the demo project installs\n"
    failed = run([bin_dir / "demo-script", "fail"], check=False, env=env)
    assert failed.returncode == 1
    assert f'File "<demo-script>", line {line_of("scripts/demo-script", "raise ValueError")}, in fail' in failed.stderr
    assert failed.stderr.endswith("ValueError: demo-script failed on purpose\n")
    # The installed script is the launcher; the code is in the shipped pyc.
    assert "def fail" not in (bin_dir / "demo-script").read_text()
    assert run([bin_dir / "demo-sh", "a"]).stdout == "demo-sh ran a\n"


def free_threaded_or_skip() -> Path:
    """A free-threaded CPython (3.13t or newer), from pyenv or PATH."""
    for candidate in sorted(PYENV.glob("3.1[3-9].*t/bin/python"), reverse=True):
        return candidate
    for command in ("python3.15t", "python3.14t", "python3.13t"):
        found = shutil.which(command)
        if found:
            return Path(found)
    pytest.skip(f"no free-threaded CPython (python3.13t or newer on PATH, or a 3.13t+ under {PYENV})")


@pytest.mark.slow
def test_sourceless_wheel_for_a_free_threaded_build(demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    python = free_threaded_or_skip()
    set_hook_options(demo, SOURCELESS.format(version=python))
    wheel = build_wheel(demo)
    version = run([python, "-c", "import sys; print('%d%d' % sys.version_info[:2])"]).stdout.strip()
    # The same tag as the default build: it has the same magic number and cache tag.
    assert wheel.name == f"demo_pkg-0.1.0-cp{version}-none-any.whl"
    assert wheels.bytecode_metadata(wheel)["interpreters"][0]["free_threaded"] is True
    venv = make_venv(python)
    venv.uv_install(wheel)
    exercise(venv)


def neighbours(version: str) -> list[Path]:
    index = VERSIONS.index(version)
    found = [find_python(v) for v in VERSIONS[max(index - 1, 0) : index + 2] if v != version]
    return [python for python in found if python is not None]


@pytest.mark.parametrize("version", VERSIONS)
def test_sourceless_wheel_installs_and_runs_on_its_cpython_only(
    version: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    python = python_or_skip(version)
    set_hook_options(demo, SOURCELESS.format(version=version))
    wheel = build_wheel(demo)

    tag = "cp" + version.replace(".", "")
    assert wheel.name == f"demo_pkg-0.1.0-{tag}-none-any.whl"
    assert wheels.wheel_tags(wheel) == [f"{tag}-none-any"]
    assert wheels.requires_python(wheel) == f"=={version}.*,>=3.8"
    files = wheels.check_record(wheel)
    selector = f"{wheels.SELECTOR}demo_pkg"
    sources = sorted(f for f in files if f.endswith(".py") and ".data/" not in f)
    assert sources == sorted([KEPT, TOP, f"{selector}/__init__.py"])
    assert wheels.read(wheel, TOP).startswith(wheels.STUB)
    magic = run([python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"]).stdout.strip()
    kept_pyc = f"demo/__pycache__/selfsource.cpython-{tag[2:]}.pyc"
    # The top-level package's bytecode is in the selector package, which its stub runs.
    top_pyc = f"{selector}/cpython-{tag[2:]}/demo/__init__.pyc"
    legacy = [m.removesuffix(".py") + ".pyc" for m in DEMO_MODULES if m not in (KEPT, TOP)]
    script_pyc = "_hatch_pyc_scripts/demo_pkg/demo_script.pyc"
    # hatch-pyc's own: the selector's code, and the stub and the selector's __init__ compiled.
    own = [
        f"{selector}/cpython-{tag[2:]}.pyc",
        f"{selector}/__pycache__/__init__.cpython-{tag[2:]}.pyc",
        f"demo/__pycache__/__init__.cpython-{tag[2:]}.pyc",
    ]
    every = [*legacy, top_pyc, kept_pyc, script_pyc, *own]
    assert sorted(f for f in files if f.endswith(".pyc")) == sorted(every)
    for pyc in every:
        assert wheels.read(wheel, pyc)[:4].hex() == magic, pyc
    # Stubs, the typing marker, data and non-Python scripts stay.
    assert {"demo/core.pyi", "demo/py.typed", "demo/data.txt", "demo_pkg-0.1.0.data/scripts/demo-sh"} <= set(files)
    meta = wheels.bytecode_metadata(wheel)
    assert meta["layout"] == "sourceless"
    assert [(i["python_tag"], i["magic_number"]) for i in meta["interpreters"]] == [(tag, magic)]

    for installer in ("uv", "pip"):
        venv = make_venv(python)
        before = venv.files()
        if installer == "uv":
            venv.uv_install(wheel)
        else:
            venv.pip("install", wheel)
        exercise(venv)
        if installer == "uv":
            run([uv(), "pip", "uninstall", "-p", venv.python, "demo-pkg"])
        else:
            venv.pip("uninstall", "-y", "demo-pkg")
        assert venv.files() == before

    for other in neighbours(version):
        venv = make_venv(other)
        before = venv.files()
        refused = venv.pip("install", wheel, check=False)
        assert refused.returncode != 0
        assert f"{wheel.name} is not a supported wheel on this platform" in refused.stderr
        refused = venv.uv_install(wheel, check=False)
        assert refused.returncode != 0
        # Newer Pythons: the tag refuses. Older: Requires-Python's lower bound does too.
        message = " ".join(refused.stderr.split())
        assert (
            "has no wheels with a matching Python version tag" in message or f"depends on Python>={version}" in message
        ), message
        assert venv.files() == before


def test_multi_interpreter_alongside_wheel_has_pycs_for_each(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    found = [v for v in VERSIONS if find_python(v)]
    if len(found) < 2:
        pytest.skip("needs at least two CPython versions")
    listed = ", ".join(f'"{v}"' for v in found)
    set_hook_options(demo, f"python = [{listed}]\ncompile-scripts = true")
    wheel = build_wheel(demo)
    assert wheel.name == "demo_pkg-0.1.0-py3-none-any.whl"
    assert wheels.requires_python(wheel) == ">=3.8"
    files = set(wheels.check_record(wheel))
    meta = wheels.bytecode_metadata(wheel)
    tags = [f"cpython-{v.replace('.', '')}" for v in found]
    assert [i["cache_tag"] for i in meta["interpreters"]] == tags
    assert len({i["magic_number"] for i in meta["interpreters"]}) == len(found)
    script_module = "_hatch_pyc_scripts/demo_pkg/demo_script.py"
    assert script_module in files
    for module in [*DEMO_MODULES, script_module]:
        assert module in files
        for cache_tag in tags:
            head, name = module.rsplit("/", 1)
            assert f"{head}/__pycache__/{name.removesuffix('.py')}.{cache_tag}.pyc" in files

    for version in found:
        venv = make_venv(find_python(version))
        venv.uv_install(wheel)
        site = venv.site_packages()
        result = run([venv.python, "-v", "-c", "import demo.core"], env={"PYTHONDONTWRITEBYTECODE": "1"})
        pyc = site / "demo" / "__pycache__" / f"core.cpython-{version.replace('.', '')}.pyc"
        assert f"code object from '{pyc}'" in result.stderr
        script = run([venv.path / "bin" / "demo-script", "5"], check=False, env={"PYTHONDONTWRITEBYTECODE": "1"})
        assert script.returncode == 5, script.stderr


def test_environment_overrides_layout_and_python(demo: Path, build_wheel: BuildWheel) -> None:
    python_or_skip("3.12")
    set_hook_options(demo, 'layout = "alongside"\npython = ["3.13", "3.11"]')
    wheel = build_wheel(demo, env={"HATCH_PYC_LAYOUT": "sourceless", "HATCH_PYC_PYTHON": "3.12"})
    assert wheel.name == "demo_pkg-0.1.0-cp312-none-any.whl"
    assert wheels.bytecode_metadata(wheel)["layout"] == "sourceless"


def test_compile_scripts_can_be_turned_off(demo: Path, build_wheel: BuildWheel) -> None:
    set_hook_options(demo, 'layout = "sourceless"\ncompile-scripts = false')
    wheel = build_wheel(demo)
    assert not [name for name in wheels.names(wheel) if name.startswith("_hatch_pyc_scripts/")]
    script = wheels.read(wheel, "demo_pkg-0.1.0.data/scripts/demo-script")
    assert script == b"#!python\n" + (PROJECTS / "demo/scripts/demo-script").read_bytes().split(b"\n", 1)[1]


def test_an_editable_build_in_the_same_process_is_untouched(demo: Path, tmp_path: Path) -> None:
    """The hook changes hatchling's config for the standard wheel only, and restores it."""
    set_hook_options(demo, SOURCELESS.format(version="{}.{}".format(*sys.version_info[:2])))
    out = tmp_path / "out"
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel:standard,editable", "-d", out], cwd=demo)
    standard, editable = sorted(out.glob("*.whl"), key=lambda wheel: "-py3-" in wheel.name)
    assert wheels.requires_python(standard).startswith("==3.")
    assert wheels.requires_python(editable) == ">=3.8"
    assert editable.name == "demo_pkg-0.1.0-py3-none-any.whl"
    assert b"def fail" in wheels.read(editable, "demo_pkg-0.1.0.data/scripts/demo-script")
    assert not [name for name in wheels.names(editable) if name.endswith(".pyc")]


def test_sourceless_wheels_are_reproducible_across_hash_seeds_and_jobs(demo: Path, build_wheel: BuildWheel) -> None:
    version = "3.12" if find_python("3.12") else "{}.{}".format(*sys.version_info[:2])
    builds = []
    for seed, jobs in (("1", 1), ("2", 2)):
        set_hook_options(demo, SOURCELESS.format(version=version) + f"\njobs = {jobs}")
        builds.append(build_wheel(demo, env={"PYTHONHASHSEED": seed}).read_bytes())
    assert builds[0] == builds[1]


def test_several_optimize_levels_compile_sourceless_modules_at_the_lowest(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "sourceless"\noptimize = [1, 2]\nkeep-source = ["demo/selfsource.py"]')
    out = tmp_path / "out"
    result = hatchling_build(demo, out)
    assert "compiled at optimize 1, the lowest of [1, 2]" in result.stderr + result.stdout
    wheel = only_wheel(out)
    files = wheels.names(wheel)
    tag = sys.implementation.cache_tag
    assert {f"demo/__pycache__/selfsource.{tag}.opt-1.pyc", f"demo/__pycache__/selfsource.{tag}.opt-2.pyc"} <= set(
        files
    )
    # Optimize 1 drops asserts and keeps docstrings.
    code = wheels.load_pyc(wheels.read(wheel, "demo/sub/deep/mod.pyc"))
    (answer,) = [c for c in wheels.code_objects(code) if c.co_name == "answer"]
    assert "The answer." in answer.co_consts
    assert "kept at optimize 0, dropped at 1" not in answer.co_consts
