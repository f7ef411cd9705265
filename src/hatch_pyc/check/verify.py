"""``hatch-pyc verify``: rebuild an artifact's bytecode from its sources and compare it byte for byte.

A sourceless wheel, a zip-layout wheel or a ``.pyz`` carries pycs no installer can compare
with a source. Builds are reproducible (the bytes are a function of source, options and
target), so anyone holding the sdist can compile it again with the interpreter and options
the bytecode metadata records and check that every pyc is exactly that: the artifact is then
as auditable as its sdist.

Which pycs there are is decided by where files land (:func:`hatch_pyc.check.checker.survey_artifact`):
the wheel's own, the ones in archives a ``.pth`` file puts on ``sys.path``, a bundle's. Each
is matched to a source by its module's path (``pkg/mod.py`` is ``src/pkg/mod.py`` in the
sdist, the shortest such path first), a compiled script by its launcher's name. The column
positions a module keeps (the ``debug-ranges`` option) are not recorded, so a pyc that does
not match is compiled again the other way before it is reported.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from hatch_pyc import __version__
from hatch_pyc._shipped import bundle_index, bundle_resources, bundle_runtime
from hatch_pyc._shipped.bundle_runtime import INDEX_MODULE, OWN_MODULES_OPTIMIZE, RESOURCES_MODULE, RUNTIME_MODULE
from hatch_pyc.build import metadata, scripts, stubs
from hatch_pyc.build.compilation import CompilationFailed, compile_modules
from hatch_pyc.build.placement import Request
from hatch_pyc.check.landing import SITE, land
from hatch_pyc.check.source_tree import SourceTree
from hatch_pyc.check.survey import survey_artifact
from hatch_pyc.core import interpreters
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.interpreters import Interpreter, Target, TargetError
from hatch_pyc.core.limits import MAX_PYC_SIZE
from hatch_pyc.core.naming import CACHED_PYC, code_filename, legacy_pyc_path, pyc_level, pyc_path
from hatch_pyc.wheel.artifact import Artifact, intact_wheel, open_artifact


@dataclass
class VerifyResult:
    """The outcome of :func:`verify_artifact`: ``problems`` is empty when every pyc is what its
    source compiles to."""

    artifact: str
    #: How many pycs were compiled again and compared.
    pycs: int = 0
    #: One line per pyc that differs from what its source compiles to, or has no source.
    problems: list[str] = field(default_factory=list)
    #: The interpreters that compiled them: ``cpython 3.11.7``.
    interpreters: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Pyc:
    """A pyc of the artifact and how the build made it."""

    display: str
    data: bytes
    interpreter: Interpreter
    level: int
    legacy: bool


#: hatch-pyc's own modules in a bundle, by their path there: their source is hatch-pyc's.
_OWN = {
    f"{INDEX_MODULE}.py": bundle_index.__file__,
    f"{RESOURCES_MODULE}.py": bundle_resources.__file__,
    f"{RUNTIME_MODULE}.py": bundle_runtime.__file__,
}


@dataclass
class _Module:
    """A module whose pycs are compiled again: its path in its container, the name its code
    carries, its pycs, and the sources it may have been compiled from, best first."""

    path: str
    filename: str | None
    #: Whether its code carries the plain path rather than ``<path>``: the layout's default first.
    kept: bool
    pycs: list[_Pyc]
    #: ``(name in messages, file)``.
    candidates: list[tuple[str, str]]
    #: Whether the code keeps its column positions: the layout's default first.
    columns: bool
    mtime: int = 0


def verify_artifact(
    path: str | os.PathLike[str],
    sources: Sequence[str | os.PathLike[str]],
    *,
    python: Sequence[str] = (),
    jobs: int | None = None,
) -> VerifyResult:
    """Compile the sources of every pyc in the wheel or ``.pyz`` at ``path`` again, from the
    sdists or directories ``sources``, with the interpreters (found as ``python`` names them,
    else by the recorded version) and options its bytecode metadata records, and compare.

    Raises :class:`BadArtifact` for an artifact it cannot use (no bytecode metadata, a
    damaged wheel), :class:`VerifyError` for sources it cannot read and
    :class:`~hatch_pyc.core.interpreters.TargetError` for a recorded interpreter it cannot find.
    """
    path = os.fspath(path)
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="hatch-pyc-verify-"))
        tree = SourceTree(os.path.join(work, "sources"))
        os.mkdir(os.path.join(work, "sources"))
        for source in sources:
            tree.add(os.fspath(source))
        if path.endswith(".whl"):
            artifact = stack.enter_context(intact_wheel(path, "verifying"))
        else:
            artifact = stack.enter_context(open_artifact(path))
        meta = metadata.read(artifact)
        if meta is None:
            raise BadArtifact(
                f"{path}: has no bytecode metadata: hatch-pyc did not build it, so nothing records how its "
                "bytecode was compiled"
            )
        recorded = [
            Interpreter(**{key: entry[key] for key in ("implementation", "version", "cache_tag", "magic_number")})
            for entry in meta["interpreters"]
        ]
        targets = _targets(recorded, python)
        optimize = sorted(meta.get("optimize") or [0])
        modules = _modules(artifact, meta["layout"], recorded, optimize, tree)
        result = VerifyResult(
            artifact=path,
            interpreters=[f"{t.interpreter.implementation} {t.interpreter.version}" for t in targets.values()],
        )
        for magic, target in targets.items():
            mine = [module for module in modules if module.pycs and module.pycs[0].interpreter.magic_number == magic]
            result.pycs += sum(len(module.pycs) for module in mine)
            _compare(mine, target, meta.get("invalidation_mode", "checked-hash"), jobs, work, result)
        for module in modules:
            if not module.candidates:
                result.problems += [f"{p.display}: no source for it ({printable(module.path)})" for p in module.pycs]
        result.problems.sort()
        return result


def _targets(recorded: list[Interpreter], python: Sequence[str]) -> dict[str, Target]:
    """An interpreter for each recorded one, by magic number: those ``python`` names, else
    one of the recorded version found on this machine."""
    found = [interpreters.find(spec) for spec in python]
    targets = {}
    for wanted in recorded:
        named = [t for t in found if t.interpreter.magic_number == wanted.magic_number]
        if named:
            targets[wanted.magic_number] = named[0]
            continue
        if python:
            raise TargetError(
                f"none of the interpreters given with --python is {wanted.implementation} {wanted.minor[0]}."
                f"{wanted.minor[1]} (magic {wanted.magic_number}), which the bytecode is for"
            )
        major, minor = wanted.minor
        spec = f"{major}.{minor}" if wanted.implementation == "cpython" else f"pypy{major}.{minor}"
        try:
            target = interpreters.find(spec)
        except TargetError as exc:
            raise TargetError(
                f"the bytecode is for {wanted.implementation} {wanted.version}, which is not found here "
                f"({exc.message}); name one with --python"
            ) from None
        if target.interpreter.magic_number != wanted.magic_number:
            raise TargetError(
                f"the bytecode is for {wanted.implementation} {wanted.version} (magic {wanted.magic_number}); "
                f"{target.executable} is {target.interpreter.implementation} {target.interpreter.version} "
                f"(magic {target.interpreter.magic_number}): name one of the right version with --python"
            )
        targets[wanted.magic_number] = target
    return targets


def _tree_entry(entry: str, packages: set[str]) -> tuple[str, str] | None:
    return next((found for package in packages if (found := stubs.tree_entry(entry, package))), None)


def _modules(
    artifact: Artifact, layout: str, recorded: list[Interpreter], optimize: list[int], tree: SourceTree
) -> list[_Module]:
    """Every module with pycs where the import system finds them, with its candidate sources."""
    surveyed = survey_artifact(artifact, layout)
    by_tag = {interpreter.cache_tag: interpreter for interpreter in recorded}
    # A bundle keeps the selector package of the wheel it was made from, under that wheel's name.
    packages = (
        {stubs.selector_package(artifact.name)}
        if artifact.kind == "wheel"
        else {name.split("/")[0] for name in artifact.names if name.startswith(stubs.PREFIX) and "/" in name}
    )
    modules: dict[tuple[int, str, str], _Module] = {}
    for member in surveyed.members:
        entry, container = member.entry, member.container
        # Where the wheel's own files install; an archive's names are where zipimport finds them.
        in_wheel = container is artifact and artifact.kind == "wheel"
        if not entry.endswith(".pyc") or (in_wheel and land(entry, artifact.data_dir, {}).scheme != SITE):
            continue
        directory, base = posixpath.split(entry)
        if posixpath.basename(directory) == "__pycache__":
            match = CACHED_PYC.match(base)
            interpreter = by_tag.get(match["tag"]) if match else None
            if match is None or interpreter is None:
                continue  # check says what is wrong with it
            source_path = posixpath.join(posixpath.dirname(directory), match["stem"] + ".py")
            pyc = _Pyc(member.display, b"", interpreter, pyc_level(base), legacy=False)
        elif (selected := _tree_entry(entry, packages)) is not None and selected[0] in by_tag:
            # A wheel for several interpreters: each one's legacy pycs in its own directory.
            source_path = selected[1][: -len("c")]
            pyc = _Pyc(member.display, b"", by_tag[selected[0]], optimize[0], legacy=True)
        else:
            source_path = entry[: -len("c")]
            level = OWN_MODULES_OPTIMIZE if artifact.kind == "pyz" and source_path in _OWN else optimize[0]
            pyc = _Pyc(member.display, b"", recorded[0], level, legacy=True)
        pyc.data = container.read(entry, MAX_PYC_SIZE)
        # One module per interpreter: each target compiles and compares its own pycs.
        key = (id(container), source_path, pyc.interpreter.magic_number)
        if key not in modules:
            beside = source_path in container.names
            # The alongside layout names code ``<path>`` (the import system puts the real path
            # into a pyc it loads beside its source); elsewhere a module whose source ships
            # beside its pyc (keep-source) carries its plain path. Columns go with a source.
            kept = beside and layout != "alongside"
            landed = land(source_path, artifact.data_dir, {}).path if in_wheel else source_path
            filename = None if landed == source_path else landed
            candidates = tree.find(landed)
            if landed.startswith(scripts.PACKAGE + "/"):
                script, candidates = tree.scripts(landed[: -len(".py")].replace("/", "."))
                filename = script or filename
            elif artifact.kind == "pyz" and landed in _OWN:
                # hatch-pyc's own: the same only when its version is the one recorded.
                candidates = [(f"hatch-pyc {__version__}'s {landed[: -len('.py')]}", _OWN[landed])]
            modules[key] = _Module(source_path, filename, kept, [], candidates, columns=beside)
        modules[key].pycs.append(pyc)
        if len(pyc.data) >= 12:
            modules[key].mtime = int.from_bytes(pyc.data[8:12], "little")
    return list(modules.values())


def _compare(
    modules: list[_Module],
    target: Target,
    mode: str,
    jobs: int | None,
    work: str,
    result: VerifyResult,
) -> None:
    """Compile each module's next variant (candidate source, columns or not, plain name or not) until its pycs
    match or no variant is left; what is left is a problem."""
    has_columns = target.interpreter.has_columns
    variants = {
        id(module): [
            (source, columns, kept)
            for source in module.candidates
            for columns in ([module.columns, not module.columns] if has_columns else [False])
            for kept in (module.kept, not module.kept)
        ]
        for module in modules
    }
    left = [module for module in modules if variants[id(module)]]
    attempt = 0
    while left:
        attempt += 1
        batch = [(module, variants[id(module)].pop(0)) for module in left]
        out = os.path.join(work, f"compiled-{target.interpreter.magic_number}-{attempt}")
        matched = _compile_batch(batch, target, mode, jobs, out)
        unmatched = [module for module, _ in batch if id(module) not in matched]
        for module in unmatched:
            if not variants[id(module)]:
                origin = ", ".join(printable(display) for display, _ in module.candidates[:3])
                result.problems += [
                    f"{pyc.display}: not what {target.interpreter.implementation} {target.interpreter.version} "
                    f"compiles from {origin}"
                    for pyc in module.pycs
                ]
        left = [module for module in unmatched if variants[id(module)]]


def _compile_batch(
    batch: list[tuple[_Module, tuple[tuple[str, str], bool, bool]]],
    target: Target,
    mode: str,
    jobs: int | None,
    out: str,
) -> set[int]:
    """Compile one variant of each module; the ids of the modules whose every pyc matched."""
    cache_tag = target.interpreter.cache_tag
    requests = []
    for module, ((display, file), columns, kept) in batch:
        source = Module(source=file, path=module.path, display=display, filename=module.filename)
        pycs = tuple(
            (pyc.level, legacy_pyc_path(module.path) if pyc.legacy else pyc_path(module.path, pyc.level, cache_tag))
            for pyc in module.pycs
        )
        requests.append(Request(source, pycs, code_filename(source, kept), columns))
    try:
        compilation = compile_modules(
            requests,
            out,
            invalidation_mode=mode,
            mtimes=[module.mtime for module, _ in batch],
            jobs=jobs or os.cpu_count() or 1,
            target=target,
        )
    except CompilationFailed as exc:
        # A source that does not compile is not the source of a pyc: its module stays unmatched.
        broken = {error.display for error in exc.errors}
        return _compile_batch(
            [(module, variant) for module, variant in batch if variant[0][0] not in broken], target, mode, jobs, out
        )
    matched = set()
    for (module, _), compiled in zip(batch, compilation.modules, strict=True):
        if all(_read(file) == pyc.data for (_, _, file), pyc in zip(compiled.pycs, module.pycs, strict=True)):
            matched.add(id(module))
    return matched


def _read(file: str) -> bytes:
    with open(file, "rb") as f:
        return f.read()
