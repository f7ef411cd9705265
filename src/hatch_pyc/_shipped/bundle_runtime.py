"""Runs inside the ``.pyz`` bundles as their ``_hatch_pyc_runtime`` module: what a bundle runs
from files is extracted to a directory and imported from there, as from site-packages. That
is, by default (``run-from = "cache"``), every top-level package and module; with ``"archive"``,
the packages with native code (no zip importer can load an extension module) and those that
read files beside ``__file__``, every other module loading as a pyc from the archive itself.

Run from files, a warm start reads each pyc as an installed package does, where from the
archive it inflates it again at every start (cookiecutter: 192 against 171 ms, installed 164).

The directory is ``<user cache dir>/hatch-pyc/pyz/<hash>``, ``<hash>`` being that of the
extracted files (their paths, sizes and SHA-256): two bundles with the same files share one
directory, and no bundle finds other files under its name. Each group in it (a top-level
package or module, a ``.libs`` directory of shared libraries) is extracted at the first
import that needs it: its files are written into a directory inside, checked against the
SHA-256 the bundle records for the group, and renamed into place, so a group there is whole
and checked. Two first starts at once both write; one rename wins and both use the winner's.
A later start checks, before it loads anything, that the directory is a directory of the
user's own that no one else can write to, and that each file of the groups it needs is
there at its recorded size, through no link; where not, it extracts that group again.
A check of the final directory alone could be raced:
whoever can write a directory above it can swap it between the check and the load. So
``hatch-pyc`` and ``hatch-pyc/pyz`` must be the user's own, closed to others and no links,
and every directory above them the user's or root's, and not open to everyone without the
sticky bit of ``/tmp``. (Hashing every file at every start would cost more than the start:
20 ms for pydantic-core's 5 MB without OpenSSL, 12 ms to import ``hashlib`` with it.) Where
the cache directory cannot be used (read-only, no home, shared with others), pure-Python
packages load from the archive, and the ones that cannot go to a private temporary
directory, removed at exit, with one line on stderr saying so.

Standard library only, in the syntax of the oldest target (3.8): it is compiled for
whichever interpreter the bundle is for. hatch-pyc itself imports it for
:func:`user_cache_dir`, for the groups' hash, and to test it.
"""

from __future__ import annotations

import os
import stat
import sys

try:  # what importlib.machinery and importlib.util hold, from the modules already loaded
    from _frozen_importlib_external import ExtensionFileLoader, PathFinder, spec_from_file_location
except ImportError:  # pragma: no cover - an interpreter without the frozen modules
    from importlib.machinery import ExtensionFileLoader, PathFinder
    from importlib.util import spec_from_file_location

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any

#: Where bundles extract what they run from files, under :func:`user_cache_dir`.
EXTRACTED = "pyz"

# The bundle's contract: the names of hatch-pyc's own modules in a bundle, which ``bundle``
# ships, ``check`` and ``verify`` recognise.
#: The bundle's module that extracts what the bundle runs from files, and loads it.
RUNTIME_MODULE = "_hatch_pyc_runtime"
#: The module of every bundle that answers importlib.metadata.
INDEX_MODULE = "_hatch_pyc_index"
#: The module of the bundles that import packages from the archive, which answers
#: importlib.resources for them.
RESOURCES_MODULE = "_hatch_pyc_resources"
#: The level those compile at, whatever the options: without their docstrings, which are
#: for their maintainers (a fifth of their size).
OWN_MODULES_OPTIMIZE = 2


def user_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """The platform's per-user cache directory for hatch-pyc.

    Written out here (the conventions of platformdirs) because a build hook's dependencies
    are installed into every build environment of its users, and a bundle has only the
    standard library.
    """
    environ = os.environ if environ is None else environ
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "hatch-pyc", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "hatch-pyc")
    return os.path.join(environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "hatch-pyc")


def group_of(path: str) -> str:
    """The top-level name a file of the bundle is extracted with: its first directory, or
    the name of a module at the top (``six.pyc``: ``six``; ``_cffi_backend.cpython-311-...so``:
    ``_cffi_backend``)."""
    head, separator, _ = path.partition("/")
    return head if separator else head.split(".")[0]


def parse_files(text: str) -> list[tuple[str, int]]:
    """A group's files as the bootstrap lists them: ``size path`` lines, sorted by path."""
    found = []
    for line in text.split("\n"):
        size, _, path = line.partition(" ")
        found.append((path, int(size)))
    return found


def group_hash(path: str, size: int, hasher: Any) -> None:
    """Start one file of a group in ``hasher`` (a SHA-256 taken over the group's files in
    order): its path and size, which the caller follows with its bytes, so that no two
    groups hash alike."""
    hasher.update(f"{path}\n{size}\n".encode())


class ExtractedFinder:
    """A meta path finder for what the bundle runs from files: its extension modules, the
    packages that must run from files on disk (``needed``) and, in a bundle that runs from
    the cache, every other top-level package and module, each group extracted at the first
    import of one of its modules: a start that imports none extracts nothing, and one that
    imports one package extracts that one. Where the cache cannot be written, a group that
    is not ``needed`` is left to the bundle's zip importer, and the ``needed`` ones go to a
    private temporary directory."""

    def __init__(
        self,
        label: str,
        read: Callable[[str], bytes],
        cache: str,
        digest: str,
        groups: Mapping[str, tuple[str, str]],
        modules: Mapping[str, str],
        needed: Sequence[str] = (),
    ) -> None:
        #: The bundle's file name, for the warning line.
        self._label = label
        #: Reads an entry of the bundle.
        self._read = read
        self._shared = os.path.join(cache, digest)
        #: ``{group: (SHA-256 hex of its files, its size and path lines)}``.
        self._groups = groups
        #: ``{module name: path in the bundle}`` of the extension modules.
        self._modules = modules
        self._native = frozenset(group_of(member) for member in modules.values())
        #: The shared libraries auditwheel and delocate put beside the packages (``<name>.libs``,
        #: found through ``$ORIGIN/../<name>.libs``).
        self._libraries = frozenset(group for group in groups if group.endswith((".libs", ".dylibs")))
        #: Groups that cannot run from the archive: native code, the shared libraries beside
        #: it, and packages that read files beside ``__file__`` or hold native code.
        self._needed = frozenset(needed) | self._native | self._libraries
        #: ``{group: [(path, size)]}``, parsed at a group's first use.
        self._files: dict[str, list[tuple[str, int]]] = {}
        #: Groups checked or extracted by this process.
        self._ready: set[str] = set()
        #: Why the shared directory cannot be used, once it could not.
        self._failed: OSError | None = None
        #: The private directory holding every needed group, once the shared one failed.
        self._private: str | None = None

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        member = self._modules.get(fullname)
        group = group_of(member) if member is not None else fullname
        if group not in self._groups:
            return None
        root = self._extracted(group)
        if root is None:  # left to the zip importer: the cache cannot be written
            return None
        if member is None:  # found among the extracted files as in site-packages
            return PathFinder.find_spec(fullname, [root])
        file = os.path.join(root, *member.split("/"))
        return spec_from_file_location(fullname, file, loader=ExtensionFileLoader(fullname, file))

    def _listed(self, group: str) -> list[tuple[str, int]]:
        if group not in self._files:
            self._files[group] = parse_files(self._groups[group][1])
        return self._files[group]

    def _with_libraries(self, group: str) -> set[str]:
        """``group`` and, if it holds native code, the shared libraries."""
        return {group} | self._libraries if group in self._native else {group}

    def _extracted(self, group: str) -> str | None:
        """The directory holding ``group``'s files, checked: the shared one, else a private one
        for a needed group, else None."""
        if self._failed is None:
            try:
                for name in sorted(self._with_libraries(group) - self._ready):
                    if not self._ready:
                        _prepare(os.path.dirname(self._shared))
                        self._own_root()
                    if not self._intact(self._shared, name):
                        self._publish(name)
                    self._ready.add(name)
                return self._shared
            except OSError as exc:
                self._failed = exc
        if group not in self._needed:
            return None
        if self._private is None:
            import atexit
            import shutil
            import tempfile

            private = tempfile.mkdtemp(prefix="hatch-pyc-pyz-")
            atexit.register(shutil.rmtree, private, True)
            for name in sorted(self._needed & set(self._groups)):
                self._write(private, name)
            self._private = private
            reason = self._failed.strerror or str(self._failed)
            sys.stderr.write(
                f"{self._label}: warning: cannot extract its extension modules to {self._shared} ({reason}); "
                f"extracted to {private} for this run only\n"
            )
        return self._private

    def _own_root(self) -> None:
        """Make the shared directory if missing; replace it if it is not the user's own,
        closed to others, and no link."""
        try:
            found = os.lstat(self._shared)
        except FileNotFoundError:
            os.makedirs(self._shared, 0o700, exist_ok=True)
            found = os.lstat(self._shared)
        closed = stat.S_ISDIR(found.st_mode) and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if closed and (not hasattr(os, "getuid") or found.st_uid == os.getuid()):
            return
        _set_aside(self._shared)
        os.makedirs(self._shared, 0o700)

    def _intact(self, directory: str, group: str) -> bool:
        """Whether ``directory`` holds every file of ``group``, at its recorded size, through
        directories and no link."""
        checked: set[str] = set()
        for member, size in self._listed(group):
            parts = member.split("/")
            try:
                # lstat of each directory on the way: a link planted inside is not followed.
                for depth in range(1, len(parts)):
                    inside = "/".join(parts[:depth])
                    if inside not in checked:
                        if not stat.S_ISDIR(os.lstat(os.path.join(directory, *parts[:depth])).st_mode):
                            return False
                        checked.add(inside)
                entry = os.lstat(os.path.join(directory, *parts))
            except OSError:
                return False
            if not stat.S_ISREG(entry.st_mode) or entry.st_size != size:
                return False
        return True

    def _publish(self, group: str) -> None:
        """Write ``group``'s files beside their place in the shared directory and rename them
        into place: a group there is whole and checked."""
        import shutil
        import tempfile

        partial = tempfile.mkdtemp(prefix=".partial-", dir=self._shared)
        try:
            self._write(partial, group)
            for top in sorted({member.split("/")[0] for member, _ in self._listed(group)}):
                final = os.path.join(self._shared, top)
                try:
                    os.rename(os.path.join(partial, top), final)
                except OSError:
                    # Another first start renamed its copy first; or a damaged copy is in the way.
                    if self._intact(self._shared, group):
                        return
                    _set_aside(final)
                    os.rename(os.path.join(partial, top), final)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _write(self, directory: str, group: str) -> None:
        """Write ``group``'s files into ``directory``, checked against the SHA-256 the bundle
        records for the group before anything renames them into use."""
        import hashlib

        hasher = hashlib.sha256()
        made = set()  # a mkdir per file cost black's first start 5 ms
        for member, _ in self._listed(group):
            try:
                data = self._read(member)
            except OSError:
                raise ImportError(f"{self._label}: {member} is missing from the bundle") from None
            group_hash(member, len(data), hasher)
            hasher.update(data)
            file = os.path.join(directory, *member.split("/"))
            if os.path.dirname(file) not in made:
                os.makedirs(os.path.dirname(file), mode=0o700, exist_ok=True)
                made.add(os.path.dirname(file))
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                if os.fstat(descriptor).st_size != len(data):
                    raise OSError(f"{file} was not written whole")
        if hasher.hexdigest() != self._groups[group][0]:
            raise ImportError(f"{self._label}: {group}'s files do not match the SHA-256 the bundle records")


def _set_aside(path: str) -> None:
    """Move ``path`` (a damaged copy, a link, another user's directory) out of the way, into a
    directory beside it, and remove it."""
    import shutil
    import tempfile

    damaged = tempfile.mkdtemp(prefix=".damaged-", dir=os.path.dirname(path))
    os.rename(path, os.path.join(damaged, "old"))
    shutil.rmtree(damaged, ignore_errors=True)


def _prepare(cache: str) -> None:
    """Make ``cache`` (``.../hatch-pyc/pyz``) and its parent private if missing, and raise
    OSError saying why if anyone but the user could replace what is below them."""
    own = [os.path.dirname(cache), cache]
    for directory in own:
        os.makedirs(directory, 0o700, exist_ok=True)
    problem = untrusted_path(own)
    if problem is not None:
        raise OSError(problem)


def untrusted_path(inside: Sequence[str]) -> str | None:
    """Why another user could change what is in ``inside`` (a directory, then directories
    below it), or None. Each of them that exists must be a directory of the user's own,
    no link, that nobody else can write to; each directory above them must belong to the
    user or to root, and nobody else may write to it unless its sticky bit is set (``/tmp``).
    A directory its group can write to counts as closed when that group is the user's own
    private group (user private groups: a ``umask`` of 002), as Debian's ssh accepts it."""
    if not hasattr(os, "getuid"):  # Windows: no owners and modes to check here
        return None
    uid = os.getuid()
    for path in inside:
        try:
            found = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(found.st_mode) or not stat.S_ISDIR(found.st_mode):
            return f"{path} is a symbolic link or no directory"
        if found.st_uid != uid:
            return f"{path} belongs to user {found.st_uid}, not to you ({uid})"
        if _shared(found):
            return f"{path} is writable by group or others (mode {stat.S_IMODE(found.st_mode):o})"
    above = os.path.dirname(os.path.abspath(inside[0]))
    while True:
        found = os.stat(above)
        if found.st_uid not in (uid, 0):
            return f"{above}, above it, belongs to user {found.st_uid}, who could replace what is in it"
        if _shared(found) and not found.st_mode & stat.S_ISVTX:
            return f"{above}, above it, is writable by group or others (mode {stat.S_IMODE(found.st_mode):o})"
        if above == os.path.dirname(above):
            return None
        above = os.path.dirname(above)


def _shared(found: os.stat_result) -> bool:
    """Whether someone but the owner may write to what ``found`` describes."""
    if found.st_mode & stat.S_IWOTH:
        return True
    if not found.st_mode & stat.S_IWGRP:
        return False
    if found.st_gid != os.getgid():
        return True
    try:
        import grp
        import pwd

        members = set(grp.getgrgid(found.st_gid).gr_mem)
        return not members <= {pwd.getpwuid(os.getuid()).pw_name}
    except (ImportError, KeyError):
        return True


def install(
    label: str,
    digest: str,
    groups: Mapping[str, tuple[str, str]],
    modules: Mapping[str, str],
    needed: Sequence[str] = (),
) -> None:
    """Put the finder for what the bundle runs from files (:class:`ExtractedFinder`) on
    ``sys.meta_path``, ahead of ``PathFinder``.

    Called by the bundle's ``__main__``; this module's loader is the bundle's zip importer.
    """
    archive = __loader__  # type: ignore[name-defined]  # set by the import system

    def read(member: str) -> bytes:
        data: bytes = archive.get_data(member.replace("/", os.sep))
        return data

    cache = os.path.join(user_cache_dir(), EXTRACTED)
    # After the builtin and frozen importers, as site-packages comes after them when installed:
    # a bundled module named as one of theirs does not replace it.
    at = next((i for i, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
    sys.meta_path.insert(at, ExtractedFinder(label, read, cache, digest, groups, modules, needed))
