"""Nothing is compiled at import, in any layout: each wheel of the demo project, installed with uv
(which compiles nothing) and imported with ``PYTHONDONTWRITEBYTECODE=1`` and an audit hook on
``compile``, which sees every source the import system or anything else compiles. The only
sources allowed to compile are the ones that must run on every interpreter of an archive for
several (the stub and the selector package's ``__init__.py``, which zipimport can read one pyc
of, at most a few hundred bytes each); a ``.pyz`` compiles nothing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from helpers import BuildWheel, MakeVenv, python_or_skip, run, set_hook_options
from test_alongside import DEMO_MODULES
from test_sourceless import importable

NAMES = [importable(m) for m in DEMO_MODULES if not m.endswith("__main__.py")]
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
OTHER = "3.12" if HERE != "3.12" else "3.11"

#: Runs under the target (3.8 syntax): every compile event, then every module imported.
AUDIT = """
import json, sys
events = []
sys.addaudithook(lambda event, args: events.append((args[1], len(args[0] or ""))) if event == "compile" else None)
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps([[str(name), size] for name, size in events]))
"""


def compiled(python: Path, *args: str) -> list[tuple[str, int]]:
    """``(file name, source size)`` of each source compiled by ``python`` importing ``args``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    return [(name, size) for name, size in json.loads(run([python, "-c", AUDIT, *args], env=env).stdout)]


def on_disk(events: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The events of files (not of ``exec`` of a string, which the modules do themselves)."""
    return [(name, size) for name, size in events if not name.startswith("<")]


def installed(wheel: Path, python: Path, make_venv: MakeVenv) -> Path:
    venv = make_venv(python)
    venv.uv_install(wheel)
    return venv.python


def test_one_interpreter_compiles_nothing(demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    """Alongside (the baseline: what importing the demo compiles from strings of its own, and
    nothing from files), sourceless and zip compile the same."""
    events = {}
    for layout in ("alongside", "sourceless", "zip"):
        set_hook_options(demo, f'layout = "{layout}"\ncache = false')
        events[layout] = compiled(installed(build_wheel(demo), Path(sys.executable), make_venv), *NAMES)
    assert on_disk(events["alongside"]) == []
    assert events["sourceless"] == events["zip"] == events["alongside"]


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["sourceless", "zip"])
def test_several_interpreters_compile_only_the_small_sources_an_archive_shares(
    layout: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    pythons = {HERE: Path(sys.executable), OTHER: python_or_skip(OTHER)}
    set_hook_options(demo, f'layout = "{layout}"\npython = {json.dumps(list(pythons))}\ncache = false')
    wheel = build_wheel(demo)
    for python in pythons.values():
        events = on_disk(compiled(installed(wheel, python, make_venv), *NAMES))
        if layout == "sourceless":
            assert events == []
            continue
        # zipimport reads one pyc per module: the two sources every interpreter runs are source.
        shown = sorted({(name.split(".zip/")[1], size) for name, size in events})
        assert [name for name, _ in shown] == ["_hatch_pyc_bytecode_demo_pkg/__init__.py", "demo/__init__.py"]
        assert all(size < 1000 for _, size in shown), shown


def test_a_bundle_compiles_nothing_on_a_warm_start(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, "cache = false\n[tool.hatch.build.targets.wheel.hooks.pyc.zipapp]")
    out = tmp_path / "out"
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out], cwd=demo)
    pyz = next(out.glob("*.pyz"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HATCH_PYC_BUNDLE_ROOT": str(tmp_path / "root")}
    assert run([sys.executable, "-I", pyz, "foo"], env=env).stdout == "demo known\n"  # the first start extracts
    code = (
        "import json, runpy, sys\n"
        "events = []\n"
        "sys.addaudithook(lambda e, a: events.append((str(a[1]), len(a[0] or ''))) if e == 'compile' else None)\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "finally:\n"
        "    print(json.dumps(events), file=sys.stderr)\n"
    )
    result = run([sys.executable, "-I", "-c", code, pyz, "foo"], env=env)
    assert result.stdout == "demo known\n"
    # __main__.py ships compiled beside it: zipimport runs that pyc.
    assert on_disk(json.loads(result.stderr.splitlines()[-1])) == []
