"""The sources ``verify`` compiles again: sdists and directories, and where in them each module's source is.

A module's source is decided as a build maps files to modules: each top-level name of the
artifact (``demo``, ``tool.py``) comes from one directory of one source, its root
(:meth:`SourceTree.root`), and each of its modules from exactly ``<root>/<its path>``; no other
file that happens to end in the same path (``examples/legacy/demo/core.py``) is a candidate.
The roots a project's build configuration declares (``pyproject.toml``, ``setup.cfg``) come
first, then the conventional ones (the project's directory and its ``src/``): a second copy of
the package elsewhere in the sdist (``tests/fixtures/demo/``) is never its root, however many
modules it holds.

An sdist is as untrusted as the artifact it verifies: it is unpacked under hatch-pyc's limits,
regular files and directories only, never a link, an absolute name or a ``..``.
"""

from __future__ import annotations

import configparser
import importlib
import os
import posixpath
import stat
import sys
import tarfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hatch_pyc.build import scripts
from hatch_pyc.core.errors import HatchPycError, VerifyError, printable
from hatch_pyc.core.limits import (
    MAX_ENTRIES,
    MAX_ENTRY_SIZE,
    MAX_METADATA_SIZE,
    MAX_SDIST_PARTS,
    MAX_TAR_GLOBAL_SIZE,
    MAX_TAR_HEADER_CHAIN,
    MAX_TAR_HEADER_SIZE,
    MAX_TOTAL_SIZE,
    LimitExceeded,
    name_over_limits,
)
from hatch_pyc.wheel import wheelfile


@dataclass(frozen=True)
class SourceRoot:
    """The directory of one source that a top-level name's modules come from."""

    #: Which source, in the order they were added.
    source: int
    #: Its path in that source, ``""`` or ending in ``/``: ``demo_pkg-0.1.0/src/``.
    prefix: str
    #: Its name in messages: ``demo_pkg-0.1.0.tar.gz!demo_pkg-0.1.0/src/``.
    display: str


class SourceTree:
    """The files of the sdists and directories given, for finding a module's source."""

    def __init__(self, scratch: str) -> None:
        self._scratch = scratch
        #: Each source's name in messages, in the order added.
        self._labels: list[str] = []
        #: ``{file name: [(source, path relative to its root, name in messages, file on disk)]}``.
        self._by_name: dict[str, list[tuple[int, str, str, str]]] = {}
        #: ``{(source, path relative to its root): (name in messages, file on disk)}``.
        self._files: dict[tuple[int, str], tuple[str, str]] = {}
        #: The roots each project's build configuration declares, then the conventional ones:
        #: ``(source, prefix)``, as :attr:`SourceRoot.prefix`.
        self._declared: set[tuple[int, str]] = set()
        self._conventional: set[tuple[int, str]] = set()

    def add(self, source: str) -> None:
        number = len(os.listdir(self._scratch))
        if os.path.isdir(source):
            root, label = source, source.rstrip("/") + "/"
        elif os.path.isfile(source) and source.endswith((".tar.gz", ".tgz", ".tar")):
            root, label = _unpack(source, os.path.join(self._scratch, str(number))), f"{os.path.basename(source)}!"
        else:
            raise VerifyError(f"{source}: not an sdist (.tar.gz) or a directory of sources")
        index = len(self._labels)
        self._labels.append(label)
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = sorted(d for d in subdirectories if d not in (".git", "__pycache__"))
            for name in files:
                file = os.path.join(directory, name)
                relative = os.path.relpath(file, root).replace(os.sep, "/")
                self._by_name.setdefault(name, []).append((index, relative, label + relative, file))
                self._files[(index, relative)] = (label + relative, file)
        for base in self._projects(index):
            self._conventional.update({(index, base), (index, base + "src/")})
            self._declared.update((index, base + root) for root in _declared_roots(self._files, index, base))

    def _projects(self, index: int) -> list[str]:
        """The directories of source ``index`` that hold a project (its ``pyproject.toml``,
        ``setup.cfg``, ``setup.py`` or ``PKG-INFO``): the source's own, or else its top-level
        ones (an sdist's ``demo_pkg-0.1.0/``); ``""`` or ending in ``/``. A project deeper
        down (``tests/fixtures/other/pyproject.toml``) is test data, not what the sdist builds."""
        if any((index, name) in self._files for name in _PROJECT_FILES):
            return [""]
        return sorted(
            {
                relative[: len(relative) - len(name)]
                for name in _PROJECT_FILES
                for source, relative, _, _ in self._by_name.get(name, [])
                if source == index and relative.count("/") == 1
            }
        )

    def distributions(self) -> list[tuple[str, str] | None]:
        """Each source's project as its ``PKG-INFO`` names it, ``(Name, Version)``, in the order
        added; None for a source that holds no one project with a ``PKG-INFO`` that says so (a
        checkout, several projects, a file past :data:`~hatch_pyc.core.limits.MAX_METADATA_SIZE`)."""
        found: list[tuple[str, str] | None] = []
        for index in range(len(self._labels)):
            bases = self._projects(index)
            entry = self._files.get((index, bases[0] + "PKG-INFO")) if len(bases) == 1 else None
            found.append(_pkg_info(entry[1]) if entry is not None else None)
        return found

    def root(self, paths: Iterable[str]) -> SourceRoot | None:
        """Where the modules ``paths`` of one top-level name (``demo/__init__.py``,
        ``demo/core.py``...) come from, as the project's build maps files to modules. Of the
        directories ``<root>`` of every source such that ``<root>/<path>`` is a file for some of
        them, the first kind that holds any:

        1. the roots a project's build configuration declares (hatchling's ``packages``,
           ``sources`` and ``only-include``, setuptools' ``package-dir`` and ``where``...);
        2. the conventional ones: a project's directory and its ``src/``;
        3. any directory;

        and of those the one where most are, of those the shortest (then the first source
        given, then the first by name); None where none is. A copy of the package elsewhere in
        the sdist (``tests/fixtures/demo/``, one module more) is not its root.

        A build maps one directory to a top-level name, never a file here and another there: a
        module found only under another root has no source.
        """
        counts: Counter[tuple[int, str]] = Counter()
        for path in set(paths):
            for source, relative, _, _ in self._by_name.get(posixpath.basename(path), []):
                if relative == path or relative.endswith("/" + path):
                    counts[(source, relative[: len(relative) - len(path)])] += 1
        if not counts:
            return None
        found = next(
            (kind for kind in (self._declared, self._conventional) if not kind.isdisjoint(counts)),
            set(counts),
        )
        (source, prefix), _ = min(
            ((root, count) for root, count in counts.items() if root in found),
            key=lambda item: (-item[1], len(item[0][1]), item[0]),
        )
        return SourceRoot(source, prefix, self._labels[source] + prefix)

    def at(self, root: SourceRoot, path: str) -> tuple[str, str] | None:
        """``(name in messages, file on disk)`` of ``<root>/<path>``, or None when it is not there."""
        return self._files.get((root.source, root.prefix + path))

    def scripts(self, module: str) -> tuple[str | None, list[tuple[str, str]]]:
        """The name of the script whose code is compiled as ``module``
        (``_hatch_pyc_scripts.demo_pkg.demo_script``), and the Python scripts of that name,
        as the wheel carries them (``#!python``)."""
        distribution = module.split(".")[1] if module.count(".") == 2 else ""
        names = sorted(name for name in self._by_name if scripts.module_name(distribution, name) == module)
        if not names:
            return None, []
        found = []
        # Two names of one module (demo-script, demo_script) would have been refused at build.
        for _, _, display, file in sorted(self._by_name[names[0]], key=lambda found: (len(found[1]), found[2])):
            with open(file, "rb") as f:
                data = f.read(MAX_ENTRY_SIZE)
            if scripts.python_shebang(data) is None:
                continue
            as_shipped = os.path.join(self._scratch, f"script-{len(os.listdir(self._scratch))}")
            with open(as_shipped, "wb") as out:
                out.write(scripts.as_in_wheel(data))
            found.append((display, as_shipped))
        return names[0], found


#: The files that make a directory a project's: what a build reads.
_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "PKG-INFO")

# tomllib from Python 3.11; before, tomli, which hatchling requires there.
_toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")


def _pkg_info(file: str) -> tuple[str, str] | None:
    """``(Name, Version)`` of the ``PKG-INFO`` at ``file``; None where it does not say both."""
    try:
        with open(file, "rb") as f:
            data = f.read(MAX_METADATA_SIZE + 1)
        if len(data) > MAX_METADATA_SIZE:
            return None
        headers = wheelfile.metadata_headers(data.decode("utf-8"))
    except (OSError, ValueError, HatchPycError):
        return None
    name, version = headers.get("Name"), headers.get("Version")
    return (str(name).strip(), str(version).strip()) if name and version else None


def _declared_roots(files: dict[tuple[int, str], tuple[str, str]], index: int, base: str) -> list[str]:
    """The roots that the project at ``base`` of source ``index`` declares, relative to it
    (``""`` or ending in ``/``): where its ``pyproject.toml`` or ``setup.cfg`` says its build
    takes modules from. A file that cannot be read declares none."""
    found: list[str] = []
    for name, read in (("pyproject.toml", _pyproject_roots), ("setup.cfg", _setup_cfg_roots)):
        entry = files.get((index, base + name))
        if entry is None:
            continue
        try:
            with open(entry[1], "rb") as f:
                data = f.read(MAX_ENTRY_SIZE + 1)
            if len(data) > MAX_ENTRY_SIZE:
                continue
            found += read(data.decode("utf-8"))
        except (OSError, ValueError, RecursionError, configparser.Error):
            continue  # tomllib's errors and UnicodeDecodeError are ValueErrors; nesting too deep, RecursionError
    roots = []
    for directory in found:
        normal = posixpath.normpath(directory.strip()) if directory.strip() else "."
        if normal.startswith(("/", "../")) or normal == ".." or "\\" in normal:
            continue
        roots.append("" if normal == "." else normal + "/")
    return roots


def _table(data: object, *keys: str) -> dict[str, Any]:
    """``data[key][key]...``, or ``{}`` where one is missing or not a table."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _strings(value: object) -> list[str]:
    """The strings of a TOML list (or a single string), none of anything else."""
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _mapped_roots(rewrites: Iterable[tuple[str, str]]) -> list[str]:
    """The roots of a build rewriting each ``<directory>/...`` to ``<path>/...`` (hatchling's
    ``sources``; setuptools' ``package_dir``, ``{"": "lib"}`` or ``{"demo": "lib/demo"}``, both
    ``lib``): ``directory`` without ``path`` at its end. A rewrite that renames
    (``{"demo": "code"}``) has no root: no directory holds the modules as they are named."""
    roots = []
    for directory, path in rewrites:
        directory, path = directory.strip().strip("/"), path.strip().strip("/")
        if not path:
            roots.append(directory or ".")
        elif directory == path:
            roots.append(".")
        elif directory.endswith("/" + path):
            roots.append(directory[: -len(path)])
    return roots


def _pyproject_roots(text: str) -> list[str]:
    """The roots a ``pyproject.toml`` declares: hatchling's ``packages``, ``sources`` and
    ``only-include`` (of the wheel target or every target), setuptools' ``package-dir``,
    ``packages`` and ``packages.find.where``, pdm's ``package-dir``, poetry's ``from``."""
    data = _toml.loads(text)
    roots: list[str] = []
    hatch = _table(data, "tool", "hatch", "build")
    rewrites = False
    only_include = False
    for table in (_table(hatch, "targets", "wheel"), hatch):
        for package in _strings(table.get("packages")):
            roots.append(posixpath.dirname(package.strip().rstrip("/")) or ".")
            rewrites = True
        sources = table.get("sources")
        if isinstance(sources, dict):
            roots += _mapped_roots((key, value) for key, value in sources.items() if isinstance(value, str))
            rewrites = rewrites or bool(sources)
        else:
            roots += _strings(sources)
            rewrites = rewrites or bool(_strings(sources))
        only_include = only_include or bool(_strings(table.get("only-include")))
    if only_include and not rewrites:
        roots.append(".")  # files go in as they are in the project: it is the root
    setuptools = _table(data, "tool", "setuptools")
    package_dir = _table(setuptools, "package-dir")
    roots += _mapped_roots(
        (value, key.replace(".", "/")) for key, value in package_dir.items() if isinstance(value, str)
    )
    find = _table(setuptools, "packages", "find")
    if find:
        roots += _strings(find.get("where")) or ["."]
    elif (setuptools.get("packages") or setuptools.get("py-modules")) and "" not in package_dir:
        roots.append(".")
    roots += _strings(_table(data, "tool", "pdm", "build").get("package-dir"))
    for package in _table(data, "tool", "poetry").get("packages") or []:
        if isinstance(package, dict):
            origin = package.get("from", ".")
            roots += _strings(origin)
    return roots


def _setup_cfg_roots(text: str) -> list[str]:
    """The roots a ``setup.cfg`` declares: ``[options] package_dir`` and
    ``[options.packages.find] where``."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    roots: list[str] = []
    package_dir: dict[str, str] = {}
    for line in parser.get("options", "package_dir", fallback="").splitlines():
        if "=" in line:
            package, directory = line.split("=", 1)
            package_dir[package.strip()] = directory.strip()
    roots += _mapped_roots((value, key.replace(".", "/")) for key, value in package_dir.items())
    if parser.has_section("options.packages.find"):
        roots += parser.get("options.packages.find", "where", fallback=".").split() or ["."]
    elif parser.get("options", "packages", fallback="").strip() and "" not in package_dir:
        roots.append(".")
    return roots


def _unpack(sdist: str, scratch: str) -> str:
    """Unpack the regular files and directories of ``sdist`` into ``scratch``, under
    hatch-pyc's limits (no links, devices, absolute or ``..`` names); return the directory."""
    os.makedirs(scratch)
    total = walked = 0
    try:
        with tarfile.open(sdist, "r:" if sdist.endswith(".tar") else "r:gz", tarinfo=_BoundedInfo) as archive:
            for count, member in enumerate(_members(archive), 1):
                if count > MAX_ENTRIES:
                    raise LimitExceeded(f"{sdist}: more than {MAX_ENTRIES} entries (a limit of hatch-pyc)")
                name = member.name.removeprefix("./")
                too_long = name_over_limits(name)
                if too_long is not None:
                    shown = printable(name[:200]) + ("..." if len(name) > 200 else "")
                    raise LimitExceeded(f"{sdist}: member '{shown}' is too long: {too_long}")
                parts = name.split("/")
                walked += len(parts)
                if walked > MAX_SDIST_PARTS:
                    raise LimitExceeded(
                        f"{sdist}: more than {MAX_SDIST_PARTS} name parts in all its members (a limit of hatch-pyc)"
                    )
                if name.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in name:
                    raise VerifyError(f"{sdist}: unsafe member name {printable(name)}")
                if not (member.isreg() or member.isdir()):
                    continue  # links and devices: no module is one
                total += member.size
                if member.size > MAX_ENTRY_SIZE or total > MAX_TOTAL_SIZE:
                    raise LimitExceeded(f"{sdist}: more than hatch-pyc reads of an sdist ({printable(name)})")
                target = os.path.join(scratch, *parts)
                if member.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                stream = archive.extractfile(member)
                if stream is None:
                    continue
                with stream, open(target, "wb") as out:
                    while chunk := stream.read(1024 * 1024):
                        out.write(chunk)
                os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
    except _Refused as exc:
        if exc.limit:
            raise LimitExceeded(f"{sdist}: {exc} (a limit of hatch-pyc)") from None
        raise VerifyError(f"{sdist}: {exc}") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise VerifyError(f"{sdist}: not a readable sdist ({reason})") from None
    return scratch


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := archive.next()) is not None:
        yield member
        # tarfile keeps every member it read, names and PAX headers with it: 60,000 of them
        # took half a gigabyte. Nothing here looks one up again.
        archive.members.clear()  # type: ignore[attr-defined]  # tarfile.TarFile.members, not in typeshed


#: Headers whose content tarfile reads whole before the member they describe: GNU long names
#: and long link names, PAX extended and global headers (and Solaris's).
_EXTENDED = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _Refused(Exception):
    """An extended header past a limit, or a sparse member: what :func:`_unpack` says, with the sdist's name."""

    def __init__(self, message: str, limit: bool = True) -> None:
        super().__init__(message)
        self.limit = limit


class _BoundedInfo(tarfile.TarInfo):
    """A member header, read as tarfile reads it, after its extended headers are checked
    against the limits: tarfile reads each whole, and holds it while it reads the next."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        #: Extended headers since the last member, and bytes of global ones so far.
        state = vars(archive).setdefault("_hatch_pyc_extended", [0, 0])
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _Refused("a GNU sparse member, which no sdist holds", limit=False)
        if self.type not in _EXTENDED:
            state[0] = 0
            return super()._proc_member(archive)  # type: ignore[misc, no-any-return]
        state[0] += 1
        if self.size > MAX_TAR_HEADER_SIZE:
            raise _Refused(f"an extended tar header of {self.size} bytes, more than {MAX_TAR_HEADER_SIZE}")
        if state[0] > MAX_TAR_HEADER_CHAIN:
            raise _Refused(f"more than {MAX_TAR_HEADER_CHAIN} extended tar headers before one member")
        if self.type == tarfile.XGLTYPE:
            state[1] += self.size
            if state[1] > MAX_TAR_GLOBAL_SIZE:
                raise _Refused(f"more than {MAX_TAR_GLOBAL_SIZE} bytes of global tar headers")
        return super()._proc_member(archive)  # type: ignore[misc, no-any-return]

    def _proc_gnusparse_00(self, *args: object) -> None:
        raise _Refused("a member stored sparse (PAX GNU.sparse), which no sdist holds", limit=False)

    _proc_gnusparse_01 = _proc_gnusparse_10 = _proc_gnusparse_00
