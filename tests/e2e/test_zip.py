"""The zip layout and zipapp bundles: compressed bytecode that zipimport reads as it is."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import stat
import sys
import zipfile
from pathlib import Path

import pytest
import wheels
from helpers import (
    BuildWheel,
    MakeVenv,
    copy_project,
    find_python,
    hatchling_build,
    only_wheel,
    python_or_skip,
    run,
    set_hook_options,
    uv,
)
from test_alongside import DEMO_MODULES
from test_sourceless import KEPT, TOP, exercise, importable

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
ZIP = 'layout = "zip"\nkeep-source = ["demo/selfsource.py"]'
ZIPAPP = "\n[tool.hatch.build.targets.wheel.hooks.pyc.zipapp]\n"
#: Every demo module loads from the archive's pyc, the kept one too (its pyc matches its source);
#: the top-level package is the stub, compiled too, that runs its bytecode.
ZIP_LOADERS = [f"{importable(m)} zipimporter pyc" for m in DEMO_MODULES if not m.endswith("__main__.py")]
#: In a .pyz bundle (for one interpreter) every module loads from its pyc, the top-level package too.
BUNDLE_LOADERS = [f"{importable(m)} zipimporter pyc" for m in DEMO_MODULES if not m.endswith("__main__.py")]


def archive_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def other_python() -> Path:
    """A CPython that is not the one running the tests, to be refused."""
    for version in ("3.12", "3.11", "3.13", "3.10"):
        if version != f"{sys.version_info[0]}.{sys.version_info[1]}" and (python := find_python(version)):
            return python
    pytest.skip("needs a second CPython")


def test_zip_layout_wheel_holds_one_archive_and_a_pth(demo: Path, build_wheel: BuildWheel) -> None:
    set_hook_options(demo, ZIP)
    wheel = build_wheel(demo)
    assert wheel.name == f"demo_pkg-0.1.0-{TAG}-none-any.whl"
    assert wheels.requires_python(wheel) == f"=={sys.version_info[0]}.{sys.version_info[1]}.*,>=3.8"
    assert wheels.bytecode_metadata(wheel)["layout"] == "zip"
    files = wheels.check_record(wheel)
    outside = [f for f in files if not f.startswith(("demo_pkg-0.1.0.dist-info/", "demo_pkg-0.1.0.data/"))]
    assert outside == ["demo_pkg.pth", "demo_pkg.zip"]
    # One line, a path: nothing runs at interpreter start-up.
    assert wheels.read(wheel, "demo_pkg.pth") == b"demo_pkg.zip\n"

    names = archive_names(wheels.read(wheel, "demo_pkg.zip"))
    with zipfile.ZipFile(io.BytesIO(wheels.read(wheel, "demo_pkg.zip"))) as inner:
        # Stored: zipimport reads each module as it is; the wheel deflates the archive once.
        assert {info.compress_type for info in inner.infolist()} == {zipfile.ZIP_STORED}
    assert not [n for n in names if "__pycache__" in n]
    sources = [n for n in names if n.endswith(".py")]
    assert sorted(sources) == sorted([KEPT, TOP, f"{wheels.SELECTOR}demo_pkg/__init__.py"])
    pycs = [m.removesuffix(".py") + ".pyc" for m in DEMO_MODULES]
    placed = {wheels.placed(name) for name in names}
    assert set(pycs) | {"demo/data.txt", "demo/core.pyi", "demo/py.typed", "demo/ns/"} <= placed
    # The compiled script's module is in the archive too: its launcher imports it from there.
    assert "_hatch_pyc_scripts/demo_pkg/demo_script.pyc" in names


@pytest.mark.parametrize(("installer", "compress"), [("uv", False), ("pip", True)])
def test_zip_layout_installs_runs_from_the_archive_and_uninstalls(
    installer: str, compress: bool, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    set_hook_options(demo, ZIP + f"\ncompress = {str(compress).lower()}")
    wheel = build_wheel(demo)
    with zipfile.ZipFile(io.BytesIO(wheels.read(wheel, "demo_pkg.zip"))) as inner:
        expected = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        assert {info.compress_type for info in inner.infolist() if not info.is_dir()} == {expected}
    venv = make_venv()
    before = venv.files()
    if installer == "uv":
        venv.uv_install(wheel)
    else:
        venv.pip("install", wheel)
    exercise(venv, ZIP_LOADERS)

    site = venv.site_packages()
    archive = site / "demo_pkg.zip"
    verbose = run(
        [venv.python, "-v", "-c", "import demo.core, demo.sub.deep.mod"], env={"PYTHONDONTWRITEBYTECODE": "1"}
    ).stderr
    assert f"# zipimport: found {len(archive_names(archive.read_bytes()))} names in '{archive}'" in verbose
    assert f"import 'demo.sub.deep.mod' # <zipimporter object \"{archive}/demo/sub/deep/\">" in verbose
    # Nothing was compiled: the source of a module is never where its code came from.
    assert "demo/core.py" not in verbose
    resources = "import importlib.resources as r; print(r.files('demo').joinpath('data.txt').read_text())"
    assert run([venv.python, "-c", resources]).stdout.strip() == (Path(demo) / "src/demo/data.txt").read_text().strip()

    if installer == "uv":
        run([uv(), "pip", "uninstall", "-p", venv.python, "demo-pkg"])
    else:
        venv.pip("uninstall", "-y", "demo-pkg")
    assert venv.files() == before


def test_zip_layout_refuses_extension_modules(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, ZIP)
    (demo / "src/demo/_speedups.so").write_bytes(b"\x7fELF")
    (demo / "src/demo/sub/_native.abi3.so").write_bytes(b"\x7fELF")
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert (
        "hatch-pyc: the zip layout puts the package in a zip archive, from which Python cannot import extension "
        "modules, and the wheel has 2: demo/_speedups.so, demo/sub/_native.abi3.so; use the sourceless layout"
    ) in result.stderr
    assert not out.exists() or not list(out.iterdir())


def test_archives_refuse_timestamp_pycs(demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, 'layout = "zip"\ninvalidation-mode = "timestamp"')
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert "'timestamp' pycs cannot be trusted inside an archive" in result.stderr


def test_zipapp_runs_anywhere_writes_nothing_and_refuses_another_python(
    demo: Path, tmp_path: Path, make_venv: MakeVenv
) -> None:
    set_hook_options(demo, 'keep-source = ["demo/selfsource.py"]' + ZIPAPP)
    out = tmp_path / "out"
    result = hatchling_build(demo, out)
    pyz = out / f"demo_pkg-0.1.0-{TAG}.pyz"
    assert f"hatch-pyc: wrote {pyz}" in result.stderr + result.stdout
    assert {p.name for p in out.iterdir()} == {"demo_pkg-0.1.0-py3-none-any.whl", pyz.name}
    data = pyz.read_bytes()
    assert data.startswith(f"#!/usr/bin/env python{sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    assert pyz.stat().st_mode & stat.S_IXUSR
    names = archive_names(data)
    assert not [n for n in names if "__pycache__" in n]
    assert sorted(n for n in names if n.endswith(".py")) == ["__main__.py", KEPT]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # Deflated by default, directories stored.
        kinds = {info.filename.endswith("/"): info.compress_type for info in archive.infolist()}
        assert kinds == {True: zipfile.ZIP_STORED, False: zipfile.ZIP_DEFLATED}
    assert {m.removesuffix(".py") + ".pyc" for m in DEMO_MODULES} <= set(names)

    # From the user cache: the package is extracted at its first import and runs from there.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached = run([sys.executable, "-v", pyz, "foo"], env=env).stderr
    extracted = re.escape(f"{os.environ['XDG_CACHE_HOME']}/hatch-pyc/pyz/")
    assert re.search(rf"# code object from '{extracted}\w+/demo/core.pyc'", cached)

    # Read-only directory, a cache that cannot be written, isolated mode, bytecode writing
    # allowed: the modules load from the archive itself, and nothing is written. (Root ignores
    # the permission bits: a file stands where the cache would be, and the listing afterwards
    # is what proves it.)
    home = tmp_path / "ro"
    home.mkdir()
    (home / pyz.name).write_bytes(data)
    (home / pyz.name).chmod(0o555)
    home.chmod(0o555)
    env["XDG_CACHE_HOME"] = str(home / pyz.name)
    try:
        ran = run([sys.executable, "-I", home / pyz.name, "exit3"], cwd=home, env=env, check=False)
        assert (ran.returncode, ran.stdout) == (3, "demo unknown\n")
        direct = run([home / pyz.name, "foo"], cwd=home, env=env)
        assert direct.stdout == "demo known\n"
        verbose = run([sys.executable, "-v", home / pyz.name, "foo"], env=env).stderr
        assert f"import 'demo.core' # <zipimporter object \"{home / pyz.name}/demo/\">" in verbose
        assert sorted(p.name for p in home.iterdir()) == [pyz.name]
    finally:
        home.chmod(0o755)

    other = other_python()
    refused = run([other, pyz], check=False)
    assert refused.returncode == 1
    assert refused.stdout == ""
    version = run([other, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    major_minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert refused.stderr.splitlines() == [
        f"{pyz} needs CPython {major_minor} (bytecode magic {importlib.util.MAGIC_NUMBER.hex()}); "
        f"this is CPython {version} at {other} (magic {run([other, '-c', MAGIC_OF]).stdout.strip()})"
    ]


MAGIC_OF = "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"


def test_zipapp_is_reproducible_and_takes_options(demo: Path, tmp_path: Path) -> None:
    bundles = []
    for seed, jobs in (("1", 1), ("2", 2)):
        options = f"jobs = {jobs}" + ZIPAPP + 'entry-point = "demo.core:main"\nshebang = "/opt/python/bin/python3"'
        options += "\ncompress = false"
        set_hook_options(demo, options)
        out = tmp_path / f"out-{seed}"
        hatchling_build(demo, out, env={"PYTHONHASHSEED": seed})
        bundles.append((out / f"demo_pkg-0.1.0-{TAG}.pyz").read_bytes())
    assert bundles[0] == bundles[1]
    assert bundles[0].startswith(b"#!/opt/python/bin/python3\n")
    with zipfile.ZipFile(io.BytesIO(bundles[0])) as archive:
        assert archive.getinfo("demo/core.pyc").compress_type == zipfile.ZIP_STORED


@pytest.mark.parametrize(
    ("scripts", "message"),
    [
        ("", "the project has no console scripts"),
        (
            'a = "demo.core:main"\nb = "demo.core:main"',
            "the project has 2 console scripts (a = demo.core:main, b = demo.core:main)",
        ),
    ],
)
def test_zipapp_entry_point_must_be_clear(scripts: str, message: str, demo: Path, tmp_path: Path) -> None:
    pyproject = demo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('demo-cli = "demo.core:main"', scripts))
    set_hook_options(demo, ZIPAPP)
    result = hatchling_build(demo, tmp_path / "out", check=False)
    assert result.returncode != 0
    key = "tool.hatch.build.targets.wheel.hooks.pyc.zipapp.entry-point"
    expected = f"{key}: {message}; set it to a console script's name or 'module:function'"
    assert expected in result.stderr


def test_zipapp_bundles_a_pure_python_dependency(tmp_path: Path, make_venv: MakeVenv) -> None:
    project = copy_project("clickapp", tmp_path / "src")
    out = tmp_path / "out"
    hatchling_build(project, out)
    pyz = out / f"clickapp-2.0.0-{TAG}.pyz"
    names = archive_names(pyz.read_bytes())
    assert "click/core.pyc" in names
    assert not [n for n in names if n.endswith(".py") and n != "__main__.py"]
    assert not [n for n in names if n.endswith(("INSTALLER", "REQUESTED", "direct_url.json", ".lock"))]
    # An empty venv: click comes from the bundle, compiled, or not at all.
    venv = make_venv()
    check = "import click; print(click.__file__)"
    assert run([venv.python, "-c", check], check=False).returncode != 0
    ran = run([venv.python, pyz, "you", "--exit-code", "4"], check=False, env={"PYTHONDONTWRITEBYTECODE": "1"})
    greeting = f"hello you from clickapp.cli on {sys.version_info[0]}.{sys.version_info[1]}\n"
    assert (ran.returncode, ran.stdout) == (4, greeting)
    verbose = run([venv.python, "-v", pyz, "--help"]).stderr
    extracted = re.escape(f"{os.environ['XDG_CACHE_HOME']}/hatch-pyc/pyz/")
    assert re.search(rf"# code object from '{extracted}\w+/click/core.pyc'", verbose)
    # With run-from = "archive", from the archive itself.
    archived = tmp_path / "archived.pyz"
    wheel = only_wheel(out)
    run(
        [
            sys.executable,
            "-m",
            "hatch_pyc.cli",
            "bundle",
            wheel,
            "--with-dependencies",
            "--run-from",
            "archive",
            "-o",
            archived,
        ]
    )
    verbose = run([venv.python, "-v", archived, "--help"]).stderr
    assert f"import 'click.core' # <zipimporter object \"{archived}/click/\">" in verbose
    # click's version_option() asks importlib.metadata, which finds the project's own .dist-info.
    assert run([venv.python, pyz, "--version"]).stdout == f"{pyz.name}, version 2.0.0\n"


SEEN_BY_METADATA = """\
import importlib.metadata as metadata
print(metadata.version("clickapp"), metadata.version("click").count(".") >= 1)
print([e.value for e in metadata.entry_points(group="console_scripts", name="clickapp")])
files = {str(f): f for f in metadata.files("clickapp")}
print(sorted(files))
print(files["clickapp/cli.pyc"].hash.value == __import__("base64").urlsafe_b64encode(
    __import__("hashlib").sha256(files["clickapp/cli.pyc"].read_binary()).digest()).rstrip(b"=").decode())
print(len([f for f in metadata.files("click") if str(f).endswith(".py")]))
"""


def test_importlib_metadata_sees_every_distribution_in_a_bundle(tmp_path: Path, make_venv: MakeVenv) -> None:
    """On PYTHONPATH, and run as a program (when the bundle serves importlib.metadata from the
    archive's table of contents itself): the same answers, each distribution once."""
    project = copy_project("clickapp", tmp_path / "src")
    out = tmp_path / "out"
    hatchling_build(project, out)
    pyz = out / f"clickapp-2.0.0-{TAG}.pyz"
    python = make_venv().python
    expected = [
        "2.0.0 True",
        "['clickapp.cli:main']",
        str(
            [
                "clickapp-2.0.0.dist-info/METADATA",
                "clickapp-2.0.0.dist-info/RECORD",
                "clickapp-2.0.0.dist-info/WHEEL",
                "clickapp-2.0.0.dist-info/entry_points.txt",
                "clickapp/__init__.pyc",
                "clickapp/cli.pyc",
            ]
        ),
        "True",
        # RECORD lists what the bundle holds: pycs, not the sources it left out.
        "0",
        "1",
    ]
    seen = SEEN_BY_METADATA + "print(len([d for d in metadata.distributions() if d.name == 'clickapp']))\n"
    assert run([python, "-c", seen], env={"PYTHONPATH": str(pyz)}).stdout.splitlines() == expected
    started = (
        "import runpy, sys\n"
        f"sys.argv = [{str(pyz)!r}, '--help']\n"
        "try:\n"
        f"    runpy.run_path({str(pyz)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    assert run([python, "-c", started + seen]).stdout.splitlines()[-len(expected) :] == expected


def test_a_portable_zipapp_refuses_extension_modules(tmp_path: Path) -> None:
    project = copy_project("clickapp", tmp_path / "src")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('"click>=8.1"', '"click>=8.1", "markupsafe==3.0.2"')
    pyproject.write_text(text + 'extension-modules = "refuse"\n')
    result = hatchling_build(project, tmp_path / "out", check=False)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert (
        "hatch-pyc: tool.hatch.build.targets.wheel.hooks.pyc.zipapp.extension-modules is 'refuse', and these have "
        "extension modules: MarkupSafe (markupsafe/_speedups." in message
    )
    assert "leave it out to extract them at start-up (the bundle is then for this platform only)" in message
    # The wheel was built before the bundle failed: neither stays.
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_one_zipapp_per_target_interpreter(demo: Path, tmp_path: Path) -> None:
    found = [v for v in ("3.9", "3.13") if find_python(v)]
    if len(found) < 2:
        pytest.skip("needs CPython 3.9 and 3.13")
    listed = ", ".join(f'"{v}"' for v in found)
    set_hook_options(demo, f"python = [{listed}]" + ZIPAPP)
    out = tmp_path / "out"
    hatchling_build(demo, out)
    for version in found:
        pyz = out / f"demo_pkg-0.1.0-cp{version.replace('.', '')}.pyz"
        assert run([python_or_skip(version), pyz, "foo"]).stdout == "demo known\n"
    assert only_wheel(out).name == "demo_pkg-0.1.0-py3-none-any.whl"


@pytest.mark.parametrize("version", ["3.8", "3.13"])
def test_zip_layout_and_zipapp_for_another_cpython(
    version: str, demo: Path, build_wheel: BuildWheel, make_venv: MakeVenv
) -> None:
    python = python_or_skip(version)
    set_hook_options(demo, ZIP + f'\npython = "{version}"' + ZIPAPP)
    wheel = build_wheel(demo)
    tag = "cp" + version.replace(".", "")
    assert wheel.name == f"demo_pkg-0.1.0-{tag}-none-any.whl"
    venv = make_venv(python)
    venv.uv_install(wheel)
    exercise(venv, ZIP_LOADERS)
    pyz = wheel.parent / f"demo_pkg-0.1.0-{tag}.pyz"
    assert run([python, "-I", pyz, "foo"]).stdout == "demo known\n"
    assert run([sys.executable, pyz], check=False).returncode == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("demo.nothere:main", "'demo.nothere:main': the bundle has no module demo.nothere"),
        ("demo.core:nothere", "'demo.core:nothere': src/demo/core.py defines no nothere at its top level"),
    ],
)
def test_zipapp_entry_point_is_checked_at_build_time(entry: str, message: str, demo: Path, tmp_path: Path) -> None:
    set_hook_options(demo, f'{ZIPAPP}entry-point = "{entry}"')
    out = tmp_path / "out"
    result = hatchling_build(demo, out, check=False)
    assert result.returncode != 0
    assert f"hatch-pyc: tool.hatch.build.targets.wheel.hooks.pyc.zipapp.entry-point: {message}" in result.stderr
    assert not out.exists() or not list(out.iterdir())
