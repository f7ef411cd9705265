"""``hatch-pyc verify``: real wheels, bundles and sdists built by hatchling, compiled again and
compared byte for byte; tampered bytecode, edited sources, missing sources and unusable input."""

from __future__ import annotations

import importlib.util
import io
import marshal
import struct
import sys
import tarfile
from pathlib import Path

import pytest
import wheels
from helpers import REPO, copy_project, run, set_hook_options
from test_hostile import _limited

from hatch_pyc import verify_artifact

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"


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
    version = ".".join(map(str, sys.version_info[:3]))
    assert out.startswith("ok: the ")
    assert out.endswith(f" pycs of {dists[kind].name} are what cpython {version} compiles from {dists['sdist'].name}\n")


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
        "demo_pkg.zip/demo/bom.pyc: no source for it (demo/bom.py)",
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
        ("no such source", [str(dists["zip"]), "--source", str(tmp_path / "nope")], "not an sdist"),
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
