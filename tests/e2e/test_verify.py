"""``hatch-pyc verify``: real wheels, bundles and sdists built by hatchling, compiled again and
compared byte for byte; tampered bytecode, edited sources, missing sources and unusable input;
each module's source at its top-level name's one root in the sdist, and every shipped source,
which is what Python imports, the sdist's file."""

from __future__ import annotations

import importlib.util
import io
import json
import marshal
import shutil
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import wheels
from helpers import PROJECTS, REPO, copy_project, find_python, run, set_hook_options
from test_hostile import _limited

from hatch_pyc import verify_artifact

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
VERSION = ".".join(map(str, sys.version_info[:3]))
#: What every shipped source that is not the sdist's is told to do.
REBUILD = "and Python imports it as it is: rebuild the artifact from the sdist"
#: The project's module whose source every layout keeps (``keep-source``).
KEPT = "demo/selfsource.py"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo project's sdist, and its wheels in every layout, a bundle among them."""
    root = tmp_path_factory.mktemp("dists")
    demo = copy_project("demo", root / "src")
    found: dict[str, Path] = {}
    for layout in ("alongside", "sourceless", "zip"):
        options = f'layout = "{layout}"\ncache = false\nkeep-source = ["demo/selfsource.py"]'
        if layout == "sourceless":
            options += "\noptimize = [0, 1]\n[tool.hatch.build.targets.wheel.hooks.pyc.zipapp]"
        set_hook_options(demo, options)
        out = root / layout
        run([sys.executable, "-m", "hatchling", "build", "-d", out], cwd=demo)
        found[layout] = next(out.glob("*.whl"))
        found["sdist"] = next(out.glob("*.tar.gz"))
    found["pyz"] = next((root / "sourceless").glob("*.pyz"))
    return found


@pytest.mark.parametrize("kind", ["alongside", "sourceless", "zip", "pyz"])
def test_every_layout_is_what_its_sdist_compiles_to(dists: dict[str, Path], kind: str) -> None:
    code, out, err = _limited(["verify", str(dists[kind]), "--source", str(dists["sdist"])])
    assert code == 0, out + err
    assert out.startswith("ok: the ")
    assert out.endswith(f" pycs of {dists[kind].name} are what cpython {VERSION} compiles from {dists['sdist'].name}\n")
    # Every shipped source is compared too: all twelve beside their pycs, else the kept one (the
    # stubs, the selector package and a bundle's __main__.py are hatch-pyc's, not the sdist's).
    result = verify_artifact(dists[kind], [dists["sdist"]])
    assert result.ok, result.problems
    assert result.sources == (12 if kind == "alongside" else 1)


def test_other_code_under_a_right_name_is_found(dists: dict[str, Path], tmp_path: Path) -> None:
    sourceless = dists["sourceless"]
    real = wheels.read(sourceless, "demo/core.pyc")
    hidden = compile("import os\nHIDDEN = True\n", "<demo/core.py>", "exec")
    forged = real[:16] + marshal.dumps(hidden)
    tampered = wheels.rewrite(sourceless, tmp_path / sourceless.name, {"demo/core.pyc": forged})
    code, out, _ = _limited(["verify", str(tampered), "--source", str(dists["sdist"])])
    assert code == 1
    assert out == (
        f"{sourceless.name}: demo/core.pyc: not what cpython {'.'.join(map(str, sys.version_info[:3]))} compiles "
        f"from {dists['sdist'].name}!demo_pkg-0.1.0/src/demo/core.py\n"
    )
    assert not verify_artifact(tampered, [dists["sdist"]]).ok


def test_an_edited_source_and_a_missing_one_are_each_a_line(dists: dict[str, Path], tmp_path: Path) -> None:
    with tarfile.open(dists["sdist"]) as archive:
        archive.extractall(tmp_path, filter="data")
    tree = tmp_path / "demo_pkg-0.1.0"
    (tree / "src" / "demo" / "core.py").write_text("edited = True\n")
    (tree / "src" / "demo" / "bom.py").unlink()
    result = verify_artifact(dists["zip"], [tree])
    assert result.problems == [
        f"demo_pkg.zip/demo/bom.pyc: no source for it (demo/bom.py, not in {tree}/src/)",
        f"demo_pkg.zip/demo/core.pyc: not what cpython {'.'.join(map(str, sys.version_info[:3]))} compiles from "
        f"{tree}/src/demo/core.py",
    ]


def test_bytecode_for_another_version_is_compiled_by_that_version(tmp_path: Path) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    demo = copy_project("demo", tmp_path / "src")
    set_hook_options(demo, f'layout = "sourceless"\ncache = false\npython = "{other}"')
    run([sys.executable, "-m", "hatchling", "build", "-d", tmp_path / "out"], cwd=demo)
    wheel, sdist = next((tmp_path / "out").glob("*.whl")), next((tmp_path / "out").glob("*.tar.gz"))
    result = verify_artifact(wheel, [sdist])
    assert result.ok, result.problems
    assert result.interpreters[0].startswith(f"cpython {other}.")
    code, _, err = _limited(["verify", str(wheel), "--source", str(sdist), "--python", sys.executable])
    assert code == 2
    assert err == (
        f"hatch-pyc: none of the interpreters given with --python is cpython {other} "
        f"(magic {wheels.bytecode_metadata(wheel)['interpreters'][0]['magic_number']}), which the bytecode is for\n"
    )


def _tar(path: Path, members: dict[str, bytes | str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return path


def test_unusable_input_is_one_line_and_exit_2(dists: dict[str, Path], tmp_path: Path) -> None:
    header = importlib.util.MAGIC_NUMBER + struct.pack("<I", 1) + b"\0" * 8
    evil = _tar(tmp_path / "evil.tar.gz", {"../evil.py": b"x = 1\n"})
    not_tar = tmp_path / "broken.tar.gz"
    not_tar.write_bytes(b"not a tar")
    plain = REPO / "example_project"
    for label, args, says in [
        ("a .. member", [str(dists["zip"]), "--source", str(evil)], "unsafe member name ../evil.py"),
        ("not a tar", [str(dists["zip"]), "--source", str(not_tar)], "not a readable sdist"),
        ("no such source", [str(dists["zip"]), "--source", str(tmp_path / "nope.tar.gz")], "nope.tar.gz: no such file"),
        ("not an sdist", [str(dists["zip"]), "--source", str(dists["zip"])], "not an sdist"),
        ("no metadata", [str(_plain_wheel(dists, tmp_path)), "--source", str(plain)], "has no bytecode metadata"),
    ]:
        code, out, err = _limited(["verify", *args])
        assert code == 2, (label, out, err)
        assert len(err.splitlines()) == 1, (label, err)
        assert says in err, (label, err)
        assert "Traceback" not in err
    # A link in an sdist is no module's source: it is not followed.
    linked = _tar(tmp_path / "linked.tar.gz", {"p/src/demo/core.py": "/etc/passwd", "p/x.pyc": header})
    result = verify_artifact(dists["zip"], [linked])
    assert "demo_pkg.zip/demo/core.pyc: no source for it (demo/core.py)" in result.problems


def _plain_wheel(dists: dict[str, Path], tmp_path: Path) -> Path:
    alongside = dists["alongside"]
    dropped = {name: None for name in wheels.names(alongside) if name.endswith("hatch_pyc.json")}
    return wheels.rewrite(alongside, tmp_path / "plain" / alongside.name, dropped)  # type: ignore[arg-type]


LEGACY = b"# demo 0.0.1's core, kept as an example of migrating\nRESULT = 'legacy'\n\n\ndef main():\n    pass\n"


def test_a_module_is_compiled_from_its_own_root_not_any_file_ending_in_its_path(tmp_path: Path) -> None:
    """An sdist that also holds ``examples/legacy/demo/core.py``: a wheel whose ``demo/core``
    was built from that file is refused, the genuine one verified. ``demo`` comes from
    ``src/``, where all its modules are, and each of them from exactly there."""
    demo = copy_project("demo", tmp_path / "src")
    (demo / "examples" / "legacy" / "demo").mkdir(parents=True)
    (demo / "examples" / "legacy" / "demo" / "core.py").write_bytes(LEGACY)
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    run([sys.executable, "-m", "hatchling", "build", "-d", tmp_path / "genuine"], cwd=demo)
    sdist, genuine = next((tmp_path / "genuine").glob("*.tar.gz")), next((tmp_path / "genuine").glob("*.whl"))
    with tarfile.open(sdist) as archive:
        assert "demo_pkg-0.1.0/examples/legacy/demo/core.py" in archive.getnames()
    assert verify_artifact(genuine, [sdist]).ok

    # The same project, its demo/core.py the legacy example: each layout's wheel of it.
    (demo / "src" / "demo" / "core.py").write_bytes(LEGACY)
    core = f"{sdist.name}!demo_pkg-0.1.0/src/demo/core.py"
    for layout, expected in [
        ("sourceless", [f"demo/core.pyc: not what cpython {VERSION} compiles from {core}"]),
        (
            "alongside",
            [
                f"demo/__pycache__/core.{sys.implementation.cache_tag}.pyc: not what cpython {VERSION} compiles "
                f"from {core}",
                f"demo/core.py: not the same as {core}, {REBUILD}",
            ],
        ),
    ]:
        set_hook_options(demo, f'layout = "{layout}"\ncache = false')
        run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", tmp_path / layout], cwd=demo)
        wheel = next((tmp_path / layout).glob("*.whl"))
        assert verify_artifact(wheel, [sdist]).problems == expected, layout
    code, out, _ = _limited(["verify", str(wheel), "--source", str(sdist)])
    assert code == 1
    assert out.splitlines() == [f"{wheel.name}: {line}" for line in expected]


def test_a_copy_of_the_package_with_more_modules_elsewhere_in_the_sdist_is_not_its_source(tmp_path: Path) -> None:
    """An sdist that also ships a copy of ``demo`` as test data, ``tests/fixtures/demo/``, with
    one module more: a wheel built from that copy has more of its modules there than in
    ``src/``, but the project's build takes ``demo`` from ``src/`` (``packages``), and so
    does verify. The copy's code is in the sdist, never in the project's package."""
    demo = copy_project("demo", tmp_path / "src")
    fixture = demo / "tests" / "fixtures" / "demo"
    shutil.copytree(demo / "src" / "demo", fixture)
    (fixture / "core.py").write_bytes(LEGACY)
    (fixture / "extra.py").write_text("X = 1\n")
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    run([sys.executable, "-m", "hatchling", "build", "-d", tmp_path / "genuine"], cwd=demo)
    sdist, genuine = next((tmp_path / "genuine").glob("*.tar.gz")), next((tmp_path / "genuine").glob("*.whl"))
    with tarfile.open(sdist) as archive:
        assert {"demo_pkg-0.1.0/tests/fixtures/demo/core.py", "demo_pkg-0.1.0/tests/fixtures/demo/extra.py"} <= set(
            archive.getnames()
        )
    assert verify_artifact(genuine, [sdist]).ok

    # The same project built from the fixture copy.
    shutil.rmtree(demo / "src" / "demo")
    shutil.copytree(fixture, demo / "src" / "demo")
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", tmp_path / "copy"], cwd=demo)
    wheel = next((tmp_path / "copy").glob("*.whl"))
    root = f"{sdist.name}!demo_pkg-0.1.0/src/"
    expected = [
        f"demo/core.pyc: not what cpython {VERSION} compiles from {root}demo/core.py",
        f"demo/extra.pyc: no source for it (demo/extra.py, not in {root})",
    ]
    assert verify_artifact(wheel, [sdist]).problems == expected
    code, out, _ = _limited(["verify", str(wheel), "--source", str(sdist)])
    assert code == 1
    assert out.splitlines() == [f"{wheel.name}: {line}" for line in expected]


def test_a_source_beside_a_pyc_is_what_runs_and_must_be_the_sdists(dists: dict[str, Path], tmp_path: Path) -> None:
    """A sourceless wheel with demo/core.py added beside demo/core.pyc: the path finder imports
    the source, so it must be the sdist's, and the pyc beside it never runs."""
    sourceless, sdist = dists["sourceless"], dists["sdist"]
    root = f"{sdist.name}!demo_pkg-0.1.0/src/"
    genuine = (PROJECTS / "demo" / "src" / "demo" / "core.py").read_bytes()
    never_runs = "demo/core.pyc: the source beside it (demo/core.py) is what runs, not this bytecode: rebuild the "
    never_runs += "artifact so that it ships one or the other"
    for label, added, expected in [
        (
            "another source",
            {"demo/core.py": b"import os\nHIDDEN = True\n"},
            [f"demo/core.py: not the same as {root}demo/core.py, {REBUILD}", never_runs],
        ),
        ("the sdist's own source", {"demo/core.py": genuine}, [never_runs]),
        (
            "through .data/purelib",
            {"demo_pkg-0.1.0.data/purelib/demo/core.py": genuine + b"HIDDEN = True\n"},
            [
                f"demo_pkg-0.1.0.data/purelib/demo/core.py: not the same as {root}demo/core.py, {REBUILD}",
                never_runs.replace("(demo/core.py)", "(demo_pkg-0.1.0.data/purelib/demo/core.py)"),
            ],
        ),
        (
            "sources the sdist does not have",
            {"demo/extra.py": b"x = 1\n", "evil.py": b"x = 1\n"},
            [
                f"demo/extra.py: no source for it (demo/extra.py, not in {root}), and Python imports it as it is: "
                "remove it, or rebuild the artifact from the sdist",
                "evil.py: no source for it (evil.py), and Python imports it as it is: remove it, or rebuild the "
                "artifact from the sdist",
            ],
        ),
    ]:
        tampered = wheels.rewrite(sourceless, tmp_path / label / sourceless.name, added)  # type: ignore[arg-type]
        assert verify_artifact(tampered, [sdist]).problems == sorted(expected), label
    code, out, _ = _limited(["verify", str(tampered), "--source", str(sdist)])
    assert code == 1
    assert out.splitlines() == [f"{sourceless.name}: {line}" for line in sorted(expected)]


def test_a_source_in_an_archive_on_sys_path_must_be_the_sdists(dists: dict[str, Path], tmp_path: Path) -> None:
    """The zip layout's archive and a bundle: zipimport runs a source whose pyc it cannot use."""
    sdist, zipped = dists["sdist"], dists["zip"]
    root = f"{sdist.name}!demo_pkg-0.1.0/src/"
    archive = _rezipped(wheels.read(zipped, "demo_pkg.zip"), {"demo/core.py": b"HIDDEN = True\n"})
    tampered = wheels.rewrite(zipped, tmp_path / "zip" / zipped.name, {"demo_pkg.zip": archive})
    # zipimport prefers the pyc beside it, when that is valid: only the source is a problem.
    assert verify_artifact(tampered, [sdist]).problems == [
        f"demo_pkg.zip/demo/core.py: not the same as {root}demo/core.py, {REBUILD}"
    ]
    pyz = dists["pyz"]
    tampered = tmp_path / "pyz" / pyz.name
    tampered.parent.mkdir()
    tampered.write_bytes(_rezipped(pyz.read_bytes(), {"demo/extra.py": b"x = 1\n"}))
    assert verify_artifact(tampered, [sdist]).problems == [
        f"demo/extra.py: no source for it (demo/extra.py, not in {root}), and Python imports it as it is: remove "
        "it, or rebuild the artifact from the sdist"
    ]
    # The bundle's __main__.py runs first: it must be what hatch-pyc writes for its values.
    with zipfile.ZipFile(pyz) as bundle:
        main = bundle.read("__main__.py")
    edited = tmp_path / "pyz-main" / pyz.name
    edited.parent.mkdir()
    edited.write_bytes(_rezipped(pyz.read_bytes(), {"__main__.py": b"import os\n" + main}))
    # (and its pyc, which zipimport runs in its place, is not what the edited source compiles to)
    assert verify_artifact(edited, [sdist]).problems == [
        "__main__.py: not what hatch-pyc writes for these values: it runs at every start",
        "__main__.pyc: not what cpython {} compiles from hatch-pyc's __main__.py".format(
            ".".join(map(str, sys.version_info[:3]))
        ),
    ]


@pytest.mark.parametrize("kind", ["alongside", "sourceless", "zip", "pyz"])
def test_a_changed_shipped_source_is_found(dists: dict[str, Path], kind: str, tmp_path: Path) -> None:
    """The kept module's source (keep-source), or in the alongside layout any source: its pycs
    still match the sdist, but Python imports the source, or compiles it again."""
    sdist, artifact = dists["sdist"], dists[kind]
    changed = (PROJECTS / "demo" / "src" / KEPT).read_bytes() + b"\nHIDDEN = True\n"
    name = {"alongside": "demo/core.py", "zip": "demo_pkg.zip"}.get(kind, KEPT)
    if kind == "zip":
        data = _rezipped(wheels.read(artifact, name), {KEPT: changed})
    elif kind == "alongside":
        data = (PROJECTS / "demo" / "src" / name).read_bytes() + b"HIDDEN = True\n"
    else:
        data = changed
    tampered = tmp_path / artifact.name
    if kind == "pyz":
        tampered.write_bytes(_rezipped(artifact.read_bytes(), {name: data}))
    else:
        wheels.rewrite(artifact, tampered, {name: data})
    shown = {"alongside": "demo/core.py", "zip": f"demo_pkg.zip/{KEPT}"}.get(kind, KEPT)
    expected = [
        f"{shown}: not the same as {sdist.name}!demo_pkg-0.1.0/src/{shown.removeprefix('demo_pkg.zip/')}, {REBUILD}"
    ]
    if kind == "pyz":  # the bundle extracts demo at its first start, checked against what it records
        expected.append("demo: not the files __main__.py records (sizes and SHA-256): its first start would fail")
    assert verify_artifact(tampered, [sdist]).problems == expected


@pytest.mark.parametrize("layout", ["sourceless", "zip"])
def test_a_wheel_for_several_interpreters_is_what_its_sdist_compiles_to(layout: str, tmp_path: Path) -> None:
    """Its stubs and selector package are hatch-pyc's, its kept source the sdist's."""
    pythons = [python for version in ("3.11", "3.12") if (python := find_python(version)) is not None]
    if len(pythons) < 2:
        pytest.skip("CPython 3.11 and 3.12 are not both installed")
    demo = copy_project("demo", tmp_path / "src")
    names = json.dumps([str(python) for python in pythons])
    set_hook_options(demo, f'layout = "{layout}"\ncache = false\npython = {names}\nkeep-source = ["{KEPT}"]')
    run([sys.executable, "-m", "hatchling", "build", "-d", tmp_path / "out"], cwd=demo)
    wheel, sdist = next((tmp_path / "out").glob("*.whl")), next((tmp_path / "out").glob("*.tar.gz"))
    result = verify_artifact(wheel, [sdist])
    assert result.ok, result.problems
    assert len(result.interpreters) == 2
    assert result.sources == 1
    # The stubs are left to the checks of hatch-pyc's own files; a source below them is no
    # stub, and is what the path finder imports.
    added = {"demo/sub/__init__.py": b"x = 1\n"}
    if layout == "zip":
        inside, changes = "demo_pkg.zip/", {"demo_pkg.zip": _rezipped(wheels.read(wheel, "demo_pkg.zip"), added)}
    else:
        inside, changes = "", dict(added)
    tampered = wheels.rewrite(wheel, tmp_path / "tampered" / wheel.name, changes)  # type: ignore[arg-type]
    # In the sourceless layout the newest interpreter's pyc is in the module's place, and never runs beside a source.
    beside = [
        "demo/sub/__init__.pyc: the source beside it (demo/sub/__init__.py) is what runs, not this bytecode: rebuild "
        "the artifact so that it ships one or the other"
    ]
    origin = f"{sdist.name}!demo_pkg-0.1.0/src/demo/sub/__init__.py"
    assert verify_artifact(tampered, [sdist]).problems == [
        f"{inside}demo/sub/__init__.py: not the same as {origin}, {REBUILD}",
        *(beside if layout == "sourceless" else []),
    ]


def _rezipped(archive: bytes, changes: dict[str, bytes]) -> bytes:
    """The zip archive ``archive`` with entries replaced or added (a ``.pyz``'s shebang dropped)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in changes:
                target.writestr(info, source.read(info))
        for name, data in changes.items():
            target.writestr(name, data)
    return out.getvalue()
