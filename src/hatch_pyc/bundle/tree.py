"""Gathering what a bundle holds, on disk: the wheel unpacked as an installer lays it out,
its dependencies installed for the target, and every file sorted by what the bundle does
with it (bundled as it is, compiled, native, or left out).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hatch_pyc.build import bytecode_metadata, stubs
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BadArtifact, BundleError
from hatch_pyc.core.interpreters import Interpreter, version_order
from hatch_pyc.core.naming import distribution_id
from hatch_pyc.core.native import is_native
from hatch_pyc.wheel import records, wheelfile
from hatch_pyc.wheel.archive import read_content
from hatch_pyc.wheel.artifact import Artifact, extract, install_path

#: Files of an installed ``.dist-info`` that describe that one install, not the distribution.
INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "RECORD.jws", "RECORD.p7s"})
#: What uv leaves in a ``--target`` directory besides the packages.
INSTALLER_FILES = frozenset({".lock"})


def install_dependencies(requirements: Sequence[str], python: str, dest: str) -> None:
    """Install ``requirements`` for interpreter ``python`` into directory ``dest``.

    uv (:func:`find_uv`; it resolves markers for ``python`` without running pip in it), else that
    interpreter's own pip. Neither compiles: the bundle's pycs are ours.
    """
    uv = find_uv()
    if uv is not None:
        command = [uv, "pip", "install", "--quiet", "--target", dest, "--python", python, *requirements]
    else:
        command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        command += ["--target", dest, *requirements]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(
            f"installing the bundle's dependencies ({', '.join(requirements)}) failed:\n"
            f"  {' '.join(command)}\n{result.stderr.strip() or result.stdout.strip()}"
        )


def find_uv() -> str | None:
    """uv: on PATH, else the ``uv`` package of this environment, which the hook asks a build
    environment for (see ``PycBuildHook.dependencies``) and ``hatch-pyc[bundle]`` installs."""
    found = shutil.which("uv")
    if found is not None:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


@dataclass
class Tree:
    """The files of the project and its dependencies, sorted by what the bundle does with them."""

    #: ``{path in the bundle: file on disk}`` of files bundled as they are.
    files: dict[str, str]
    modules: list[Module]
    #: ``{path in the bundle: file on disk}`` of extension modules and the libraries they load.
    native: dict[str, str]
    #: Legacy pycs that ship without a source (a sourceless wheel's).
    precompiled: list[str]
    #: ``{.dist-info directory: the paths its distribution installed}``.
    records: dict[str, list[str]]
    #: Every path gathered, to refuse two files at one path.
    paths: set[str]


def gather(root: str, project: bool, tree: Tree) -> None:
    """Add the files under ``root`` to ``tree``: the project's (every file is its own) or an
    installer's ``--target`` directory (scripts, ``.pth`` files, which are never read from
    a zip, and install records left out; ownership from each RECORD)."""
    label = "" if project else "(dependency) "
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (directory == root and d == "bin"))
        found += [os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/") for name in sorted(names)]
    present = set(found)
    for path in found:
        source = os.path.join(root, *path.split("/"))
        name = path.rsplit("/", 1)[-1]
        if path in tree.paths:
            raise BundleError(f"the project and a dependency both ship {path}; the bundle can hold one")
        tree.paths.add(path)
        if ".dist-info/" in path and path.count("/") == 1 and name == "RECORD" and not project:
            tree.records[path.split("/")[0]] = _recorded(source)
        if path in INSTALLER_FILES or path.endswith(".pth") or (".dist-info/" in path and name in INSTALL_RECORDS):
            continue
        if is_native(path):
            tree.native[path] = source
        elif path.endswith(".py"):
            tree.modules.append(Module(source=source, path=path, display=f"{label}{path}"))
        elif path.endswith(".pyc"):
            if path[: -len("c")] not in present:
                tree.precompiled.append(path)
                tree.files[path] = source
        else:
            tree.files[path] = source
    if project:
        dist_info = next(path.split("/")[0] for path in found if path.split("/")[0].endswith(".dist-info"))
        tree.records[dist_info] = found


def _recorded(record: str) -> list[str]:
    with open(record, encoding="utf-8", newline="") as f:
        return [path for path, _, _ in records.parse(record, f.read())]


def unpack_project(artifact: Artifact, root: str, cache_tag: str) -> None:
    """Lay the wheel out in ``root`` as an installer would, less its scripts and data; a
    zip-layout wheel's archive is unpacked in place of it and its ``.pth``.

    A wheel for several interpreters is laid out as a sourceless wheel for the one of
    ``cache_tag`` (a bundle is for one): its bytecode in the modules' own places, without the
    other interpreters' bytecode, the stubs it replaces, or the selector package.
    """
    meta = bytecode_metadata.read(artifact)
    archived = meta is not None and meta.layout.archive and not meta.layout.bundle
    zipped = distribution_id(artifact.name) if archived else None
    package = stubs.selector_package(artifact.name)
    skip = {f"{artifact.dist_info}/{name}" for name in INSTALL_RECORDS}
    skip.add(f"{artifact.dist_info}/{bytecode_metadata.METADATA_PATH}")
    others: set[str] = set()
    #: The modules whose bytecode for ``cache_tag`` is in the selector's tree: a zip-layout
    #: wheel's archive is unpacked first, and the stubs of packages it ships beside it follow.
    mine: set[str] = set()

    def unpack(container: Artifact, entries: list[tuple[str, str]]) -> None:
        selected = {at: stubs.tree_entry(at, package) for _, at in entries}
        mine.update(tree[1] for tree in selected.values() if tree is not None and tree[0] == cache_tag)
        for name, at in entries:
            tree = selected[at]
            if tree is not None:
                if tree[0] != cache_tag:
                    others.add(tree[0])
                    continue
                at = tree[1]
            elif at.startswith(f"{package}/") or f"{at}c" in mine or at in mine:
                continue  # the selector, and the stubs (compiled too) whose bytecode is now in their place
            _extract_to(container, name, root, at)

    entries = []
    for name in artifact.names:
        at = install_path(artifact, name)
        if at is None and name.startswith(f"{artifact.dist_info}/") and name not in skip:
            at = name
        if at is None or at.split("/")[-2:-1] == ["__pycache__"]:
            continue
        if zipped is not None and at in (f"{zipped}.zip", f"{zipped}.pth"):
            if at.endswith(".zip"):
                inner = artifact.open_nested(name)
                unpack(inner, [(member, member) for member in inner.names])
            continue
        entries.append((name, at))
    unpack(artifact, entries)
    if others and not mine:
        raise BundleError(
            f"{artifact.path}: has bytecode for {', '.join(sorted(others, key=version_order))}, not for {cache_tag}; "
            "bundle it for one of those, or bundle the wheel its project's backend built"
        )


def _extract_to(artifact: Artifact, name: str, root: str, at: str) -> None:
    file = os.path.join(root, *at.split("/"))
    if os.path.exists(file):
        raise BadArtifact(f"{artifact.path}: two entries install to {at}")
    extract(artifact, name, file)


def console_scripts(artifact: Artifact) -> dict[str, str]:
    """The wheel's ``console_scripts``, each ``module:function`` (the bootstrap imports it by name)."""
    name = f"{artifact.dist_info}/entry_points.txt"
    return wheelfile.console_scripts(artifact.path, artifact.text(name)) if name in artifact.names else {}


def requirements(artifact: Artifact, interpreter: Interpreter) -> list[str]:
    """The wheel's ``Requires-Dist`` that the target needs (with no extra)."""
    environment = {"extra": "", "python_version": ".".join(map(str, interpreter.minor))}
    environment["python_full_version"] = interpreter.version
    return wheelfile.requirements(artifact.path, artifact.text(f"{artifact.dist_info}/METADATA"), environment)


def record(dist_info: str, paths: Sequence[str], contents: Mapping[str, str | bytes]) -> bytes:
    """A RECORD listing ``paths`` as the bundle holds them."""
    rows = []
    for path in paths:
        rows.append(records.row(path, read_content(contents[path])))
    return records.render(dist_info, rows)
