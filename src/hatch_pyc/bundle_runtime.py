"""Runs inside the ``.pyz`` bundles that hold native code, or packages that must run from
files on disk, as their ``_hatch_pyc_runtime`` module: no zip importer can load an extension
module, so those are extracted to a directory and loaded from there, with the packages the
bundle names, which are imported from that directory as from site-packages. Every other
Python module still loads as a pyc from the archive.

The directory is ``<user cache dir>/hatch-pyc/pyz/<hash>``, ``<hash>`` being that of the
extracted files (their paths and SHA-256): two bundles with the same native code share one
directory, and no bundle finds other files under its name. Each top-level name in it (a
package, a module's file, a ``.libs`` directory of shared libraries) is extracted at the
first import that needs it: its files are written into a directory inside, checked against
the SHA-256 the bundle records, and renamed into place, so a top-level name there is whole
and checked. Two first starts at once both write; one rename wins and both use the winner's.
A later start checks, before it loads anything, that the directory is a directory of the
user's own that no one else can write to, and that each file under the names it needs is
there at its recorded size, through no link; where not, it extracts that name again.
A check of the final directory alone could be raced:
whoever can write a directory above it can swap it between the check and the load. So
``hatch-pyc`` and ``hatch-pyc/pyz`` must be the user's own, closed to others and no links,
and every directory above them the user's or root's, and not open to everyone without the
sticky bit of ``/tmp``; where not (a cache root shared with others), the files go to a
private directory as below. (Hashing every file at every start would cost more than the start: 20
ms for pydantic-core's 5 MB without OpenSSL, 12 ms to import ``hashlib`` with it.) Where the
cache directory cannot be written (read-only, no home), the files go to a private temporary
directory, removed at exit, and one line on stderr says so.

Standard library only, in the syntax of the oldest target (3.8): it is compiled for
whichever interpreter the bundle is for. hatch-pyc itself imports it for
:func:`user_cache_dir` and to test it.
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

#: Where bundles extract their native code, under :func:`user_cache_dir`.
EXTRACTED = "pyz"


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


class ExtensionFinder:
    """A meta path finder for the bundle's extension modules and the packages that run from
    files, each top-level name extracted at the first import of one of its modules: a start
    that imports none extracts nothing, and one that imports one package extracts that one."""

    def __init__(
        self,
        label: str,
        read: Callable[[str], bytes],
        cache: str,
        digest: str,
        files: Mapping[str, tuple[int, str]],
        modules: Mapping[str, str],
        packages: Sequence[str] = (),
    ) -> None:
        #: The bundle's file name, for the warning line.
        self._label = label
        #: Reads an entry of the bundle.
        self._read = read
        self._shared = os.path.join(cache, digest)
        #: ``{path in the bundle: (size, SHA-256 hex)}`` of every file to extract.
        self._files = files
        #: ``{module name: path in the bundle}`` of the extension modules.
        self._modules = modules
        #: Top-level packages imported from the extracted files, with all their modules.
        self._packages = frozenset(packages)
        #: Top-level names checked or extracted by this process.
        self._ready: set[str] = set()
        #: The private directory holding every file, once the shared one failed.
        self._private: str | None = None

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        member = self._modules.get(fullname)
        if member is None and fullname not in self._packages:
            return None
        root = self._extracted(member.split("/")[0] if member is not None else fullname)
        if member is None:  # a package that runs from its files, found there as when installed
            return PathFinder.find_spec(fullname, [root])
        file = os.path.join(root, *member.split("/"))
        return spec_from_file_location(fullname, file, loader=ExtensionFileLoader(fullname, file))

    def _needed(self, top: str) -> set[str]:
        """``top`` and, if it holds native code, the shared libraries auditwheel and delocate put
        beside the packages (``<name>.libs``, found through ``$ORIGIN/../<name>.libs``)."""
        if not any(member.split("/")[0] == top for member in self._modules.values()):
            return {top}
        libraries = {member.split("/")[0] for member in self._files}
        return {top} | {name for name in libraries if name.endswith((".libs", ".dylibs"))}

    def _extracted(self, top: str) -> str:
        """The directory holding ``top``'s files, checked: the shared one, else a private one."""
        if self._private is not None:
            return self._private
        try:
            for name in sorted(self._needed(top) - self._ready):
                if not self._ready:
                    _prepare(os.path.dirname(self._shared))
                    self._own_root()
                if not self._intact(self._shared, name):
                    self._publish(name)
                self._ready.add(name)
            return self._shared
        except OSError as exc:
            import atexit
            import shutil
            import tempfile

            private = tempfile.mkdtemp(prefix="hatch-pyc-pyz-")
            atexit.register(shutil.rmtree, private, True)
            self._write(private)
            self._private = private
            reason = exc.strerror or str(exc)
            sys.stderr.write(
                f"{self._label}: warning: cannot extract its extension modules to {self._shared} ({reason}); "
                f"extracted to {private} for this run only\n"
            )
            return private

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

    def _intact(self, directory: str, top: str) -> bool:
        """Whether ``directory`` holds every file under ``top``, at its recorded size, through
        directories and no link."""
        for member, (size, _) in self._files.items():
            parts = member.split("/")
            if parts[0] != top:
                continue
            try:
                # lstat of each directory on the way: a link planted inside is not followed.
                inside = [os.lstat(os.path.join(directory, *parts[:depth])) for depth in range(1, len(parts))]
                entry = os.lstat(os.path.join(directory, *parts))
            except OSError:
                return False
            if not all(stat.S_ISDIR(found.st_mode) for found in inside):
                return False
            if not stat.S_ISREG(entry.st_mode) or entry.st_size != size:
                return False
        return True

    def _publish(self, top: str) -> None:
        """Write ``top``'s files beside its place in the shared directory and rename them into
        place: a top-level name there is whole and checked."""
        import shutil
        import tempfile

        partial = tempfile.mkdtemp(prefix=".partial-", dir=self._shared)
        try:
            self._write(partial, top)
            final = os.path.join(self._shared, top)
            try:
                os.rename(os.path.join(partial, top), final)
            except OSError:
                # Another first start renamed its copy first; or a damaged copy is in the way.
                if self._intact(self._shared, top):
                    return
                _set_aside(final)
                os.rename(os.path.join(partial, top), final)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _write(self, directory: str, top: str | None = None) -> None:
        """Write the files under ``top`` (default: all) into ``directory``, each checked
        against its recorded SHA-256."""
        import hashlib

        for member, (size, digest) in sorted(self._files.items()):
            if top is not None and member.split("/")[0] != top:
                continue
            data = self._read(member)
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                raise ImportError(f"{self._label}: {member} does not match the hash the bundle records")
            file = os.path.join(directory, *member.split("/"))
            os.makedirs(os.path.dirname(file), mode=0o700, exist_ok=True)
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
            with open(file, "rb") as written:
                if hashlib.sha256(written.read()).hexdigest() != digest:
                    raise OSError(f"{file} was not written whole")


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
    files: Mapping[str, tuple[int, str]],
    modules: Mapping[str, str],
    packages: Sequence[str] = (),
) -> None:
    """Put the finder for the bundle's extension modules, and its ``packages`` that run from
    files on disk, first on ``sys.meta_path``.

    Called by the bundle's ``__main__``; this module's loader is the bundle's zip importer.
    """
    archive = __loader__  # type: ignore[name-defined]  # set by the import system

    def read(member: str) -> bytes:
        data: bytes = archive.get_data(member.replace("/", os.sep))
        return data

    cache = os.path.join(user_cache_dir(), EXTRACTED)
    sys.meta_path.insert(0, ExtensionFinder(label, read, cache, digest, files, modules, packages))
