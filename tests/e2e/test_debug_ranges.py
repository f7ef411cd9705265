"""Column positions (``debug-ranges``), and bytes that nothing in the environment changes."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, hatchling_build, only_wheel, python_or_skip, run, set_hook_options
from test_cli import HATCH_PYC
from test_sourceless import KEPT, SOURCELESS

from hatch_pyc._shipped import worker

# Prints a digest of the canonical bytes of each given source compiled with its given
# co_filename, by the interpreter running it (with or without -X no_debug_ranges).
COMPILE_PROBE = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import worker
for path, dfile in json.loads(sys.argv[2]):
    code = compile(open(path, "rb").read(), dfile, "exec", dont_inherit=True)
    print(hashlib.sha256(worker.canonical_dumps(code)).hexdigest())
"""

#: Two generator expressions that only their column positions tell apart: without them,
#: CPython's compiler keeps one code object for both.
TWINS = "def total(a, b):\n    return sum(abs(c) for c in a) + sum(abs(c) for c in b)\n"


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13", "3.14", "3.15"])
def test_pycs_are_what_the_interpreter_compiles_with_and_without_columns(
    version: str, demo: Path, tmp_path: Path
) -> None:
    """A sourceless build with one kept module: each pyc holds what the target compiles from
    its source, with ``-X no_debug_ranges`` for the sourceless modules and without it for the
    kept one."""
    python = python_or_skip(version)
    (demo / "src" / "demo" / "twins.py").write_text(TWINS)
    set_hook_options(demo, SOURCELESS.format(version=python))
    hatchling_build(demo, tmp_path / "out")
    wheel = only_wheel(tmp_path / "out")
    kept_pyc = f"demo/__pycache__/selfsource.cpython-{version.replace('.', '')}.pyc"
    # The stub's __pycache__ pyc is hatch-pyc's own (test_no_compile, test_verify compare it).
    stub_pyc = f"demo/__pycache__/__init__.cpython-{version.replace('.', '')}.pyc"
    stripped = sorted(
        n for n in wheels.names(wheel) if n.startswith("demo/") and n.endswith(".pyc") and n not in (kept_pyc, stub_pyc)
    )
    assert "demo/twins.pyc" in stripped
    worker_dir = str(Path(worker.__file__).parent)
    sources = [(str(demo / "src" / name[:-1]), f"<{name[:-1]}>") for name in stripped]
    theirs = run([python, "-I", "-X", "no_debug_ranges", "-c", COMPILE_PROBE, worker_dir, json.dumps(sources)])
    kept = [(str(demo / "src" / KEPT), KEPT)]
    theirs_kept = run([python, "-I", "-c", COMPILE_PROBE, worker_dir, json.dumps(kept)])
    ours = [hashlib.sha256(wheels.read(wheel, name)[16:]).hexdigest() for name in [*stripped, kept_pyc]]
    assert ours == (theirs.stdout + theirs_kept.stdout).split()


#: The sourceless layout with one kept module, compiled for the interpreter running the build.
SOURCELESS_HERE = SOURCELESS.format(version="").replace('python = ""\n', "")


def columns(code_data: bytes) -> set[bool]:
    """For each code object of a pyc: whether it has any column position."""
    code = wheels.load_pyc(code_data)
    return {any(p[2] is not None for p in c.co_positions()) for c in wheels.code_objects(code)}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="column positions came in CPython 3.11")
@pytest.mark.parametrize(
    ("options", "with_columns", "without_columns"),
    [
        # Default: where the source ships beside the pyc, and only there.
        ("", "demo/__pycache__/core.cpython-{v}.pyc", None),
        (SOURCELESS_HERE, "demo/__pycache__/selfsource.cpython-{v}.pyc", "demo/core.pyc"),
        ('layout = "alongside"\ndebug-ranges = false', None, "demo/__pycache__/core.cpython-{v}.pyc"),
        (SOURCELESS_HERE + "\ndebug-ranges = true", "demo/core.pyc", None),
    ],
    ids=["alongside", "sourceless", "alongside-false", "sourceless-true"],
)
def test_debug_ranges_where_a_traceback_can_use_them(
    options: str, with_columns: str | None, without_columns: str | None, demo: Path, build_wheel: BuildWheel
) -> None:
    set_hook_options(demo, options)
    wheel = build_wheel(demo)
    tag = f"{sys.version_info[0]}{sys.version_info[1]}"
    if with_columns:
        assert columns(wheels.read(wheel, with_columns.format(v=tag))) == {True}
    if without_columns:
        assert columns(wheels.read(wheel, without_columns.format(v=tag))) == {False}


def test_debug_ranges_must_be_a_boolean(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'debug-ranges = "no"')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "tool.hatch.build.targets.wheel.hooks.pyc.debug-ranges: must be true or false, got 'no'" in result.stderr


#: Everything the build process's environment could use to change what it compiles.
HOSTILE_ENV = {
    "PYTHONNODEBUGRANGES": "1",
    "PYTHONOPTIMIZE": "2",
    "PYTHONINTMAXSTRDIGITS": "640",
    "PYTHONHASHSEED": "7",
    "PYTHONWARNINGS": "error",
}


def test_bytes_do_not_depend_on_the_environment_jobs_or_cache(demo: Path, tmp_path: Path) -> None:
    """Built with every such variable set and unset, ``-X`` flags too, jobs 1 and 2, with a
    cold cache, a warm one filled under the other environment, and none: the same wheel."""
    # 700 digits: over the 640 that PYTHONINTMAXSTRDIGITS allows, under CPython's default.
    (demo / "src" / "demo" / "big.py").write_text(f"BIG = {'7' * 700}\nassert BIG > 0\n")
    cache = tmp_path / "cache"
    x_flags = ["-X", "no_debug_ranges", "-X", "int_max_str_digits=640"]
    builds = [
        ({}, [], 1, "cache = false"),
        (HOSTILE_ENV, x_flags, 2, "cache = false"),
        (HOSTILE_ENV, x_flags, 1, f"cache-dir = {str(cache)!r}"),  # fills the cache
        ({}, [], 2, f"cache-dir = {str(cache)!r}"),  # takes everything from it
        ({}, [], 1, f"cache-dir = {str(tmp_path / 'cache-2')!r}"),  # fills another
        (HOSTILE_ENV, x_flags, 2, f"cache-dir = {str(tmp_path / 'cache-2')!r}"),
    ]
    built = []
    for number, (env, flags, jobs, cache_option) in enumerate(builds):
        set_hook_options(demo, SOURCELESS_HERE + f"\njobs = {jobs}\n{cache_option}")
        out = tmp_path / f"out-{number}"
        run(
            [sys.executable, *flags, "-m", "hatchling", "build", "-t", "wheel", "-d", out],
            cwd=demo,
            env={k: v for k, v in {**os.environ, **env}.items() if k != "HATCH_PYC_CACHE_DIR"},
        )
        built.append(only_wheel(out).read_bytes())
    assert all(wheel == built[0] for wheel in built)
    assert f"{KEPT}" in wheels.names(only_wheel(tmp_path / "out-0"))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="column positions came in CPython 3.11")
@pytest.mark.parametrize("debug_ranges", ["true", "false"])
def test_verify_code_accepts_pycs_with_and_without_columns(debug_ranges: str, demo: Path, tmp_path: Path) -> None:
    """``check --verify-code`` compares each pyc with what the target compiles, with columns
    or with ``-X no_debug_ranges`` (which keeps one code object for the twins)."""
    (demo / "src" / "demo" / "twins.py").write_text(TWINS)
    set_hook_options(demo, f"debug-ranges = {debug_ranges}")
    hatchling_build(demo, tmp_path / "out")
    wheel = only_wheel(tmp_path / "out")
    checked = run([*HATCH_PYC, "check", "--verify-code", wheel])
    assert checked.stdout.startswith("ok: "), checked.stdout
    twins = next(name for name in wheels.names(wheel) if name.startswith("demo/__pycache__/twins."))
    data = wheels.read(wheel, twins)
    code = wheels.load_pyc(data)
    inner = code.co_consts[next(i for i, c in enumerate(code.co_consts) if hasattr(c, "co_code"))]
    assert sum(hasattr(c, "co_code") for c in inner.co_consts) == (2 if debug_ranges == "true" else 1)
