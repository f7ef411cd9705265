"""The modules compiled are exactly the .py files hatchling puts in the wheel."""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap
from pathlib import Path

import wheels
from helpers import BuildWheel, MakeVenv, run


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def pyproject(wheel_config: str, extra: str = "") -> str:
    return f"""\
        [build-system]
        requires = ["hatchling", "hatch-pyc"]
        build-backend = "hatchling.build"

        [project]
        name = "mypkg"
        version = "1.0"

        [tool.hatch.build.targets.wheel]
        {wheel_config}
        {extra}
        [tool.hatch.build.targets.wheel.hooks.pyc]
        """


def assert_compiled_exactly_the_shipped_modules(wheel: Path) -> list[str]:
    files = wheels.check_record(wheel)
    modules = sorted(f for f in files if f.endswith(".py") and ".data/" not in f)
    pycs = sorted(f for f in files if f.endswith(".pyc"))
    assert pycs == sorted(importlib.util.cache_from_source(m) for m in modules)
    for module in modules:
        code = wheels.load_pyc(wheels.read(wheel, importlib.util.cache_from_source(module)))
        assert code.co_filename == f"<{module}>"
    return modules


def assert_sourceless(wheel: Path, modules: list[str]) -> None:
    """The sourceless wheel holds a legacy pyc for each of ``modules`` and no source but the
    stubs and the selector package hatch-pyc writes."""
    files = wheels.check_record(wheel)
    sources = [f for f in files if f.endswith(".py")]
    assert sources == wheels.selection_sources({f: wheels.read(wheel, f) for f in sources})
    own = wheels.own_pycs({f: wheels.read(wheel, f) for f in files if f.endswith((".py", ".pyc"))})
    pycs = sorted(wheels.placed(f) for f in files if f.endswith(".pyc") and f not in own)
    assert pycs == sorted(m.removesuffix(".py") + ".pyc" for m in modules)


def test_sources_remapping_force_include_exclude_and_artifacts(tmp_path: Path, build_wheel: BuildWheel) -> None:
    project = write(
        tmp_path / "project",
        {
            "pyproject.toml": pyproject(
                'sources = {"lib" = "mypkg"}\nonly-include = ["lib"]\nexclude = ["lib/skip.py"]\n'
                'artifacts = ["lib/generated.py"]',
                '[tool.hatch.build.targets.wheel.force-include]\n"extra/plugin.py" = "mypkg/plugin.py"\n'
                '"vendored" = "mypkg/_vendor"\n',
            ),
            ".gitignore": "lib/generated.py\nlib/ignored.py\n",
            "lib/__init__.py": "",
            "lib/a.py": "A = 1\n",
            "lib/skip.py": "SKIP = 1\n",
            "lib/generated.py": "GENERATED = 1\n",
            "lib/ignored.py": "IGNORED = 1\n",
            "lib/__pycache__/stale.cpython-311.pyc": "not a pyc",
            "lib/data.json": "{}",
            "extra/plugin.py": "PLUGIN = 1\n",
            "vendored/six_like/__init__.py": "VENDORED = 1\n",
            "not_shipped.py": "x = (\n",
        },
    )
    modules = assert_compiled_exactly_the_shipped_modules(build_wheel(project))
    assert modules == [
        "mypkg/__init__.py",
        "mypkg/_vendor/six_like/__init__.py",
        "mypkg/a.py",
        "mypkg/generated.py",
        "mypkg/plugin.py",
    ]
    # Every route a source takes into the wheel is closed in the sourceless layout.
    with (project / "pyproject.toml").open("a") as f:
        f.write('layout = "sourceless"\n')
    sourceless = build_wheel(project)
    assert_sourceless(sourceless, modules)
    assert "mypkg/data.json" in wheels.names(sourceless)


def test_files_added_by_an_earlier_build_hook_are_compiled(tmp_path: Path, build_wheel: BuildWheel) -> None:
    project = write(
        tmp_path / "project",
        {
            "pyproject.toml": pyproject(
                'packages = ["mypkg"]',
                '[tool.hatch.build.targets.wheel.hooks.custom]\npath = "hatch_build.py"\n',
            ),
            "hatch_build.py": """\
                import os
                from hatchling.builders.hooks.plugin.interface import BuildHookInterface

                class Generate(BuildHookInterface):
                    def initialize(self, version, build_data):
                        path = os.path.join(self.root, "build_gen", "_version.py")
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        with open(path, "w") as f:
                            f.write("VERSION = '1.0'\\n")
                        build_data["force_include"][path] = "mypkg/_version.py"
                        # As hatch-vcs does with its version file: an ignored file, made an artifact.
                        with open(os.path.join(self.root, "mypkg", "_build.py"), "w") as f:
                            f.write("BUILD = 1\\n")
                        build_data["artifacts"].append("/mypkg/_build.py")
            """,
            ".gitignore": "mypkg/_build.py\n",
            "mypkg/__init__.py": "",
        },
    )
    modules = assert_compiled_exactly_the_shipped_modules(build_wheel(project))
    assert modules == ["mypkg/__init__.py", "mypkg/_build.py", "mypkg/_version.py"]
    with (project / "pyproject.toml").open("a") as f:
        f.write('layout = "sourceless"\n')
    assert_sourceless(build_wheel(project), modules)


def test_src_layout_found_by_default(tmp_path: Path, build_wheel: BuildWheel) -> None:
    project = write(
        tmp_path / "project",
        {
            "pyproject.toml": pyproject("").replace("[tool.hatch.build.targets.wheel]\n", ""),
            "src/mypkg/__init__.py": "",
            "src/mypkg/tests/test_x.py": "def test(): pass\n",
            "tests/test_outside.py": "x = (\n",
        },
    )
    modules = assert_compiled_exactly_the_shipped_modules(build_wheel(project))
    assert modules == ["mypkg/__init__.py", "mypkg/tests/test_x.py"]


def test_sdist_is_unchanged(demo: Path, tmp_path: Path) -> None:
    sdists = []
    for name, env in (("hook", {}), ("no-hooks", {"HATCH_BUILD_NO_HOOKS": "true"})):
        out = tmp_path / name
        run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", out], cwd=demo, env={**os.environ, **env})
        (sdist,) = out.glob("*.tar.gz")
        sdists.append(sdist.read_bytes())
    assert sdists[0] == sdists[1]


def test_editable_install_works_and_ships_no_bytecode(demo: Path, wheelhouse: Path, make_venv: MakeVenv) -> None:
    venv = make_venv()
    venv.uv_install("--find-links", wheelhouse, "-e", demo)
    site = venv.site_packages()
    assert not list(site.rglob("*.pyc"))
    assert not list(site.rglob("hatch_pyc.json"))
    (demo / "src/demo/sub/deep/mod.py").write_text("def answer():\n    return 'edited'\n")
    result = run([venv.python, "-c", "import demo.sub.deep as d; print(d.answer())"])
    assert result.stdout == "edited\n"
