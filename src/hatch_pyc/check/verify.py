"""``hatch-pyc verify``: rebuild an artifact's bytecode from its sources and compare it byte for byte.

A sourceless wheel, a zip-layout wheel or a ``.pyz`` carries pycs no installer can compare
with a source. Builds are reproducible (the bytes are a function of source, options and
target), so anyone holding the sdist can compile it again with the interpreter and options
the bytecode metadata records and check that every pyc is exactly that: the artifact is then
as auditable as its sdist.

What there is to compare is decided by where files land (:func:`hatch_pyc.check.survey.survey_artifact`):
the wheel's own, the ones in archives a ``.pth`` file puts on ``sys.path``, a bundle's. That
is everything that can run, not only pycs:

- Each top-level name (``demo``, ``tool.py``) has one root in the sources, as a build maps one
  directory to it (:meth:`SourceTree.root`): a module's source is ``<root>/<its path>`` and no
  other file ending in that path. A compiled script is matched by its launcher's name, and
  hatch-pyc's own modules in a bundle are the running hatch-pyc's.
- Each pyc is compiled again from its source and compared. The column positions a module
  keeps (the ``debug-ranges`` option) are not recorded, so a pyc that does not match is
  compiled again the other way before it is reported.
- Each source shipped there (``.py``) is what Python imports: it must be byte for byte the
  sdist's file. hatch-pyc's generated sources (stubs, the selector package, a bundle's
  ``__main__.py``) are left to the checks that compare them with what hatch-pyc writes.
- A legacy pyc beside a source in a directory never runs (the path finder imports the source):
  a problem, whatever it holds.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from hatch_pyc import __version__
from hatch_pyc._shipped import bundle_index, bundle_resources, bundle_runtime
from hatch_pyc._shipped.bundle_runtime import INDEX_MODULE, OWN_MODULES_OPTIMIZE, RESOURCES_MODULE, RUNTIME_MODULE
from hatch_pyc.build import bytecode_metadata, scripts, stubs
from hatch_pyc.build.bytecode_metadata import BytecodeMetadata
from hatch_pyc.build.compilation import CompilationFailed, compile_modules
from hatch_pyc.build.placement import Request
from hatch_pyc.check.bootstrap import bootstrap_problems
from hatch_pyc.check.source_tree import SourceRoot, SourceTree
from hatch_pyc.check.survey import Member, Survey, survey_artifact
from hatch_pyc.core import interpreters
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BadArtifact, VerifyError, printable
from hatch_pyc.core.interpreters import Interpreter, Target, TargetError
from hatch_pyc.core.limits import MAX_PYC_SIZE
from hatch_pyc.core.naming import CACHED_PYC, code_filename, legacy_pyc_path, pyc_level, pyc_path
from hatch_pyc.wheel import wheelfile
from hatch_pyc.wheel.artifact import Artifact, intact_wheel, open_artifact


@dataclass
class VerifyResult:
    """The outcome of :func:`verify_artifact`: ``problems`` is empty when every pyc is what its
    source compiles to and every shipped source is the sdist's."""

    artifact: str
    #: How many pycs were compiled again and compared.
    pycs: int = 0
    #: How many sources the artifact ships where the import system finds them were compared
    #: with the sdist's (hatch-pyc's own stubs, selector package and bootstrap left out).
    sources: int = 0
    #: One line per pyc that differs from what its source compiles to, has no source, or never
    #: runs (a source beside it does), and per shipped source not byte for byte the sdist's.
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
    """A module whose pycs are compiled again: its path where the import system finds it, the
    name its code carries, its pycs, and the sources it may have been compiled from: one, at
    its top-level name's root, but for a compiled script (every script of its launcher's name)."""

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
    #: Where its top-level name's sources are, for messages.
    root: SourceRoot | None = None
    #: The source of one of hatch-pyc's own pycs (a stub's, the selector's), which no sdist holds.
    data: bytes | None = None


@dataclass
class _Source:
    """A source the artifact ships where the import system finds it: Python imports it as it
    is, so it must be byte for byte the file its candidate is."""

    display: str
    container: Artifact
    entry: str
    #: Its path where the import system finds it: ``demo/core.py``.
    path: str
    #: ``(name in messages, file)``, as for :class:`_Module`.
    candidates: list[tuple[str, str]] = field(default_factory=list)
    root: SourceRoot | None = None


#: What the path finder imports as source (``.pyw`` on Windows), in place of a legacy pyc beside it.
_SOURCE_SUFFIXES = (".py", ".pyw")


def verify_artifact(
    path: str | os.PathLike[str],
    sources: Sequence[str | os.PathLike[str]],
    *,
    python: Sequence[str] = (),
    jobs: int | None = None,
) -> VerifyResult:
    """Compile the sources of every pyc in the wheel or ``.pyz`` at ``path`` again, from the
    sdists or directories ``sources``, with the interpreters (found as ``python`` names them,
    else by the recorded version) and options its bytecode metadata records, and compare; and
    compare every source it ships where the import system finds it with the sdist's.

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
            if not os.path.exists(source):
                raise VerifyError(f"{os.fspath(source)}: no such file")
            tree.add(os.fspath(source))
        if path.endswith(".whl"):
            artifact = stack.enter_context(intact_wheel(path, "verifying"))
        else:
            artifact = stack.enter_context(open_artifact(path))
        meta = bytecode_metadata.read(artifact)
        if meta is None:
            raise BadArtifact(
                f"{path}: has no bytecode metadata: hatch-pyc did not build it, so nothing records how its "
                "bytecode was compiled"
            )
        other = _other_projects(artifact, [os.fspath(source) for source in sources], tree.distributions())
        if other is not None:
            # Nothing in it is this artifact's source: one line for the cause, not one per pyc.
            return VerifyResult(artifact=path, problems=[other])
        recorded = list(meta.interpreters)
        targets = _targets(recorded, python)
        optimize = sorted(meta.optimize)
        modules, shipped, problems = _modules(artifact, meta, recorded, optimize, tree)
        result = VerifyResult(
            artifact=path,
            interpreters=[f"{t.interpreter.implementation} {t.interpreter.version}" for t in targets.values()],
            sources=len(shipped),
            problems=problems + _compare_sources(shipped),
        )
        for magic, target in targets.items():
            mine = [module for module in modules if module.pycs and module.pycs[0].interpreter.magic_number == magic]
            result.pycs += sum(len(module.pycs) for module in mine)
            _compare(mine, target, meta.invalidation_mode or "checked-hash", jobs, work, result)
        for module in modules:
            if not module.candidates:
                where = _no_source(module.path, module.root)
                result.problems += [f"{p.display}: no source for it ({where})" for p in module.pycs]
        if artifact.kind == "pyz":
            # What a bundle runs before any module: __main__.py, as hatch-pyc writes it.
            result.problems += bootstrap_problems(artifact, next(iter(targets.values())))
        result.problems.sort()
        return result


def _projects(artifact: Artifact) -> list[tuple[str, str]]:
    """``(name, version)`` of each project the artifact holds: a wheel's METADATA says its one,
    a bundle's ``.dist-info`` directories name its own and its dependencies."""
    if artifact.kind == "wheel":
        headers = wheelfile.metadata_headers(artifact.text(f"{artifact.dist_info}/METADATA"))
        return [(str(headers.get("Name", artifact.name)), str(headers.get("Version", artifact.version)))]
    found = set()
    for name in artifact.names:
        top = name.split("/")[0]
        if "/" in name and top.endswith(".dist-info"):
            project, _, version = top[: -len(".dist-info")].rpartition("-")
            if project:
                found.add((project, version))
    return sorted(found)


def _other_projects(artifact: Artifact, sources: list[str], distributions: list[tuple[str, str] | None]) -> str | None:
    """The problem when every source is an sdist whose ``PKG-INFO`` names a project, and none is
    a project of the artifact's: none holds what its bytecode was compiled from. None otherwise
    (a checkout, or a project's sdist among them)."""
    if not sources or any(found is None for found in distributions):
        return None
    projects = _projects(artifact)
    if not projects:
        return None
    mine = {canonicalize_name(name) for name, _ in projects}
    named = [found for found in distributions if found is not None]
    if any(canonicalize_name(name) in mine for name, _ in named):
        return None
    given = ", ".join(printable(os.path.basename(os.path.normpath(source))) for source in sources)
    theirs = ", ".join(dict.fromkeys(printable(f"{name} {version}") for name, version in named))
    if len(projects) == 1:
        whose, wanted = f"{printable(projects[0][0])} {printable(projects[0][1])}", f"{printable(projects[0][0])}'s"
    else:
        listed = ", ".join(printable(f"{name} {version}") for name, version in projects[:3])
        whose = f"any project in it ({listed}{', ...' if len(projects) > 3 else ''})"
        wanted = "their"
    sdists = "is the sdist" if len(sources) == 1 else "are the sdists"
    return f"--source {given} {sdists} of {theirs}, not of {whose}: give {wanted} sdist with --source"


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


def _selector_code_tag(entry: str, packages: set[str]) -> str | None:
    return next((found for package in packages if (found := stubs.selector_code_tag(entry, package))), None)


def _tree_entry(entry: str, packages: set[str]) -> tuple[str, str] | None:
    return next((found for package in packages if (found := stubs.tree_entry(entry, package))), None)


def _importable(artifact: Artifact, surveyed: Survey) -> list[tuple[Member, str]]:
    """Each file where the import system finds it, with its path there: the wheel's own files
    that land in site-packages (the root, ``.data/purelib``, ``.data/platlib``), and every
    file of an archive a ``.pth`` file puts on ``sys.path`` or of a ``.pyz``."""
    found = []
    for member in surveyed.members:
        if member.container is artifact and artifact.kind == "wheel":
            path = surveyed.site_paths.get(member.entry)
            if path is not None:
                found.append((member, path))
        else:
            found.append((member, member.entry))
    return found


def _generated(artifact: Artifact, surveyed: Survey, found: list[tuple[Member, str]]) -> set[tuple[int, str]]:
    """The sources hatch-pyc writes itself, by ``(id(container), path)``: not the sdist's, so not
    compared with it here (their own checks compare them with what hatch-pyc writes).

    In a sourceless or zip-layout wheel: the files the survey expects as hatch-pyc's own (the
    selector package's ``__init__.py`` and the stub of each top-level module or package whose
    bytecode is in the selector's tree, :func:`hatch_pyc.build.stubs.files`), where it expects
    them. In a ``.pyz``: its ``__main__.py`` and hatch-pyc's own modules.
    """
    if artifact.kind == "pyz":
        return {(id(artifact), path) for path in ("__main__.py", *_OWN)}
    return {
        (id(member.container), path) for member, path in found if (id(member.container), member.entry) in surveyed.own
    }


def _modules(
    artifact: Artifact, meta: BytecodeMetadata, recorded: list[Interpreter], optimize: list[int], tree: SourceTree
) -> tuple[list[_Module], list[_Source], list[str]]:
    """Every module with pycs where the import system finds them, with the source it was
    compiled from; every source the artifact ships there, but hatch-pyc's own; and one problem
    per pyc that never runs, a source beside it being what the path finder imports."""
    layout = meta.layout
    surveyed = survey_artifact(artifact, meta)
    found = _importable(artifact, surveyed)
    # What the model of the install finds (a stub or selector not written by hatch-pyc, bytecode
    # under a name that never runs or runs unverified) is a mismatch here too.
    problems = list(surveyed.audit.problems)
    generated = _generated(artifact, surveyed, found)
    by_tag = {interpreter.cache_tag: interpreter for interpreter in recorded}
    # In a wheel for several interpreters, the legacy pycs in the modules' own places are one's.
    primary = stubs.primary_tag(recorded) if layout.several(len(recorded)) else ""
    # A bundle keeps the selector package of the wheel it was made from, under that wheel's name.
    packages = (
        {stubs.selector_package(artifact.name)}
        if artifact.kind == "wheel"
        else {name.split("/")[0] for name in artifact.names if name.startswith(stubs.PREFIX) and "/" in name}
    )
    paths: dict[int, set[str]] = {}
    for member, path in found:
        paths.setdefault(id(member.container), set()).add(path)
    modules: dict[tuple[int, str, str, str, bool], _Module] = {}
    shipped: list[_Source] = []
    for member, path in found:
        container = member.container
        if path.endswith(_SOURCE_SUFFIXES):
            if (id(container), path) not in generated:
                shipped.append(_Source(member.display, container, member.entry, path))
            continue
        if not path.endswith(".pyc"):
            continue
        in_tree = False
        directory, base = posixpath.split(path)
        if posixpath.basename(directory) == "__pycache__":
            match = CACHED_PYC.match(base)
            interpreter = by_tag.get(match["tag"]) if match else None
            if match is None:
                continue  # no name the import system looks for
            if interpreter is None:
                problems.append(
                    f"{printable(member.display)}: bytecode for {printable(match['tag'])}, which the bytecode metadata "
                    "does not record: nothing compiles it again, and that interpreter runs it in its source's place"
                )
                continue
            source_path = posixpath.join(posixpath.dirname(directory), match["stem"] + ".py")
            pyc = _Pyc(member.display, b"", interpreter, pyc_level(base), legacy=False)
        elif (code_tag := _selector_code_tag(path, packages)) is not None:
            # The selector's code, which hatch-pyc writes for this wheel's modules.
            interpreter = by_tag.get(code_tag)
            if interpreter is None:
                problems.append(
                    f"{printable(member.display)}: the selector's code for {printable(code_tag)}, which the bytecode "
                    "metadata does not record"
                )
                continue
            source_path = path[: -len("c")]
            pyc = _Pyc(member.display, b"", interpreter, optimize[0], legacy=True)
        elif (selected := _tree_entry(path, packages)) is not None and selected[0] in by_tag:
            # A wheel for several interpreters: each one's legacy pycs in its own directory.
            in_tree = True
            source_path = selected[1][: -len("c")]
            pyc = _Pyc(member.display, b"", by_tag[selected[0]], optimize[0], legacy=True)
        else:
            source_path = path[: -len("c")]
            beside = [f"{source_path[: -len('.py')]}{end}" for end in _SOURCE_SUFFIXES]
            if container.kind == "wheel" and any(other in paths[id(container)] for other in beside):
                # The path finder prefers a source to a legacy pyc in a directory (zipimport prefers
                # the pyc): this one never runs, and the survey reports it.
                continue
            level = OWN_MODULES_OPTIMIZE if artifact.kind == "pyz" and source_path in _OWN else optimize[0]
            pyc = _Pyc(member.display, b"", by_tag.get(primary, recorded[0]), level, legacy=True)
        pyc.data = container.read(member.entry, MAX_PYC_SIZE)
        # One module per interpreter: each target compiles and compares its own pycs. (Two
        # entries landing on one file, ``.data/purelib/`` and the root, are two modules.)
        prefix = member.entry[: len(member.entry) - len(path)]
        own = not in_tree and (
            (id(container), source_path) in generated or source_path.startswith(tuple(f"{p}/" for p in packages))
        )
        # hatch-pyc's own pycs are compiled from what it writes, apart from the modules they stand in for.
        key = (id(container), prefix, source_path, pyc.interpreter.magic_number, own)
        if key not in modules:
            beside_it = source_path in paths[id(container)]
            # The alongside layout names code ``<path>`` (the import system puts the real path
            # into a pyc it loads beside its source); elsewhere a module whose source ships
            # beside its pyc (keep-source) carries its plain path. Columns go with a source.
            kept = beside_it and not layout.keeps_sources
            modules[key] = _Module(source_path, None, kept, [], [], columns=beside_it)
            if own:
                data = (
                    surveyed.selector_code
                    if not beside_it
                    else container.read(prefix + source_path, MAX_PYC_SIZE)
                    if prefix + source_path in container.names
                    else None
                )
                modules[key].data = data
                modules[key].candidates = [(f"hatch-pyc's {printable(source_path)}", "")] if data is not None else []
        modules[key].pycs.append(pyc)
        if len(pyc.data) >= 12:
            modules[key].mtime = int.from_bytes(pyc.data[8:12], "little")
    _locate(artifact, list(modules.values()), shipped, tree)
    return list(modules.values()), shipped, problems


def _locate(artifact: Artifact, modules: list[_Module], shipped: list[_Source], tree: SourceTree) -> None:
    """Each module's and shipped source's candidates: a compiled script's are the scripts of its
    launcher's name, hatch-pyc's own modules in a bundle the running hatch-pyc's; every other is
    ``<root>/<its path>``, one root per top-level name (:meth:`SourceTree.root`), or none."""
    plain: dict[str, set[str]] = {}
    paths = [module.path for module in modules if module.data is None] + [source.path for source in shipped]
    for path in paths:
        if not path.startswith(scripts.PACKAGE + "/") and not (artifact.kind == "pyz" and path in _OWN):
            plain.setdefault(path.split("/")[0], set()).add(path)
    roots = {top: tree.root(paths) for top, paths in plain.items()}

    def candidates(path: str) -> tuple[list[tuple[str, str]], SourceRoot | None, str | None]:
        """``(candidates, root, script name)`` of the module or source at ``path``."""
        if path.startswith(scripts.PACKAGE + "/"):
            script, found = tree.scripts(posixpath.splitext(path)[0].replace("/", "."))
            return found, None, script
        if artifact.kind == "pyz" and path in _OWN:
            # hatch-pyc's own: the same only when its version is the one recorded.
            return [(f"hatch-pyc {__version__}'s {path[: -len('.py')]}", _OWN[path])], None, None
        root = roots[path.split("/")[0]]
        source = tree.at(root, path) if root is not None else None
        return [source] if source is not None else [], root, None

    for module in modules:
        if module.data is not None:
            continue
        module.candidates, module.root, script = candidates(module.path)
        module.filename = script or module.filename
    for shipped_source in shipped:
        shipped_source.candidates, shipped_source.root, _ = candidates(shipped_source.path)


def _no_source(path: str, root: SourceRoot | None) -> str:
    """Where a module's source was looked for, in a message."""
    return printable(path) if root is None else f"{printable(path)}, not in {printable(root.display)}"


def _compare_sources(shipped: list[_Source]) -> list[str]:
    """One problem per shipped source that is not byte for byte its candidate: it is what runs."""
    problems = []
    for source in shipped:
        display = printable(source.display)
        if not source.candidates:
            problems.append(
                f"{display}: no source for it ({_no_source(source.path, source.root)}), and Python imports it as it "
                "is: remove it, or rebuild the artifact from the sdist"
            )
        elif not any(_same(source.container, source.entry, file) for _, file in source.candidates):
            origin = ", ".join(printable(display) for display, _ in source.candidates[:3])
            problems.append(
                f"{display}: not the same as {origin}, and Python imports it as it is: rebuild the artifact from "
                "the sdist"
            )
    return problems


def _same(container: Artifact, entry: str, file: str) -> bool:
    """Whether the entry holds exactly the bytes of ``file``, read in chunks."""
    if container.info(entry).file_size != os.path.getsize(file):
        return False
    with open(file, "rb") as f:
        for chunk in container.chunks(entry):
            if f.read(len(chunk)) != chunk:
                return False
        return f.read(1) == b""


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
    for index, (module, ((display, file), columns, kept)) in enumerate(batch):
        source = Module(source=file, path=module.path, display=display, filename=module.filename, data=module.data)
        # Each module's own directory: a stub and the module it stands in for have one path.
        pycs = tuple(
            (
                pyc.level,
                f"{index}/"
                + (legacy_pyc_path(module.path) if pyc.legacy else pyc_path(module.path, pyc.level, cache_tag)),
            )
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
