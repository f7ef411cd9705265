"""The bundle's ``__main__.py``: written from its values and read back, the one home of that
format.

``bundle`` writes it with :func:`write`; ``check`` reads the values back with :func:`read`
(with :mod:`ast`, never run), writes them again and requires the very same bytes, so that
nothing but what hatch-pyc writes for those values runs at a bundle's start.

Every value is written once, as a Python literal: the constants at the top (``ENTRY``,
``BUNDLE``, ``PYTHON``, ``MAGIC``, and for native code ``TAG``, ``SYS_PLATFORM``,
``MACHINE``, ``SUFFIXES``) and the keyword arguments of the calls to hatch-pyc's modules in
the bundle: ``_hatch_pyc_index.serve(dist_infos=...)``, ``_hatch_pyc_resources.serve()``
and ``_hatch_pyc_runtime.install(label=BUNDLE, digest=..., groups=..., modules=...,
needed=...)``.

It also says which top-level names a bundle's modules may not have (:func:`stdlib_shadows`):
the archive is ``sys.path[0]`` when the bundle runs.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from hatch_pyc._shipped.bundle_runtime import INDEX_MODULE, RESOURCES_MODULE, RUNTIME_MODULE
from hatch_pyc.core.native import EXTENSION_SUFFIXES

#: The keyword arguments of the runtime's ``install``, as the bootstrap passes them (``label``
#: is always the constant ``BUNDLE``).
INSTALL_KEYWORDS = ("label", "digest", "groups", "modules", "needed")
#: The constants at the top of every bootstrap, and those of one with native code.
CONSTANTS = ("ENTRY", "BUNDLE", "PYTHON", "MAGIC")
NATIVE_CONSTANTS = ("TAG", "SYS_PLATFORM", "MACHINE", "SUFFIXES")


@dataclass(frozen=True)
class Native:
    """The platform the bundle's extension modules are for, which the bootstrap checks."""

    #: The wheel-style tag, e.g. ``cp311-cp311-linux_x86_64``.
    tag: str
    sys_platform: str
    #: ``os.uname().machine``; empty where there is none.
    machine: str
    #: The extension suffixes the bundle's modules use, which the interpreter must load.
    suffixes: tuple[str, ...]


@dataclass(frozen=True)
class Runtime:
    """What the bootstrap hands ``_hatch_pyc_runtime.install``, besides the bundle's name."""

    #: The hash that names the directory the files are extracted to.
    digest: str
    #: ``{group: (SHA-256 hex of its files, its ``size path`` lines)}``.
    groups: Mapping[str, tuple[str, str]]
    #: ``{module name: path in the bundle}`` of the extension modules.
    modules: Mapping[str, str]
    #: Groups that must run from files besides native code's.
    needed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bootstrap:
    """The values a bundle's ``__main__.py`` is written from."""

    #: ``module:function``, run after the checks.
    entry: str
    #: The bundle's file name, in its messages.
    bundle: str
    #: The interpreter the bundle is for, as messages name it: ``CPython 3.11``, ``PyPy 3.10``.
    python: str
    #: Its bytecode magic number, in hex.
    magic: str
    #: The ``.dist-info`` directories ``importlib.metadata`` sees.
    dist_infos: tuple[str, ...] = ()
    #: Whether ``_hatch_pyc_resources`` serves ``importlib.resources`` from the archive.
    resources: bool = False
    native: Native | None = None
    runtime: Runtime | None = field(default=None)


def _entry_parts(entry: str) -> tuple[str, str]:
    """``module``, ``attribute`` of ``module:function``; ValueError unless each part is an
    ASCII identifier, since both are written as code."""
    module, colon, attribute = entry.partition(":")
    parts = [*module.split("."), *attribute.split(".")]
    if not colon or not all(p.isascii() and p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        raise ValueError(f"{entry!r} is not 'module:function' of dotted identifiers")
    return module, attribute


def write(values: Bootstrap) -> bytes:
    """The bundle's ``__main__.py`` for ``values``: refuse an interpreter that cannot load the
    bundle, serve the bundle's ``.dist-info`` directories to ``importlib.metadata`` (and its
    files to ``importlib.resources``), put the runtime's finder in place, then run the entry.

    It stays source (every Python can read it) and takes ``importlib.util.MAGIC_NUMBER`` from
    the module the import system already loaded (importing ``importlib.util`` would add to
    every start). On a mismatch it prints one line instead of the traceback a pyc with a bad
    magic number gives, or an extension module built for another platform. Every value is
    written as a Python literal; ValueError for an entry that is no ``module:function``.
    """
    module, attribute = _entry_parts(values.entry)
    head = attribute.split(".")[0]
    lines = [
        "# Written by hatch-pyc: runs ENTRY if this Python can load the bundle.",
        "import sys",
        "",
        f"ENTRY = {values.entry!r}",
        f"BUNDLE = {values.bundle!r}",
        f"PYTHON = {values.python!r}",
        f"MAGIC = {values.magic!r}",
    ]
    native = values.native
    if native is not None:
        lines += [
            f"TAG = {native.tag!r}",
            f"SYS_PLATFORM = {native.sys_platform!r}",
            f"MACHINE = {native.machine!r}",
            f"SUFFIXES = {tuple(native.suffixes)!r}",
        ]
    lines += [
        "",
        "try:  # importlib.util.MAGIC_NUMBER, from the module the import system already loaded",
        "    from _frozen_importlib_external import MAGIC_NUMBER",
        "except ImportError:",
        "    from importlib.util import MAGIC_NUMBER",
        "",
        "if MAGIC_NUMBER != bytes.fromhex(MAGIC):",
        "    import platform",
        "",
        "    running = (platform.python_implementation(), platform.python_version(), sys.executable, "
        "MAGIC_NUMBER.hex())",
        "    message = '%s needs %s (bytecode magic %s); this is %s %s at %s (magic %s)\\n'",
        "    sys.stderr.write(message % ((sys.argv[0] or BUNDLE, PYTHON, MAGIC) + running))",
        "    sys.exit(1)",
        "",
    ]
    if native is not None:
        lines += [
            "import _imp",
            "import os",
            "",
            "machine = os.uname().machine if hasattr(os, 'uname') else ''",
            "if sys.platform != SYS_PLATFORM or machine != MACHINE or not "
            "set(_imp.extension_suffixes()).issuperset(SUFFIXES):",
            "    import platform",
            "",
            "    running = (platform.python_implementation(), platform.python_version(), sys.platform, "
            "platform.machine(), sys.executable)",
            "    message = '%s holds extension modules for %s; this is %s %s on %s %s at %s\\n'",
            "    sys.stderr.write(message % ((sys.argv[0] or BUNDLE, TAG) + running))",
            "    sys.exit(1)",
            "",
        ]
    lines += [f"import {INDEX_MODULE}", "", f"{INDEX_MODULE}.serve(dist_infos={list(values.dist_infos)!r})", ""]
    if values.resources:
        lines += [f"import {RESOURCES_MODULE}", "", f"{RESOURCES_MODULE}.serve()", ""]
    runtime = values.runtime
    if runtime is not None:
        # Strings, not dicts of tuples: compiling a literal of a thousand entries at every
        # start cost httpie's bundle 5 ms; the runtime parses a group's lines at its first use.
        lines += [
            f"import {RUNTIME_MODULE}",
            "",
            f"{RUNTIME_MODULE}.install(",
            "    label=BUNDLE,",
            f"    digest={runtime.digest!r},",
            f"    groups={dict(runtime.groups)!r},",
            f"    modules={dict(runtime.modules)!r},",
            f"    needed={tuple(runtime.needed)!r},",
            ")",
            "",
        ]
    lines += [f"from {module} import {head}", "", f"sys.exit({attribute}())", ""]
    return "\n".join(lines).encode()


def read(tree: ast.Module) -> Bootstrap | None:
    """The values a bootstrap parsed as ``tree`` was written from, read by name (each
    constant, each keyword argument), never run; None where they cannot be read: a value
    missing, twice, not a literal or of another type, a positional argument.

    Values alone prove nothing: ``check`` writes them again (:func:`write`) and compares."""
    constants: dict[str, object] = {}
    calls: dict[str, dict[str, object]] = {}
    wanted = {*CONSTANTS, *NATIVE_CONSTANTS}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name not in wanted:
                continue
            if name in constants:
                return None
            found = _literal(node.value)
            if found is _UNREADABLE:
                return None
            constants[name] = found
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            callee = call.func
            if not (isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name)):
                continue
            key = f"{callee.value.id}.{callee.attr}"
            if key not in (f"{INDEX_MODULE}.serve", f"{RESOURCES_MODULE}.serve", f"{RUNTIME_MODULE}.install"):
                continue
            if key in calls or call.args or any(k.arg is None for k in call.keywords):
                return None
            arguments: dict[str, object] = {}
            for argument in call.keywords:
                assert argument.arg is not None
                if argument.arg == "label":  # always the constant BUNDLE, written as its name
                    arguments["label"] = argument.value.id if isinstance(argument.value, ast.Name) else None
                    continue
                found = _literal(argument.value)
                if found is _UNREADABLE:
                    return None
                arguments[argument.arg] = found
            calls[key] = arguments
    return _values(constants, calls)


_UNREADABLE = object()


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _UNREADABLE


def _strings(value: object) -> TypeGuard[tuple[str, ...] | list[str]]:
    return isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value)


def _values(constants: Mapping[str, object], calls: Mapping[str, Mapping[str, object]]) -> Bootstrap | None:
    entry, bundle, python, magic = (constants.get(name) for name in CONSTANTS)
    if not (isinstance(entry, str) and isinstance(bundle, str) and isinstance(python, str) and isinstance(magic, str)):
        return None
    native = None
    if any(name in constants for name in NATIVE_CONSTANTS):
        tag, sys_platform, machine, suffixes = (constants.get(name) for name in NATIVE_CONSTANTS)
        if not (isinstance(tag, str) and isinstance(sys_platform, str) and isinstance(machine, str)):
            return None
        if not (isinstance(suffixes, tuple) and _strings(suffixes)):
            return None
        native = Native(tag, sys_platform, machine, tuple(suffixes))
    index = calls.get(f"{INDEX_MODULE}.serve")
    dist_infos = index.get("dist_infos") if index is not None else None
    if index is None or set(index) != {"dist_infos"} or not (isinstance(dist_infos, list) and _strings(dist_infos)):
        return None
    resources = calls.get(f"{RESOURCES_MODULE}.serve")
    if resources:  # called with arguments
        return None
    runtime = None
    install = calls.get(f"{RUNTIME_MODULE}.install")
    if install is not None:
        if set(install) != set(INSTALL_KEYWORDS) or install["label"] != "BUNDLE":
            return None
        digest, groups, modules, needed = (install[name] for name in INSTALL_KEYWORDS[1:])
        if not (isinstance(digest, str) and _groups(groups) and _names(modules)):
            return None
        if not (isinstance(needed, tuple) and _strings(needed)):
            return None
        runtime = Runtime(digest, dict(groups), dict(modules), tuple(needed))
    return Bootstrap(
        entry=entry,
        bundle=bundle,
        python=python,
        magic=magic,
        dist_infos=tuple(dist_infos),
        resources=resources is not None,
        native=native,
        runtime=runtime,
    )


def _groups(value: object) -> TypeGuard[dict[str, tuple[str, str]]]:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(p, str) for p in v)
        for k, v in value.items()
    )


def _names(value: object) -> TypeGuard[dict[str, str]]:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def stdlib_shadows(names: Collection[str], stdlib: Collection[str], suffixes: Sequence[str]) -> dict[str, str]:
    """``{module: entry}`` of the top-level modules and packages among a bundle's ``names``
    (``name.py``, ``name.pyc``, ``name/__init__.py(c)``, an extension module with one of the
    target's ``suffixes``) named as a module of the target's standard library (``stdlib``):
    the archive is ``sys.path[0]`` when the bundle runs, so ``import name`` finds them first."""
    reserved = frozenset(stdlib)
    # Where the target's extension suffixes are not known: any extension module's.
    endings = sorted({*(suffixes or EXTENSION_SUFFIXES), ".py", ".pyc"}, key=len, reverse=True)
    found: dict[str, str] = {}
    for member in sorted(names):
        parts = member.split("/")
        if len(parts) > 2:
            continue
        ending = next((end for end in endings if parts[-1].endswith(end)), None)
        if ending is None:
            continue
        stem = parts[-1][: -len(ending)]
        if not suffixes and ending in EXTENSION_SUFFIXES:
            stem = stem.split(".")[0]  # name.<tag>.so
        package = len(parts) == 2
        module = parts[0] if package else stem
        if (stem == "__init__" if package else "." not in stem) and module in reserved:
            found.setdefault(module, member)
    return found
