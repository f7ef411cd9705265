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
import os
import posixpath
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

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
from hatch_pyc.core.naming import CACHED_PYC
from hatch_pyc.wheel import records, wheelfile
from hatch_pyc.wheel.artifact import Artifact, open_artifact
from hatch_pyc.wheel.wheelfile import DATA_SCHEMES

#: A script name is a file name: no separators, no leading dot or dash.
SCRIPT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
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

    def __init__(self, pycache: dict[str, bytes], root_scheme: Scheme, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pycache = pycache
        self.root_scheme = root_scheme
        #: Files written (or being written) and directories made, in order, to undo them.
        self.written: list[Path] = []
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
            self.written.append(target)
        return super().write_to_fs(scheme, path, stream, is_executable)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        records = list(records)
        for path, data in sorted(self.pycache.items()):
            records.append((self.root_scheme, self.write_file(self.root_scheme, path, BytesIO(data), False)))
        super().finalize_installation(scheme, record_file_path, records)

    def undo(self) -> None:
        for file in reversed(self.written):
            file.unlink(missing_ok=True)
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


#: Files of the environment itself, which no distribution's RECORD can claim: in the scripts
#: directory, the interpreter and the activation scripts; at the environment's root, its
#: configuration.
_ENVIRONMENT_SCRIPTS = ("python", "pypy", "activate", "deactivate", "Activate.ps1")
_ENVIRONMENT_FILES = ("pyvenv.cfg",)


def _recorded_files(dist_info: str, places: Places) -> list[str]:
    """The files an installed version owns, which a reinstall removes: the rows of its RECORD
    (and the bytecode beside its modules, which an installer may not record) that lie in its
    own top-level names or ``.dist-info`` in site-packages, or in the scripts or data
    directories; never a file another distribution's RECORD lists, another ``.dist-info``,
    the standard library, or the environment's own files (``pyvenv.cfg``, ``bin/python*``,
    ``bin/activate*``). A RECORD is the installed project's word, not a licence to remove
    anything else; links are resolved first (a venv's ``lib64`` is ``lib``)."""
    rows = _record_rows(dist_info)
    if rows is None:
        raise InstallRefused([f"{dist_info} has no readable RECORD; uninstall it first"])
    site = os.path.dirname(dist_info)
    own_info = real_path(dist_info)
    others = _listed_by_others(places, own_info)
    sites = places.sites
    elsewhere = [places.schemes[key] for key in ("scripts", "data", "headers") if key in places.schemes]
    found: dict[str, None] = {}
    for path, _, _ in rows:
        file = real_path(os.path.join(site, path))
        if file in others or not os.path.isfile(file) or os.path.islink(file):
            continue
        in_site = next((root for root in sites if file.startswith(root + "/")), None)
        if in_site is not None:
            top = file[len(in_site) + 1 :].split("/")[0]
            if top.endswith((".dist-info", ".egg-info")) and posixpath.join(in_site, top) != own_info:
                continue
        elif not any(file.startswith(root + "/") for root in elsewhere) or _environment_file(file, places):
            continue
        elif any(file.startswith(root + "/") for root in places.path):
            continue  # the standard library, where the data scheme reaches it outside a venv
        found[file] = None
        if file.endswith(".py"):
            cache = os.path.join(os.path.dirname(file), "__pycache__")
            stem = os.path.basename(file)[: -len(".py")]
            with contextlib.suppress(OSError):
                for name in os.listdir(cache):
                    if name.startswith(f"{stem}.") and name.endswith(".pyc"):
                        found[os.path.join(cache, name)] = None
    return list(found)


def _record_rows(dist_info: str) -> list[tuple[str, str, str]] | None:
    record = os.path.join(dist_info, "RECORD")
    try:
        with open(record, "rb") as f:
            data = f.read(MAX_METADATA_SIZE + 1)
    except OSError:
        return None
    if len(data) > MAX_METADATA_SIZE:
        raise InstallRefused([f"{record} is larger than {MAX_METADATA_SIZE} bytes (a limit of hatch-pyc)"])
    return records.parse(record, data.decode("utf-8", errors="replace"))


def _listed_by_others(places: Places, own_info: str) -> set[str]:
    """Every file another installed distribution's RECORD lists, as real paths."""
    listed: set[str] = set()
    for site in places.sites:
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            other = posixpath.join(site, name)
            if not name.endswith(".dist-info") or real_path(other) == own_info:
                continue
            with contextlib.suppress(HatchPycError):
                listed.update(real_path(os.path.join(site, row)) for row, _, _ in _record_rows(other) or [])
    return listed


def _environment_file(file: str, places: Places) -> bool:
    directory, name = posixpath.split(file)
    if directory == places.schemes.get("scripts"):
        return name.startswith(_ENVIRONMENT_SCRIPTS)
    return directory == places.schemes.get("data") and name in _ENVIRONMENT_FILES


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
        if not SCRIPT_NAME.match(script):
            raise BadArtifact(f"{artifact.path}: the entry point name {printable(script)!r} is not a plain file name")
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
        pycache = {}
        data_dir = artifact.data_dir + "/"
        for name in artifact.names:
            directory, base = posixpath.split(name)
            match = CACHED_PYC.match(base)
            in_pycache = posixpath.basename(directory) == "__pycache__"
            if in_pycache and not name.startswith(data_dir) and match and match["tag"] == target_tag:
                pycache[name] = artifact.read(name)
        paths = dict(scheme["paths"])
        paths["headers"] = os.path.join(scheme["include"], artifact.name)
        previous = None
        if other is not None:
            if not reinstall or not other.endswith(".dist-info"):
                how = "--reinstall replaces it" if other.endswith(".dist-info") else "uninstall it first"
                raise InstallRefused([f"{artifact.name} is installed already ({other}); {how}"])
            previous = _Previous(other, paths, replaced or [])
        # pypa/installer writes no other file under a __pycache__ directory.
        written = [n for n in artifact.names if "__pycache__" not in n.split("/")[:-1] or n in pycache]
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
        with WheelFile.open(Path(path)) as source, warnings.catch_warnings():
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
