"""Builds in this process through hatchling's own ``WheelBuilder``, as a frontend's backend call
makes them: the hook's result, its errors as exceptions, and hatchling's state after it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import wheels
from hatchling.builders.wheel import WheelBuilder
from helpers import set_hook_options

from hatch_pyc.build.compilation import CompilationFailed
from hatch_pyc.build.pipeline import Session
from hatch_pyc.bundle.make import bundle_wheel
from hatch_pyc.convert import convert_wheel
from hatch_pyc.core.config import ConfigError, Options, Zipapp
from hatch_pyc.core.interpreters import running
from hatch_pyc.core.layouts import SOURCELESS

HERE = running().interpreter
TABLE = "tool.hatch.build.targets.wheel.hooks.pyc"


@pytest.fixture(autouse=True)
def _no_layout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HATCH_PYC_LAYOUT", "HATCH_PYC_PYTHON", "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(name, raising=False)


def build(project: Path, out: Path, versions: tuple[str, ...] = ("standard",)) -> list[Path]:
    builder = WheelBuilder(str(project))
    return [Path(path) for path in builder.build(directory=str(out), versions=list(versions))]


def test_alongside_adds_pycache_pycs_and_keeps_the_sources(demo: Path, tmp_path: Path) -> None:
    (wheel,) = build(demo, tmp_path / "out")
    names = wheels.names(wheel)
    assert "demo/core.py" in names
    assert f"demo/__pycache__/core.{HERE.cache_tag}.pyc" in names
    assert wheels.bytecode_metadata(wheel)["layout"] == "alongside"
    wheels.check_record(wheel)


@pytest.mark.parametrize("layout", ["sourceless", "zip"])
def test_sourceless_layouts_ship_no_source_and_narrow_the_wheel(layout: str, demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, f'layout = "{layout}"')
    (wheel,) = build(demo, tmp_path / "out")
    assert wheel.name == f"demo_pkg-0.1.0-{HERE.python_tag}-none-any.whl"
    names = wheels.names(wheel)
    # No source ships; the top-level package is a stub that selects the bytecode for the running interpreter.
    sources = [name for name in names if name.endswith(".py") and name.startswith("demo/")]
    assert sources == (["demo/__init__.py"] if layout == "sourceless" else [])
    if sources:
        assert b"_hatch_pyc_bytecode_demo_pkg" in wheels.read(wheel, "demo/__init__.py")
    assert ("demo/core.pyc" in names) is (layout == "sourceless")
    assert ("demo_pkg.zip" in names) is (layout == "zip")
    assert f"Requires-Python: =={HERE.minor[0]}.{HERE.minor[1]}.*" in wheels.dist_info_text(wheel, "METADATA")
    wheels.check_record(wheel)


def test_the_same_build_twice_gives_the_same_bytes(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    (first,) = build(demo, tmp_path / "one")
    (second,) = build(demo, tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()


def test_an_editable_build_after_the_wheel_is_untouched_by_the_hook(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "sourceless"')
    wheel, editable = build(demo, tmp_path / "out", ("standard", "editable"))
    assert wheel.name.endswith(f"-{HERE.python_tag}-none-any.whl")
    assert editable.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(editable) as archive:
        names = archive.namelist()
        metadata_text = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        script = archive.read("demo_pkg-0.1.0.data/scripts/demo-script").decode()
    assert not [name for name in names if name.endswith(".pyc")]
    assert "Requires-Python: >=3.8" in metadata_text
    assert "Launcher written by hatch-pyc" not in script


def test_every_config_problem_is_one_exception_naming_its_toml_path(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'optimize = 3\nlayout = "zap"\noptimise = 1')
    with pytest.raises(ConfigError) as info:
        build(demo, tmp_path / "out")
    assert [problem.split(":")[0] for problem in info.value.problems] == [
        f"{TABLE}.optimise",
        f"{TABLE}.optimize",
        f"{TABLE}.layout",
    ]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_module_that_does_not_compile_is_named_with_its_line(demo: Path, tmp_path: Path) -> None:
    (demo / "src" / "demo" / "broken.py").write_text("x = 1\ndef f(:\n")
    with pytest.raises(CompilationFailed) as info:
        build(demo, tmp_path / "out")
    (error,) = info.value.errors
    assert (error.display, error.line) == ("src/demo/broken.py", 2)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.whl"))


def test_a_failed_build_leaves_hatchling_as_it_was_for_the_next(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "sourceless"')
    broken = demo / "src" / "demo" / "broken.py"
    broken.write_text("def f(:\n")
    builder = WheelBuilder(str(demo))
    with pytest.raises(CompilationFailed):
        list(builder.build(directory=str(tmp_path / "out"), versions=["standard"]))
    (editable,) = builder.build(directory=str(tmp_path / "out"), versions=["editable"])
    with zipfile.ZipFile(editable) as archive:
        metadata_text = archive.read("demo_pkg-0.1.0.dist-info/METADATA").decode()
        assert "Launcher written by" not in archive.read("demo_pkg-0.1.0.data/scripts/demo-script").decode()
    assert "Requires-Python: >=3.8" in metadata_text


def test_convert_and_bundle_take_options_or_their_toml_keys(demo: Path, tmp_path: Path) -> None:
    pyproject = demo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.hatch.build.targets.wheel.hooks.pyc]", ""))
    (plain,) = build(demo, tmp_path / "plain")
    lines: list[str] = []
    session = Session(progress=lines.append, warn=lines.append)
    by_keys = convert_wheel(plain, tmp_path / "a", {"layout": "sourceless", "cache": False}, session=session)
    by_options = convert_wheel(plain, tmp_path / "b", Options(layout=SOURCELESS, cache=False, compile_scripts=True))
    assert Path(by_keys).read_bytes() == Path(by_options).read_bytes()
    bundled = bundle_wheel(plain, tmp_path / "a.pyz", {"entry-point": "demo.core:main", "cache": False})
    options = Options(cache=False, zipapp=Zipapp(entry_point="demo.core:main"))
    assert Path(bundled).read_bytes() == Path(bundle_wheel(plain, tmp_path / "b.pyz", options)).read_bytes()
    with pytest.raises(ConfigError, match="--with-dependencies: must be true or false"):
        bundle_wheel(plain, tmp_path / "c.pyz", {"include-dependencies": "yes"})
