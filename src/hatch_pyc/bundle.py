"""Zipapp (``.pyz``) bundles, made from a wheel of any backend: the hook's ``zipapp`` table
(with the wheel it has just built) and the ``bundle`` command both call :func:`make_bundle`.

A bundle holds the wheel as an installer lays it out (its root, ``purelib`` and ``platlib``,
its ``.dist-info``) and, if asked, its dependencies installed for the target. Every module
is a legacy pyc, the one kind zipimport loads; each ``.dist-info`` has a RECORD rewritten
to what the bundle holds, so that ``importlib.metadata`` sees every distribution, the
project's own included. ``__main__.py`` refuses another interpreter and runs the entry
point. Extension modules, which no zip importer loads, are either refused or kept for
:mod:`hatch_pyc.bundle_runtime` to extract at start-up.
"""

from __future__ import annotations

import ast
import configparser
import csv
import email.parser
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from hatch_pyc import archive, bundle_runtime, layout, metadata
from hatch_pyc.artifact import Artifact, BadArtifact, extract, install_path, record_hash
from hatch_pyc.cache import CompileCache, open_cache
from hatch_pyc.check import bytecode_metadata, intact_wheel
from hatch_pyc.compilation import Progress, ProgressReporter, legacy_pyc_path
from hatch_pyc.config import ENTRY_POINT, ZIPAPP_OPTIONS, ConfigError, Options, flag_options, zipapp_flag
from hatch_pyc.discovery import Module, matching, unmatched
from hatch_pyc.errors import HatchPycError
from hatch_pyc.interpreters import Interpreter, Target, running
from hatch_pyc.layout import EXTENSION_SUFFIXES, distribution_id
from hatch_pyc.limits import MAX_PYC_SIZE, LimitExceeded
from hatch_pyc.pipeline import compile_placed, find_targets

#: Files of an installed ``.dist-info`` that describe that one install, not the distribution.
INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "RECORD.jws", "RECORD.p7s"})
#: What uv leaves in a ``--target`` directory besides the packages.
INSTALLER_FILES = frozenset({".lock"})
#: The bundle's module that extracts and loads its extension modules.
RUNTIME_MODULE = "_hatch_pyc_runtime"
#: Shared libraries that extension modules link to, which auditwheel and delocate put in a
#: top-level ``<name>.libs`` or ``.dylibs`` directory; extracted beside the modules.
NATIVE_LIBRARY_DIRECTORIES = (".libs", ".dylibs")
NATIVE_LIBRARY_SUFFIXES = (".dll", ".dylib")


class BundleError(HatchPycError):
    """The bundle cannot be made; the message says why and what to do."""


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
    found = (target or running()).platform
    soabi = found["soabi"].split("-")
    # As packaging names ABIs: cpython-311-x86_64-linux-gnu is cp311; pypy310-pp73-... pypy310_pp73.
    abi = f"cp{soabi[1]}" if soabi[0] == "cpython" and len(soabi) > 1 else "_".join(soabi[:2]) or "none"
    platform = found["platform"].replace("-", "_").replace(".", "_")
    return Platform(
        tag=f"{interpreter.python_tag}-{abi}-{platform}",
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
    """The ``module:function`` to run: the configured one, else the only console script."""
    if configured is not None:
        return configured
    if len(scripts) == 1:
        return next(iter(scripts.values()))
    if scripts:
        found = f"the project has {len(scripts)} console scripts ({', '.join(sorted(scripts))})"
    else:
        found = "the project has no console scripts"
    how = f"give {key} module:function" if key.startswith("--") else "set entry-point = 'module:function'"
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
class _Native:
    """The bundle's native code, as the bootstrap hands it to the runtime."""

    platform: Platform
    #: The hash that names the directory the files are extracted to.
    digest: str
    #: ``{path in the bundle: (size, SHA-256 hex)}``.
    files: dict[str, tuple[int, str]]
    #: ``{module name: path in the bundle}``.
    modules: dict[str, str]
    #: The extension suffixes those modules use, which the interpreter must load.
    suffixes: tuple[str, ...]


def bootstrap(target: str, interpreter: Interpreter, name: str, native: _Native | None = None) -> bytes:
    """The bundle's ``__main__.py``: refuse an interpreter that cannot load the bundle, then run.

    It stays source (every Python can read it) and takes ``importlib.util.MAGIC_NUMBER`` from
    the module the import system already loaded (importing ``importlib.util`` costs 2 to 10 ms
    at start-up). On a mismatch it prints one line instead of the traceback a pyc with a bad
    magic number gives, or an extension module built for another platform. Every string
    from the input is written as a Python literal.
    """
    module, _, attribute = target.partition(":")
    head = attribute.split(".")[0]
    major, minor = interpreter.minor
    refusal = (
        f"{name} needs CPython {major}.{minor} (bytecode magic {interpreter.magic_number}); "
        "this is %s %s at %s (magic %s)\n"
    )
    lines = [
        f"# Written by hatch-pyc: runs {target} if this Python can load the bundle.",
        "import sys",
        "",
        "try:  # importlib.util.MAGIC_NUMBER, from the module the import system already loaded",
        "    from _frozen_importlib_external import MAGIC_NUMBER",
        "except ImportError:",
        "    from importlib.util import MAGIC_NUMBER",
        "",
        f"if MAGIC_NUMBER != bytes.fromhex({interpreter.magic_number!r}):",
        "    import platform",
        "",
        "    running = (platform.python_implementation(), platform.python_version(), sys.executable, "
        "MAGIC_NUMBER.hex())",
        f"    sys.stderr.write({refusal!r} % running)",
        "    sys.exit(1)",
        "",
    ]
    if native is not None:
        where = native.platform
        refusal = f"{name} holds extension modules for {where.tag}; this is %s %s on %s %s at %s\n"
        lines += [
            "import _imp",
            "import os",
            "",
            "machine = os.uname().machine if hasattr(os, 'uname') else ''",
            f"if sys.platform != {where.sys_platform!r} or machine != {where.machine!r} or not "
            f"set(_imp.extension_suffixes()).issuperset({native.suffixes!r}):",
            "    import platform",
            "",
            "    running = (platform.python_implementation(), platform.python_version(), sys.platform, "
            "platform.machine(), sys.executable)",
            f"    sys.stderr.write({refusal!r} % running)",
            "    sys.exit(1)",
            "",
            f"import {RUNTIME_MODULE}",
            "",
            f"{RUNTIME_MODULE}.install({name!r}, {native.digest!r}, {native.files!r}, {native.modules!r})",
            "",
        ]
    lines += [f"from {module} import {head}", "", f"sys.exit({attribute}())", ""]
    return "\n".join(lines).encode()


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
            f"installing the bundle's dependencies ({', '.join(requirements)}) failed:\n"
            f"  {' '.join(command)}\n{result.stderr.strip() or result.stdout.strip()}"
        )


def _is_native(path: str) -> bool:
    top = path.split("/")[0]
    return (
        path.endswith(EXTENSION_SUFFIXES + NATIVE_LIBRARY_SUFFIXES)
        or ".so." in path.rsplit("/", 1)[-1]
        or ("/" in path and top.endswith(NATIVE_LIBRARY_DIRECTORIES))
    )


@dataclass
class _Tree:
    """The files of the project and its dependencies, sorted by what the bundle does with them."""

    #: ``{path in the bundle: file on disk}`` of files bundled as they are.
    files: dict[str, str]
    modules: list[Module]
    #: ``{path in the bundle: file on disk}`` of extension modules and the libraries they load.
    native: dict[str, str]
    #: Legacy pycs that ship without a source (a sourceless wheel's).
    precompiled: list[str]
    #: ``{.dist-info directory: the paths its distribution installed}``.
    records: dict[str, list[str]]
    #: Every path gathered, to refuse two files at one path.
    paths: set[str]


def _gather(root: str, project: bool, tree: _Tree) -> None:
    """Add the files under ``root`` to ``tree``: the project's (every file is its own) or an
    installer's ``--target`` directory (scripts, ``.pth`` files, which are never read from
    a zip, and install records left out; ownership from each RECORD)."""
    label = "" if project else "(dependency) "
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (directory == root and d == "bin"))
        found += [os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/") for name in sorted(names)]
    present = set(found)
    for path in found:
        source = os.path.join(root, *path.split("/"))
        name = path.rsplit("/", 1)[-1]
        if path in tree.paths:
            raise BundleError(f"the project and a dependency both ship {path}; the bundle can hold one")
        tree.paths.add(path)
        if ".dist-info/" in path and path.count("/") == 1 and name == "RECORD" and not project:
            tree.records[path.split("/")[0]] = _recorded(source)
        if path in INSTALLER_FILES or path.endswith(".pth") or (".dist-info/" in path and name in INSTALL_RECORDS):
            continue
        if _is_native(path):
            tree.native[path] = source
        elif path.endswith(".py"):
            tree.modules.append(Module(source=source, path=path, display=f"{label}{path}"))
        elif path.endswith(".pyc"):
            if path[: -len("c")] not in present:
                tree.precompiled.append(path)
                tree.files[path] = source
        else:
            tree.files[path] = source
    if project:
        dist_info = next(path.split("/")[0] for path in found if path.split("/")[0].endswith(".dist-info"))
        tree.records[dist_info] = found


def _recorded(record: str) -> list[str]:
    with open(record, encoding="utf-8", newline="") as f:
        return [row[0] for row in csv.reader(f) if row]


def _unpack_project(artifact: Artifact, root: str) -> None:
    """Lay the wheel out in ``root`` as an installer would, less its scripts and data; a
    zip-layout wheel's archive is unpacked in place of it and its ``.pth``."""
    meta = bytecode_metadata(artifact)
    zipped = distribution_id(artifact.name) if meta is not None and meta.get("layout") == "zip" else None
    skip = {f"{artifact.dist_info}/{name}" for name in INSTALL_RECORDS}
    skip.add(f"{artifact.dist_info}/{metadata.METADATA_PATH}")
    for name in artifact.names:
        at = install_path(artifact, name)
        if at is None and name.startswith(f"{artifact.dist_info}/") and name not in skip:
            at = name
        if at is None or at.split("/")[-2:-1] == ["__pycache__"]:
            continue
        if zipped is not None and at in (f"{zipped}.zip", f"{zipped}.pth"):
            if at.endswith(".zip"):
                inner = artifact.open_nested(name)
                for member in inner.names:
                    _extract_to(inner, member, root, member)
            continue
        _extract_to(artifact, name, root, at)


def _extract_to(artifact: Artifact, name: str, root: str, at: str) -> None:
    file = os.path.join(root, *at.split("/"))
    if os.path.exists(file):
        raise BadArtifact(f"{artifact.path}: two entries install to {at}")
    extract(artifact, name, file)


def _console_scripts(artifact: Artifact) -> dict[str, str]:
    """The wheel's ``console_scripts``, each checked to be ``module:function`` (the bootstrap
    imports it by name)."""
    name = f"{artifact.dist_info}/entry_points.txt"
    if name not in artifact.names:
        return {}
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(artifact.text(name))
    except configparser.Error as exc:
        raise BadArtifact(f"{artifact.path}: {name} is not readable: {exc}") from None
    if not parser.has_section("console_scripts"):
        return {}
    scripts = {}
    for script, value in parser.items("console_scripts"):
        target = value.split("[")[0].strip().replace(" ", "")
        if not ENTRY_POINT.match(target):
            raise BadArtifact(f"{artifact.path}: console script {script!r} is {value!r}, not 'module:function'")
        scripts[script] = target
    return scripts


def _requirements(artifact: Artifact, interpreter: Interpreter) -> list[str]:
    """The wheel's ``Requires-Dist`` that the target needs (with no extra)."""
    headers = email.parser.Parser().parsestr(artifact.text(f"{artifact.dist_info}/METADATA"), headersonly=True)
    every = [str(value) for value in headers.get_all("Requires-Dist") or []]
    environment = {"extra": "", "python_version": ".".join(map(str, interpreter.minor))}
    environment["python_full_version"] = interpreter.version
    needed = []
    for text in every:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise BadArtifact(f"{artifact.path}: Requires-Dist {text!r} is invalid: {exc}") from None
        if requirement.marker is None or requirement.marker.evaluate(environment):
            needed.append(text)
    return needed


def _file_digest(file: str) -> tuple[int, str]:
    """Size and SHA-256 (hex) of ``file``, as the bundle's runtime checks them."""
    with open(file, "rb") as f:
        content = f.read()
    return len(content), hashlib.sha256(content).hexdigest()


def _record(paths: Sequence[str], contents: Mapping[str, str | bytes], dist_info: str) -> bytes:
    """A RECORD listing ``paths`` as the bundle holds them."""
    text = io.StringIO()
    rows = csv.writer(text, lineterminator="\n")
    for path in paths:
        content = contents[path]
        if isinstance(content, str):
            with open(content, "rb") as f:
                content = f.read()
        size, digest = len(content), record_hash(content, "sha256")
        rows.writerow((path, f"sha256={digest}", size))
    rows.writerow((f"{dist_info}/RECORD", "", ""))
    return text.getvalue().encode()


def make_bundle(
    wheel: str,
    options: Options,
    *,
    output: str,
    target: Target | None = None,
    where: Callable[[str], str],
    cache: CompileCache | None = None,
    progress: Callable[[Progress], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """Write the ``.pyz`` bundle of ``wheel`` for ``target`` (the running interpreter if
    None) as ``output`` (a ``.pyz`` path, or a directory to put it in under its standard
    name); return its path.

    ``options.zipapp`` says how; the other options say how to compile, as for a wheel.
    ``where(option)`` names an option in messages (its TOML path or its flag); ``warn`` gets
    the one line that says what the bundle leaves out.
    """
    zipapp = options.zipapp
    assert zipapp is not None
    interpreter = target.interpreter if target is not None else running().interpreter
    with intact_wheel(wheel, "bundling") as artifact, tempfile.TemporaryDirectory(prefix="hatch-pyc-bundle-") as work:
        needed = _requirements(artifact, interpreter)
        tree = _Tree(files={}, modules=[], native={}, precompiled=[], records={}, paths=set())
        if zipapp.include_dependencies and needed:
            dependencies = os.path.join(work, "dependencies")
            install_dependencies(needed, target.executable if target else sys.executable, dependencies)
            _gather(dependencies, False, tree)
        elif needed and warn is not None:
            warn(
                f"{artifact.name} {artifact.version}'s bundle leaves out its dependencies ({', '.join(needed)}): "
                f"they must be importable where it runs ({where('include-dependencies')} bundles them)"
            )
        project = os.path.join(work, "project")
        _unpack_project(artifact, project)
        _gather(project, True, tree)
        entry = entry_point(zipapp.entry_point, _console_scripts(artifact), where("entry-point"))
        excluded = matching(tree.modules, options.exclude)
        modules = [m for m in tree.modules if m.path not in excluded]
        check_entry_point(entry, modules, where("entry-point"), tree.precompiled)
        reserved = {"__main__.py", metadata.FILENAME}
        if tree.native:
            if zipapp.extension_modules == "refuse":
                raise BundleError(_refused(tree, where("extension-modules")))
            reserved.update({f"{RUNTIME_MODULE}.py", f"{RUNTIME_MODULE}.pyc"})
        clashes = sorted(reserved & tree.paths)
        if clashes:
            raise BundleError(f"{wheel}: the bundle would hold two {clashes[0]}; rename yours")
        if tree.native:
            runtime = Module(source=bundle_runtime.__file__, path=f"{RUNTIME_MODULE}.py", display=RUNTIME_MODULE)
            tree.modules.append(runtime)
        compiled_dir = os.path.join(work, "compiled")
        contents = _compiled(tree, excluded, options, interpreter, target, compiled_dir, where, cache, progress)
        native = _native_code(tree, contents, native_platform(target, interpreter)) if tree.native else None
        name = pyz_name(artifact.name, artifact.version, interpreter, native.platform if native else None)
        for dist_info, paths in tree.records.items():
            bundled = sorted({p for path in paths for p in _bundled_as(path, contents) if not p.endswith("/RECORD")})
            contents[f"{dist_info}/RECORD"] = _record(bundled, contents, dist_info)
        contents["__main__.py"] = bootstrap(entry, interpreter, name, native)
        contents[metadata.FILENAME] = metadata.render(
            interpreters=[interpreter],
            layout="zipapp",
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


def _bundled_as(path: str, contents: Mapping[str, str | bytes]) -> list[str]:
    """What a distribution's file ``path`` is in the bundle: itself, its pyc, or nothing."""
    found = [path] if path in contents else []
    if path.endswith(".py") and legacy_pyc_path(path) in contents:
        found.append(legacy_pyc_path(path))
    return found


def _compiled(
    tree: _Tree,
    excluded: Collection[str],
    options: Options,
    interpreter: Interpreter,
    target: Target | None,
    out_dir: str,
    where: Callable[[str], str],
    cache: CompileCache | None,
    progress: Callable[[Progress], None] | None,
) -> dict[str, str | bytes]:
    """Compile the modules but the ``excluded`` paths as the zip layout does:
    ``{path in the bundle: file on disk}``."""
    problems = unmatched(options.keep_source, [m.path for m in tree.modules], where("keep-source"))
    problems += unmatched(options.exclude, [m.path for m in tree.modules], where("exclude"))
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
    placement = layout.place("zip", modules, options.keep_source, options.debug_ranges)
    os.makedirs(out_dir, exist_ok=True)
    compilation = compile_placed(
        options, modules, placement, out_dir, target, optimize=[min(options.optimize)], cache=cache, progress=progress
    )
    shipped = [(file, path) for path, file in tree.files.items()]
    shipped += [(m.source, m.path) for m in tree.modules if m.path in excluded]
    files: dict[str, str | bytes] = dict(layout.archive_files(shipped, compilation, placement.sourceless))
    return files


def _refused(tree: _Tree, key: str) -> str:
    """The message refusing native code: each distribution that has some, and what to do."""
    owners: dict[str, str] = {}
    for dist_info, paths in tree.records.items():
        for path in paths:
            owners[path] = dist_info[: -len(".dist-info")].rsplit("-", 1)[0]
    named = sorted({f"{owners.get(path, '?')} ({path})" for path in tree.native})
    return (
        f"{key} is 'refuse', and these have extension modules: {', '.join(named)}; leave it out to extract them "
        "at start-up (the bundle is then for this platform only), or ship the wheel"
    )


def _native_code(tree: _Tree, contents: dict[str, str | bytes], platform: Platform) -> _Native:
    """Add the native files to ``contents``; what the bootstrap needs to extract and load them."""
    files = {}
    for path, file in sorted(tree.native.items()):
        contents[path] = file
        files[path] = _file_digest(file)
    suffixes = sorted(platform.extension_suffixes, key=len, reverse=True)
    modules, used = {}, set()
    for path in files:
        suffix = next((s for s in suffixes if path.endswith(s)), None)
        if suffix is not None:
            modules[path[: -len(suffix)].replace("/", ".")] = path
            used.add(suffix)
    digest = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:32]
    return _Native(platform=platform, digest=digest, files=files, modules=modules, suffixes=tuple(sorted(used)))


def bundle_wheel(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    python: str | None = None,
    with_dependencies: bool = False,
    entry_point: str | None = None,
    shebang: str | None = None,
    compress: bool = False,
    extension_modules: str = "extract",
    optimize: int = 0,
    invalidation_mode: str = "checked-hash",
    jobs: int | None = None,
    exclude: Sequence[str] = (),
    keep_source: Sequence[str] = (),
    cache: bool = True,
    cache_dir: str | None = None,
    debug_ranges: bool | None = None,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """Write the ``.pyz`` bundle of the wheel at ``path``, built by any backend; return its path.

    ``output`` is the bundle's path (ending in ``.pyz``) or a directory for it (default: the
    wheel's). The keyword arguments are the hook's options and ``zipapp`` options of the
    same names (``with_dependencies`` is ``include-dependencies``), validated the same way
    and named as flags in errors; ``progress`` gets the compile progress lines and ``warn``
    the line saying which dependencies the bundle leaves out. Raises what
    :func:`~hatch_pyc.convert.convert_wheel` raises, and :class:`BundleError`.
    """
    options = flag_options(
        {
            "python": python,
            "optimize": optimize,
            "invalidation-mode": invalidation_mode,
            "jobs": jobs,
            "exclude": list(exclude),
            "keep-source": list(keep_source),
            "cache": cache,
            "cache-dir": cache_dir,
            "debug-ranges": debug_ranges,
            "zipapp": {
                key: value
                for key, value in {
                    "entry-point": entry_point,
                    "shebang": shebang,
                    "include-dependencies": with_dependencies,
                    "compress": compress,
                    "extension-modules": extension_modules,
                }.items()
                if value is not None
            },
        }
    )
    path = os.fspath(path)
    targets = find_targets(options)
    cache_dir = options.cache_dir or bundle_runtime.user_cache_dir()
    store = open_cache(cache_dir, warn or (lambda line: None)) if options.cache else None
    return make_bundle(
        path,
        options,
        output=os.fspath(output) if output is not None else os.path.dirname(os.path.abspath(path)),
        target=targets[0] if targets else None,
        where=lambda option: zipapp_flag(option) if option in ZIPAPP_OPTIONS else f"--{option}",
        cache=store,
        progress=ProgressReporter(progress) if progress is not None else None,
        warn=warn,
    )
