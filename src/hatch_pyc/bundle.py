"""Zipapp (``.pyz``) bundles: the bootstrap, the name, and the bundled dependencies."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from hatch_pyc.discovery import Module
from hatch_pyc.errors import HatchPycError
from hatch_pyc.interpreters import Interpreter
from hatch_pyc.layout import EXTENSION_SUFFIXES, distribution_id

#: Files of an installed ``.dist-info`` that describe that one install, not the distribution.
INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
#: What uv leaves in a ``--target`` directory besides the packages.
INSTALLER_FILES = frozenset({".lock"})


class BundleError(HatchPycError):
    """The bundle cannot be made; the message says why and what to do."""


def pyz_name(distribution: str, version: str, interpreter: Interpreter) -> str:
    """``<name>-<version>-<pytag>.pyz``, the name normalized as in wheel file names."""
    return f"{distribution_id(distribution)}-{version}-{interpreter.python_tag}.pyz"


def default_shebang(interpreter: Interpreter) -> str:
    major, minor = interpreter.minor
    return f"/usr/bin/env python{major}.{minor}"


def entry_point(configured: str | None, scripts: Mapping[str, str], key: str) -> str:
    """The ``module:function`` to run: the configured one, else the only console script."""
    if configured is not None:
        return configured
    if len(scripts) == 1:
        return next(iter(scripts.values()))
    if scripts:
        found = f"the project has {len(scripts)} console scripts ({', '.join(sorted(scripts))})"
    else:
        found = "the project has no console scripts"
    raise BundleError(f"{key}.entry-point: {found}; set entry-point = 'module:function'")


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


def check_entry_point(target: str, modules: Sequence[Module], key: str) -> None:
    """Refuse an entry point whose module is not among ``modules`` or does not define the
    function at its top level: the bundle would build, then fail at its first start."""
    module, _, attribute = target.partition(":")
    base = module.replace(".", "/")
    found = next((m for m in modules if m.path in (f"{base}.py", f"{base}/__init__.py")), None)
    if found is None:
        raise BundleError(f"{key}.entry-point: {target!r}: the bundle has no module {module}")
    with open(found.source, "rb") as f:
        try:
            names = _top_level_names(ast.parse(f.read()))
        except (SyntaxError, ValueError):
            return  # the compile step reports it, with its line
    head = attribute.split(".")[0]
    if names is not None and head not in names:
        raise BundleError(f"{key}.entry-point: {target!r}: {found.display} defines no {head} at its top level")


def bootstrap(target: str, interpreter: Interpreter, name: str) -> bytes:
    """The bundle's ``__main__.py``: refuse an interpreter with other bytecode, then run.

    It stays source (every Python can read it) and takes ``importlib.util.MAGIC_NUMBER`` from
    the module the import system already loaded (importing ``importlib.util`` costs 2 to 10 ms
    at start-up). On a mismatch it prints one line instead of the traceback a pyc with a bad
    magic number gives.
    """
    module, _, attribute = target.partition(":")
    head = attribute.split(".")[0]
    major, minor = interpreter.minor
    return f'''\
# Written by hatch-pyc: runs {target} if this Python can load the bundle's bytecode.
import sys

try:  # importlib.util.MAGIC_NUMBER, from the module the import system already loaded
    from _frozen_importlib_external import MAGIC_NUMBER
except ImportError:
    from importlib.util import MAGIC_NUMBER

if MAGIC_NUMBER != bytes.fromhex("{interpreter.magic_number}"):
    import platform

    running = (platform.python_implementation(), platform.python_version(), sys.executable, MAGIC_NUMBER.hex())
    sys.stderr.write(
        "{name} needs CPython {major}.{minor} (bytecode magic {interpreter.magic_number}); "
        "this is %s %s at %s (magic %s)\\n" % running
    )
    sys.exit(1)

from {module} import {head}

sys.exit({attribute}())
'''.encode()


def install_dependencies(requirements: Sequence[str], python: str, dest: str) -> None:
    """Install ``requirements`` for interpreter ``python`` into directory ``dest``.

    uv where it is on PATH (it resolves markers for ``python`` without running pip in it),
    else that interpreter's own pip. Neither compiles: the bundle's pycs are ours.
    """
    uv = shutil.which("uv")
    if uv is not None:
        command = [uv, "pip", "install", "--quiet", "--target", dest, "--python", python, *requirements]
    else:
        command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        command += ["--target", dest, *requirements]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(
            f"installing the zipapp's dependencies ({', '.join(requirements)}) failed:\n"
            f"  {' '.join(command)}\n{result.stderr.strip() or result.stdout.strip()}"
        )


def _owners(root: str) -> dict[str, str]:
    """``{path relative to root: distribution name}`` from each install's RECORD."""
    owners = {}
    for entry in sorted(os.listdir(root)):
        record = os.path.join(root, entry, "RECORD")
        if entry.endswith(".dist-info") and os.path.isfile(record):
            name = entry[: -len(".dist-info")].rsplit("-", 1)[0]
            with open(record, encoding="utf-8") as f:
                for line in f:
                    owners[line.split(",", 1)[0]] = name
    return owners


def dependency_files(root: str) -> tuple[dict[str, str], list[Module]]:
    """What to bundle from an install in ``root``: ``({path: file}, modules to compile)``.

    Scripts, ``.pth`` files (never read from a zip) and per-install records are left out.
    Raises :class:`BundleError` naming every dependency with extension modules.
    """
    files, modules, extensions = {}, [], []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (directory == root and d == "bin"))
        for name in sorted(names):
            source = os.path.join(directory, name)
            path = os.path.relpath(source, root).replace(os.sep, "/")
            if (
                path in INSTALLER_FILES
                or path.endswith((".pth", ".pyc"))
                or (".dist-info/" in path and name in INSTALL_RECORDS)
            ):
                continue
            if path.endswith(EXTENSION_SUFFIXES):
                extensions.append(path)
            elif path.endswith(".py"):
                modules.append(Module(source=source, path=path, display=f"(dependency) {path}"))
            else:
                files[path] = source
    if extensions:
        owners = _owners(root)
        named = sorted({f"{owners.get(path, '?')} ({path})" for path in extensions})
        raise BundleError(
            "a zipapp cannot import extension modules, and these dependencies have them: "
            + ", ".join(named)
            + "; ship the wheel (alongside, sourceless or zip layout) instead, or set include-dependencies = false"
        )
    return files, modules
