"""Zipapp (``.pyz``) bundles, made from a wheel of any backend: the hook's ``zipapp`` table
(with the wheel it has just built) and the ``bundle`` command both call :func:`make_bundle`.

A bundle holds the wheel as an installer lays it out (its root, ``purelib`` and ``platlib``,
its ``.dist-info``) and, if asked, its dependencies installed for the target. Every module
is a legacy pyc, the one kind zipimport loads; each ``.dist-info`` has a RECORD rewritten
to what the bundle holds, so that ``importlib.metadata`` sees every distribution, the
project's own included. ``__main__.py`` refuses another interpreter and runs the entry
point. Extension modules, which no zip importer loads, are either refused or kept for
:mod:`hatch_pyc._shipped.bundle_runtime` to extract at start-up.

This module orchestrates: :mod:`hatch_pyc.bundle.tree` gathers the files,
:mod:`hatch_pyc.bundle.plan` decides names and writes the bootstrap,
:func:`hatch_pyc.build.pipeline.build_archive` compiles, :mod:`hatch_pyc.wheel.archive` writes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Mapping
from typing import Any

from hatch_pyc._shipped import bundle_index, bundle_resources, bundle_runtime
from hatch_pyc._shipped.bundle_runtime import (
    INDEX_MODULE,
    OWN_MODULES_OPTIMIZE,
    RESOURCES_MODULE,
    RUNTIME_MODULE,
    group_hash,
    group_of,
)
from hatch_pyc.build import bytecode_metadata
from hatch_pyc.build.bootstrap import stdlib_shadows
from hatch_pyc.build.cache import CompileCache
from hatch_pyc.build.compilation import Progress, compile_modules
from hatch_pyc.build.pipeline import Session, build_archive, find_targets
from hatch_pyc.build.placement import Request, names_file
from hatch_pyc.bundle.plan import (
    Extraction,
    Platform,
    bootstrap,
    check_entry_point,
    default_shebang,
    entry_point,
    extracted_packages,
    extraction,
    native_platform,
    pyz_name,
)
from hatch_pyc.bundle.tree import (
    Tree,
    console_scripts,
    find_uv,
    gather,
    install_dependencies,
    record,
    requirements,
    unpack_project,
)
from hatch_pyc.core import config, layouts
from hatch_pyc.core.config import ConfigError, Options
from hatch_pyc.core.discovery import Module, matching, unmatched
from hatch_pyc.core.errors import BundleError
from hatch_pyc.core.interpreters import Interpreter, Target, running
from hatch_pyc.core.limits import MAX_PYC_SIZE, LimitExceeded
from hatch_pyc.core.naming import code_filename, legacy_pyc_path
from hatch_pyc.wheel import archive
from hatch_pyc.wheel.archive import read_content
from hatch_pyc.wheel.artifact import intact_wheel


def make_bundle(
    wheel: str,
    options: Options,
    *,
    output: str,
    target: Target | None = None,
    cache: CompileCache | None = None,
    progress: Callable[[Progress], None] | None = None,
    warn: Callable[[str], None] | None = None,
    inform: Callable[[str], None] | None = None,
) -> str:
    """Write the ``.pyz`` bundle of ``wheel`` for ``target`` (the running interpreter if
    None) as ``output`` (a ``.pyz`` path, or a directory to put it in under its standard
    name); return its path.

    ``options.zipapp`` says how; the other options say how to compile, as for a wheel. ``warn`` gets
    the one line that says what the bundle leaves out, ``inform`` the one that says which
    distributions it extracts at its first start, and why.
    """
    zipapp = options.zipapp
    assert zipapp is not None
    interpreter = target.interpreter if target is not None else running().interpreter
    with intact_wheel(wheel, "bundling") as artifact, tempfile.TemporaryDirectory(prefix="hatch-pyc-bundle-") as work:
        needed = requirements(artifact, interpreter)
        tree = Tree(files={}, modules=[], native={}, precompiled=[], records={}, paths=set())
        if zipapp.include_dependencies and needed:
            dependencies = os.path.join(work, "dependencies")
            python = target.executable if target else sys.executable
            _check_installer(python, needed, options.where(config.INCLUDE_DEPENDENCIES))
            install_dependencies(needed, python, dependencies)
            gather(dependencies, False, tree)
        elif needed and warn is not None:
            warn(
                f"{artifact.name} {artifact.version}'s bundle leaves out its dependencies ({', '.join(needed)}): "
                f"they must be importable where it runs ({options.where(config.INCLUDE_DEPENDENCIES)} bundles them)"
            )
        project = os.path.join(work, "project")
        unpack_project(artifact, project, interpreter.cache_tag)
        gather(project, True, tree)
        entry = entry_point(zipapp.entry_point, console_scripts(artifact), options.where(config.ENTRY_POINT))
        excluded = matching(tree.modules, options.exclude)
        modules = [m for m in tree.modules if m.path not in excluded]
        check_entry_point(entry, modules, options.where(config.ENTRY_POINT), tree.precompiled)
        runtime = [INDEX_MODULE, RESOURCES_MODULE, RUNTIME_MODULE]
        reserved = {
            "__main__.py",
            "__main__.pyc",
            bytecode_metadata.FILENAME,
            *(f"{name}{end}" for name in runtime for end in (".py", ".pyc")),
        }
        if tree.native and zipapp.extension_modules == "refuse":
            raise BundleError(_refused(tree, options.where(config.EXTENSION_MODULES)))
        paths = [*(m.path for m in tree.modules), *tree.files, *tree.native]
        by_path = {m.path: m for m in tree.modules}
        extracted = extracted_packages(paths, tree.native, lambda path: path in by_path and names_file(by_path[path]))
        cached = zipapp.run_from == "cache"
        if extracted and inform is not None:
            inform(_extracting(artifact.name, tree, extracted, cached))
        clashes = sorted(reserved & tree.paths)
        if clashes:
            raise BundleError(f"{wheel}: the bundle would hold two {clashes[0]}; rename yours")
        tree.modules.append(_own(bundle_index.__file__, INDEX_MODULE))
        if not cached:
            tree.modules.append(_own(bundle_resources.__file__, RESOURCES_MODULE))
        extracts = bool(tree.native or extracted or cached)
        if extracts:
            tree.modules.append(_own(bundle_runtime.__file__, RUNTIME_MODULE))
        compiled_dir = os.path.join(work, "compiled")
        contents = _compiled(tree, excluded, options, interpreter, target, compiled_dir, cache, progress)
        platform = native_platform(target, interpreter) if tree.native else None
        contents.update(tree.native)
        _refuse_stdlib_names(contents, target or running(), wheel)
        native = _extraction(tree, contents, platform, extracted, cached) if extracts else None
        name = pyz_name(artifact.name, artifact.version, interpreter, platform)
        for dist_info, paths in tree.records.items():
            bundled = sorted({p for path in paths for p in _bundled_as(path, contents) if not p.endswith("/RECORD")})
            contents[f"{dist_info}/RECORD"] = record(dist_info, bundled, contents)
        main = bootstrap(entry, interpreter, name, sorted(tree.records), native, not cached)
        contents["__main__.py"] = main
        contents["__main__.pyc"] = _compiled_main(main, options, target, compiled_dir, cache)
        contents[bytecode_metadata.FILENAME] = bytecode_metadata.render(
            interpreters=[interpreter],
            layout=layouts.ZIPAPP,
            optimize=[min(options.optimize)],
            invalidation_mode=options.invalidation_mode,
            modules=len(modules),
        ).encode()
        path = os.path.join(output, name) if not output.endswith(".pyz") else output
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            shebang = zipapp.shebang or default_shebang(interpreter)
            archive.write_zip(path, contents, shebang=shebang, compress=zipapp.compress)
        except OSError as exc:
            raise BundleError(f"cannot write the bundle to {path}: {exc.strerror or exc}") from None
        return path


def _refuse_stdlib_names(contents: Collection[str], target: Target, wheel: str) -> None:
    """Refuse a top-level module or package named as one of the target's standard library:
    the bundle is ``sys.path[0]`` when it runs, so it would replace it (``check`` says so too)."""
    shadows = stdlib_shadows(contents, target.imports.get("stdlib") or (), target.platform.get("suffixes") or ())
    if shadows:
        listed = ", ".join(f"{member} ({module})" for module, member in sorted(shadows.items()))
        raise BundleError(
            f"{wheel}: the bundle would hold modules named as the standard library's: {listed}; the bundle is "
            "first on sys.path, so they would replace them: rename them"
        )


def _own(source: str, name: str) -> Module:
    """One of hatch-pyc's modules that run in the bundle."""
    return Module(source=source, path=f"{name}.py", display=name, optimize=OWN_MODULES_OPTIMIZE)


def _bundled_as(path: str, contents: Mapping[str, str | bytes]) -> list[str]:
    """What a distribution's file ``path`` is in the bundle: itself, its pyc, or nothing."""
    found = [path] if path in contents else []
    if path.endswith(".py") and legacy_pyc_path(path) in contents:
        found.append(legacy_pyc_path(path))
    return found


def _compiled(
    tree: Tree,
    excluded: Collection[str],
    options: Options,
    interpreter: Interpreter,
    target: Target | None,
    out_dir: str,
    cache: CompileCache | None,
    progress: Callable[[Progress], None] | None,
) -> dict[str, str | bytes]:
    """Compile the modules but the ``excluded`` paths as the zip layout does:
    ``{path in the bundle: file on disk}``."""
    problems = unmatched(options.keep_source, [m.path for m in tree.modules], options.where(config.KEEP_SOURCE))
    problems += unmatched(options.exclude, [m.path for m in tree.modules], options.where(config.EXCLUDE))
    if problems:
        raise ConfigError(problems)
    for path in tree.precompiled:
        size = os.path.getsize(tree.files[path])
        if size > MAX_PYC_SIZE:
            raise LimitExceeded(f"{path} has {size} bytes, more than {MAX_PYC_SIZE} (a limit of hatch-pyc)")
        with open(tree.files[path], "rb") as f:
            magic = f.read(4).hex()
        if magic != interpreter.magic_number:
            raise BundleError(
                f"{path} ships as bytecode only, for an interpreter with magic {magic}, and the bundle is for "
                f"{interpreter.implementation} {interpreter.version} (magic {interpreter.magic_number}); "
                "bundle a wheel with its sources, or for that interpreter"
            )
    modules = [m for m in tree.modules if m.path not in excluded]
    shipped = [(file, path) for path, file in tree.files.items()]
    shipped += [(m.source, m.path) for m in tree.modules if m.path in excluded]
    files: dict[str, str | bytes] = dict(
        build_archive(options, modules, shipped, out_dir, target, cache=cache, progress=progress)
    )
    return files


def _compiled_main(
    source: bytes, options: Options, target: Target | None, out_dir: str, cache: CompileCache | None
) -> str:
    """``__main__.py`` compiled for the target, to ship beside it: zipimport runs the pyc, so a
    start compiles nothing, and on another interpreter (another magic number) the source,
    which says which interpreter the bundle needs."""
    module = Module(source="", path="__main__.py", display="__main__.py", data=source)
    request = Request(module, ((min(options.optimize), "__main__.pyc"),), code_filename(module, True), True)
    compiled = compile_modules(
        [request], out_dir, invalidation_mode=options.invalidation_mode, target=target, cache=cache
    )
    return compiled.modules[0].pycs[0][2]


def _extraction(
    tree: Tree, contents: Mapping[str, str | bytes], platform: Platform | None, needed: Collection[str], cached: bool
) -> Extraction:
    """What the bootstrap needs to extract the bundle's native code and the ``needed``
    packages (every package and module if ``cached``) and load them."""
    own = {INDEX_MODULE, RESOURCES_MODULE, RUNTIME_MODULE}
    # A package with native code runs from files whole, as installed: its extension modules
    # beside its pure-Python ones, where they win as they would.
    whole = {*needed, *(group_of(path) for path in tree.native)}
    groups: dict[str, list[str]] = {}
    for path in sorted(contents):
        group = group_of(path)
        if group in own or group.endswith(".dist-info"):
            continue
        if cached or group in whole:
            groups.setdefault(group, []).append(path)
    sizes, digests = {}, {}
    for group, paths in groups.items():
        hasher = hashlib.sha256()
        for path in paths:
            content = read_content(contents[path])
            group_hash(path, len(content), hasher)
            hasher.update(content)
            sizes[path] = len(content)
        digests[group] = hasher.hexdigest()
    return extraction(sizes, digests, platform, sorted(needed))


def _check_installer(python: str, needed: Collection[str], where: str) -> None:
    """Raise :class:`BundleError` saying how to get an installer when the dependencies cannot be
    installed for ``python``: no uv (on PATH, or the ``uv`` package of hatch-pyc's ``bundle``
    extra) and no pip in ``python`` (a ``uv tool install`` or ``pipx`` environment has none)."""
    if find_uv() is not None:
        return
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('pip') is None)"
    try:
        has_pip = subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return  # installing says what is wrong with it
    if not has_pip:
        raise BundleError(
            f"{where}: the bundle's dependencies ({', '.join(needed)}) are installed with uv, or with the target "
            f"interpreter's pip, and neither is here: no uv on PATH or beside hatch-pyc, and {python} has no pip; "
            "install hatch-pyc with its bundle extra, which brings uv (uv tool install --reinstall "
            "'hatch-pyc[bundle]'), or put uv on PATH"
        )


def _extracting(name: str, tree: Tree, extracted: Mapping[str, str], cached: bool) -> str:
    """The line saying what the bundle extracts at its first start, and why."""
    owners: dict[str, str] = {}
    for path, owner in _owners(tree).items():
        owners.setdefault(path.split("/")[0], owner)
    by_distribution: dict[str, list[str]] = {}
    for top, why in sorted(extracted.items()):
        by_distribution.setdefault(owners.get(top, top), []).append(f"{top}: {why}")
    parts = [f"{owner} ({'; '.join(reasons)})" for owner, reasons in sorted(by_distribution.items())]
    if cached:
        return (
            f"{name}'s bundle runs every package from the user cache, and {', '.join(parts)} cannot run from the "
            "archive: where the cache cannot be written, they go to a temporary directory"
        )
    return (
        f"{name}'s bundle extracts {', '.join(parts)} at its first start, to run them from files as installed "
        "(content-addressed in the user cache, checked like extension modules)"
    )


def _owners(tree: Tree) -> dict[str, str]:
    """``{path in the bundle: the distribution that installs it}``, by the RECORDs gathered."""
    owners: dict[str, str] = {}
    for dist_info, paths in tree.records.items():
        for path in paths:
            owners[path] = dist_info[: -len(".dist-info")].rsplit("-", 1)[0]
    return owners


def _refused(tree: Tree, key: str) -> str:
    """The message refusing native code: each distribution that has some, and what to do."""
    owners = _owners(tree)
    named = sorted({f"{owners.get(path, '?')} ({path})" for path in tree.native})
    return (
        f"{key} is 'refuse', and these have extension modules: {', '.join(named)}; leave it out to extract them "
        "at start-up (the bundle is then for this platform only), or ship the wheel"
    )


def bundle_wheel(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    options: Options | Mapping[str, Any] | None = None,
    *,
    session: Session | None = None,
) -> str:
    """Write the ``.pyz`` bundle of the wheel at ``path``, built by any backend; return its path.

    ``output`` is the bundle's path (ending in ``.pyz``) or a directory for it (default: the
    wheel's). ``options`` are :class:`~hatch_pyc.core.config.Options`, or the hook's options and
    its ``zipapp`` table's, all by their TOML keys at one level (``{"include-dependencies":
    True, "python": "3.12"}``), validated as the ``bundle`` command's flags and named as them
    in errors. ``session`` says where the
    compile progress lines and the warnings (the dependencies the bundle leaves out) go.
    Raises what :func:`~hatch_pyc.convert.convert_wheel` raises, and :class:`BundleError`.
    """
    if isinstance(options, Options):
        parsed = dataclasses.replace(options, zipapp=options.zipapp or config.Zipapp())
    else:
        given = dict(options or {})
        picked = {key: given.pop(key) for key in list(given) if key in config.ZIPAPP_OPTIONS}
        zipapp = {key: value for key, value in picked.items() if value is not None}
        parsed = config.flag_options({**given, config.ZIPAPP.key: zipapp})
    path = os.fspath(path)
    targets = find_targets(parsed)
    session = session or Session()
    return make_bundle(
        path,
        parsed,
        output=os.fspath(output) if output is not None else os.path.dirname(os.path.abspath(path)),
        target=targets[0] if targets else None,
        cache=session.open_cache(parsed),
        progress=session.reporter(),
        warn=session.warn,
        inform=session.progress,
    )
