"""Inspecting and checking built artifacts: the Python API behind ``hatch-pyc inspect`` and ``check``.

Works on any wheel or ``.pyz``, built by hatch-pyc or not, on plain paths and bytes; it
imports neither hatchling nor the code in the artifact.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any

from packaging.tags import compatible_tags, cpython_tags, parse_tag, platform_tags

from hatch_pyc import interpreters, metadata, worker
from hatch_pyc.artifact import Artifact, BadArtifact, check_entries, is_unrecorded, open_artifact, record_hash
from hatch_pyc.config import SOURCELESS_LAYOUTS
from hatch_pyc.interpreters import Interpreter

#: ``mod.cpython-311.pyc`` or ``mod.cpython-311.opt-1.pyc`` in a ``__pycache__`` directory.
CACHED_PYC = re.compile(r"^[^.]+\.(?P<tag>[^.]+)(?:\.opt-[12])?\.pyc$")
METADATA_KEYS = ("format", "layout", "interpreters")
INTERPRETER_KEYS = ("implementation", "version", "cache_tag", "magic_number")


@dataclass
class Inspection:
    """What an artifact holds, as ``hatch-pyc inspect`` shows it (``--json`` prints this)."""

    file: str
    kind: str
    size: int
    uncompressed_size: int
    name: str | None
    version: str | None
    tags: list[str]
    #: The bytecode metadata file's contents, or None if hatch-pyc did not build the artifact.
    bytecode_metadata: dict[str, Any] | None
    layout: str | None
    interpreters: list[dict[str, str]]
    modules: int
    pycs: int
    sources: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CheckResult:
    """The outcome of :func:`check_wheel`: ``problems`` is empty when the artifact fits."""

    inspection: Inspection
    target: Interpreter
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "target": {**self.target.__dict__, "python_tag": self.target.python_tag},
            "inspection": self.inspection.as_dict(),
        }


def _bytecode_metadata(artifact: Artifact) -> dict[str, Any] | None:
    name = f"{artifact.dist_info}/{metadata.METADATA_PATH}" if artifact.kind == "wheel" else metadata.FILENAME
    if name not in artifact.names:
        return None
    try:
        document = json.loads(artifact.read(name))
        if not isinstance(document, dict) or any(key not in document for key in METADATA_KEYS):
            raise ValueError(f"it lacks one of {', '.join(METADATA_KEYS)}")
        for entry in document["interpreters"]:
            if not isinstance(entry, dict) or any(not isinstance(entry.get(key), str) for key in INTERPRETER_KEYS):
                raise ValueError(f"an interpreter lacks one of {', '.join(INTERPRETER_KEYS)}")
    except (ValueError, TypeError) as exc:
        raise BadArtifact(f"{artifact.path}: {name} is not valid bytecode metadata: {exc}") from None
    return document


def _archived_files(artifact: Artifact, layout: str | None) -> tuple[dict[str, bytes], list[str]]:
    """The pycs (``{name: bytes}``) and the names of the sources, looking into a zip layout's
    archive too. Sources are only counted: their bytes are never needed."""
    pycs, sources = {}, []
    for name in artifact.names:
        if name.endswith(".pyc"):
            pycs[name] = artifact.read(name)
        elif name.endswith(".py"):
            sources.append(name)
        elif layout == "zip" and "/" not in name and name.endswith(".zip"):
            nested = Artifact(
                path=f"{artifact.path}!{name}", kind="zip", archive=_open_nested(artifact, name), names=[]
            )
            with nested:
                for inner in nested.archive.namelist():
                    if inner.endswith(".pyc"):
                        pycs[f"{name}/{inner}"] = nested.read(inner)
                    elif inner.endswith(".py"):
                        sources.append(f"{name}/{inner}")
    return pycs, sources


def _open_nested(artifact: Artifact, name: str) -> zipfile.ZipFile:
    try:
        nested = zipfile.ZipFile(io.BytesIO(artifact.read(name)))
    except zipfile.BadZipFile as exc:
        raise BadArtifact(f"{artifact.path}: {name} is not a readable zip archive ({exc})") from None
    check_entries(f"{artifact.path}!{name}", nested.infolist())
    return nested


def _inspect(artifact: Artifact) -> tuple[Inspection, dict[str, bytes]]:
    meta = _bytecode_metadata(artifact)
    layout = meta["layout"] if meta else None
    pycs, sources = _archived_files(artifact, layout)
    infos = artifact.archive.infolist()
    inspection = Inspection(
        file=artifact.path,
        kind=artifact.kind,
        size=os.path.getsize(artifact.path),
        uncompressed_size=sum(info.file_size for info in infos),
        name=artifact.name or None,
        version=artifact.version or None,
        tags=sorted(map(str, artifact.tags)),
        bytecode_metadata=meta,
        layout=layout,
        interpreters=[
            {**{key: entry[key] for key in INTERPRETER_KEYS}, "python_tag": entry.get("python_tag", "")}
            for entry in (meta["interpreters"] if meta else [])
        ],
        modules=int(meta.get("modules", 0)) if meta else 0,
        pycs=len(pycs),
        sources=sum(".data/" not in name for name in sources),
    )
    return inspection, pycs


def inspect_artifact(path: str | os.PathLike[str]) -> Inspection:
    """Describe the wheel or ``.pyz`` at ``path``. Raises :class:`BadArtifact` if unusable."""
    with open_artifact(os.fspath(path)) as artifact:
        return _inspect(artifact)[0]


def record_problems(artifact: Artifact) -> list[str]:
    """One line per file whose content or size does not match RECORD, or that only one lists."""
    problems = []
    recorded = {}
    for path, digest, size in artifact.record:
        recorded[path] = (digest, size)
    for name in artifact.names:
        if is_unrecorded(artifact, name):
            continue
        if name not in recorded:
            problems.append(f"{name}: in the wheel but not in RECORD")
            continue
        digest, size = recorded[name]
        algorithm, _, expected = digest.partition("=")
        data = artifact.read(name)
        if algorithm not in ("sha256", "sha384", "sha512"):
            problems.append(f"{name}: RECORD gives no usable hash ({digest or 'none'})")
        elif record_hash(data, algorithm) != expected:
            problems.append(f"{name}: content does not match its RECORD hash")
        if size != str(len(data)):
            problems.append(f"{name}: size {len(data)} does not match RECORD's {size or 'none'}")
    for name in sorted(set(recorded) - set(artifact.names)):
        if not is_unrecorded(artifact, name):
            problems.append(f"{name}: in RECORD but not in the wheel")
    return problems


def _expected_interpreter(name: str, recorded: list[Interpreter], target: Interpreter) -> Interpreter | None:
    """The interpreter that loads the pyc ``name``: by its cache tag, or, for a legacy pyc,
    the one the metadata records (or the target, without metadata)."""
    directory, base = posixpath.split(name)
    if posixpath.basename(directory) == "__pycache__":
        match = CACHED_PYC.match(base)
        tag = match.group("tag") if match else None
        candidates = [*recorded, target]
        return next((interpreter for interpreter in candidates if interpreter.cache_tag == tag), None)
    return recorded[0] if len(recorded) == 1 else (target if not recorded else None)


def _pyc_problems(pycs: dict[str, bytes], recorded: list[Interpreter], target: Interpreter) -> list[str]:
    problems = []
    versions = {bytes.fromhex(i.magic_number): i.minor for i in [*recorded, target]}
    for name, data in sorted(pycs.items()):
        magic = data[:4]
        expected = _expected_interpreter(name, recorded, target)
        if expected is None:
            if recorded:
                problems.append(f"{name}: a pyc for no interpreter the bytecode metadata records")
            continue
        if magic != bytes.fromhex(expected.magic_number):
            problems.append(
                f"{name}: magic number {magic.hex()}, but {expected.implementation} {expected.version} "
                f"has {expected.magic_number}"
            )
            continue
        try:
            filenames = worker.code_filenames(data[16:], versions[magic])
        except (ValueError, IndexError, KeyError, struct.error) as exc:
            problems.append(f"{name}: not valid bytecode ({exc})")
            continue
        absolute = [f for f in filenames if f.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", f)]
        if absolute:
            problems.append(f"{name}: code carries an absolute path of the build machine: {absolute[0]}")
    return problems


def _supported_tags(target: Interpreter) -> set[str]:
    version = target.minor
    platforms = [*platform_tags(), "any"]
    tags = set(cpython_tags(python_version=version, platforms=platforms))
    tags |= set(compatible_tags(python_version=version, interpreter=target.python_tag, platforms=platforms))
    return {str(tag) for tag in tags}


def _tag_problems(
    artifact: Artifact, recorded: list[Interpreter], layout: str | None, target: Interpreter
) -> list[str]:
    problems = []
    wheel_tags = {tag for line in artifact.wheel.get("Tag", []) for tag in map(str, parse_tag(line))}
    name_tags = {str(tag) for tag in artifact.tags}
    if wheel_tags != name_tags:
        problems.append(
            f"WHEEL tags {', '.join(sorted(wheel_tags))} differ from the file name's {', '.join(sorted(name_tags))}"
        )
    if layout in SOURCELESS_LAYOUTS and len(recorded) == 1:
        others = sorted({tag.interpreter for tag in artifact.tags} - {recorded[0].python_tag})
        if others:
            problems.append(
                f"file name tags name {', '.join(others)}, but the bytecode is for {recorded[0].python_tag} only"
            )
    if not name_tags & _supported_tags(target):
        problems.append(
            f"tags {', '.join(sorted(name_tags))} do not fit {target.implementation} {target.version} "
            f"({target.python_tag}): installers refuse this wheel there"
        )
    return problems


def check_wheel(path: str | os.PathLike[str], python: str | None = None) -> CheckResult:
    """Check that the wheel or ``.pyz`` at ``path`` is intact and fits an interpreter.

    ``python`` names the target interpreter as the ``python`` option does (a path, a command,
    ``"3.12"``); the running one by default. The result lists one problem per mismatch:
    RECORD hashes and sizes, each pyc's magic number against the bytecode metadata and the
    target, file name, WHEEL and metadata tags, absolute build paths in code objects.
    Raises :class:`BadArtifact` for a file it cannot use and
    :class:`~hatch_pyc.interpreters.TargetError` for a target it cannot find.
    """
    target = interpreters.find(python).interpreter if python else interpreters.running().interpreter
    with open_artifact(os.fspath(path)) as artifact:
        inspection, pycs = _inspect(artifact)
        recorded = [Interpreter(**{key: entry[key] for key in INTERPRETER_KEYS}) for entry in inspection.interpreters]
        problems = record_problems(artifact) if artifact.kind == "wheel" else []
        problems += _pyc_problems(pycs, recorded, target)
        if artifact.kind == "wheel":
            problems += _tag_problems(artifact, recorded, inspection.layout, target)
        # Sourceless wheels and bundles have no source to fall back on: the target must match.
        if inspection.layout in (*SOURCELESS_LAYOUTS, "zipapp") and recorded:
            built = recorded[0]
            if built.magic_number != target.magic_number:
                problems.append(
                    f"built for {built.implementation} {built.version} (magic {built.magic_number}); the target is "
                    f"{target.implementation} {target.version} (magic {target.magic_number})"
                )
    return CheckResult(inspection=inspection, target=target, problems=problems)
