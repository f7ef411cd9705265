"""CPython 3.14 and 3.15 as targets, native (``.ci/interpreters`` provisions them).

Wheels go in with ``uv pip install --target`` for the target's version (uv checks tags and
Requires-Python with no interpreter), and the installed modules run with that directory on
``PYTHONPATH``, or added as a site directory where its ``.pth`` must count.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
import wheels
from helpers import BuildWheel, hatchling_build, only_wheel, python_or_skip, run, set_hook_options, uv
from packaging.specifiers import SpecifierSet
from packaging.tags import compatible_tags, cpython_tags
from test_alongside import DEMO_MODULES
from test_cli import HATCH_PYC
from test_sourceless import IMPORT_ALL, SOURCELESS, SOURCELESS_LOADERS, importable, line_of
from test_zip import BUNDLE_LOADERS, ZIP, ZIP_LOADERS, ZIPAPP

from hatch_pyc.check import bytecode
from hatch_pyc.core.limits import Budget

VERSIONS = ["3.14", "3.15"]
OTHER = {"3.14": "3.15", "3.15": "3.14"}
NAMES = [importable(m) for m in DEMO_MODULES if not m.endswith("__main__.py")]
#: The target's environment: no PYTHONPATH but the one given, no bytecode written.
ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
#: Any warning from site about the .pth (3.15's site, PEP 829, warns about import lines) fails the run.
SITE_THEN_IMPORT_ALL = (
    "import site, sys, warnings\nwarnings.simplefilter('error')\nsite.addsitedir(sys.argv.pop(1))\n" + IMPORT_ALL
)


def tag_of(version: str) -> str:
    return "cp" + version.replace(".", "")


def install(version: str, wheel: Path, target: Path, *, check: bool = True) -> str:
    """Install ``wheel`` into the directory ``target`` as uv would for CPython ``version``."""
    result = run(
        [uv(), "pip", "install", "--no-config", "--target", target, "--python-version", version, wheel], check=check
    )
    return result.stderr


def accepts(version: str, wheel: Path) -> bool:
    """Whether CPython ``version`` on Linux accepts ``wheel``, by packaging's tags and its Requires-Python."""
    python = tuple(int(part) for part in version.split("."))
    platforms = ["linux_x86_64"]
    supported = {
        str(tag)
        for tag in [
            *cpython_tags(python, platforms=platforms),
            *compatible_tags(python, tag_of(version), platforms),
        ]
    }
    tags_fit = any(tag in supported for tag in wheels.wheel_tags(wheel))
    return tags_fit and SpecifierSet(wheels.requires_python(wheel)).contains(f"{version}.0", prereleases=True)


def magic_of(python: Path) -> str:
    return run([python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"]).stdout.strip()


def check_boom_traceback(python: Path, env: dict[str, str], tmp_path: Path, prelude: str = "") -> None:
    """Run demo-cli's ``boom`` from a directory holding another demo/core.py: the traceback
    names the module and line, and shows none of that file."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "demo").mkdir(parents=True, exist_ok=True)
    (elsewhere / "demo" / "core.py").write_text("NOT THIS FILE\n" * 100)
    code = prelude + "import sys, demo.core\nsys.exit(demo.core.main(['boom']))"
    boom = run([python, "-c", code], env=env, cwd=elsewhere, check=False)
    assert boom.returncode == 1
    assert f'File "<demo/core.py>", line {line_of("src/demo/core.py", "raise RuntimeError")}, in boom' in boom.stderr
    assert "NOT THIS FILE" not in boom.stderr
    assert boom.stderr.endswith("RuntimeError: boom from demo.core\n")


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_sourceless_wheel(version: str, demo: Path, build_wheel: BuildWheel, tmp_path: Path) -> None:
    python = python_or_skip(version)
    set_hook_options(demo, SOURCELESS.format(version=python))
    wheel = build_wheel(demo)
    tag = tag_of(version)
    assert wheel.name == f"demo_pkg-0.1.0-{tag}-none-any.whl"
    assert wheels.requires_python(wheel) == f"=={version}.*,>=3.8"
    magic = magic_of(python)
    pycs = [name for name in wheels.check_record(wheel) if name.endswith(".pyc")]
    # and the compiled script, the selector's code, the stub and the selector's __init__ compiled
    assert len(pycs) == len(DEMO_MODULES) + 4
    assert {wheels.read(wheel, name)[:4].hex() for name in pycs} == {magic}
    meta = wheels.bytecode_metadata(wheel)["interpreters"]
    assert [(i["python_tag"], i["magic_number"], i["free_threaded"]) for i in meta] == [(tag, magic, False)]

    # Tags and Requires-Python admit this version alone; uv refuses it for the other one.
    assert accepts(version, wheel)
    assert not accepts(OTHER[version], wheel)
    assert not accepts("3.13", wheel)
    refused = install(OTHER[version], wheel, tmp_path / "refused", check=False)
    # uv ignores the upper bound of Requires-Python: the tag refuses a newer version.
    other = tag_of(OTHER[version])
    reason = (
        f"has no wheels with a matching Python version tag (e.g., `{other}`)" if other > tag else "does not satisfy"
    )
    assert reason in " ".join(refused.split())

    site = tmp_path / "site"
    install(version, wheel, site)
    env = {**ENV, "PYTHONPATH": str(site)}
    assert run([python, "-c", IMPORT_ALL, *NAMES], env=env).stdout.splitlines() == SOURCELESS_LOADERS
    assert run([python, "-m", "demo", "foo", "nope"], env=env).stdout == "demo known,unknown\n"
    check_boom_traceback(python, env, tmp_path)
    script = run([python, site / "bin" / "demo-script", "7", "x"], env=env, check=False)
    assert script.returncode == 7
    assert script.stdout == "demo-script ran __main__ ['7', 'x'] A Python script the demo project installs\n"
    failed = run([python, site / "bin" / "demo-script", "fail"], env=env, check=False)
    assert f'File "<demo-script>", line {line_of("scripts/demo-script", "raise ValueError")}, in fail' in failed.stderr
    assert failed.stderr.endswith("ValueError: demo-script failed on purpose\n")

    # check reads this version's pycs, and compiles every kept source again in the target.
    checked = run([*HATCH_PYC, "check", wheel, "--python", python, "--verify-code"])
    assert checked.stdout.startswith(f"ok: {wheel.name} fits cpython {version}.")


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_zip_layout_and_zipapp(version: str, demo: Path, build_wheel: BuildWheel, tmp_path: Path) -> None:
    python = python_or_skip(version)
    set_hook_options(demo, ZIP + f'\npython = "{python}"' + ZIPAPP)
    wheel = build_wheel(demo)
    assert wheel.name == f"demo_pkg-0.1.0-{tag_of(version)}-none-any.whl"
    site = tmp_path / "site"
    install(version, wheel, site)
    # A path line alone: 3.15's site (PEP 829) warns about import lines, never about paths.
    (pth,) = site.glob("*.pth")
    assert pth.read_text() == "demo_pkg.zip\n"
    imported = run([python, "-c", SITE_THEN_IMPORT_ALL, site, *NAMES], env=ENV)
    assert imported.stdout.splitlines() == ZIP_LOADERS
    assert imported.stderr == ""
    check_boom_traceback(python, ENV, tmp_path, prelude=f"import site\nsite.addsitedir({str(site)!r})\n")

    pyz = wheel.parent / f"demo_pkg-0.1.0-{tag_of(version)}.pyz"
    with zipfile.ZipFile(pyz) as archive:
        assert {archive.read(n)[:4].hex() for n in archive.namelist() if n.endswith(".pyc")} == {magic_of(python)}
    # Every module loads from the bundle's own pycs, and its tracebacks name the module.
    in_bundle = {**ENV, "PYTHONPATH": str(pyz)}
    assert run([python, "-c", IMPORT_ALL, *NAMES], env=in_bundle).stdout.splitlines() == BUNDLE_LOADERS
    check_boom_traceback(python, in_bundle, tmp_path)
    assert run([python, "-I", pyz, "foo"]).stdout == "demo known\n"
    assert run([python, "-I", pyz, "foo", "nope"]).stdout == "demo known,unknown\n"
    wrong = run([sys.executable, pyz], check=False)
    assert wrong.returncode == 1
    assert f"cpython {version}" in wrong.stderr.lower()


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_same_bytes_from_workers_with_other_histories(version: str, demo: Path, tmp_path: Path) -> None:
    """One worker compiles every module, biggest first; two split them, one from each end."""
    python = python_or_skip(version)
    built = []
    for jobs in (1, 2):
        set_hook_options(demo, SOURCELESS.format(version=python) + f"\njobs = {jobs}\noptimize = [0, 1]\ncache = false")
        hatchling_build(demo, tmp_path / f"out-{jobs}")
        built.append(only_wheel(tmp_path / f"out-{jobs}").read_bytes())
    assert built[0] == built[1]


# Constants the newest marshal formats add: a slice (format 5, 3.14), a frozendict (format 6, 3.15).
NEW_CONSTANTS = """
import importlib.util, marshal, sys
code = compile("def f(a):\\n    return a[1:2], a[::3]\\n", "<pkg/new.py>", "exec")
if sys.version_info >= (3, 15):
    code = code.replace(co_consts=code.co_consts + (frozendict({"k": (1, "v")}),))
data = marshal.dumps(code)
assert (b":" in data) and (sys.version_info < (3, 15) or b"}" in data)
sys.stdout.write(data.hex())
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_check_reads_the_newest_marshal_formats(version: str, tmp_path: Path) -> None:
    python = python_or_skip(version)
    data = bytes.fromhex(run([python, "-c", NEW_CONSTANTS]).stdout)
    minor = (3, int(version.split(".")[1]))
    assert bytecode.code_filenames(data, minor, Budget("new.pyc")) == ["<pkg/new.py>"]
    with pytest.raises(bytecode.InvalidBytecode, match="unknown marshal type"):
        bytecode.code_filenames(data, (3, 13), Budget("new.pyc"))


@pytest.mark.slow
def test_one_alongside_wheel_for_several_versions_up_to_the_newest(
    demo: Path, build_wheel: BuildWheel, tmp_path: Path
) -> None:
    pythons = {version: python_or_skip(version) for version in ("3.13", *VERSIONS)}
    listed = ", ".join(f'"{python}"' for python in pythons.values())
    set_hook_options(demo, f'layout = "alongside"\npython = [{listed}]')
    wheel = build_wheel(demo)
    assert wheel.name == "demo_pkg-0.1.0-py3-none-any.whl"
    names = set(wheels.check_record(wheel))
    for version, python in pythons.items():
        assert f"demo/__pycache__/core.cpython-{version.replace('.', '')}.pyc" in names
        site = tmp_path / f"site-{version}"
        install(version, wheel, site)
        env = {**ENV, "PYTHONPATH": str(site)}
        # Each version finds its own pyc beside the source, and check proves it is that source compiled.
        probe = "import demo.core, sys; print(demo.core.__spec__.cached); sys.exit(demo.core.main(['foo']))"
        shown = run([python, "-c", probe], env=env).stdout.splitlines()
        assert shown == [str(site / f"demo/__pycache__/core.cpython-{version.replace('.', '')}.pyc"), "demo known"]
        assert run([*HATCH_PYC, "check", wheel, "--python", python, "--verify-code"]).returncode == 0
