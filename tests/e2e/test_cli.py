"""The hatch-pyc command, run as a user runs it: exit codes and what it prints."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, MakeVenv, Venv, python_or_skip, run, set_hook_options
from wheels import rewrite

import hatch_pyc
from hatch_pyc.wheel import records

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
#: The installed command, from the venv the tests run in.
HATCH_PYC = [Path(sys.executable).parent / "hatch-pyc"]


def hatch_pyc_command(*args: object, check: bool = False) -> tuple[int, str, str]:
    result = run([*HATCH_PYC, *args], check=check)
    return result.returncode, result.stdout, result.stderr


def pyc(source: str, filename: str, python: Path | None = None) -> bytes:
    """A checked-hash pyc of ``source`` as ``python`` (this interpreter by default) writes it."""
    if python is None:
        code = compile(source, filename, "exec")
        return (
            importlib.util.MAGIC_NUMBER
            + struct.pack("<I", 3)
            + importlib.util.source_hash(source.encode())
            + (marshal.dumps(code))
        )
    script = (
        "import importlib.util, marshal, struct, sys\n"
        f"code = compile({source!r}, {filename!r}, 'exec')\n"
        "sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER + struct.pack('<I', 3) + "
        f"importlib.util.source_hash({source!r}.encode()) + marshal.dumps(code))\n"
    )
    return run_bytes([python, "-c", script])


def run_bytes(command: list[object]) -> bytes:
    return subprocess.run([str(c) for c in command], capture_output=True, check=True).stdout


@pytest.fixture
def sourceless_wheel(demo: Path, build_wheel: BuildWheel) -> Path:
    set_hook_options(demo, 'layout = "sourceless"')
    return build_wheel(demo)


def test_inspect_every_layout_and_a_plain_wheel(demo: Path, build_wheel: BuildWheel, tmp_path: Path) -> None:
    for layout in ("alongside", "sourceless", "zip"):
        set_hook_options(demo, f'layout = "{layout}"\nkeep-source = ["demo/selfsource.py"]')
        wheel = build_wheel(demo)
        code, out, _ = hatch_pyc_command("inspect", wheel)
        assert code == 0
        assert f"layout: {layout}" in out.splitlines()
        interpreter = f"cpython {'.'.join(map(str, sys.version_info[:3]))} ({TAG}, cache tag"
        assert any(line.startswith(f"interpreter: {interpreter}") for line in out.splitlines())
        code, out, _ = hatch_pyc_command("inspect", "--json", wheel)
        data = json.loads(out)
        assert data["layout"] == layout
        # Sourceless and zip compile the demo script too (compile-scripts is on there).
        compiled = {"alongside": 12, "sourceless": 13, "zip": 13}[layout]
        # and hatch-pyc's own: the selector's code, the stub and the selector's __init__ compiled.
        own = {"alongside": 0, "sourceless": 3, "zip": 3}[layout]
        assert (data["modules"], data["pycs"]) == (compiled, compiled + own)
        # Sourceless and zip: the kept module, the top-level stub and the selector package it calls.
        assert data["sources"] == {"alongside": 12, "sourceless": 3, "zip": 3}[layout]
        assert data["interpreters"][0]["magic_number"] == importlib.util.MAGIC_NUMBER.hex()

    plain = build_wheel(demo, env={"HATCH_BUILD_NO_HOOKS": "true"})
    code, out, _ = hatch_pyc_command("inspect", plain)
    assert code == 0
    assert "built by: not hatch-pyc (no bytecode metadata)" in out
    assert "pycs: 0" in out
    assert hatch_pyc_command("check", plain)[0] == 0

    set_hook_options(demo, "[tool.hatch.build.targets.wheel.hooks.pyc.zipapp]")
    pyz = build_wheel(demo).parent / f"demo_pkg-0.1.0-{TAG}.pyz"
    data = json.loads(hatch_pyc_command("inspect", "--json", pyz)[1])
    # The project's 12 pycs, the bundle's _hatch_pyc_index, _hatch_pyc_runtime and __main__ compiled; the
    # source is __main__.py.
    assert (data["kind"], data["layout"], data["pycs"], data["sources"]) == ("pyz", "zipapp", 15, 1)
    assert hatch_pyc_command("check", pyz)[0] == 0


def test_check_accepts_what_the_hook_built_and_names_the_target(sourceless_wheel: Path) -> None:
    code, out, _ = hatch_pyc_command("check", sourceless_wheel)
    assert code == 0
    magic = importlib.util.MAGIC_NUMBER.hex()
    version = ".".join(map(str, sys.version_info[:3]))
    assert out == (
        f"ok: {sourceless_wheel.name} fits cpython {version} ({TAG}, magic {magic})\n"
        "note: 14 pycs ship without their source, as the sourceless layout does: their magic number and code are "
        "checked here; `hatch-pyc verify --source SDIST` compares them with what the sdist compiles to\n"
    )
    result = hatch_pyc.check_wheel(sourceless_wheel)
    assert result.ok
    assert result.inspection.layout == "sourceless"


def test_check_refuses_another_interpreter_with_one_line_per_problem(sourceless_wheel: Path) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    python_or_skip(other)
    code, out, _ = hatch_pyc_command("check", sourceless_wheel, "--python", other)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{sourceless_wheel.name}: tags {TAG}-none-any do not fit cpython {other}.")
    assert lines[1].startswith(f"{sourceless_wheel.name}: built for cpython {sys.version_info[0]}.")
    data = json.loads(hatch_pyc_command("check", sourceless_wheel, "--python", other, "--json")[1])
    assert data["ok"] is False
    assert len(data["problems"]) == 2


def test_check_finds_tampering(sourceless_wheel: Path, tmp_path: Path) -> None:
    core = "demo/core.pyc"
    record = f"{wheels.dist_info(sourceless_wheel)}/RECORD"
    original = wheels.read(sourceless_wheel, core)
    cases = {
        "replaced": rewrite(
            sourceless_wheel,
            tmp_path / "a" / sourceless_wheel.name,
            {core: original[:-1] + bytes([original[-1] ^ 1])},
            fix_record=False,
        ),
        "record-edited": rewrite(
            sourceless_wheel,
            tmp_path / "b" / sourceless_wheel.name,
            {record: wheels.read(sourceless_wheel, record).replace(f"{core},".encode(), f"{core}x,".encode())},
        ),
        "absolute": rewrite(
            sourceless_wheel, tmp_path / "c" / sourceless_wheel.name, {core: pyc("x = 1\n", "/home/builder/core.py")}
        ),
    }
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    other_python = python_or_skip(other)
    cases["other-python"] = rewrite(
        sourceless_wheel, tmp_path / "d" / sourceless_wheel.name, {core: pyc("x = 1\n", "demo/core.py", other_python)}
    )
    expected = {
        "replaced": [f"{core}: content does not match its RECORD hash"],
        "record-edited": [f"{core}: in the wheel but not in RECORD", f"{core}x: in RECORD but not in the wheel"],
        "absolute": [f"{core}: code carries an absolute path of the build machine: /home/builder/core.py"],
        "other-python": [f"{core}: magic number {pyc('', 'x', other_python)[:4].hex()}, but cpython"],
    }
    for case, wheel in cases.items():
        code, out, _ = hatch_pyc_command("check", wheel)
        assert code == 1, case
        for line in expected[case]:
            assert f"{wheel.name}: {line}" in out, (case, out)


def make_bad_inputs(good: Path, tmp_path: Path) -> dict[str, Path]:
    dist_info = wheels.dist_info(good)
    bad = tmp_path / "bad"
    bad.mkdir()
    not_zip = bad / "not_zip-1.0-py3-none-any.whl"
    not_zip.write_text("hello")
    truncated = bad / good.name.replace("demo_pkg", "truncated")
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases = {"not a zip": not_zip, "truncated": truncated}
    for label, changes in {
        "no RECORD": {f"{dist_info}/RECORD": None},
        "bad RECORD": {f"{dist_info}/RECORD": b"demo/core.pyc,sha256=abc\n"},
        "no WHEEL": {f"{dist_info}/WHEEL": None},
        "bad metadata": {f"{dist_info}/extra_metadata/hatch_pyc.json": b"{not json"},
        "dotdot": {"../evil.py": b"x = 1\n"},
        "absolute": {"/etc/evil.py": b"x = 1\n"},
    }.items():
        directory = bad / label.replace(" ", "-")
        directory.mkdir()
        cases[label] = rewrite(good, directory / good.name, changes, fix_record=label.endswith("RECORD"))
    # A zip bomb: an entry whose central directory declares 2 GiB.
    bomb = bad / "bomb" / good.name
    bomb.parent.mkdir()
    data = bytearray(good.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 0x7FFFFFFF)
    bomb.write_bytes(bytes(data))
    cases["zip bomb"] = bomb
    return cases


BAD_MESSAGES = {
    "not a zip": "not a readable zip archive",
    "truncated": "not a readable zip archive",
    "no RECORD": "RECORD is missing",
    "bad RECORD": "RECORD line 1 has 2 fields, not 3",
    "no WHEEL": "WHEEL is missing",
    "bad metadata": "is not valid bytecode metadata",
    "dotdot": "unsafe entry '../evil.py'",
    "absolute": "unsafe entry '/etc/evil.py'",
    "zip bomb": "refusing a possible zip bomb",
}


def test_bad_input_is_exit_2_with_a_message_and_install_writes_nothing(
    sourceless_wheel: Path, tmp_path: Path, make_venv: MakeVenv
) -> None:
    venv = make_venv()
    before = venv.files()
    for label, path in make_bad_inputs(sourceless_wheel, tmp_path).items():
        for command in (["inspect"], ["check"], ["install", "--python", venv.python]):
            code, out, err = hatch_pyc_command(*command, path)
            assert code == 2, (label, command, out, err)
            assert "Traceback" not in err, (label, err)
            assert err.startswith("hatch-pyc: "), (label, err)
            assert BAD_MESSAGES[label] in err, (label, err)
    assert venv.files() == before


def test_install_checks_then_installs_with_the_shipped_pycs(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    wheel = build_wheel(demo)  # alongside: pypa/installer alone would skip its __pycache__ pycs
    venv = make_venv()
    code, out, _ = hatch_pyc_command("install", wheel, "--python", venv.python)
    assert code == 0, out
    site = venv.site_packages()
    shipped = importlib.util.cache_from_source("demo/core.py")
    assert (site / shipped).read_bytes() == wheels.read(wheel, shipped)
    result = run([venv.python, "-v", "-c", "import demo.core"], env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert f"code object from '{site / shipped}'" in result.stderr
    assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"
    installer = (site / "demo_pkg-0.1.0.dist-info" / "INSTALLER").read_text()
    assert installer == "hatch-pyc\n"
    record = (site / "demo_pkg-0.1.0.dist-info" / "RECORD").read_text()
    assert f"{shipped}," in record

    again = hatch_pyc_command("install", wheel, "--python", venv.python)
    assert again[0] == 1
    assert "demo-pkg is installed already" in again[1]


def test_install_refuses_a_mismatch_without_writing(sourceless_wheel: Path, make_venv: MakeVenv) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    venv = make_venv(python_or_skip(other))
    before = venv.files()
    code, out, err = hatch_pyc_command("install", sourceless_wheel, "--python", venv.python)
    assert code == 1
    assert "do not fit" in out
    assert "hatch-pyc: not installed; nothing was written" in err
    assert venv.files() == before


@pytest.fixture(scope="module")
def pypi_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Wheels from PyPI: six (setuptools, tagged py2.py3) and idna (flit)."""
    dest = tmp_path_factory.mktemp("pypi")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
            dest,
            "six==1.17.0",
            "idna==3.10",
        ]
    )
    return {"setuptools": dest / "six-1.17.0-py2.py3-none-any.whl", "flit": dest / "idna-3.10-py3-none-any.whl"}


@pytest.mark.parametrize("backend", ["setuptools", "flit"])
@pytest.mark.parametrize("layout", ["alongside", "sourceless", "zip"])
def test_convert_wheels_from_other_backends(
    backend: str, layout: str, pypi_wheels: dict[str, Path], tmp_path: Path, make_venv: MakeVenv
) -> None:
    source = pypi_wheels[backend]
    before = source.read_bytes()
    out = tmp_path / "out"
    code, printed, err = hatch_pyc_command("convert", source, "--layout", layout, "-o", out)
    assert code == 0, err
    converted = Path(printed.strip())
    assert source.read_bytes() == before
    wheels.check_record(converted)
    if layout == "alongside":
        assert converted.name == source.name
        assert wheels.wheel_tags(converted) == wheels.wheel_tags(source)
    else:
        assert converted.name.endswith(f"-{TAG}-none-any.whl")
        assert wheels.wheel_tags(converted) == [f"{TAG}-none-any"]
        assert wheels.requires_python(converted).endswith(f"=={sys.version_info[0]}.{sys.version_info[1]}.*") or (
            f"=={sys.version_info[0]}.{sys.version_info[1]}.*" in wheels.requires_python(converted)
        )
    assert wheels.bytecode_metadata(converted)["layout"] == layout
    assert hatch_pyc_command("check", converted)[0] == 0

    again = tmp_path / "again"
    hatch_pyc_command("convert", source, "--layout", layout, "-o", again, check=True)
    assert (again / converted.name).read_bytes() == converted.read_bytes()

    venv = make_venv()
    venv.uv_install(converted)
    module = {"setuptools": "six", "flit": "idna"}[backend]
    loaded = run(
        [venv.python, "-c", f"import {module}; print(type({module}.__spec__.loader).__name__, {module}.__file__)"],
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    ).stdout.split()
    # Sourceless and zip: the top-level module is the stub (compiled) that runs its bytecode.
    assert (
        loaded[0] == {"alongside": "SourceFileLoader", "sourceless": "SourceFileLoader", "zip": "zipimporter"}[layout]
    )
    # zipimport loads the stub's pyc beside it in the archive: its __file__ is that pyc.
    assert loaded[1].endswith(".pyc" if layout == "zip" else ".py")
    if layout == "alongside":
        verbose = run([venv.python, "-v", "-c", f"import {module}"], env={"PYTHONDONTWRITEBYTECODE": "1"}).stderr
        assert f"code object from '{importlib.util.cache_from_source(loaded[1])}'" in verbose


def test_convert_keeps_build_tags_and_script_modes_and_compiles_scripts_on_request(
    tmp_path: Path, make_venv: MakeVenv
) -> None:
    project = tmp_path / "legacy"
    (project / "legacy").mkdir(parents=True)
    (project / "legacy" / "__init__.py").write_text("VALUE = 7\n")
    (project / "bin").mkdir()
    (project / "bin" / "legacy-tool").write_text("#!/usr/bin/env python\nimport sys, legacy\nsys.exit(legacy.VALUE)\n")
    (project / "bin" / "legacy-tool").chmod(0o755)
    (project / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='legacy', version='1.0', packages=['legacy'], scripts=['bin/legacy-tool'])\n"
    )
    built = tmp_path / "built"
    tools = make_venv()
    tools.uv_install("setuptools", "wheel")
    run([tools.python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", built, project])
    (wheel,) = built.glob("*.whl")
    tagged = built / wheel.name.replace("legacy-1.0-", "legacy-1.0-1-")
    shutil.move(wheel, tagged)

    plain = Path(hatch_pyc_command("convert", tagged, "-o", tmp_path / "plain", check=True)[1].strip())
    assert plain.name == tagged.name
    script = "legacy-1.0.data/scripts/legacy-tool"
    assert wheels.read(plain, script) == wheels.read(tagged, script)

    printed = hatch_pyc_command(
        "convert", tagged, "--layout", "sourceless", "--compile-scripts", "-o", tmp_path / "compiled", check=True
    )[1]
    compiled = Path(printed.strip())
    assert compiled.name == f"legacy-1.0-1-{TAG}-none-any.whl"
    with zipfile.ZipFile(compiled) as archive:
        assert (archive.getinfo(script).external_attr >> 16) & 0o111
    assert b"hatch-pyc" in wheels.read(compiled, script)
    venv = make_venv()
    venv.uv_install(compiled)
    assert run([venv.path / "bin" / "legacy-tool"], check=False).returncode == 7


def test_check_notes_an_alongside_wheel_without_the_targets_bytecode_and_install_names_dependencies(
    demo: Path, build_wheel: BuildWheel, tmp_path: Path, make_venv: MakeVenv
) -> None:
    wheel = build_wheel(demo)  # alongside, for this interpreter only
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    python_or_skip(other)
    code, out, _ = hatch_pyc_command("check", wheel, "--python", other)
    assert code == 0
    assert out.splitlines()[1] == (
        f"note: no bytecode for cpython {other} in this wheel: its modules compile at their first import there, "
        "as without hatch-pyc"
    )
    metadata = f"{wheels.dist_info(wheel)}/METADATA"
    with_dependency = rewrite(
        wheel,
        tmp_path / "deps" / wheel.name,
        {
            metadata: wheels.read(wheel, metadata).replace(
                b"Version: 0.1.0\n", b"Version: 0.1.0\nRequires-Dist: click>=8\n"
            )
        },
    )
    venv = make_venv()
    code, _, err = hatch_pyc_command("install", with_dependency, "--python", venv.python)
    assert code == 0
    assert err == "hatch-pyc: installs no dependencies; install these with pip or uv: click>=8\n"


def test_a_build_imports_none_of_the_commands_modules() -> None:
    loaded = run(
        [sys.executable, "-c", "import sys, hatch_pyc.plugin; print(' '.join(sorted(sys.modules)))"]
    ).stdout.split()
    assert "hatch_pyc.hook" in loaded
    for module in ("installer", "hatch_pyc.install", "hatch_pyc.convert", "hatch_pyc.check.checker"):
        assert module not in loaded, module
    assert hatch_pyc.check_wheel.__module__ == "hatch_pyc.check.checker"


def test_help_gives_an_example_per_command_and_a_closed_pipe_is_quiet(sourceless_wheel: Path) -> None:
    for command in ("inspect", "check", "install", "convert"):
        assert f"example:\n  hatch-pyc {command} " in hatch_pyc_command(command, "--help", check=True)[1]
    assert "``" not in hatch_pyc_command("--help", check=True)[1]
    # A reader that is gone before the first line: as `hatch-pyc inspect ... | head -0`.
    process = subprocess.Popen(
        [*HATCH_PYC, "inspect", sourceless_wheel], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    assert process.stderr.read() == b""
    assert process.wait() == 0


@pytest.mark.parametrize("layout", ["alongside", "sourceless", "zip"])
def test_convert_of_the_plain_wheel_gives_what_the_hook_gives(
    layout: str, demo: Path, build_wheel: BuildWheel, tmp_path: Path
) -> None:
    """One pipeline: the hook's wheel and convert of the project's plain wheel hold the same
    files, with the same bytes but for RECORD (its order)."""
    set_hook_options(demo, f'layout = "{layout}"\ncache = false')
    hooked = build_wheel(demo)
    plain = build_wheel(demo, env={"HATCH_BUILD_NO_HOOKS": "true"})
    scripts = [] if layout == "alongside" else ["--compile-scripts"]  # the hook's default there
    out = tmp_path / "out"
    code, printed, err = hatch_pyc_command("convert", plain, "--layout", layout, "--no-cache", "-o", out, *scripts)
    assert code == 0, err
    converted = Path(printed.strip())
    assert converted.name == hooked.name
    with zipfile.ZipFile(hooked) as a, zipfile.ZipFile(converted) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        differ = sorted(name for name in a.namelist() if a.read(name) != b.read(name))
    info = wheels.dist_info(hooked)
    assert differ == [f"{info}/RECORD"]


def test_convert_refuses_two_scripts_that_compile_to_one_module(
    tmp_path: Path, demo: Path, build_wheel: BuildWheel
) -> None:
    plain = build_wheel(demo, env={"HATCH_BUILD_NO_HOOKS": "true"})
    data = "demo_pkg-0.1.0.data/scripts"
    script = wheels.read(plain, f"{data}/demo-script")
    twins = rewrite(plain, tmp_path / "twins" / plain.name, {f"{data}/demo_script": script})
    code, _, err = hatch_pyc_command("convert", twins, "--compile-scripts", "-o", tmp_path / "out")
    assert code == 2
    assert "hatch-pyc: scripts demo_pkg-0.1.0.data/scripts/demo-script, demo_pkg-0.1.0.data/scripts/demo_script" in err
    assert "compile to the same module _hatch_pyc_scripts/demo_pkg/demo_script.py; rename one" in err
    assert not (tmp_path / "out").exists()


def test_convert_flags_are_the_hooks_options_with_the_same_checks(
    tmp_path: Path, demo: Path, build_wheel: BuildWheel
) -> None:
    plain = build_wheel(demo, env={"HATCH_BUILD_NO_HOOKS": "true"})
    code, _, err = hatch_pyc_command("convert", plain, "--optimize", "3", "--layout", "flat", "-o", tmp_path)
    assert code == 2
    assert err.splitlines() == [
        "hatch-pyc: invalid configuration:",
        "  --optimize: must be 0, 1, 2 or a non-empty list of them, got [3]",
        "  --layout: must be one of 'alongside', 'sourceless', 'zip', got 'flat'",
    ]
    out = tmp_path / "opt"
    printed = hatch_pyc_command(
        "convert", plain, "--optimize", "1", "--optimize", "2", "--exclude", "demo/sub/", "-o", out, check=True
    )[1]
    converted = Path(printed.strip())
    pycs = [name for name in wheels.names(converted) if name.endswith(".pyc")]
    assert any(name.endswith(".opt-1.pyc") for name in pycs)
    assert any(name.endswith(".opt-2.pyc") for name in pycs)
    assert not any(name.startswith("demo/sub/") for name in pycs)
    assert wheels.bytecode_metadata(converted)["optimize"] == [1, 2]


def test_convert_into_the_same_directory_again_and_never_over_its_input(
    tmp_path: Path, demo: Path, build_wheel: BuildWheel
) -> None:
    plain = build_wheel(demo, env={"HATCH_BUILD_NO_HOOKS": "true"})
    out = tmp_path / "out"
    for layout in ("sourceless", "zip"):
        first = hatch_pyc_command("convert", plain, "--layout", layout, "-o", out, check=True)[1]
        second = hatch_pyc_command("convert", plain, "--layout", layout, "-o", out, check=True)[1]
        assert first == second
    before = plain.read_bytes()
    code, _, err = hatch_pyc_command("convert", plain, "-o", plain.parent)  # alongside keeps the name
    assert code == 2
    assert "the converted wheel would replace it" in err
    assert plain.read_bytes() == before


def test_inspect_and_check_read_the_free_threaded_flag(sourceless_wheel: Path, tmp_path: Path) -> None:
    """A wheel built by a free-threaded CPython says so; a cp3XX wheel fits either build."""
    meta_name = f"{wheels.dist_info(sourceless_wheel)}/extra_metadata/hatch_pyc.json"
    meta = wheels.bytecode_metadata(sourceless_wheel)
    assert meta["interpreters"][0]["free_threaded"] is False
    for value, expected in ((True, 0), ("yes", 2)):
        meta["interpreters"][0]["free_threaded"] = value
        changed = wheels.rewrite(
            sourceless_wheel, tmp_path / f"{value}" / sourceless_wheel.name, {meta_name: json.dumps(meta).encode()}
        )
        code, out, err = hatch_pyc_command("inspect", changed)
        assert code == expected
        if expected == 0:
            assert f"free-threaded ({TAG}, cache tag {sys.implementation.cache_tag}" in out
            assert hatch_pyc_command("check", changed)[0] == 0
        else:
            assert "free_threaded 'yes' is not true or false" in err


def test_install_goes_into_the_users_environment_never_its_own(
    sourceless_wheel: Path, make_venv: MakeVenv, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    venv = Venv(project / ".venv", sys.executable)
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    run([*HATCH_PYC, "install", sourceless_wheel], cwd=project / "sub", env=env)
    assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"
    active = make_venv()
    run([*HATCH_PYC, "install", sourceless_wheel], cwd=tmp_path, env={**env, "VIRTUAL_ENV": str(active.path)})
    assert run([active.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"
    refused = run([*HATCH_PYC, "install", sourceless_wheel], cwd="/", env=env, check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("hatch-pyc: no environment to install into: give --python")


def test_reinstall_replaces_what_pip_installed_all_or_nothing(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    set_hook_options(demo, "cache = false")
    alongside = build_wheel(demo)
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    sourceless = build_wheel(demo)
    fresh = make_venv()
    run([*HATCH_PYC, "install", sourceless, "--python", fresh.python])

    venv = make_venv()
    venv.pip("install", alongside)  # pip also compiles every module into __pycache__
    before = venv.files()
    refused = run([*HATCH_PYC, "install", sourceless, "--python", venv.python], check=False)
    assert refused.returncode == 1
    assert "is installed already" in refused.stdout + refused.stderr
    assert "--reinstall replaces it" in refused.stdout + refused.stderr

    # Refused part-way (a file where the new version needs a directory): the old version is back, whole.
    site = venv.site_packages()
    blocker = site / f"{wheels.SELECTOR}demo_pkg"
    blocker.write_text("in the way")
    failed = run([*HATCH_PYC, "install", sourceless, "--python", venv.python, "--reinstall"], check=False)
    assert failed.returncode != 0
    assert venv.files() == before | {str(blocker.relative_to(venv.path))}
    blocker.unlink()

    run([*HATCH_PYC, "install", sourceless, "--python", venv.python, "--reinstall"])
    # Nothing of the old version left: the venv holds what an install into a fresh one holds.
    assert {f for f in venv.files() if "site-packages" in f} == {f for f in fresh.files() if "site-packages" in f}
    assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"


def test_reinstall_removes_only_what_the_installed_version_owns(
    demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    """Rows added to the installed RECORD (the environment's own files, another distribution's,
    the same through the venv's lib64 link, another .dist-info, an .egg-info distribution's
    files, a file of another's top-level name that its RECORD leaves out, a user's script, the
    interpreter's directories) are not removed."""
    set_hook_options(demo, "cache = false")
    wheel = build_wheel(demo)
    venv = make_venv()
    run([*HATCH_PYC, "install", wheel, "--python", venv.python])
    site = venv.site_packages()
    record = next(site.glob("demo_pkg-*.dist-info")) / "RECORD"
    pip_info = next(site.glob("pip-*.dist-info"))
    # A distribution installed with .egg-info metadata, and one that lists only its top-level name.
    (site / "legacy.py").write_text("print('legacy works')\n")
    legacy = site / "legacy-1.0-py3.11.egg-info"
    legacy.mkdir()
    (legacy / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")
    (legacy / "installed-files.txt").write_text("../legacy.py\nPKG-INFO\ninstalled-files.txt\n")
    (site / "distro").mkdir()
    (site / "distro" / "__init__.py").write_text("")
    (site / "distro-2.0.egg-info").mkdir()
    (site / "distro-2.0.egg-info" / "top_level.txt").write_text("distro\n")
    (site / "pip" / "generated.txt").write_text("not in pip's RECORD\n")
    (venv.path / "bin" / "user-script").write_text("#!/bin/sh\necho mine\n")
    (venv.path / "include" / "python3.11").mkdir(parents=True, exist_ok=True)
    (venv.path / "include" / "python3.11" / "Python.h").write_text("/* the interpreter's */\n")
    (venv.path / "lib" / "python3.11" / "orphan.txt").write_text("the interpreter's\n")
    planted = [
        "../../../pyvenv.cfg",
        "../../../bin/activate",
        "../../../bin/python",
        "pip/__init__.py",
        "pip/generated.txt",
        "../../../lib64/python3.11/site-packages/pip/__main__.py",
        f"{pip_info.name}/METADATA",
        "legacy.py",
        f"{legacy.name}/PKG-INFO",
        "distro/__init__.py",
        "../../../bin/user-script",
        "../../../include/python3.11/Python.h",
        "../../../lib/python3.11/orphan.txt",
    ]
    # With the hashes of what is there, but a user's script: no proof it is what an installer
    # wrote (with its exact content, it would be indistinguishable from that).
    rows = [",".join(records.row(row, (site / row).read_bytes())) + "\n" for row in planted if "user" not in row]
    rows.append("../../../bin/user-script,,\n")
    record.write_text(record.read_text() + "".join(rows))
    kept = [site / row for row in planted if (site / row).exists()]
    assert len(kept) == len(planted)
    run([*HATCH_PYC, "install", wheel, "--python", venv.python, "--reinstall"])
    assert [path for path in kept if not path.exists()] == []
    assert run([venv.python, "-c", "import legacy"]).stdout == "legacy works\n"
    assert run([venv.python, "-m", "pip", "--version"]).returncode == 0
    assert run([venv.path / "bin" / "demo-cli", "foo"]).stdout == "demo known\n"


def test_install_streams_the_pycs_it_writes(tmp_path: Path, make_venv: MakeVenv) -> None:
    """A wheel of large pycs (each within the limits, together far past 256 MiB with their
    sources): checking and installing it stays under 256 MiB, the pycs copied from the wheel in
    chunks and what waits for the workers bounded as a whole."""
    venv = make_venv()
    count, size = 4, 30 * 1024 * 1024
    source = ('x = "' + "a" * size + '"\n').encode()
    header = importlib.util.MAGIC_NUMBER + struct.pack("<I", 1) + importlib.util.source_hash(source)
    wheel = tmp_path / "bigpycs-1.0-py3-none-any.whl"
    entries = {"big/__init__.py": b""}
    for number in range(count):
        entries[f"big/m{number}.py"] = source
    for number in range(count):
        code = marshal.dumps(compile(source, f"big/m{number}.py", "exec", dont_inherit=True))
        entries[f"big/__pycache__/m{number}.{sys.implementation.cache_tag}.pyc"] = header + code
    info = "bigpycs-1.0.dist-info"
    entries[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: bigpycs\nVersion: 1.0\n"
    entries[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries[f"{info}/RECORD"] = records.render(info, [records.row(name, data) for name, data in entries.items()])
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    del entries, source
    script = (
        "import resource, sys\n"
        "from hatch_pyc.cli import main\n"
        "try:\n    code = main(sys.argv[1:])\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, code)\n"
    )
    done = run([sys.executable, "-c", script, "install", "--python", venv.python, wheel])
    peak, code = done.stdout.split()[-2:]
    assert code in ("0", "None"), done.stdout + done.stderr
    assert int(peak) < 256 * 1024, f"{int(peak) // 1024} MiB"
    installed = venv.site_packages() / "big" / "__pycache__" / f"m3.{sys.implementation.cache_tag}.pyc"
    assert installed.stat().st_size > size
