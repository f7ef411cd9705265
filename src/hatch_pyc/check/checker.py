"""Inspecting and checking built artifacts: the Python API behind ``hatch-pyc inspect`` and ``check``.

Works on any wheel or ``.pyz``, built by hatch-pyc or not, on plain paths and bytes; it
imports neither hatchling nor the code in the artifact.
"""

from __future__ import annotations

import _imp
import os
import posixpath
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.tags import compatible_tags, cpython_tags, parse_tag, platform_tags

from hatch_pyc.build import bytecode_metadata, stubs
from hatch_pyc.build.bytecode_metadata import BytecodeMetadata
from hatch_pyc.check import bytecode, landing
from hatch_pyc.check.filenames import FilenameReader, Filenames
from hatch_pyc.check.landing import Places
from hatch_pyc.check.survey import Member, Survey, survey_artifact
from hatch_pyc.core import interpreters
from hatch_pyc.core.errors import printable
from hatch_pyc.core.interpreters import Interpreter, Target
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.limits import MAX_HELD, MAX_INTERPRETERS, MAX_PYC_SIZE, LimitExceeded
from hatch_pyc.core.naming import CACHED_PYC, OPT_LEVEL, pyc_level
from hatch_pyc.wheel.artifact import Artifact, open_artifact, record_problems

if TYPE_CHECKING:
    from hatch_pyc.build.cache import CompileCache
    from hatch_pyc.check.code_verifier import CodeVerifier, Keep


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
    interpreters: list[dict[str, Any]]
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
    #: What fits but is worth knowing: no bytecode for the target in an alongside wheel.
    notes: list[str] = field(default_factory=list)
    #: Code the install would run at every start of Python (``.pth`` import lines, PEP 829
    #: ``.start`` files, ``sitecustomize``): ``install`` refuses it unless allowed.
    startup: list[str] = field(default_factory=list)
    #: A wheel's RECORD as the check read it, which every entry matched: ``{entry:
    #: "algorithm=digest"}``, and its ``.dist-info`` directory (``install`` compares what it
    #: writes with them).
    record: dict[str, str] = field(default_factory=dict, repr=False)
    dist_info: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "notes": self.notes,
            "startup": self.startup,
            "target": {**self.target.__dict__, "python_tag": self.target.python_tag},
            "inspection": self.inspection.as_dict(),
        }


def _inspect(artifact: Artifact, places: Places | None = None) -> tuple[Inspection, Survey, BytecodeMetadata | None]:
    meta = bytecode_metadata.read(artifact)
    survey = survey_artifact(artifact, meta, places)
    members = survey.members
    infos = artifact.archive.infolist()
    inspection = Inspection(
        file=artifact.path,
        kind=artifact.kind,
        size=os.path.getsize(artifact.path),
        uncompressed_size=sum(info.file_size for info in infos),
        name=artifact.name or None,
        version=artifact.version or None,
        tags=sorted(map(str, artifact.tags), key=interpreters.version_order),
        bytecode_metadata=meta.document if meta is not None else None,
        layout=meta.layout.name if meta is not None else None,
        interpreters=[
            {
                "implementation": interpreter.implementation,
                "version": interpreter.version,
                "cache_tag": interpreter.cache_tag,
                "magic_number": interpreter.magic_number,
                "python_tag": python_tag,
                "free_threaded": interpreter.free_threaded,
            }
            for interpreter, python_tag in (
                zip(meta.interpreters, meta.python_tags, strict=True) if meta is not None else ()
            )
        ],
        modules=meta.modules if meta is not None else 0,
        pycs=sum(member.display.endswith(".pyc") for member in members),
        sources=sum(member.display.endswith(".py") and ".data/" not in member.display for member in members),
    )
    return inspection, survey, meta


def inspect_artifact(path: str | os.PathLike[str]) -> Inspection:
    """Describe the wheel or ``.pyz`` at ``path``. Raises :class:`BadArtifact` if unusable."""
    with open_artifact(os.fspath(path)) as artifact:
        return _inspect(artifact)[0]


def _by_cache_tag(recorded: list[Interpreter], target: Interpreter) -> dict[str, Interpreter]:
    """``{cache tag: interpreter}`` of the recorded interpreters and the target, the first
    recorded one of each tag first: each pyc's interpreter is one look-up, however many the
    metadata records."""
    found: dict[str, Interpreter] = {}
    for interpreter in [*recorded, target]:
        found.setdefault(interpreter.cache_tag, interpreter)
    return found


def _expected_interpreter(
    name: str,
    recorded: list[Interpreter],
    target: Interpreter,
    package: str,
    by_tag: dict[str, Interpreter],
    primary: str | None,
) -> Interpreter | None:
    """The interpreter that loads the pyc ``name``: by its cache tag (in its name, the
    selector's code, or the directory of a wheel for several interpreters that selector
    ``package`` reads; ``by_tag`` is :func:`_by_cache_tag`), or, for a legacy pyc, the one the
    metadata records (the ``primary`` one of a wheel with a selector for several; the target,
    without metadata)."""
    directory, base = posixpath.split(name)
    tag: str | None = None
    if posixpath.basename(directory) == "__pycache__":
        match = CACHED_PYC.match(base)
        tag = match.group("tag") if match else None
    elif (tree := stubs.tree_entry(name, package)) is not None:
        tag = tree[0]
    elif package and (code := stubs.selector_code_tag(name, package)) is not None:
        tag = code
    elif len(recorded) == 1 or not recorded:
        return recorded[0] if recorded else target
    else:
        tag = primary
    return by_tag.get(tag) if tag is not None else None


def _level(member: Member, meta: BytecodeMetadata | None) -> int:
    """The optimize level a pyc was compiled at: from its name, or for a legacy pyc the lowest
    level the bytecode metadata records."""
    if OPT_LEVEL.search(member.entry):
        return pyc_level(member.entry)
    if posixpath.basename(posixpath.dirname(member.entry)) == "__pycache__" or meta is None:
        return 0
    return int(min(meta.optimize))


@dataclass(frozen=True)
class _ToVerify:
    """A pyc whose code the verifier compares with its source once its file name is known."""

    level: int
    source_name: str
    source: bytes
    pyc: bytes


def _pyc_problems(
    artifact: Artifact,
    survey: Survey,
    recorded: list[Interpreter],
    found: Target,
    meta: BytecodeMetadata | None,
    verifier: CodeVerifier | None,
    reader: FilenameReader,
) -> list[str]:
    """Each pyc: its magic number, valid code (read by ``reader``), no build paths, and a header
    that fits its shipped source; with a ``verifier``, also code that is what the target
    compiles from it."""
    target = found.interpreter
    target_magic = bytes.fromhex(target.magic_number)
    package = stubs.selector_package(artifact.name) if artifact.kind == "wheel" else ""
    writers = {bytes.fromhex(i.magic_number): (i.implementation, i.minor) for i in [*recorded, target]}
    by_tag = _by_cache_tag(recorded, target)
    recorded_magics = {interpreter.magic_number for interpreter in recorded}
    several = package and meta is not None and meta.layout.several(len(recorded))
    primary = stubs.primary_tag(recorded) if several else None
    mode = meta.invalidation_mode if meta is not None else None
    pycs = sorted((member for member in survey.members if member.entry.endswith(".pyc")), key=lambda m: m.display)
    problems: list[list[str]] = [[] for _ in pycs]
    labels = [printable(member.display) for member in pycs]
    to_verify: dict[int, _ToVerify] = {}
    #: The source each pyc handed to the verifier is compared with.
    verifying: dict[int, str] = {}
    #: Bytes held for pycs not settled yet, kept under MAX_HELD together: the sources and pycs
    #: in ``to_verify``, the copies the filename reader has sent its worker (``copies``), and
    #: the sources and pycs the verifier has not answered for (``in_verifier``).
    held = 0
    copies: dict[int, int] = {}
    in_verifier: dict[int, int] = {}

    def settle(index: int, result: Filenames | str) -> None:
        nonlocal held
        held -= copies.pop(index, 0)
        label = labels[index]
        if isinstance(result, str):
            problems[index].append(f"{label}: not valid bytecode ({result})")
            return
        if result.absolute is not None:
            problems[index].append(
                f"{label}: code carries an absolute path of the build machine: {printable(result.absolute)}"
            )
        pending = to_verify.pop(index, None)
        if pending is None or verifier is None:
            return
        held -= len(pending.source) + len(pending.pyc)
        if result.count != 1:
            problems[index].append(f"{label}: its code objects name {result.count} files, not one")
            return
        verifying[index] = pending.source_name
        in_verifier[index] = len(pending.source) + len(pending.pyc)
        held += in_verifier[index]
        verifier.submit(index, pending.level, result.first, pending.source, pending.pyc, pycs[index].entry)

    def verified(done: list[tuple[int, str | None]]) -> None:
        nonlocal held
        for index, problem in done:
            held -= in_verifier.pop(index, 0)
            if problem is not None:
                problems[index].append(f"{labels[index]}: {problem} ({printable(verifying[index])})")

    #: The last source read: a module's pycs (levels, interpreters) come one after another.
    last: tuple[int, str, bytes] | None = None
    try:
        for index, member in enumerate(pycs):
            label = labels[index]
            # By where it lands (``.data/purelib/x`` is ``x``), which is what the import system sees.
            landed = survey.site_paths.get(member.entry, member.entry) if member.container is artifact else member.entry
            expected = _expected_interpreter(landed, recorded, target, package, by_tag, primary)
            if expected is None or (recorded and expected.magic_number not in recorded_magics):
                # hatch-pyc writes pycs for the interpreters it records, and only those.
                if recorded:
                    problems[index].append(f"{label}: a pyc for no interpreter the bytecode metadata records")
                continue
            # What this pyc adds: its bytes, the copy the reader sends, and its source.
            source_name = survey.sources.get((id(member.container), member.entry))
            coming = 2 * min(member.container.info(member.entry).file_size, MAX_PYC_SIZE)
            if source_name is not None:
                coming += min(member.container.info(source_name).file_size, MAX_PYC_SIZE)
            if held and held + coming > MAX_HELD:
                reader.wait()
                for done in reader.finished():
                    settle(*done)
                while verifier is not None and in_verifier and held + coming > MAX_HELD:
                    # The verifier's answers, as they come in: what it was sent is freed with each.
                    answers = verifier.finished()
                    verified(answers)
                    if not answers:
                        time.sleep(0.01)
            data = member.container.read(member.entry, MAX_PYC_SIZE)
            try:
                header = bytecode.parse_header(data)
            except bytecode.InvalidBytecode as exc:
                problems[index].append(f"{label}: not valid bytecode ({exc})")
                continue
            if header.magic != bytes.fromhex(expected.magic_number):
                problems[index].append(
                    f"{label}: magic number {header.magic.hex()}, but {expected.implementation} {expected.version} "
                    f"has {expected.magic_number}"
                )
                continue
            copies[index] = len(data) - bytecode.HEADER_SIZE
            held += copies[index]
            reader.submit(index, header.magic, writers[header.magic], data[bytecode.HEADER_SIZE :])
            if source_name is not None:
                if last is None or last[:2] != (id(member.container), source_name):
                    last = (id(member.container), source_name, member.container.read(source_name, MAX_PYC_SIZE))
                source = last[2]
                if mode is not None and header.mode != mode:
                    problems[index].append(f"{label}: a {header.mode} pyc, but the bytecode metadata records {mode}")
                # Each implementation hashes sources its own way, and CPython 3.11 changed its
                # (SipHash-1-3 for 2-4): the host checks the hashes of its own kind here; the
                # others are checked in the target, by the verifier.
                key = int.from_bytes(header.magic, "little")
                if (
                    header.source_hash is not None
                    and expected.implementation == sys.implementation.name == "cpython"
                    and (expected.minor >= (3, 11)) == (sys.version_info >= (3, 11))
                    and _imp.source_hash(key, source) != header.source_hash
                ):
                    problems[index].append(
                        f"{label}: its header holds the hash of another source than {printable(source_name)}"
                    )
                elif verifier is not None and header.magic == target_magic:
                    to_verify[index] = _ToVerify(_level(member, meta), source_name, source, data)
                    held += len(source) + len(data)
            for done in reader.finished():
                settle(*done)
            if verifier is not None:
                verified(verifier.finished())
        for done in reader.close():
            settle(*done)
        if verifier is not None:
            verified(verifier.close())
    finally:
        if verifier is not None:
            verifier.kill()
    return [problem for found_problems in problems for problem in found_problems]


def _supported_tags(target: Interpreter) -> set[str]:
    version = target.minor
    platforms = [*platform_tags(), "any"]
    tags = (
        set(cpython_tags(python_version=version, platforms=platforms)) if target.implementation == "cpython" else set()
    )
    tags |= set(compatible_tags(python_version=version, interpreter=target.python_tag, platforms=platforms))
    return {str(tag) for tag in tags}


def _tag_problems(
    artifact: Artifact, recorded: list[Interpreter], layout: Layout | None, target: Interpreter
) -> list[str]:
    problems = []
    wheel_tags = {tag for line in artifact.wheel.get("Tag", []) for tag in map(str, parse_tag(line))}
    name_tags = {str(tag) for tag in artifact.tags}
    if wheel_tags != name_tags:
        problems.append(
            f"WHEEL tags {', '.join(sorted(wheel_tags, key=interpreters.version_order))} differ from the file name's "
            f"{', '.join(sorted(name_tags, key=interpreters.version_order))}"
        )
    if layout is not None and layout.interpreter_tag and recorded:
        built = sorted({interpreter.python_tag for interpreter in recorded}, key=interpreters.version_order)
        others = sorted({tag.interpreter for tag in artifact.tags} - set(built), key=interpreters.version_order)
        if others:
            problems.append(f"file name tags name {', '.join(others)}, but the bytecode is for {', '.join(built)} only")
    if not name_tags & _supported_tags(target):
        shown = ", ".join(sorted(name_tags, key=interpreters.version_order))
        problems.append(
            f"tags {shown} do not fit {target.implementation} {target.version} "
            f"({target.python_tag}): installers refuse this wheel there"
        )
    return problems


def check_wheel(
    path: str | os.PathLike[str],
    python: str | None = None,
    *,
    verify_code: bool = False,
    jobs: int | None = None,
    cache: CompileCache | None = None,
) -> CheckResult:
    """Check that the wheel or ``.pyz`` at ``path`` is intact and fits an interpreter.

    ``python`` names the target interpreter as the ``python`` option does (a path, a command,
    ``"3.12"``); the running one by default. The result lists one problem per mismatch:
    RECORD hashes and sizes, each pyc's magic number against the bytecode metadata and the
    target, valid code, headers against the shipped sources, file name, WHEEL and metadata
    tags, absolute build paths in code objects. ``verify_code`` also compiles each shipped
    source the target loads a pyc for, with the target, and compares the code, in ``jobs``
    worker processes (the CPU count by default); a pyc that ``cache`` (the compile cache,
    :func:`hatch_pyc.build.cache.open_cache`) holds byte for byte for its source and the
    target is not compared again.
    Raises :class:`BadArtifact` for a file it cannot use and
    :class:`~hatch_pyc.core.interpreters.TargetError` for a target it cannot find.
    """
    found = interpreters.find(python) if python else interpreters.running()
    return check_for(path, found, verify_code=verify_code, jobs=jobs, cache=cache)


def check_for(
    path: str | os.PathLike[str],
    found: Target,
    *,
    verify_code: bool = False,
    jobs: int | None = None,
    replacing: Iterable[str] | None = None,
    cache: CompileCache | None = None,
    keep: Keep | None = None,
) -> CheckResult:
    """:func:`check_wheel` against an interpreter already found. With ``replacing`` (the files
    of an installed version the install replaces, possibly none), also what the install would
    change for names that the standard library or another installed distribution answers
    (:func:`~hatch_pyc.check.landing.environment_problems`). ``keep`` is given the pycs
    the verifier finds exact (see :mod:`hatch_pyc.check.code_verifier`)."""
    target = found.interpreter
    verifier = None
    reader = None
    if verify_code:
        from hatch_pyc.check.code_verifier import CodeVerifier

        verifier = CodeVerifier(found.executable, jobs or os.cpu_count() or 1, cache, target, keep, os.fspath(path))
    try:
        with open_artifact(os.fspath(path)) as artifact:
            reader = FilenameReader(
                artifact.budget,
                found.executable,
                bytes.fromhex(target.magic_number),
                f"{target.implementation} {target.version}",
            )
            if any(name.endswith(".pyc") for name in artifact.names):
                reader.start()  # the worker's interpreter starts while the artifact is surveyed
            places = Places.of(found.scheme, found.imports, found.platform, artifact.name) if found.scheme else None
            inspection, survey, meta = _inspect(artifact, places)
            layout = meta.layout if meta is not None else None
            recorded = list(meta.interpreters) if meta is not None else []
            if len(recorded) > MAX_INTERPRETERS:
                raise LimitExceeded(
                    f"{artifact.path}: its bytecode metadata records {len(recorded)} interpreters, more than "
                    f"{MAX_INTERPRETERS} (a limit of hatch-pyc)"
                )
            # The pycs first: RECORD verification then takes the digests of what they read.
            pyc_problems = _pyc_problems(artifact, survey, recorded, found, meta, verifier, reader)
            problems = record_problems(artifact) if artifact.kind == "wheel" else []
            record = {name: digest for name, digest, _ in artifact.record}
            dist_info = artifact.dist_info if artifact.kind == "wheel" else ""
            problems += survey.audit.problems + pyc_problems
            if artifact.kind == "wheel":
                problems += _tag_problems(artifact, recorded, layout, target)
                if replacing is not None:
                    # The directories of the version being replaced are its own; those above this
                    # install's files may hold another distribution's, and stay in view.
                    files = set(replacing)
                    replaced = {*files, *(parent for file in files for parent in landing.parents(file))}
                    environment = landing.Environment(survey.places, {*survey.audit.landed.values(), *replaced})
                    problems += landing.environment_problems(survey.audit, environment)
            elif layout is not None and layout.bundle:
                from hatch_pyc.check.bootstrap import bootstrap_problems

                problems += bootstrap_problems(artifact, found)
    finally:
        if reader is not None:
            reader.kill()
        if verifier is not None:
            verifier.kill()
    # Sourceless wheels and bundles have no source to fall back on: the target must match.
    magics = {interpreter.magic_number for interpreter in recorded}
    if layout is not None and not layout.keeps_sources and recorded and target.magic_number not in magics:
        built = ", ".join(f"{i.implementation} {i.version} (magic {i.magic_number})" for i in recorded)
        problems.append(
            f"built for {built}; the target is {target.implementation} {target.version} (magic {target.magic_number})"
        )
    notes = list(survey.audit.notes)
    if verify_code:
        # Only the target compiles here: another interpreter's pycs beside their sources are
        # checked by their headers, and run unverified there until checked for it.
        cached = {
            match["tag"] for member in survey.members if (match := CACHED_PYC.match(posixpath.basename(member.entry)))
        }
        others = [i for i in recorded if i.magic_number != target.magic_number and i.cache_tag in cached]
        for other in others:
            notes.append(
                f"the pycs for {other.implementation} {other.version} are checked by their headers here, not their "
                f"code: `hatch-pyc check --verify-code --python {other.minor[0]}.{other.minor[1]}` compares it"
            )
    if verifier is not None and verifier.cached:
        notes.append(
            f"{verifier.cached} pycs are in the compile cache, byte for byte, as {target.implementation} "
            f"{target.version} compiled or compared them from the same sources before: not compared again "
            "(`--no-cache` compares every one)"
        )
    if survey.audit.unverifiable:
        notes.append(
            f"{survey.audit.unverifiable} pycs ship without their source, as the {inspection.layout} layout does: "
            "their magic number and code are checked here; `hatch-pyc verify --source SDIST` compares them with "
            "what the sdist compiles to"
        )
    if layout is not None and layout.keeps_sources and target.magic_number not in {i.magic_number for i in recorded}:
        notes.append(
            f"no bytecode for {target.implementation} {target.minor[0]}.{target.minor[1]} in this wheel: "
            "its modules compile at their first import there, as without hatch-pyc"
        )
    return CheckResult(
        inspection=inspection,
        target=target,
        problems=problems,
        notes=notes,
        startup=survey.audit.startup,
        record=record,
        dist_info=dist_info,
    )
