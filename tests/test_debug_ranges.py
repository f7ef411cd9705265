"""Column positions (``debug-ranges``), and bytes that nothing in the environment changes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, hatchling_build, only_wheel, run, set_hook_options, target_python
from test_sourceless import KEPT, SOURCELESS

from hatch_pyc import worker

# Compiles the given sources, and prints a digest of their canonical bytes: the columns
# dropped by hatch-pyc, or by the interpreter itself when run with -X no_debug_ranges.
STRIP_PROBE = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import worker
digest = hashlib.sha256()
for path in sys.argv[3:]:
    code = compile(open(path, "rb").read(), path, "exec", dont_inherit=True)
    if sys.argv[2] == "strip":
        code = worker.without_debug_ranges(code)
    digest.update(worker.canonical_dumps(code))
print(digest.hexdigest())
"""


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13", "3.14", "3.15"])
def test_dropping_columns_gives_what_no_debug_ranges_compiles(version: str, tmp_path: Path) -> None:
    python = target_python(version, tmp_path / "bin")
    sources = sorted(str(p) for p in (Path(worker.__file__).parent).glob("*.py"))
    worker_dir = str(Path(worker.__file__).parent)
    ours = run([python, "-I", "-c", STRIP_PROBE, worker_dir, "strip", *sources]).stdout
    theirs = run([python, "-I", "-X", "no_debug_ranges", "-c", STRIP_PROBE, worker_dir, "as is", *sources]).stdout
    assert ours == theirs


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
