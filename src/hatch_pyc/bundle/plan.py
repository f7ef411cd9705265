"""What a ``.pyz`` bundle will be, decided without touching a file: its name, shebang, entry
point, the bootstrap ``__main__.py`` that refuses another interpreter, and the manifest of
what the runtime (:mod:`hatch_pyc._shipped.bundle_runtime`) extracts.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from hatch_pyc._shipped.bundle_runtime import extraction_digest, group_of
from hatch_pyc.build.bootstrap import Bootstrap, Native, Runtime, write
from hatch_pyc.build.placement import reads_files_beside
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BundleError
from hatch_pyc.core.interpreters import Interpreter, Target, abi_tag, platform_tag, running
from hatch_pyc.core.naming import distribution_id
from hatch_pyc.core.native import is_library_directory


@dataclass(frozen=True)
class Platform:
    """What native code the target interpreter loads, as the bootstrap checks it."""

    #: The wheel-style tag the bundle's name carries, e.g. ``cp311-cp311-linux_x86_64``.
    tag: str
    sys_platform: str
    #: ``os.uname().machine``; empty where there is no ``uname`` (Windows, whose extension
    #: suffixes name the architecture).
    machine: str
    extension_suffixes: tuple[str, ...]


def native_platform(target: Target | None, interpreter: Interpreter) -> Platform:
    """Which native code the target interpreter loads, as its probe said."""
    probed = target or running()
    found = probed.platform
    return Platform(
        tag=f"{interpreter.python_tag}-{abi_tag(probed)}-{platform_tag(probed)}",
        sys_platform=found["sys_platform"],
        machine=found["machine"],
        extension_suffixes=tuple(found["suffixes"]),
    )


def pyz_name(distribution: str, version: str, interpreter: Interpreter, platform: Platform | None = None) -> str:
    """``<name>-<version>-<pytag>.pyz``, the name normalized as in wheel file names; with
    native code, ``<name>-<version>-<pytag>-<abi>-<platform>.pyz``."""
    tag = platform.tag if platform is not None else interpreter.python_tag
    return f"{distribution_id(distribution)}-{version}-{tag}.pyz"


def default_shebang(interpreter: Interpreter) -> str:
    major, minor = interpreter.minor
    return f"/usr/bin/env python{major}.{minor}"


def entry_point(configured: str | None, scripts: Mapping[str, str], key: str) -> str:
    """The ``module:function`` to run: the configured one (or the console script it names),
    else the only console script."""
    if configured is not None and ":" in configured:
        return configured
    if configured is not None and configured in scripts:
        return scripts[configured]
    if configured is None and len(scripts) == 1:
        return next(iter(scripts.values()))
    listing = ", ".join(f"{name} = {target}" for name, target in sorted(scripts.items()))
    if configured is not None:
        found = f"{configured!r} is no console script of the project ({listing or 'it has none'})"
    elif scripts:
        found = f"the project has {len(scripts)} console scripts ({listing})"
    else:
        found = "the project has no console scripts"
    what = "a console script's name or 'module:function'"
    how = f"give {key} {what}" if key.startswith("--") else f"set it to {what}"
    raise BundleError(f"{key}: {found}; {how}")


def _top_level_names(tree: ast.Module) -> set[str] | None:
    """Names a module defines at its top level; None when it cannot be told (a star import,
    a module ``__getattr__``)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return None
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
        else:
            # Definitions under if/try/with: take every name bound anywhere at this level.
            names.update(
                n.name if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else n.id
                for n in ast.walk(node)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                or (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            )
    return None if "__getattr__" in names else names


def check_entry_point(target: str, modules: Sequence[Module], key: str, precompiled: Sequence[str] = ()) -> None:
    """Refuse an entry point whose module is not among ``modules`` (or the ``precompiled``
    legacy pycs) or does not define the function at its top level: the bundle would
    build, then fail at its first start."""
    module, _, attribute = target.partition(":")
    base = module.replace(".", "/")
    paths = (f"{base}.py", f"{base}/__init__.py")
    found = next((m for m in modules if m.path in paths), None)
    if found is None:
        if any(f"{path}c" in precompiled for path in paths):
            return  # only its bytecode ships: nothing to read the names from
        raise BundleError(f"{key}: {target!r}: the bundle has no module {module}")
    with open(found.source, "rb") as f:
        try:
            names = _top_level_names(ast.parse(f.read()))
        except (SyntaxError, ValueError):
            return  # the compile step reports it, with its line
    head = attribute.split(".")[0]
    if names is not None and head not in names:
        raise BundleError(f"{key}: {target!r}: {found.display} defines no {head} at its top level")


@dataclass(frozen=True)
class Extraction:
    """What the bundle runs from files, extracted at the first import that needs each group
    (:func:`hatch_pyc._shipped.bundle_runtime.group_of`), as the bootstrap hands it to the runtime."""

    #: The platform of its native code; None where it has none.
    platform: Platform | None
    #: The hash that names the directory the files are extracted to
    #: (:func:`hatch_pyc._shipped.bundle_runtime.extraction_digest` of ``groups``).
    digest: str
    #: ``{group: (SHA-256 hex of its files, its ``size path`` lines)}``.
    groups: dict[str, tuple[str, str]]
    #: ``{module name: path in the bundle}`` of the extension modules.
    modules: dict[str, str]
    #: The extension suffixes those modules use, which the interpreter must load.
    suffixes: tuple[str, ...]
    #: Groups that cannot run from the archive, besides native code's: packages that read
    #: files beside ``__file__`` (:func:`extracted_packages`).
    needed: tuple[str, ...] = ()


def bootstrap(
    target: str,
    interpreter: Interpreter,
    name: str,
    dist_infos: Sequence[str],
    native: Extraction | None = None,
    resources: bool = False,
) -> bytes:
    """The bundle's ``__main__.py`` (:func:`hatch_pyc.build.bootstrap.write`): refuse an
    interpreter that cannot load the bundle, serve the bundle's ``dist_infos`` to
    ``importlib.metadata``, hand the runtime what it extracts (``native``), then run
    ``target``. Every string from the input is written as a Python literal."""
    where = native.platform if native is not None else None
    values = Bootstrap(
        entry=target,
        bundle=name,
        python=interpreter.named,
        magic=interpreter.magic_number,
        dist_infos=tuple(dist_infos),
        resources=resources,
        native=Native(where.tag, where.sys_platform, where.machine, native.suffixes)
        if where is not None and native is not None
        else None,
        runtime=Runtime(native.digest, native.groups, native.modules, native.needed) if native is not None else None,
    )
    try:
        return write(values)
    except ValueError as exc:
        raise BundleError(f"the entry point {exc}") from None


def extraction(
    files: Mapping[str, int], digests: Mapping[str, str], platform: Platform | None, needed: Sequence[str] = ()
) -> Extraction:
    """What the bootstrap needs to extract the ``files`` (``{path in the bundle: size}``), whose
    groups hash to ``digests`` (:func:`hatch_pyc._shipped.bundle_runtime.group_hash`), and to load their
    extension modules on ``platform``."""
    suffixes = sorted(platform.extension_suffixes, key=len, reverse=True) if platform is not None else []
    modules, used = {}, set()
    lines: dict[str, list[str]] = {}
    for path, size in sorted(files.items()):
        if "\n" in path:
            raise BundleError(f"{path!r}: a file name with a line break cannot be extracted")
        lines.setdefault(group_of(path), []).append(f"{size} {path}")
        suffix = next((s for s in suffixes if path.endswith(s)), None)
        if suffix is not None:
            modules[path[: -len(suffix)].replace("/", ".")] = path
            used.add(suffix)
    groups = {group: (digests[group], "\n".join(listed)) for group, listed in lines.items()}
    return Extraction(
        platform=platform,
        digest=extraction_digest(groups),
        groups=groups,
        modules=modules,
        suffixes=tuple(sorted(used)),
        needed=tuple(sorted(needed)),
    )


def extracted_packages(
    paths: Collection[str], native: Collection[str], names_file: Callable[[str], bool]
) -> dict[str, str]:
    """The top-level packages among the bundle's ``paths`` that must run from files on disk to
    run as installed, each with why: data files beside modules that build paths from
    ``__file__`` (:func:`~hatch_pyc.build.placement.reads_files_beside`), or extension modules
    beside pure-Python ones of the same name (mypyc's: installed, the extension module wins;
    from an archive, only the pyc could load)."""
    present = set(paths)
    found: dict[str, str] = {}
    for path in sorted(present & set(native)):
        parts = path.split("/")
        if len(parts) < 2 or "__pycache__" in parts or is_library_directory(parts[0]):
            continue
        twin = "/".join([*parts[:-1], parts[-1].split(".")[0]])
        if f"{twin}.py" in present or f"{twin}.pyc" in present:
            found.setdefault(parts[0], "extension modules beside pure-Python ones")
    for top in sorted(reads_files_beside(present, names_file)):
        if not is_library_directory(top):
            found.setdefault(top, "data files that its modules find by __file__")
    return dict(sorted(found.items()))
