"""Installing a checked wheel with pypa/installer into an interpreter's environment, all or nothing.

Everything that would make the install fail half-way is refused before the first file is
written: paths that clash, a file where a directory must go, a file already in the way,
names too long for the file system, unknown ``.data`` schemes, entry points that are not
plain names, another install of the same project. Whatever still fails while writing (a
full disk, a read-only directory) is undone: every file written and every directory made
is removed, so the environment is exactly as before and a retry works.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import re
import sys
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme, get_launcher_kind
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from hatch_pyc.check.checker import CheckResult, check_for
from hatch_pyc.check.landing import Places, real_path
from hatch_pyc.core import interpreters
from hatch_pyc.core.errors import BadArtifact, HatchPycError, printable
from hatch_pyc.core.interpreters import TargetError
from hatch_pyc.core.limits import MAX_METADATA_SIZE
from hatch_pyc.core.naming import CACHED_PYC, script_name_problem
from hatch_pyc.wheel import records, wheelfile
from hatch_pyc.wheel.artifact import Artifact, open_artifact
from hatch_pyc.wheel.wheelfile import DATA_SCHEMES

#: Longest file name and path most file systems take (NAME_MAX, PATH_MAX on Linux).
MAX_NAME = 255
MAX_PATH = 4096


class InstallRefused(HatchPycError):
    """The wheel does not fit the target, or is installed there already; nothing was written.

    ``problems`` has one line per reason.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("not installed: " + "; ".join(problems))
        self.problems = problems


class InstallFailed(HatchPycError):
    """Writing failed part-way; everything written was removed again."""


@dataclass
class Installed:
    check: CheckResult
    executable: str
    #: The directory the wheel's root went to (purelib or platlib).
    root: str
    #: The wheel's ``Requires-Dist`` lines: installing them is left to pip or uv.
    dependencies: list[str]


class _Destination(SchemeDictionaryDestination):
    """Writes the wheel's checked ``__pycache__`` pycs too, and remembers what it wrote.

    pypa/installer skips such pycs (a pyc nobody checked is a risk); ``check`` has just
    verified each of these against RECORD, its magic number against the target and its
    code against its source, so they are written and recorded like every other file.
    """

    def __init__(self, pycache: list[str], root_scheme: Scheme, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: The names of those pycs: each is copied from the wheel in chunks, never held whole.
        self.pycache = pycache
        #: The wheel, open while pypa/installer writes it.
        self.archive: zipfile.ZipFile | None = None
        self.root_scheme = root_scheme
        #: Files written (or being written) and directories made, in order, to undo them (as
        #: strings: a wheel of 100,000 files would hold as many Path objects).
        self.written: list[str] = []
        self.made: list[Path] = []

    def write_to_fs(self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        target = self._path_with_destdir(scheme, path)
        missing = []
        parent = target.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        self.made.extend(reversed(missing))
        if not target.exists():  # an existing file is refused below, and is not ours to remove
            self.written.append(str(target))
        return super().write_to_fs(scheme, path, stream, is_executable)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        records = list(records)
        for path in sorted(self.pycache):
            assert self.archive is not None
            with self.archive.open(path) as stream:
                written = self.write_file(self.root_scheme, path, cast("BinaryIO", stream), False)
                records.append((self.root_scheme, written))
        super().finalize_installation(scheme, record_file_path, records)

    def undo(self) -> None:
        for file in reversed(self.written):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(file)
        for directory in reversed(self.made):
            with contextlib.suppress(OSError):  # not empty: something else wrote there since
                directory.rmdir()


def _installed_already(name: str, directories: Iterable[str]) -> str | None:
    """A ``.dist-info`` or ``.egg-info`` of distribution ``name`` in ``directories``, if any."""
    wanted = canonicalize_name(name)
    for directory in dict.fromkeys(directories):
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.rpartition(".")
            project = re.split(r"-\d", stem, maxsplit=1)[0]
            if dot and suffix in ("dist-info", "egg-info", "egg-link") and canonicalize_name(project) == wanted:
                return os.path.join(directory, entry)
    return None


class _Previous:
    """An installed version of the project, moved aside while another is written in its place:
    put back if that fails, removed if it succeeds."""

    def __init__(self, dist_info: str, paths: Mapping[str, str], files: list[str]) -> None:
        self.site = os.path.dirname(dist_info)
        self.roots = {os.path.realpath(directory) for directory in paths.values()}
        self.files = files
        self.aside = os.path.join(self.site, f".hatch-pyc-previous-{os.getpid()}")
        self.moved: list[tuple[str, str]] = []

    def move_aside(self) -> None:
        if self.files:
            os.makedirs(self.aside, exist_ok=True)
        for number, file in enumerate(self.files):
            kept = os.path.join(self.aside, str(number))
            os.replace(file, kept)
            self.moved.append((file, kept))

    def put_back(self) -> None:
        for file, kept in reversed(self.moved):
            os.makedirs(os.path.dirname(file), exist_ok=True)
            os.replace(kept, file)
        self.moved.clear()
        with contextlib.suppress(OSError):
            os.rmdir(self.aside)

    def remove(self) -> None:
        for file, kept in self.moved:
            os.unlink(kept)
            # The directories it emptied, up to the scheme's own (the new version may use them).
            directory = os.path.dirname(file)
            while directory not in self.roots and os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)
                directory = os.path.dirname(directory)
        with contextlib.suppress(OSError):
            os.rmdir(self.aside)


#: In the scripts directory, the interpreter's and the environment's own files, which no
#: distribution's RECORD can claim: ``python3.11``, ``pydoc3``, ``idle3``, ``2to3-3.11``,
#: ``activate.fish``.
_ENVIRONMENT_SCRIPTS = ("python", "pypy", "pydoc", "idle", "2to3", "activate", "deactivate", "Activate.ps1")
#: The interpreter's own directories in its include directory, where a project's headers go.
_INTERPRETER_HEADERS = ("cpython", "internal")
#: The metadata of installed distributions in site-packages: of these, only the version's own
#: ``.dist-info`` is removed.
_METADATA = (".dist-info", ".egg-info", ".egg-link", ".egg")
_HASHES = ("sha256", "sha384", "sha512")


@dataclass
class _Claims:
    """What the other distributions installed in site-packages own: every file they list (a
    ``.dist-info``'s RECORD, an ``.egg-info``'s ``installed-files.txt``), as real paths; the
    paths of those below site-packages with every leading part of them (:func:`_units`); and
    whole top-level names (``top_level.txt``, the top of each ``SOURCES.txt`` path, and the
    project's own name where nothing lists its files)."""

    files: set[str] = field(default_factory=set)
    units: set[tuple[str, ...]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(self, file: str, sites: list[str]) -> None:
        self.files.add(file)
        below = _below(file, sites)
        if below is not None:
            self.units.update(_units(below[1]))


def _top_name(part: str) -> str:
    """A top-level name as claims compare them, a module name: ``Foo.py``, ``foo/``, ``foo.pth``
    and ``foo.cpython-311-x86_64-linux-gnu.so`` are all ``foo``."""
    return part.split(".")[0].lower()


def _units(parts: list[str]) -> list[tuple[str, ...]]:
    """Every leading part of a path below site-packages, outermost first, its top-level name as
    :func:`_top_name` has it (a top-level module's ``__pycache__/foo.*.pyc`` is ``foo``)."""
    if parts[0] == "__pycache__" and len(parts) == 2:
        return [(_top_name(parts[1]),)]
    top = (_top_name(parts[0]),)
    return [top + tuple(parts[1:depth]) for depth in range(1, len(parts) + 1)]


def _below(file: str, sites: Iterable[str]) -> tuple[str, list[str]] | None:
    """The site-packages directory ``file`` is in, and its parts below it; None if in none."""
    for root in sites:
        if file.startswith(root + "/"):
            return root, file[len(root) + 1 :].split("/")
    return None


def _recorded_files(dist_info: str, places: Places) -> list[str]:
    """The files an installed version owns, which a reinstall removes: the rows of its RECORD
    (and the bytecode beside its modules, which an installer may not record) that can be
    proven its own; whatever cannot stays (leaving a file behind is the safe failure).

    Never a file another installed distribution lists (a ``.dist-info``'s RECORD, an
    ``.egg-info``'s ``installed-files.txt``), nor a link. In site-packages, its own
    ``.dist-info`` and the files below a name it owns: a top-level name no other distribution
    claims (by the files it lists, its ``top_level.txt`` or ``SOURCES.txt``, or its project
    name where nothing lists its files; compared as module names, so ``foo.py``, ``foo/`` and
    ``foo.pth`` are one name), or, where the top-level name is a namespace package that others
    share (a directory without ``__init__``), a directory below it that none claims; never
    another ``.dist-info``, ``.egg-info``, ``.egg-link`` or ``.egg``. Elsewhere only files whose
    content is what the RECORD row says (hash and size), outside the standard library:
    directly in the scripts directory, but not the interpreter's or the environment's
    (``python*``, ``pypy*``, ``pydoc*``, ``idle*``, ``2to3*``, ``activate*``, ``deactivate*``);
    in the distribution's own headers directory (``include/python3.11/<name>``, the name
    compared as project names; not the interpreter's ``cpython`` and ``internal``); and in the
    rest of the data directory only when the target is a venv (the data directory holds
    ``pyvenv.cfg``) and outside the interpreter's own directories (``include/python*``,
    ``lib*/python*``, ``lib*/libpython*``, ``lib*/pkgconfig/python*``) and ``pyvenv.cfg``.
    Links are resolved first (a venv's ``lib64`` is ``lib``)."""
    rows = _record_rows(dist_info)
    if rows is None:
        raise InstallRefused([f"{dist_info} has no readable RECORD; uninstall it first"])
    site = os.path.dirname(dist_info)
    own_info = real_path(dist_info)
    claims = _claims(places, own_info)
    found: dict[str, None] = {}
    for path, digest, size in rows:
        file = real_path(os.path.join(site, path))
        if file in claims.files or not os.path.isfile(file) or os.path.islink(file):
            continue
        below = _below(file, places.sites)
        if below is None:
            if _own_elsewhere(file, digest, size, places):
                found[file] = None
            continue
        if not _own_in_site(*below, own_info, claims):
            continue
        found[file] = None
        if file.endswith(".py"):
            cache = os.path.join(os.path.dirname(file), "__pycache__")
            stem = os.path.basename(file)[: -len(".py")]
            with contextlib.suppress(OSError):
                for name in os.listdir(cache):
                    pyc = posixpath.join(cache, name)
                    if name.startswith(f"{stem}.") and name.endswith(".pyc") and pyc not in claims.files:
                        found[pyc] = None
    return list(found)


def _own_in_site(root: str, parts: list[str], own_info: str, claims: _Claims) -> bool:
    """Whether the file at ``parts`` below site-packages ``root`` is the installed version's
    (see :func:`_recorded_files`)."""
    if parts[0].endswith(_METADATA):
        return posixpath.join(root, parts[0]) == own_info
    units = _units(parts)
    if units[0][0] in claims.names:
        return False
    directory = root
    for depth, unit in enumerate(units):
        if unit not in claims.units:
            return True
        # Claimed: go on only through a namespace package to a directory below it.
        directory = posixpath.join(directory, parts[depth])
        if depth + 2 >= len(parts) or not _namespace(directory):
            return False
    return False


def _namespace(directory: str) -> bool:
    """Whether ``directory`` is a directory without ``__init__`` (a namespace package)."""
    try:
        return not any(name.startswith("__init__.") for name in os.listdir(directory))
    except OSError:
        return False


def _own_elsewhere(file: str, digest: str, size: str, places: Places) -> bool:
    """Whether ``file``, outside site-packages, is the installed version's (see :func:`_recorded_files`)."""
    if any(file.startswith(root + "/") for root in places.path):
        return False  # the standard library, where the data scheme reaches it outside a venv
    scripts, headers, data = (places.schemes.get(key, "\0") for key in ("scripts", "headers", "data"))
    include = posixpath.dirname(headers)
    if file.startswith(scripts + "/"):
        name = file[len(scripts) + 1 :]
        owned = "/" not in name and not name.startswith(_ENVIRONMENT_SCRIPTS)
    elif file.startswith(include + "/") and headers != "\0":
        parts = file[len(include) + 1 :].split("/")
        own = canonicalize_name(posixpath.basename(headers))
        owned = len(parts) > 1 and parts[0] not in _INTERPRETER_HEADERS and canonicalize_name(parts[0]) == own
    elif file.startswith(data + "/") and os.path.isfile(posixpath.join(data, "pyvenv.cfg")):
        owned = not _interpreter_file(file[len(data) + 1 :].split("/"))
    else:
        owned = False
    return owned and _as_recorded(file, digest, size)


def _interpreter_file(parts: list[str]) -> bool:
    """Whether the path ``parts`` below an environment's prefix is the interpreter's or the environment's."""
    first, second, third = [*parts, "", ""][:3]
    return (
        parts == ["pyvenv.cfg"]
        or (first == "include" and second.startswith("python"))
        or (first.startswith("lib") and second.startswith(("python", "libpython")))
        or (first.startswith("lib") and second == "pkgconfig" and third.startswith("python"))
    )


def _as_recorded(file: str, digest: str, size: str) -> bool:
    """Whether ``file`` holds what the RECORD row says: what its installer wrote there."""
    algorithm, _, expected = digest.partition("=")
    if algorithm not in _HASHES or not expected:
        return False
    try:
        if size and int(size) != os.path.getsize(file):
            return False
        hashed = hashlib.new(algorithm)
        with open(file, "rb") as f:
            while chunk := f.read(1024 * 1024):
                hashed.update(chunk)
    except (OSError, ValueError):
        return False
    return records.digest_text(hashed) == expected


def _record_rows(dist_info: str) -> list[tuple[str, str, str]] | None:
    text = _metadata_text(dist_info, "RECORD")
    return None if text is None else records.parse(os.path.join(dist_info, "RECORD"), text)


def _metadata_text(directory: str, name: str) -> str | None:
    """The metadata file ``name`` in ``directory``; None if it cannot be read."""
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_METADATA_SIZE + 1)
    except OSError:
        return None
    if len(data) > MAX_METADATA_SIZE:
        raise InstallRefused([f"{path} is larger than {MAX_METADATA_SIZE} bytes (a limit of hatch-pyc)"])
    return data.decode("utf-8", errors="replace")


def _claims(places: Places, own_info: str) -> _Claims:
    """What every other distribution in site-packages claims. One whose list of files cannot
    be read whole (too large, not CSV) refuses the reinstall: what it owns is not known."""
    claims = _Claims()
    sites = places.sites
    for site in sites:
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            other = posixpath.join(site, name)
            if not name.endswith(_METADATA) or real_path(other) == own_info:
                continue
            listing = "RECORD" if name.endswith(".dist-info") else "installed-files.txt"
            try:
                text = _metadata_text(other, listing) if name.endswith((".dist-info", ".egg-info")) else None
                if text is not None and listing == "RECORD":
                    for row, _, _ in records.parse(os.path.join(other, listing), text):
                        claims.add(real_path(os.path.join(site, row)), sites)
                elif text is not None:
                    for line in text.splitlines():
                        if line.strip():
                            claims.add(real_path(os.path.join(other, line.strip())), sites)
                for line in (_metadata_text(other, "top_level.txt") or "").splitlines():
                    if line.strip():
                        claims.names.add(_top_name(line.strip().split("/")[0]))
                for line in (_metadata_text(other, "SOURCES.txt") or "").splitlines():
                    parts = [part for part in line.strip().split("/") if part]
                    if parts[:1] in (["src"], ["lib"]):
                        parts = parts[1:]
                    if parts:
                        claims.names.add(_top_name(parts[0]))
            except (BadArtifact, InstallRefused) as exc:
                raise InstallRefused([f"cannot tell which files {other} owns ({exc}); uninstall it first"]) from None
            if text is None:
                project = re.split(r"-\d", name.rpartition(".")[0], maxsplit=1)[0]
                claims.names.add(_top_name(project.replace("-", "_")))
    return claims


def _plan(
    artifact: Artifact, names: list[str], paths: dict[str, str], root_scheme: str, scripts: list[str]
) -> dict[str, str]:
    """Where each of ``names`` and ``scripts`` goes: ``{absolute path: what puts it there}``,
    refusing what cannot be written whole (see the module docstring)."""
    planned: dict[str, str] = {}

    def add(directory: str, relative: str, what: str) -> None:
        target = os.path.normpath(os.path.join(directory, relative))
        key = os.path.normcase(target)
        if key in planned:
            raise BadArtifact(f"{artifact.path}: {what} and {planned[key]} would both install {target}")
        planned[key] = what
        if len(os.fsencode(target)) > MAX_PATH or any(len(os.fsencode(p)) > MAX_NAME for p in Path(target).parts):
            raise BadArtifact(f"{artifact.path}: {what} would install a path too long for the file system")

    data_dir = artifact.data_dir + "/"
    for name in names:
        if name.startswith(data_dir):
            scheme, _, rest = name[len(data_dir) :].partition("/")
            if scheme not in DATA_SCHEMES or not rest:
                raise BadArtifact(f"{artifact.path}: {printable(name)} is in no scheme an installer knows ({scheme})")
            add(paths[scheme], rest, printable(name))
        else:
            add(paths[root_scheme], name, printable(name))
    for script in scripts:
        add(paths["scripts"], script, f"the entry point script {script}")
    add(paths[root_scheme], f"{artifact.dist_info}/INSTALLER", "the INSTALLER file")

    for key, what in planned.items():
        if os.path.lexists(key):
            raise BadArtifact(f"{artifact.path}: {what} would overwrite {key}, which is there already")
        for parent in Path(key).parents:
            if str(parent) in planned:
                raise BadArtifact(f"{artifact.path}: {what} needs a directory where {planned[str(parent)]} is a file")
            if os.path.lexists(parent):
                if not os.path.isdir(parent):
                    raise BadArtifact(f"{artifact.path}: {what} needs a directory where {parent} is a file")
                break
    return planned


def _scripts(artifact: Artifact) -> list[str]:
    """The names of the entry point scripts, each a plain file name."""
    name = f"{artifact.dist_info}/entry_points.txt"
    if name not in artifact.names:
        return []
    scripts = wheelfile.scripts(artifact.path, artifact.text(name))
    for script in scripts:
        problem = script_name_problem(script)
        if problem is not None:
            raise BadArtifact(f"{artifact.path}: the entry point name {printable(script)!r} is {problem}")
    return scripts


def find_environment(environ: Mapping[str, str], cwd: str) -> str:
    """The interpreter of the environment the ``install`` command puts a wheel into when no
    ``--python`` names one, found as uv finds it: an activated ``VIRTUAL_ENV``, else ``.venv`` in
    ``cwd`` or a directory above it. Never hatch-pyc's own environment: :class:`TargetError`."""
    executable = os.path.join("Scripts", "python.exe") if sys.platform == "win32" else os.path.join("bin", "python")
    if environ.get("VIRTUAL_ENV"):
        return os.path.join(environ["VIRTUAL_ENV"], executable)
    directory = os.path.abspath(cwd)
    while True:
        candidate = os.path.join(directory, ".venv", executable)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            raise TargetError(
                f"no environment to install into: give --python, activate a virtual environment (VIRTUAL_ENV), "
                f"or create .venv in {os.path.abspath(cwd)} or a directory above it"
            )
        directory = parent


def install_wheel(
    path: str | os.PathLike[str],
    python: str | None = None,
    *,
    verify_code: bool = True,
    allow_startup_code: bool = False,
    jobs: int | None = None,
    reinstall: bool = False,
) -> Installed:
    """Check the wheel at ``path`` against ``python`` (the running interpreter by default),
    then install it into that interpreter's environment.

    ``verify_code`` (on by default; off is unsafe) compiles each shipped source whose pyc
    the target would load, in ``jobs`` worker processes (the CPU count by default), and refuses
    a pyc that holds other code. Only the target's own
    ``__pycache__`` pycs are installed; pycs for other interpreters are skipped, as
    pypa/installer skips them all. A wheel with code that runs at every start of Python
    (:attr:`CheckResult.startup`) is refused unless ``allow_startup_code``.
    Raises :class:`InstallRefused` (with the check's problems) or :class:`BadArtifact`
    before writing anything when the wheel does not fit or cannot be written whole, and
    :class:`InstallFailed` when writing fails, after removing all it wrote.
    """
    path = os.fspath(path)
    found = interpreters.find(python) if python else interpreters.running()
    scheme = found.scheme
    # The version installed now: its files are not another distribution's (the environment
    # check leaves them alone), and they are what a reinstall removes.
    other = replaced = None
    with contextlib.suppress(InvalidWheelFilename):
        project = str(parse_wheel_filename(os.path.basename(path))[0])
        other = _installed_already(project, [scheme["paths"]["purelib"], scheme["paths"]["platlib"]])
    if other is not None and other.endswith(".dist-info"):
        replaced = _recorded_files(other, Places.of(scheme, found.imports, found.platform, project))
    result = check_for(path, found, verify_code=verify_code, jobs=jobs, replacing=replaced or [])
    if result.inspection.kind != "wheel":
        raise BadArtifact(f"{path}: only wheels can be installed")
    if not result.ok:
        raise InstallRefused(result.problems)
    if result.startup and not allow_startup_code:
        raise InstallRefused(
            [*result.startup, "it runs code at every start of Python; --allow-startup-code installs it anyway"]
        )
    target_tag = result.target.cache_tag
    with open_artifact(path) as artifact:
        root_scheme = Scheme("purelib" if artifact.wheel["Root-Is-Purelib"][0].lower() == "true" else "platlib")
        pycache = []
        data_dir = artifact.data_dir + "/"
        for name in artifact.names:
            directory, base = posixpath.split(name)
            match = CACHED_PYC.match(base)
            in_pycache = posixpath.basename(directory) == "__pycache__"
            if in_pycache and not name.startswith(data_dir) and match and match["tag"] == target_tag:
                pycache.append(name)
        paths = dict(scheme["paths"])
        paths["headers"] = os.path.join(scheme["include"], artifact.name)
        previous = None
        if other is not None:
            if not reinstall or not other.endswith(".dist-info"):
                how = "--reinstall replaces it" if other.endswith(".dist-info") else "uninstall it first"
                raise InstallRefused([f"{artifact.name} is installed already ({other}); {how}"])
            previous = _Previous(other, paths, replaced or [])
        # pypa/installer writes no other file under a __pycache__ directory.
        cached = set(pycache)
        written = [n for n in artifact.names if "__pycache__" not in n.split("/")[:-1] or n in cached]
        try:
            if previous is not None:
                previous.move_aside()
            _plan(artifact, written, paths, root_scheme, _scripts(artifact))
        except BaseException:
            if previous is not None:
                previous.put_back()
            raise
        root = paths[root_scheme]
        name = artifact.name
        metadata = wheelfile.metadata_headers(artifact.text(f"{artifact.dist_info}/METADATA"))
        dependencies = [str(line) for line in metadata.get_all("Requires-Dist") or []]
    destination = _Destination(
        pycache,
        root_scheme,
        scheme_dict=paths,
        interpreter=scheme["executable"],
        script_kind=get_launcher_kind(),
    )
    try:
        with WheelFile.open(Path(path)) as source, contextlib.ExitStack() as stack, warnings.catch_warnings():
            # A second reading of the zip directory only for the pycs to copy: it costs as much
            # memory as the wheel has entries.
            destination.archive = stack.enter_context(zipfile.ZipFile(path)) if pycache else None
            warnings.filterwarnings("ignore", message=".*__pycache__.*", category=RuntimeWarning)
            install(source, destination, {"INSTALLER": b"hatch-pyc\n"})
    except BaseException as exc:
        destination.undo()
        if previous is not None:
            previous.put_back()
        if not isinstance(exc, Exception):
            raise
        again = "; the version installed before is back" if previous is not None else ""
        raise InstallFailed(
            f"installing {name} into {root} failed: {type(exc).__name__}: {exc}; everything written was removed{again}"
        ) from None
    if previous is not None:
        previous.remove()
    return Installed(check=result, executable=scheme["executable"], root=root, dependencies=dependencies)
