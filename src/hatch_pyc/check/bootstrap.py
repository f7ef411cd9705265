"""What a hatch-pyc bundle's ``__main__.py`` needs in order to start, checked against the
bundle's entries and the target interpreter, so that ``check`` does not call ok a bundle
whose first start would fail, or one whose start runs more than hatch-pyc wrote.

The bootstrap is read as Python source with :mod:`ast`, never run: its values are read back
by name (:func:`hatch_pyc.build.bootstrap.read`) and written again with the one writer
(:func:`hatch_pyc.build.bootstrap.write`); anything but those very bytes is a problem, since
``__main__.py`` runs at every start. What the values say is compared with the entries
themselves: the module it runs must be in the archive, every file it extracts must be
there, each group of them with the SHA-256 it records, the directory it extracts them to
named by the hash of those groups (:func:`extraction_digest`, which names it at every
start: another name would be shared with a bundle of other files), every extension module
in the archive must be among them, and the target must load their extension suffixes. No
top-level module of the archive may be named as one of the target's standard library: the
archive is first on ``sys.path``, so it would be imported in the standard library's place.
"""

from __future__ import annotations

import ast
import hashlib
import os

from hatch_pyc._shipped.bundle_runtime import extraction_digest, group_hash, parse_files
from hatch_pyc.build.bootstrap import Bootstrap, read, stdlib_shadows, write
from hatch_pyc.core.errors import printable
from hatch_pyc.core.interpreters import Target
from hatch_pyc.core.limits import MAX_BOOTSTRAP_SIZE
from hatch_pyc.core.native import is_extension_module, is_native
from hatch_pyc.wheel.artifact import Artifact

BOOTSTRAP = "__main__.py"
#: The one line for a bootstrap that is not what hatch-pyc writes.
NOT_OURS = f"{BOOTSTRAP}: not what hatch-pyc writes for these values: it runs at every start"


def bootstrap_problems(artifact: Artifact, target: Target) -> list[str]:
    """Why the bundle would not start on ``target``, or would run more than hatch-pyc wrote,
    one line each; none if neither."""
    shadows = stdlib_shadows(artifact.names, target.imports.get("stdlib") or (), _suffixes(target))
    problems = [
        f"{printable(member)}: named as the standard library's {printable(module)}, which it replaces: "
        "the bundle is first on sys.path"
        for module, member in sorted(shadows.items())
    ]
    problems += _prefix_problems(artifact)
    if BOOTSTRAP not in artifact.names:
        return [f"no {BOOTSTRAP}: `python {artifact.path}` cannot start it", *problems]
    data = artifact.read(BOOTSTRAP, MAX_BOOTSTRAP_SIZE)
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return [f"{BOOTSTRAP} is not valid Python: {printable(str(exc))}", *problems]
    values = None
    try:
        values = read(tree)
        ours = values is not None and write(values) == data
    except (ValueError, RecursionError, MemoryError):
        ours = False
    if values is None or not ours:
        return [NOT_OURS, *problems]
    return _start_problems(artifact, target, values) + problems


def _prefix_problems(artifact: Artifact) -> list[str]:
    """The bytes before the archive's first entry must be nothing or one ``#!`` line, as
    hatch-pyc writes them: ``./app.pyz`` hands the file to what that line names, and a shell
    would run any line after it."""
    offsets = [info.header_offset for info in artifact.archive.infolist()]
    start = min(offsets, default=0)
    if start == 0:
        return []
    prefix = b""
    if start <= MAX_BOOTSTRAP_SIZE:
        try:
            with open(artifact.path, "rb") as f:
                prefix = f.read(start)
        except OSError:
            prefix = b""
    line = prefix[2:-1]
    if prefix.startswith(b"#!") and prefix.endswith(b"\n") and not any(c in line for c in b"\n\r\0"):
        return []
    name = os.path.basename(artifact.path)
    return [f"{start} bytes before the archive, not one #! line as hatch-pyc writes: `./{name}` would run them"]


def _suffixes(target: Target) -> tuple[str, ...]:
    return tuple(target.platform.get("suffixes") or ())


def _start_problems(artifact: Artifact, target: Target, values: Bootstrap) -> list[str]:
    """What the first start of a bootstrap written from ``values`` needs and the bundle lacks."""
    names = set(artifact.names)
    problems = _entry_problems(values.entry, names)
    runtime = values.runtime
    groups = dict(runtime.groups) if runtime is not None else {}
    modules = dict(runtime.modules) if runtime is not None else {}
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
    if runtime is not None and runtime.digest != extraction_digest(groups):
        problems.append(
            f"{BOOTSTRAP} extracts to the directory {printable(runtime.digest)}, not the hash of the groups it "
            f"records ({extraction_digest(groups)}): the bundles that extract other files there would run them"
        )
    for member in sorted(names - set(files)):
        top = member.split("/")[0]
        if is_native(member) and not top.endswith(".dist-info"):
            problems.append(f"{printable(member)}: native code {BOOTSTRAP} does not extract: it cannot be loaded")
    suffixes = _suffixes(target)
    foreign = sorted(
        member
        for module, member in modules.items()
        if suffixes and member[len(module.replace(".", "/")) :] not in suffixes
    )
    # A bundle for another interpreter stops at its start, before it loads one: `check` says that
    # cause once (``built for ...``), not once per extension module.
    if foreign and values.magic == target.interpreter.magic_number:
        what = "1 extension module is" if len(foreign) == 1 else f"{len(foreign)} extension modules are"
        more = ", ..." if len(foreign) > 1 else ""
        problems.append(
            f"{what} for another platform or interpreter ({printable(foreign[0])}{more}); "
            f"{target.interpreter.implementation} {target.interpreter.version} loads {', '.join(suffixes)}"
        )
    return problems


def _entry_problems(entry: str, names: set[str]) -> list[str]:
    """The module the bootstrap runs (``module`` of its ``module:function``) must be in the archive."""
    module = entry.partition(":")[0]
    base = module.replace(".", "/")
    candidates = [f"{base}{end}" for end in (".pyc", ".py", "/__init__.pyc", "/__init__.py")]
    native = any(name.startswith(f"{base}.") and is_extension_module(name) for name in names)
    if any(candidate in names for candidate in candidates) or native:
        return []
    return [f"{BOOTSTRAP} runs {printable(module)}, which the bundle does not hold"]


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
