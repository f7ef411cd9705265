"""The one way from the files a wheel ships, and the options, to its bytecode: the hook and
``convert`` both run it, so both give the same modules, pycs, layout, tags and metadata.

Data flows one way: options → files → compile → layout → metadata. The caller brings the
files (hatchling's file list, or a wheel's entries) and the modules of its compiled scripts,
and applies the result (to hatchling's build data, or to a new wheel's entries).
:func:`select` checks everything that needs no compiling, before the caller changes any
state; :func:`build` compiles and lays out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hatch_pyc._shipped.bundle_runtime import user_cache_dir
from hatch_pyc.build import assembly, bytecode_metadata, placement, stubs
from hatch_pyc.build.cache import CompileCache, open_cache
from hatch_pyc.build.compilation import Compilation, Progress, ProgressReporter, compile_modules
from hatch_pyc.build.placement import LayoutError, Placement, place, refuse_extension_modules
from hatch_pyc.core import config, interpreters
from hatch_pyc.core.config import ConfigError, Options
from hatch_pyc.core.discovery import Module, select_modules, unmatched
from hatch_pyc.core.interpreters import Interpreter, Target, TargetError
from hatch_pyc.core.layouts import SOURCELESS, ZIPAPP
from hatch_pyc.wheel.archive import Archive


@dataclass(frozen=True)
class Selection:
    """What :func:`select` found: the targets and the modules, all checked."""

    #: The interpreters named by ``python``, found and probed; empty means the running one.
    targets: tuple[Target, ...]
    #: What the bytecode is compiled for, one per target.
    interpreters: tuple[Interpreter, ...]
    modules: tuple[Module, ...]
    #: ``Requires-Python`` narrowed to the one target of a sourceless or zip wheel, else None.
    requires_python: str | None
    #: The wheel tag of a sourceless or zip wheel (:func:`~hatch_pyc.core.interpreters.wheel_tag`), else None.
    tag: str | None = None


@dataclass(frozen=True)
class Result:
    """What :func:`build` made, for the caller to put into the wheel."""

    #: The modules compiled, compiled scripts included.
    modules: tuple[Module, ...]
    compilations: tuple[Compilation, ...]
    #: Files to add: ``{path in the wheel: file on disk, its bytes, or an archive to write}``;
    #: the front end writes what is not on disk yet (:func:`~hatch_pyc.build.assembly.on_disk`).
    added: dict[str, str | bytes | Archive]
    #: Paths in the wheel of shipped files that leave it.
    dropped: frozenset[str]
    #: The bytecode metadata file's text.
    metadata: str
    #: One line each for the front end to show: what the build did that the options did not say.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    """What a run of the hook, ``convert`` or ``bundle`` brings besides its options: where
    progress lines and one-line warnings go."""

    progress: Callable[[str], None] | None = None
    warn: Callable[[str], None] | None = None
    #: Progress from the first second on, every second (``-v``), not only for long compiles.
    every_second: bool = False

    def open_cache(self, options: Options) -> CompileCache | None:
        """The compile cache the options name, or None with ``cache = false``."""
        if not options.cache:
            return None
        return open_cache(options.cache_dir or user_cache_dir(), self.warn or (lambda line: None))

    def reporter(self) -> Callable[[Progress], None] | None:
        if self.progress is None:
            return None
        if self.every_second:
            return ProgressReporter(self.progress, delay=1.0, interval=1.0)
        return ProgressReporter(self.progress)


def find_targets(options: Options) -> tuple[Target, ...]:
    """The interpreters named by ``python``, found and probed; every problem at once."""
    targets, problems = [], []
    for spec in options.python:
        try:
            targets.append(interpreters.find(spec))
        except TargetError as exc:
            problems.append(f"{options.where(config.PYTHON)}: {exc.message}")
    # Two builds of one version share its pycs (a free-threaded one too); PyPy has pycs of its own.
    versions = [(target.interpreter.implementation, target.interpreter.minor) for target in targets]
    for target, version in zip(targets, versions, strict=True):
        if versions.count(version) > 1:
            name = f"{target.interpreter.implementation} {target.interpreter.version}"
            problems.append(f"{options.where(config.PYTHON)}: {name} is named twice")
    if problems:
        raise TargetError("cannot compile for the interpreters asked for:\n  " + "\n  ".join(problems))
    return tuple(targets)


def select(options: Options, shipped: Sequence[Module], requires_python: str) -> Selection:
    """Find the targets and the modules among ``shipped``, and refuse what cannot be built:
    a target the project's ``requires_python`` excludes, extension modules in the zip
    layout, ``exclude`` globs that match nothing."""
    targets = find_targets(options)
    compiled_for = tuple(target.interpreter for target in targets) or (interpreters.running().interpreter,)
    layout = options.layout
    if targets or layout.interpreter_tag:
        interpreters.check_admitted(interpreters.parse_requires_python(requires_python), compiled_for)
    if layout.archive:
        refuse_extension_modules([file.path for file in shipped], layout)
    problems = unmatched(
        options.exclude, [f.path for f in shipped if f.path.endswith(".py")], options.where(config.EXCLUDE)
    )
    if problems:
        raise ConfigError(problems)
    if layout.several(len(targets)):
        pypy = [
            f"{t.interpreter.implementation} {t.interpreter.version}"
            for t in targets
            if t.interpreter.implementation != "cpython"
        ]
        if pypy:
            raise TargetError(
                f"{options.where(config.PYTHON)}: a {layout.name} wheel for several interpreters is for CPython "
                f"versions; {', '.join(pypy)} needs a wheel of its own"
            )
    narrowed = interpreters.narrowed_requires_python(requires_python, compiled_for) if layout.interpreter_tag else None
    tag = interpreters.wheel_tags(targets or (interpreters.running(),)) if layout.interpreter_tag else None
    return Selection(
        targets=targets,
        interpreters=compiled_for,
        modules=tuple(select_modules(shipped, options.exclude)),
        requires_python=narrowed,
        tag=tag,
    )


def compile_placed(
    options: Options,
    modules: Sequence[Module],
    placement: Placement,
    out_dir: str,
    target: Target | None,
    *,
    optimize: Sequence[int],
    cache: CompileCache | None,
    progress: Callable[[Progress], None] | None,
    mtimes: Sequence[int] | None = None,
) -> Compilation:
    """Compile ``modules`` for ``target`` as ``placement`` places them, with the options'
    invalidation mode and jobs: the step a wheel (:func:`build`) and a bundle share."""
    cache_tag = (target or interpreters.running()).interpreter.cache_tag
    return compile_modules(
        placement.requests(modules, optimize, cache_tag),
        out_dir,
        invalidation_mode=options.invalidation_mode,
        mtimes=mtimes,
        jobs=options.workers,
        target=target,
        cache=cache,
        progress=progress,
    )


def build_archive(
    options: Options,
    modules: Sequence[Module],
    shipped: Sequence[tuple[str, str]],
    out_dir: str,
    target: Target | None,
    *,
    cache: CompileCache | None,
    progress: Callable[[Progress], None] | None,
) -> dict[str, str]:
    """Compile ``modules`` for ``target`` as an archive holds them (a ``.pyz`` bundle): one
    legacy pyc each, at the lowest optimize level, sources only where ``keep-source`` keeps
    them. The archive's contents, with the ``shipped`` files (``(file on disk, path)``):
    ``{path in the archive: file on disk}``."""
    placement = place(ZIPAPP, modules, options.keep_source, options.debug_ranges)
    os.makedirs(out_dir, exist_ok=True)
    compilation = compile_placed(
        options, modules, placement, out_dir, target, optimize=[min(options.optimize)], cache=cache, progress=progress
    )
    return assembly.archive_files(shipped, compilation, placement.sourceless)


def build(
    options: Options,
    selection: Selection,
    *,
    distribution: str,
    version: str,
    shipped: Sequence[Module],
    scripts: Sequence[Module],
    out_dir: str,
    cache: CompileCache | None = None,
    progress: Callable[[Progress], None] | None = None,
    mtimes: Callable[[Sequence[Module]], list[int]] | None = None,
) -> Result:
    """Compile the selected modules and the ``scripts``' modules for every target into
    ``out_dir``, and lay them out: what the wheel gains and loses, and its bytecode metadata.

    ``mtimes`` gives the source times timestamp pycs record.
    """
    modules = [*selection.modules, *scripts]
    paths = [module.path for module in scripts]
    twice = sorted({path for path in paths if paths.count(path) > 1})
    if twice:
        names = sorted(module.display for module in scripts if module.path in twice)
        raise LayoutError(f"scripts {', '.join(names)} compile to the same module {twice[0]}; rename one")
    layout = options.layout
    if not layout.keeps_sources or options.zipapp is not None:
        problems = unmatched(options.keep_source, [m.path for m in modules], options.where(config.KEEP_SOURCE))
        if problems:
            raise ConfigError(problems)
    several = layout.several(len(selection.targets))
    tree = stubs.selector_package(distribution) if layout.selector else ""
    primary = stubs.primary_tag(selection.interpreters)
    shipped_paths = frozenset(file.path for file in shipped)
    # In an archive a module finds no file beside its __file__: such packages ship beside it, sourceless.
    by_path = {m.path: m for m in modules}
    outside = (
        placement.reads_files_beside(
            shipped_paths, lambda path: path in by_path and placement.names_file(by_path[path])
        )
        if layout.archive
        else frozenset()
    )
    parts = []  # (layout, placement, modules): the archive's (or the wheel's), and what ships beside it
    for beside in (False, True):
        group = [m for m in modules if (m.path.split("/")[0] in outside) == beside]
        if group or not beside:
            used = SOURCELESS if beside else layout
            placed = place(used, group, options.keep_source, options.debug_ranges, tree, several, primary)
            parts.append((used, placed, group))
    in_tree = frozenset().union(*(placed.in_tree for _, placed, _ in parts))
    kept = frozenset().union(*(placed.kept for _, placed, _ in parts))
    sourceless = frozenset().union(*(placed.sourceless for _, placed, _ in parts))
    own = None
    if in_tree:
        own = stubs.files(
            distribution=distribution,
            version=version,
            interpreters=selection.interpreters,
            compiled=in_tree,
            kept=kept if several else (),
            shipped=[path for path in shipped_paths if path.endswith(".py")],
            outside=outside,
        )
    # An archive is read by zipimport, which reads no __pycache__: there kept modules run from source.
    compiled = [
        (placed, [m for m in group if not (several and used.archive and m.path in placed.kept)])
        for used, placed, group in parts
    ]
    in_order = [m for _, group in compiled for m in group]
    os.makedirs(out_dir, exist_ok=True)  # compiling may write nothing there: all from the cache
    compilations: list[Compilation] = []
    own_compilations: list[Compilation] = []
    for target in selection.targets or (None,):
        cache_tag = (target or interpreters.running()).interpreter.cache_tag
        requests = [r for placed, group in compiled for r in placed.requests(group, options.optimize, cache_tag)]
        compilations.append(
            compile_modules(
                requests,
                out_dir,
                invalidation_mode=options.invalidation_mode,
                mtimes=mtimes(in_order) if mtimes is not None and options.invalidation_mode == "timestamp" else None,
                jobs=options.workers,
                target=target,
                cache=cache,
                progress=progress,
            )
        )
        if own is not None:
            # hatch-pyc's own sources ship compiled for each target too: an import compiles nothing.
            own_requests = own.requests(layout, several, options.optimize, cache_tag)
            own_compilations.append(
                compile_modules(
                    own_requests,
                    out_dir,
                    invalidation_mode=options.invalidation_mode,
                    mtimes=[0] * len(own_requests) if options.invalidation_mode == "timestamp" else None,
                    jobs=1,
                    target=target,
                    cache=cache,
                )
            )
    pycs = {path: file for file, path in assembly.pyc_files([*compilations, *own_compilations]).items()}
    own_sources = own.sources if own is not None else {}
    added: dict[str, str | bytes | Archive]
    if layout.archive:
        every: dict[str, str | bytes] = {file.path: file.source for file in shipped if file.path not in sourceless}
        every.update(pycs)
        every.update(own_sources)
        out = {path: content for path, content in every.items() if path.split("/")[0] in outside}
        contents = {path: content for path, content in every.items() if path not in out}
        added = dict(assembly.zip_layout_files(distribution, contents, compress=options.compress))
        # What ships beside the archive as it was shipped stays; everything else now lives in the archive.
        stays = {file.path for file in shipped if out.get(file.path) == file.source}
        added.update({path: content for path, content in out.items() if path not in stays})
        dropped = shipped_paths - stays
    else:
        added = dict(pycs)
        added.update(own_sources)
        added.update({m.path: m.source for m in scripts if m.path not in sourceless})
        # Compiled scripts were never among the shipped files: nothing to drop there.
        dropped = sourceless & shipped_paths
    notes = []
    if outside:
        notes.append(
            f"the zip layout ships {', '.join(sorted(outside))} beside its archive, as the sourceless layout does: "
            "its modules find data files by __file__, which are not files inside an archive"
        )
    text = bytecode_metadata.render(
        interpreters=[compilation.interpreter for compilation in compilations],
        layout=layout,
        # Where __pycache__ pycs ship (kept modules, hatch-pyc's own sources), they ship at every level.
        optimize=layout.shipped_levels(options.optimize, any("__pycache__" in path.split("/") for path in pycs)),
        invalidation_mode=options.invalidation_mode,
        modules=len(modules),
    )
    return Result(
        modules=tuple(modules),
        compilations=tuple(compilations),
        added=added,
        dropped=dropped,
        metadata=text,
        notes=tuple(notes),
    )
