"""The sources ``verify`` compiles again: sdists and directories, and where in them each module's source is.

A module's source is decided as a build maps files to modules: each top-level name of the
artifact (``demo``, ``tool.py``) comes from one directory of one source, its root
(:meth:`SourceTree.root`), and each of its modules from exactly ``<root>/<its path>``; no other
file that happens to end in the same path (``examples/legacy/demo/core.py``) is a candidate.

An sdist is as untrusted as the artifact it verifies: it is unpacked under hatch-pyc's limits,
regular files and directories only, never a link, an absolute name or a ``..``.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hatch_pyc.build import scripts
from hatch_pyc.core.errors import VerifyError, printable
from hatch_pyc.core.limits import (
    MAX_ENTRIES,
    MAX_ENTRY_SIZE,
    MAX_TAR_GLOBAL_SIZE,
    MAX_TAR_HEADER_CHAIN,
    MAX_TAR_HEADER_SIZE,
    MAX_TOTAL_SIZE,
    LimitExceeded,
    name_over_limits,
)


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

    def root(self, paths: Iterable[str]) -> SourceRoot | None:
        """Where the modules ``paths`` of one top-level name (``demo/__init__.py``,
        ``demo/core.py``...) come from: of the directories ``<root>`` of every source such that
        ``<root>/<path>`` is a file for some of them, the one where most are, of those the
        shortest (then the first source given, then the first by name); None where none is.

        A build maps one directory to a top-level name (hatchling's ``packages``, setuptools'
        ``package_dir``), never a file here and another there: a module found only under
        another root has no source.
        """
        counts: Counter[tuple[int, str]] = Counter()
        for path in set(paths):
            for source, relative, _, _ in self._by_name.get(posixpath.basename(path), []):
                if relative == path or relative.endswith("/" + path):
                    counts[(source, relative[: len(relative) - len(path)])] += 1
        if not counts:
            return None
        (source, prefix), _ = min(counts.items(), key=lambda item: (-item[1], len(item[0][1]), item[0]))
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


def _unpack(sdist: str, scratch: str) -> str:
    """Unpack the regular files and directories of ``sdist`` into ``scratch``, under
    hatch-pyc's limits (no links, devices, absolute or ``..`` names); return the directory."""
    os.makedirs(scratch)
    total = 0
    try:
        with tarfile.open(sdist, "r:" if sdist.endswith(".tar") else "r:gz", tarinfo=_BoundedInfo) as archive:
            for count, member in enumerate(_members(archive), 1):
                if count > MAX_ENTRIES:
                    raise LimitExceeded(f"{sdist}: more than {MAX_ENTRIES} entries (a limit of hatch-pyc)")
                name = member.name.removeprefix("./")
                too_long = name_over_limits(name)
                if too_long is not None:
                    shown = printable(name[:200]) + ("..." if len(name) > 200 else "")
                    raise LimitExceeded(f"{sdist}: member '{shown}' has {too_long}")
                parts = name.split("/")
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
