"""``check`` on a bundle whose extension modules the target cannot load: one line for the cause,
not one per extension module."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from inmemory import HERE, bundle

from hatch_pyc._shipped.bundle_runtime import extraction_digest, group_hash
from hatch_pyc.build import bootstrap
from hatch_pyc.check.bootstrap import bootstrap_problems
from hatch_pyc.core.interpreters import Interpreter, Target
from hatch_pyc.wheel.artifact import open_artifact

SUFFIX = ".cpython-311-x86_64-linux-gnu.so"
LOADS = (".cpython-312-x86_64-linux-gnu.so", ".abi3.so", ".so")


def native_bundle(target: Path, modules: list[str], magic: str = HERE.magic_number) -> Path:
    """A bundle extracting the extension modules ``modules`` (``a._x``...), each ``<path><SUFFIX>``,
    its groups and digest as hatch-pyc writes them."""
    files = {module.replace(".", "/") + SUFFIX: module.encode() for module in modules}
    digest = hashlib.sha256()
    for path, data in sorted(files.items()):
        group_hash(path, len(data), digest)
        digest.update(data)
    groups = {"a": (digest.hexdigest(), "\n".join(f"{len(data)} {path}" for path, data in sorted(files.items())))}
    runtime = bootstrap.Runtime(
        extraction_digest(groups), groups, {module: module.replace(".", "/") + SUFFIX for module in modules}
    )
    native = bootstrap.Native("cp311-cp311-linux_x86_64", "linux", "x86_64", (SUFFIX,))
    values = bootstrap.Bootstrap("demo:main", "demo.pyz", HERE.named, magic, native=native, runtime=runtime)
    return bundle(target, bootstrap.write(values), files)


def target(interpreter: Interpreter = HERE) -> Target:
    return Target("python", interpreter, platform={"suffixes": list(LOADS)}, imports={"stdlib": []})


@pytest.mark.parametrize(
    ("modules", "line"),
    [
        (["a._x"], f"1 extension module is for another platform or interpreter (a/_x{SUFFIX})"),
        (["a._z", "a._x", "a._y"], f"3 extension modules are for another platform or interpreter (a/_x{SUFFIX}, ...)"),
    ],
)
def test_extension_modules_the_target_cannot_load_are_one_line(modules: list[str], line: str, tmp_path: Path) -> None:
    pyz = native_bundle(tmp_path / "demo.pyz", modules)
    with zipfile.ZipFile(pyz) as zf:
        assert len([name for name in zf.namelist() if name.endswith(SUFFIX)]) == len(modules)
    with open_artifact(str(pyz)) as artifact:
        assert bootstrap_problems(artifact, target()) == [
            f"{line}; {HERE.implementation} {HERE.version} loads {', '.join(LOADS)}"
        ]


def test_a_bundle_for_another_interpreter_says_nothing_of_its_extension_modules(tmp_path: Path) -> None:
    # It stops at its start before it loads one: check says that once ("built for ...").
    pyz = native_bundle(tmp_path / "demo.pyz", ["a._x", "a._y"], magic="ffff0d0a")
    with open_artifact(str(pyz)) as artifact:
        assert bootstrap_problems(artifact, target()) == []
