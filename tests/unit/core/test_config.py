"""The option table: TOML parsing, environment overrides, and the flags made from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatch_pyc import cli
from hatch_pyc.core import config
from hatch_pyc.core.config import ConfigError, Options, Zipapp, flag_options, parse_options
from hatch_pyc.core.layouts import ALONGSIDE

TABLE = "tool.hatch.build.targets.wheel.hooks.pyc"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"optimize": True}, "optimize: must be 0, 1, 2"),
        ({"optimize": []}, "optimize: must be 0, 1, 2"),
        ({"optimize": 3}, "optimize: must be 0, 1, 2 or a non-empty list of them, got 3"),
        ({"optimize": "2"}, "optimize: must be 0, 1, 2 or a non-empty list of them, got '2'"),
        ({"optimize": [1, 1]}, "optimize: lists a level twice"),
        ({"exclude": "tests/"}, "exclude: must be a list of non-empty glob strings"),
        ({"exclude": [""]}, "exclude: must be a list of non-empty glob strings"),
        ({"keep-source": [3]}, "keep-source: must be a list of non-empty glob strings"),
        ({"jobs": 1.5}, "jobs: must be a whole number"),
        ({"jobs": 0}, "jobs: must be a whole number of at least 1, got 0"),
        ({"jobs": True}, "jobs: must be a whole number of at least 1, got True"),
        ({"layout": "flat"}, "layout: must be one of 'alongside', 'sourceless', 'zip'"),
        ({"invalidation-mode": "never"}, "invalidation-mode: must be one of 'checked-hash', 'unchecked-hash'"),
        ({"cache": "no"}, "cache: must be true or false, got 'no'"),
        ({"cache-dir": ""}, "cache-dir: must be a directory path, got ''"),
        ({"cache-dir": 3}, "cache-dir: must be a directory path, got 3"),
        ({"compile-scripts": 1}, "compile-scripts: must be true or false, got 1"),
        ({"compress": "yes"}, "compress: must be true or false"),
        ({"debug-ranges": "on"}, "debug-ranges: must be true or false"),
        ({"python": ""}, "python: must be an interpreter"),
        ({"python": []}, "python: must be an interpreter"),
        ({"python": ["3.12", "3.12"]}, "python: names an interpreter twice"),
        ({"zipapp": "yes"}, "zipapp: must be a table, got 'yes'"),
        ({"zipapp": {"entry-point": "main()"}}, "zipapp.entry-point: must be 'module:function'"),
        ({"zipapp": {"entry-point": "a:b;import os"}}, "zipapp.entry-point: must be 'module:function'"),
        ({"zipapp": {"shebang": "py\nthon"}}, "zipapp.shebang: must be an interpreter path or command on one line"),
        ({"zipapp": {"shebang": " "}}, "zipapp.shebang: must be an interpreter path"),
        ({"zipapp": {"include-dependencies": "no"}}, "zipapp.include-dependencies: must be true or false"),
        ({"zipapp": {"compress": 0}}, "zipapp.compress: must be true or false"),
        ({"zipapp": {"extension-modules": "keep"}}, "zipapp.extension-modules: must be one of 'extract', 'refuse'"),
        ({"zipapp": {"entrypoint": "a:b"}}, "zipapp.entrypoint: unknown option; valid options are: compress, entry"),
        ({"optimise": 1}, "optimise: unknown option; valid options are: cache, cache-dir, compile-scripts"),
        (
            {"layout": "zip", "invalidation-mode": "timestamp"},
            "invalidation-mode: 'timestamp' pycs cannot be trusted inside an archive, as the zip layout",
        ),
        ({"zipapp": {}, "invalidation-mode": "timestamp"}, "invalidation-mode: 'timestamp' pycs cannot be trusted"),
        (
            {"layout": "sourceless", "python": ["3.11", "3.12"], "compile-scripts": True},
            "compile-scripts: a compiled script runs one interpreter's bytecode, and t.python names several",
        ),
    ],
)
def test_each_invalid_value_is_one_problem_named_by_its_toml_path(raw: dict, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_options(raw, "t", environ={})
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith(f"t.{problem}")


def test_every_problem_is_reported_at_once() -> None:
    raw = {"optimize": 3, "invalidation-mode": "never", "jobs": 0, "layout": "zap", "optimise": 1}
    with pytest.raises(ConfigError) as info:
        parse_options(raw, TABLE, environ={})
    assert info.value.problems == [
        f"{TABLE}.optimise: unknown option; valid options are: cache, cache-dir, compile-scripts, compress, "
        "debug-ranges, exclude, invalidation-mode, jobs, keep-source, layout, optimize, python, zipapp",
        f"{TABLE}.optimize: must be 0, 1, 2 or a non-empty list of them, got 3",
        f"{TABLE}.invalidation-mode: must be one of 'checked-hash', 'unchecked-hash', 'timestamp', got 'never'",
        f"{TABLE}.jobs: must be a whole number of at least 1, got 0",
        f"{TABLE}.layout: must be one of 'alongside', 'sourceless', 'zip', got 'zap'",
    ]
    assert str(info.value).startswith("hatch-pyc: invalid configuration:\n  ")


def test_valid_values_and_hatchling_keys() -> None:
    options = parse_options(
        {"optimize": [2, 0], "jobs": 3, "exclude": ["a/"], "enable-by-default": True, "dependencies": []},
        "t",
        environ={},
    )
    assert options == Options(optimize=(0, 2), jobs=3, exclude=("a/",))


def test_defaults() -> None:
    options = parse_options({}, "t", environ={})
    assert options == Options()
    assert options.workers == (os.cpu_count() or 1)
    assert options.cache
    assert options.layout is ALONGSIDE
    assert options.zipapp is None
    assert options.debug_ranges is None


@pytest.mark.parametrize(("layout", "compiles_scripts"), [("alongside", False), ("sourceless", True), ("zip", True)])
def test_scripts_are_compiled_by_default_where_sources_leave(layout: str, compiles_scripts: bool) -> None:
    assert parse_options({"layout": layout}, "t", environ={}).compiles_scripts is compiles_scripts
    assert parse_options({"layout": layout, "compile-scripts": False}, "t", environ={}).compiles_scripts is False
    several = parse_options({"layout": layout, "python": ["3.11", "3.12"]}, "t", environ={})
    assert several.compiles_scripts is False


def test_zipapp_table_defaults() -> None:
    assert parse_options({"zipapp": {}}, "t", environ={}).zipapp == Zipapp()


def test_environment_overrides_layout_and_python_and_is_named() -> None:
    environ = {"HATCH_PYC_LAYOUT": " sourceless ", "HATCH_PYC_PYTHON": "3.11"}
    options = parse_options({"layout": "alongside", "python": ["3.10", "3.12"]}, "t", environ=environ)
    assert (options.layout.name, options.python, options.where(config.PYTHON)) == (
        "sourceless",
        ("3.11",),
        "HATCH_PYC_PYTHON (environment)",
    )
    with pytest.raises(ConfigError) as info:
        parse_options({}, "t", environ={"HATCH_PYC_LAYOUT": "flat", "HATCH_PYC_PYTHON": "3.11,3.11"})
    assert info.value.problems == [
        "HATCH_PYC_LAYOUT (environment): must be one of 'alongside', 'sourceless', 'zip', got 'flat'",
        "HATCH_PYC_PYTHON (environment): names an interpreter twice: ['3.11', '3.11']",
    ]


def test_several_interpreters_in_a_sourceless_layout_compile_no_scripts_by_default() -> None:
    options = parse_options({"python": ["3.11", "3.12"]}, "t", environ={"HATCH_PYC_LAYOUT": "zip"})
    assert (options.layout.name, options.python, options.compiles_scripts) == ("zip", ("3.11", "3.12"), False)
    with pytest.raises(ConfigError) as info:
        parse_options({"python": ["3.11", "3.12"], "compile-scripts": True}, "t", environ={"HATCH_PYC_LAYOUT": "zip"})
    (problem,) = info.value.problems
    assert "for the zip layout (set by HATCH_PYC_LAYOUT (environment))" in problem


def test_cache_dir_is_taken_from_the_project_and_the_environment_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    from_project = parse_options({"cache-dir": "cache"}, "t", environ={}, root="/project")
    assert from_project.cache_dir == "/project/cache"
    from_environment = parse_options({"cache-dir": "cache"}, "t", environ={"HATCH_PYC_CACHE_DIR": "env"}, root="/p")
    assert from_environment.cache_dir == str(tmp_path / "env")


def test_flags_are_named_as_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HATCH_PYC_CACHE_DIR", raising=False)
    with pytest.raises(ConfigError) as info:
        flag_options({"layout": "flat", "optimize": (7,), "zipapp": {"include-dependencies": "x", "other": 1}})
    assert info.value.problems == [
        "--optimize: must be 0, 1, 2 or a non-empty list of them, got [7]",
        "--layout: must be one of 'alongside', 'sourceless', 'zip', got 'flat'",
        "--other: unknown option; valid options are: compress, entry-point, extension-modules, "
        "include-dependencies, run-from, shebang",
        "--with-dependencies: must be true or false, got 'x'",
    ]


def test_flags_ignore_the_layout_and_python_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HATCH_PYC_LAYOUT", "zip")
    monkeypatch.setenv("HATCH_PYC_PYTHON", "3.8")
    assert flag_options({}).layout is ALONGSIDE
    assert flag_options({}).python == ()


def test_every_option_is_in_the_table_once_and_has_a_field() -> None:
    fields = set(Options.__dataclass_fields__) | set(Zipapp.__dataclass_fields__)
    keys = [(option.zipapp, option.key) for option in config.TABLE]
    assert len(keys) == len(set(keys))
    assert all(option.attribute in fields for option in config.TABLE)
    hook = {option.attribute for option in config.HOOK_OPTIONS.values()}
    assert hook == set(Options.__dataclass_fields__) - {"origins"}
    assert {option.attribute for option in config.ZIPAPP_OPTIONS.values()} == set(Zipapp.__dataclass_fields__)


@pytest.mark.parametrize("command", ["convert", "bundle"])
def test_the_commands_flags_are_made_from_the_table(command: str) -> None:
    parser = cli.parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    flags = {flag for action in sub._actions for flag in action.option_strings}
    wanted = {option.flag for option in config.command_options(command)}
    if command == "bundle":
        assert "--with-dependencies" in wanted
    either = {f"--no-{option.key}" for option in config.command_options(command) if option.kind == "either"}
    assert wanted <= flags
    assert flags - wanted - either <= {"-h", "--help", "-o", "--output", "-q", "--quiet", "-v", "--verbose", "--json"}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["convert", "x.whl"], {"layout": None, "python": None, "optimize": None, "cache": True}),
        (
            ["convert", "x.whl", "--python", "3.11", "--python", "3.12", "--optimize", "1", "--optimize", "2"],
            {"python": ["3.11", "3.12"], "optimize": [1, 2]},
        ),
        (["convert", "x.whl", "--no-cache", "--compile-scripts"], {"cache": False, "compile-scripts": True}),
        (["convert", "x.whl", "--no-debug-ranges"], {"debug-ranges": False}),
        (
            ["bundle", "x.whl", "--with-dependencies", "--no-compress"],
            {"include-dependencies": True, "compress": False},
        ),
        (["bundle", "x.whl", "--exclude", "a/*", "--exclude", "b/*"], {"exclude": ["a/*", "b/*"]}),
        (["bundle", "x.whl", "--entry-point", "a:b", "--jobs", "3"], {"entry-point": "a:b", "jobs": 3}),
    ],
)
def test_flags_give_options_by_their_toml_keys(argv: list[str], expected: dict) -> None:
    args = cli.parser().parse_args(argv)
    values = cli._option_values(args, argv[0])
    assert {key: values[key] for key in expected} == expected
