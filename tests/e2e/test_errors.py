"""Bad input: invalid options and broken modules fail the build clearly, leaving no wheel."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import wheels
from helpers import hatchling_build, python_or_skip, set_hook_options

from hatch_pyc import check_wheel
from hatch_pyc.core.errors import HatchPycError

TABLE = "tool.hatch.build.targets.wheel.hooks.pyc"


def test_every_config_problem_is_reported_at_once_with_its_toml_path(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'optimize = 3\ninvalidation-mode = "never"\njobs = 0\nlayout = "zap"\noptimise = 1')
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    for expected in (
        f"{TABLE}.optimize: must be 0, 1, 2 or a non-empty list of them, got 3",
        f"{TABLE}.invalidation-mode: must be one of 'checked-hash', 'unchecked-hash', 'timestamp', got 'never'",
        f"{TABLE}.jobs: must be a whole number of at least 1, got 0",
        f"{TABLE}.layout: must be one of 'alongside', 'sourceless', 'zip', got 'zap'",
        f"{TABLE}.optimise: unknown option; valid options are: cache, cache-dir, compile-scripts, compress, "
        "debug-ranges, exclude, invalidation-mode, jobs, keep-source, layout, optimize, python, zipapp",
    ):
        assert expected in result.stderr
    assert not list(out.glob("*.whl"))


def test_global_hook_table_is_named_in_errors(demo: Path, tmp_path: Path) -> None:
    pyproject = demo / "pyproject.toml"
    text = pyproject.read_text().replace("[tool.hatch.build.targets.wheel.hooks.pyc]", "")
    pyproject.write_text(text + '\n[tool.hatch.build.hooks.pyc]\noptimize = "2"\n')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert "tool.hatch.build.hooks.pyc.optimize: must be 0, 1, 2 or a non-empty list of them, got '2'" in result.stderr


def test_syntax_errors_name_every_broken_module_and_leave_no_wheel(demo: Path, tmp_path: Path) -> None:
    (demo / "src/demo/broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    (demo / "src/demo/sub/also_broken.py").write_text("print('a'\n\n\n")
    (demo / "src/demo/nul.py").write_bytes(b"x = 1\0\n")
    out = tmp_path / "out"
    out.mkdir()
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert "hatch-pyc: 3 modules failed to compile:" in result.stderr
    assert "src/demo/broken.py:2:7: invalid syntax" in result.stderr
    assert "src/demo/sub/also_broken.py:1:6: '(' was never closed" in result.stderr
    assert "src/demo/nul.py" in result.stderr
    assert list(out.iterdir()) == []


def test_syntax_errors_are_reported_from_worker_processes_too(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, "jobs = 2")
    (demo / "src/demo/broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "src/demo/broken.py:2:7: invalid syntax" in result.stderr


def test_compiled_scripts_need_one_interpreter(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "sourceless"\npython = ["3.11", "3.12"]\ncompile-scripts = true')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert f"{TABLE}.compile-scripts: a compiled script runs one interpreter's bytecode, and {TABLE}.python names " in (
        result.stderr
    )


def test_environment_overrides_are_validated_and_named(demo: Path, tmp_path: Path) -> None:
    result = hatchling_build(
        demo, tmp_path / "out", env={"HATCH_PYC_LAYOUT": "flat", "HATCH_PYC_PYTHON": "3.12,,"}, check=False
    )
    assert result.returncode != 0
    expected = "HATCH_PYC_LAYOUT (environment): must be one of 'alongside', 'sourceless', 'zip', got 'flat'"
    assert expected in result.stderr
    assert "HATCH_PYC_PYTHON (environment): must be an interpreter" in result.stderr


def test_missing_and_unusable_interpreters_are_all_named(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'python = ["3.99", "/no/such/python", "no-such-python-command"]')
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert "hatch-pyc: cannot compile for the interpreters asked for:" in result.stderr
    assert (
        f"{TABLE}.python: CPython 3.99 is not a supported target: hatch-pyc compiles for CPython 3.8 to 3.15 and "
        "PyPy 3.8 to 3.11\n"
    ) in result.stderr
    assert f"{TABLE}.python: /no/such/python does not exist" in result.stderr
    assert f"{TABLE}.python: no command 'no-such-python-command' on PATH" in result.stderr
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize(("version", "problem"), [("3.7", "is cpython 3.7."), ("2.7", "is not a working Python 3.8+")])
def test_interpreters_older_than_3_8_are_refused(version: str, problem: str, demo: Path, tmp_path: Path) -> None:
    python = python_or_skip(version)
    set_hook_options(demo, f'python = "{python}"')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert f"{TABLE}.python: {python} {problem}" in result.stderr


def test_requires_python_that_excludes_the_target_fails_the_build(demo: Path, tmp_path: Path) -> None:
    python_or_skip("3.9")
    pyproject = demo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.8"', 'requires-python = ">=3.10"'))
    set_hook_options(demo, 'layout = "sourceless"\npython = "3.9"')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "hatch-pyc: project.requires-python '>=3.10' excludes the target interpreter (cpython 3.9." in result.stderr


@pytest.mark.parametrize("jobs", [1, 2])
def test_any_compile_error_is_one_line_naming_the_module(jobs: int, demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, f"jobs = {jobs}")
    # compile() raises RecursionError here, not SyntaxError.
    (demo / "src/demo/deep.py").write_text("x = " + "+".join(["1"] * 200_000) + "\n")
    (demo / "src/demo/broken.py").write_text("def f(:\n")
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert "hatch-pyc: 2 modules failed to compile:" in result.stderr
    assert "  src/demo/deep.py: RecursionError: maximum recursion depth exceeded" in result.stderr
    assert "  src/demo/broken.py:1:7: invalid syntax" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_a_worker_that_dies_names_the_module_it_was_compiling(demo: Path, tmp_path: Path) -> None:
    # A target whose worker exits while compiling crash.py, as one killed by a crash would.
    wrapper = tmp_path / "crashing-python"
    wrapper.write_text(
        f"#!{sys.executable} -I\n"
        "import os, sys\n"
        "worker_file = next(arg for arg in sys.argv if arg.endswith('worker.py'))\n"
        "sys.path.insert(0, os.path.dirname(worker_file))\n"
        "import worker\n"
        "original = worker.compile_job\n"
        "def compile_job(job, source, out_dir):\n"
        "    if job['display'].endswith('crash.py'):\n"
        "        os._exit(3)\n"
        "    return original(job, source, out_dir)\n"
        "worker.compile_job = compile_job\n"
        "sys.exit(worker.main(sys.argv[sys.argv.index(worker_file):]))\n"
    )
    wrapper.chmod(0o755)
    (demo / "src/demo/crash.py").write_text("x = 1\n")
    set_hook_options(demo, f'python = "{wrapper}"\njobs = 2\ncache = false')
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert f"hatch-pyc: src/demo/crash.py: the compile worker ({wrapper}) died compiling it, exit status 3" in (
        result.stderr
    )
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "glob", "closest"),
    [("exclude", "src/demo/sub/*.py", "demo/sub/"), ("keep-source", "src/demo/core.py", "demo/core.py'")],
)
def test_globs_that_match_no_module_name_the_closest_module(
    option: str, glob: str, closest: str, demo: Path, tmp_path: Path
) -> None:
    # Written against the project tree (a src layout), not the wheel: they would do nothing.
    set_hook_options(demo, f'layout = "sourceless"\n{option} = ["{glob}"]')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert (
        f"{TABLE}.{option}: '{glob}' matches no module; globs match a module's path in the wheel, "
        f"the closest is '{closest}"
    ) in result.stderr


def test_a_hatchling_without_what_the_hook_changes_is_named_with_its_version() -> None:
    from hatch_pyc.hook import HatchlingState

    with pytest.raises(HatchPycError, match=r"^hatch-pyc: hatchling \d+\.\d+\.\d+ has no object\.shared_scripts"):
        HatchlingState().clear_shared_scripts(object())


@pytest.mark.parametrize("kind", ["fifo", "dangling link", "link to /dev/zero"])
def test_a_source_that_is_no_file_fails_the_build_in_one_line(demo: Path, tmp_path: Path, kind: str) -> None:
    module = demo / "src" / "demo" / "odd.py"
    {"fifo": lambda: os.mkfifo(module), "dangling link": lambda: module.symlink_to(demo / "gone.py")}.get(
        kind, lambda: module.symlink_to("/dev/zero")
    )()
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert "hatch-pyc: src/demo/odd.py " in result.stderr, result.stderr
    assert not list(out.glob("*.whl"))


def test_a_file_no_import_can_name_ships_as_it_is(demo: Path, tmp_path: Path) -> None:
    """``settings.example.py`` is data, not a module: no pyc, and its source stays."""
    (demo / "src" / "demo" / "settings.example.py").write_text("DEBUG = True\n")
    set_hook_options(demo, 'layout = "sourceless"')
    hatchling_build(demo, tmp_path / "out")
    (wheel,) = (tmp_path / "out").glob("*.whl")
    names = wheels.names(wheel)
    assert "demo/settings.example.py" in names
    assert not [name for name in names if "settings.example" in name and name.endswith(".pyc")]
    assert check_wheel(wheel).ok
