"""What a hatch-pyc bundle's ``__main__.py`` needs in order to start, checked against the
bundle's entries and the target interpreter, so that ``check`` does not call ok a bundle
whose first start would fail.

The bootstrap (:func:`hatch_pyc.bundle.plan.bootstrap`) is read as Python source with
:mod:`ast`, never run; the manifest it hands the runtime is read with
:func:`ast.literal_eval`. What it says is compared with the entries themselves: the module
it runs must be in the archive, every file it extracts must be there, each group of them
with the SHA-256 it records, every extension module in the archive must be among them, and
the target must load their extension suffixes.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping

from hatch_pyc._shipped.bundle_runtime import RUNTIME_MODULE, group_hash, parse_files
from hatch_pyc.core.errors import printable
from hatch_pyc.core.interpreters import Target
from hatch_pyc.core.limits import MAX_BOOTSTRAP_SIZE
from hatch_pyc.wheel.artifact import Artifact

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
    groups, modules = _manifest(tree)
    files: set[str] = set()
    for group, (digest, listed) in sorted(groups.items()):
        try:
            members = parse_files(listed)
        except ValueError:
            problems.append(f"{printable(group)}: {BOOTSTRAP} lists its files in no form the runtime reads")
            continue
        files.update(member for member, _ in members)
        missing = [member for member, _ in members if member not in names]
        for member in missing:
            problems.append(f"{printable(member)}: {BOOTSTRAP} extracts it at the first start, and the bundle lacks it")
        if not missing and _group_digest(artifact, members) != digest:
            problems.append(
                f"{printable(group)}: not the files {BOOTSTRAP} records (sizes and SHA-256): its first start would fail"
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


def _manifest(tree: ast.Module) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The groups of files (``{group: (SHA-256 hex, size and path lines)}``) and extension
    modules (``{module: path}``) the bootstrap hands the runtime; empty where it hands none or
    something else than those literals."""
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        owner = call.func.value
        if call.func.attr != "install" or not (isinstance(owner, ast.Name) and owner.id == RUNTIME_MODULE):
            continue
        try:
            groups, modules = (ast.literal_eval(argument) for argument in call.args[2:4])
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return {}, {}
        if _is_manifest(groups) and isinstance(modules, Mapping):
            return dict(groups), {str(k): str(v) for k, v in modules.items()}
    return {}, {}


def _is_manifest(groups: object) -> bool:
    return isinstance(groups, Mapping) and all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(part, str) for part in v)
        for k, v in groups.items()
    )


def _group_digest(artifact: Artifact, members: list[tuple[str, int]]) -> str:
    """The SHA-256 the runtime takes over a group's files (:func:`group_hash`), read in
    chunks: a file of another size than recorded gives another digest."""
    digest = hashlib.sha256()
    for member, recorded in members:
        size = 0
        group_hash(member, recorded, digest)
        for chunk in artifact.chunks(member):
            digest.update(chunk)
            size += len(chunk)
        if size != recorded:
            return ""
    return digest.hexdigest()
