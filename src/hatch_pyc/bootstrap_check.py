"""What a hatch-pyc bundle's ``__main__.py`` needs in order to start, checked against the
bundle's entries and the target interpreter, so that ``check`` does not call ok a bundle
whose first start would fail.

The bootstrap (:func:`hatch_pyc.bundle_plan.bootstrap`) is read as Python source with
:mod:`ast`, never run; the lists it hands the runtime are read with
:func:`ast.literal_eval`. What it says is compared with the entries themselves: the module
it runs must be in the archive, every native file it extracts must be there with the size
and SHA-256 it records, every extension module in the archive must be among them, and the
target must load their extension suffixes.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping

from hatch_pyc.artifact import Artifact
from hatch_pyc.bundle_plan import RUNTIME_MODULE
from hatch_pyc.errors import printable
from hatch_pyc.interpreters import Target
from hatch_pyc.limits import MAX_BOOTSTRAP_SIZE

BOOTSTRAP = "__main__.py"
#: Entries that are native code: extension modules and the shared libraries beside them.
_NATIVE = (".so", ".pyd", ".dylib")


def bootstrap_problems(artifact: Artifact, target: Target) -> list[str]:
    """Why the bundle would not start on ``target``, one line each; none if it would."""
    if BOOTSTRAP not in artifact.names:
        return [f"no {BOOTSTRAP}: `python {artifact.path}` cannot start it"]
    try:
        tree = ast.parse(artifact.read(BOOTSTRAP, MAX_BOOTSTRAP_SIZE))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return [f"{BOOTSTRAP} is not valid Python: {printable(str(exc))}"]
    names = set(artifact.names)
    problems = _entry_problems(tree, names)
    files, modules = _manifest(tree)
    for member, (size, digest) in sorted(files.items()):
        if member not in names:
            problems.append(f"{printable(member)}: {BOOTSTRAP} extracts it at the first start, and the bundle lacks it")
        elif _sha256(artifact, member) != (size, digest):
            problems.append(
                f"{printable(member)}: not the file {BOOTSTRAP} records (size and SHA-256): its first start would fail"
            )
    for member in sorted(names - set(files)):
        top = member.split("/")[0]
        if member.endswith(_NATIVE) and not top.endswith(".dist-info"):
            problems.append(f"{printable(member)}: native code {BOOTSTRAP} does not extract: it cannot be loaded")
    suffixes = tuple(target.platform.get("suffixes") or ())
    for module, member in sorted(modules.items()):
        suffix = member[len(module.replace(".", "/")) :]
        if suffixes and suffix not in suffixes:
            problems.append(
                f"{printable(member)}: an extension module for another platform or interpreter; "
                f"{target.interpreter.implementation} {target.interpreter.version} loads {', '.join(suffixes)}"
            )
    return problems


def _entry_problems(tree: ast.Module, names: set[str]) -> list[str]:
    """The module the bootstrap runs (its last ``from M import f``) must be in the archive."""
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module]
    if not imports:
        return [f"{BOOTSTRAP} runs no module of the bundle"]
    module = str(imports[-1].module)
    base = module.replace(".", "/")
    candidates = [f"{base}{end}" for end in (".pyc", ".py", "/__init__.pyc", "/__init__.py")]
    native = any(name.startswith(f"{base}.") and name.endswith(_NATIVE) for name in names)
    if any(candidate in names for candidate in candidates) or native:
        return []
    return [f"{BOOTSTRAP} runs {printable(module)}, which the bundle does not hold"]


def _manifest(tree: ast.Module) -> tuple[dict[str, tuple[int, str]], dict[str, str]]:
    """The native files (``{path: (size, SHA-256 hex)}``) and extension modules
    (``{module: path}``) the bootstrap hands the runtime; empty where it hands none or
    something else than those literals."""
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        owner = call.func.value
        if call.func.attr != "install" or not (isinstance(owner, ast.Name) and owner.id == RUNTIME_MODULE):
            continue
        try:
            files, modules = (ast.literal_eval(argument) for argument in call.args[2:4])
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return {}, {}
        if _is_manifest(files) and isinstance(modules, Mapping):
            return dict(files), {str(k): str(v) for k, v in modules.items()}
    return {}, {}


def _is_manifest(files: object) -> bool:
    return isinstance(files, Mapping) and all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int) and isinstance(v[1], str)
        for k, v in files.items()
    )


def _sha256(artifact: Artifact, member: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in artifact.chunks(member):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()
