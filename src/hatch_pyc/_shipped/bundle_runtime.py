"""Runs inside the ``.pyz`` bundles as their ``_hatch_pyc_runtime`` module: what a bundle runs
from files is extracted to a directory and imported from there, as from site-packages. That
is, by default (``run-from = "cache"``), every top-level package and module; with ``"archive"``,
the packages with native code (no zip importer can load an extension module) and those that
read files beside ``__file__``, every other module loading as a pyc from the archive itself.

Run from files, a warm start reads each pyc as an installed package does, where from the
archive it inflates it again at every start (cookiecutter: 192 against 171 ms, installed 164).

The directory is ``<user cache dir>/hatch-pyc/pyz/<hash>`` (``$HATCH_PYC_BUNDLE_ROOT/<hash>``
where that is set: :func:`extraction_root`), ``<hash>`` being that of the
groups it extracts (:func:`extraction_digest`: their names and SHA-256, which cover each
file's path, size and bytes): two bundles with the same files share one directory, and no
bundle finds other files under its name (the runtime checks the name before it writes there,
``check`` requires it). Each group in it (a top-level package or module, a ``.libs``
directory of shared libraries) is extracted at the first import that needs it: its files
are written into a directory inside, checked against the SHA-256 the bundle records for the
group, flushed to disk, renamed into place, and marked done (an empty ``.done-<SHA-256>``,
written last), so a group there with its marker is whole, checked and on disk. Two first
starts at once both write; one rename wins and both use the winner's. A later start checks,
before it loads anything, that the directory is a directory of the user's own that no one
else can write to, that the group's marker is there, that each file of the groups it needs
is there at its recorded size, through no link, and (one listing per directory) that
nothing else is there that import could find, which it removes; where not, it extracts that
group again. Once checked, the directory goes on ``sys.path`` after the standard library, as
site-packages is, so that code mapping a file to its module name through ``sys.path`` finds
it (pylint's astroid); the entry finder there imports the bundle's own names only.
A check of the final directory alone could be raced:
whoever can write a directory above it can swap it between the check and the load. So
``hatch-pyc`` and ``hatch-pyc/pyz`` must be the user's own, closed to others and no links,
and every directory above them the user's or root's, and not open to everyone without the
sticky bit of ``/tmp`` (with ``HATCH_PYC_BUNDLE_ROOT``, the same of that directory and
those above it). (Hashing every file at every start would cost more than the start:
20 ms for pydantic-core's 5 MB without OpenSSL, 12 ms to import ``hashlib`` with it.) Where
the cache directory cannot be used (read-only, no home, shared with others), pure-Python
packages load from the archive, and the ones that cannot go to a private temporary
directory, removed at exit, with one line on stderr saying so. A start refreshes the
directory's modification time when it is a day old: ``hatch-pyc cache prune --older-than``
goes by it.

Standard library only, in the syntax of the oldest target (3.8): it is compiled for
whichever interpreter the bundle is for. hatch-pyc itself imports it for
:func:`user_cache_dir`, for the groups' hash, and to test it.
"""

from __future__ import annotations

import os
import stat
import sys

try:  # what importlib.machinery and importlib.util hold, from the modules already loaded
    from _frozen_importlib_external import ExtensionFileLoader, FileFinder, PathFinder, spec_from_file_location
except ImportError:  # pragma: no cover - an interpreter without the frozen modules
    from importlib.machinery import ExtensionFileLoader, FileFinder, PathFinder
    from importlib.util import spec_from_file_location

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any

#: Where bundles extract what they run from files, under :func:`user_cache_dir`.
EXTRACTED = "pyz"
#: The environment variable that moves the extraction root elsewhere, as ``SHIV_ROOT`` and
#: ``PEX_ROOT`` move shiv's and pex's.
ROOT_VARIABLE = "HATCH_PYC_BUNDLE_ROOT"
#: A start refreshes its directory's modification time when it is older than this (seconds):
#: the time of its last use, to a day, at the cost of one write a day.
USED_EVERY = 24 * 60 * 60

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


def extraction_root(environ: Mapping[str, str] | None = None) -> str:
    """The directory bundles extract into (each bundle in a directory of its own in it):
    ``$HATCH_PYC_BUNDLE_ROOT`` where set, else ``pyz`` in :func:`user_cache_dir`."""
    environ = os.environ if environ is None else environ
    moved = environ.get(ROOT_VARIABLE)
    if moved:
        return os.path.abspath(os.path.expanduser(moved))
    return os.path.join(user_cache_dir(environ), EXTRACTED)


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


def extraction_digest(groups: Mapping[str, tuple[str, str]]) -> str:
    """The name of the directory a bundle extracts ``groups`` to (``{group: (SHA-256 of its
    files, its lines)}``): a hash of every group's name and SHA-256, which cover each file's
    path, size and bytes. ``bundle`` writes it into the bootstrap, ``check`` requires it, and
    the runtime checks it before it writes anything there: bundles share a directory only
    when they extract the same files."""
    import hashlib
    import json

    listing = json.dumps(sorted((group, digest) for group, (digest, _) in groups.items()))
    return hashlib.sha256(listing.encode()).hexdigest()[:32]


#: The start of the name of a group's completion marker in the extraction directory, followed
#: by the group's SHA-256: an empty file written after the group's files are durably in place.
DONE = ".done-"
#: Bytecode Python writes beside a source it imports; read only as the cache of that source.
PYCACHE = "__pycache__"


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
        own_parent: bool = True,
    ) -> None:
        #: The bundle's file name, for the warning line.
        self._label = label
        #: Reads an entry of the bundle.
        self._read = read
        self._shared = os.path.join(cache, digest)
        #: Whether the parent of ``cache`` is hatch-pyc's too (``<user cache dir>/hatch-pyc``),
        #: made private as ``cache`` is; not with ``HATCH_PYC_BUNDLE_ROOT``.
        self._own_parent = own_parent
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
        #: The entries at the top of the shared directory, read at the first group's check.
        self._top: dict[str, os.DirEntry[str]] | None = None
        #: ``{group: its layout}`` (:meth:`_layout`), made at a group's first check.
        self._layouts: dict[str, tuple[dict[str, int], dict[str, dict[str, int]]]] = {}
        #: Whether the directory's name was found to be the hash of the groups (before a write).
        self._named = False
        #: Whether this start said it removed files it does not hold.
        self._warned = False
        #: ``{directory: the path finder's finder for it}`` (:meth:`_file_finder`).
        self._file_finders: dict[str, FileFinder] = {}
        #: ``{directory: its sys.path entry finder}`` (:meth:`entry`).
        self._entries: dict[str, ExtractedEntry] = {}
        #: Whether each directory goes on ``sys.path`` (:meth:`on_path`) once its top is checked,
        #: as :func:`install` asks.
        self.on_sys_path = False

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        member = self._modules.get(fullname)
        group = group_of(member) if member is not None else fullname
        if group not in self._groups:
            return None
        root = self._extracted(group)
        if root is None:  # left to the zip importer: the cache cannot be written
            return None
        if member is None:  # found among the extracted files as in site-packages
            return self._file_finder(root).find_spec(fullname, target)  # type: ignore[arg-type]
        file = os.path.join(root, *member.split("/"))
        return spec_from_file_location(fullname, file, loader=ExtensionFileLoader(fullname, file))

    def _file_finder(self, root: str) -> FileFinder:
        """The path finder's own finder for the directory ``root``, as site-packages has, made
        here: ``sys.path_importer_cache`` holds this finder's :class:`ExtractedEntry` for it."""
        found = self._file_finders.get(root)
        if found is None:
            found = self._file_finders[root] = FileFinder(root, *_file_loaders())
        return found

    def entry(self, path: str) -> ExtractedEntry:
        """The ``sys.path`` entry finder of ``path``, a directory this finder extracts to."""
        found = self._entries.get(path)
        if found is None:
            found = self._entries[path] = ExtractedEntry(self, path)
        return found

    def path_hook(self, path: str) -> ExtractedEntry:
        """A path hook: the entry finder of the directories this finder extracts to, so that the
        path finder never makes a finder of its own for them (after ``sys.path_importer_cache``
        is cleared), which would import whatever is there."""
        if path in self._entries:
            return self._entries[path]
        raise ImportError("not a directory the bundle extracts to")

    def on_path(self, path: str) -> None:
        """Put ``path``, a directory the files are extracted to, on ``sys.path`` after the
        standard library and before site-packages, as an installed tool's site-packages is
        (a private one taken instead of the shared one: after it, where the modules already
        imported from the shared one stay). Its entry finder imports the bundle's own names
        only."""
        sys.path_importer_cache[path] = self.entry(path)
        if path in sys.path:
            return
        if self._shared in sys.path:
            sys.path.insert(sys.path.index(self._shared) + 1, path)
        else:
            sys.path.insert(_site_index(sys.path), path)

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
                    if self._top is None:
                        _prepare(os.path.dirname(self._shared), self._own_parent)
                        self._own_root()
                        self._top = self._list_top()
                    if not self._intact(name, self._top):
                        self._publish(name)
                    self._ready.add(name)
                if self.on_sys_path and self._shared not in self._entries:  # checked: now on sys.path
                    self.on_path(self._shared)
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
            if self.on_sys_path:
                self.on_path(private)
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
            _used(self._shared, found)
            return
        _set_aside(self._shared)
        os.makedirs(self._shared, 0o700)

    def _owner(self, name: str) -> str | None:
        """The group an entry at the top of the shared directory would belong to (the name of a
        package or ``.libs`` directory, or the module name of a file), or None."""
        if name in self._groups:
            return name
        module = name.split(".")[0]
        return module if module in self._groups else None

    def _recorded_top(self, entry: os.DirEntry[str]) -> bool:
        """Whether ``entry``, at the top of the shared directory, is what a group records there:
        its directory (a package, a ``.libs`` directory), or the file of a top-level module. A
        substring of the group's lines, each ``size path``, where parsing them would cost the
        groups this start does not import."""
        group = self._owner(entry.name)
        if group is None:
            return False
        lines = self._groups[group][1]
        if entry.is_dir(follow_symlinks=False):
            return entry.name == group and f" {group}/" in lines
        return lines.endswith(f" {entry.name}") or f" {entry.name}\n" in lines

    def _list_top(self) -> dict[str, os.DirEntry[str]]:
        """The entries at the top of the shared directory, read once a start (one ``scandir``),
        after removing what no group of the bundle records there (:meth:`_recorded_top`): what
        scans ``sys.path`` for files (``importlib.metadata``'s ``.dist-info`` directories) finds
        no other name at its top. Names that start with a dot are
        never imported (the completion markers, the partial and damaged directories of other
        starts, a ``.DS_Store``), nor is a ``__pycache__`` directory but for a source beside it."""
        top: dict[str, os.DirEntry[str]] = {}
        stray = []
        with os.scandir(self._shared) as entries:
            for entry in entries:
                if entry.name.startswith(".") or self._recorded_top(entry) or _pycache(entry):
                    top[entry.name] = entry
                else:
                    stray.append(entry.name)
        self._remove(stray)
        return top

    def _layout(self, group: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """``group``'s entries at the top of the directory, and for each directory of it (parents
        first), its entries: ``{name: size, or -1 for a directory}``."""
        if group not in self._layouts:
            tops: dict[str, int] = {}
            directories: dict[str, dict[str, int]] = {}
            for member, size in self._listed(group):
                parts = member.split("/")
                at = tops
                for depth in range(1, len(parts)):
                    at[parts[depth - 1]] = -1
                    at = directories.setdefault("/".join(parts[:depth]), {})
                at[parts[-1]] = size
            self._layouts[group] = (tops, directories)
        return self._layouts[group]

    def _intact(self, group: str, top: Mapping[str, os.DirEntry[str]], verify: bool = False) -> bool:
        """Whether the shared directory (whose entries are ``top``) holds ``group`` whole: its
        completion marker, each file it records at its recorded size, through directories and
        no link, and nothing else that import could find there; with ``verify``, each file's
        bytes against the group's SHA-256 instead of the marker. What the group does not
        record is removed, whichever the answer."""
        stray: list[str] = []
        try:
            return self._check(group, top, verify, stray)
        finally:
            self._remove(stray)

    def _check(self, group: str, top: Mapping[str, os.DirEntry[str]], verify: bool, stray: list[str]) -> bool:
        tops, directories = self._layout(group)
        stray += [name for name in top if name not in tops and self._owner(name) == group]
        # The marker is in the listing of the top, read once: no call of its own.
        if not verify and DONE + self._groups[group][0] not in top:
            return False
        try:
            for name, size in tops.items():
                entry = top.get(name)
                if entry is None or not _fits(entry, size):
                    return False
            for inside, expected in directories.items():
                # One scandir per directory: its entries' types come with the names, so no
                # link is followed and nothing unlisted goes unseen.
                with os.scandir(os.path.join(self._shared, *inside.split("/"))) as entries:
                    found = {entry.name: entry for entry in entries}
                for name, size in expected.items():
                    entry = found.pop(name, None)
                    if entry is None or not _fits(entry, size):
                        return False
                if inside.rpartition("/")[2] != PYCACHE:  # Python's cache of the sources: its own
                    stray += [f"{inside}/{name}" for name, entry in found.items() if not _unimported(entry)]
        except OSError:
            return False
        return not verify or self._hashed(group)

    def _hashed(self, group: str) -> bool:
        """Whether the files of ``group`` in the shared directory hash to the group's SHA-256,
        flushed to disk (another start's copy, without its marker: torn or just renamed)."""
        import hashlib

        hasher = hashlib.sha256()
        for member, size in self._listed(group):
            file = os.path.join(self._shared, *member.split("/"))
            descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
            try:
                group_hash(member, size, hasher)
                while True:
                    chunk = os.read(descriptor, 1 << 20)
                    if not chunk:
                        break
                    hasher.update(chunk)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        for inside in self._layout(group)[1]:
            _sync_directory(os.path.join(self._shared, *inside.split("/")))
        return hasher.hexdigest() == self._groups[group][0]

    def _remove(self, stray: Sequence[str]) -> None:
        """Remove what the bundle does not hold from the shared directory (a ``core.py`` beside
        ``core.pyc``, an ``__init__.py``), so that import never finds it; one line says so,
        once a start."""
        for name in stray:
            path = os.path.join(self._shared, *name.split("/"))
            try:
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    _set_aside(path)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                continue  # another start removed it first
        if stray and not self._warned:
            self._warned = True
            named = ", ".join(stray[:3]) + (f" and {len(stray) - 3} more" if len(stray) > 3 else "")
            sys.stderr.write(f"{self._label}: warning: removed {named} from {self._shared}: not files it extracts\n")

    def _publish(self, group: str) -> None:
        """Write ``group``'s files beside their place in the shared directory, flushed to disk,
        rename them into place, and mark the group done: a group there with its marker is whole,
        checked and on disk."""
        import shutil
        import tempfile

        if not self._named:
            expected = extraction_digest(self._groups)
            if expected != os.path.basename(self._shared):
                raise OSError(f"its files hash to {expected}, another directory: the bundle was changed")
            self._named = True
        partial = tempfile.mkdtemp(prefix=".partial-", dir=self._shared)
        try:
            self._write(partial, group, durable=True)
            for top in sorted(self._layout(group)[0]):
                final = os.path.join(self._shared, top)
                try:
                    os.rename(os.path.join(partial, top), final)
                except OSError:
                    # Another first start renamed its copy first; or a damaged copy is in the way.
                    if self._intact(group, self._list_top(), verify=True):
                        break
                    _set_aside(final)
                    os.rename(os.path.join(partial, top), final)
            _sync_directory(self._shared)
            marker = os.path.join(self._shared, DONE + self._groups[group][0])
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600))
            _sync_directory(self._shared)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _write(self, directory: str, group: str, durable: bool = False) -> None:
        """Write ``group``'s files into ``directory``, checked against the SHA-256 the bundle
        records for the group before anything renames them into use; ``durable``: each file
        and directory flushed to disk (``fsync``), so that a crash cannot leave the renamed
        files torn."""
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
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o755)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                if os.fstat(descriptor).st_size != len(data):
                    raise OSError(f"{file} was not written whole")
                if durable:
                    os.fsync(descriptor)
        if hasher.hexdigest() != self._groups[group][0]:
            raise ImportError(f"{self._label}: {group}'s files do not match the SHA-256 the bundle records")
        if durable:
            for inside in reversed(list(self._layout(group)[1])):
                _sync_directory(os.path.join(directory, *inside.split("/")))
            _sync_directory(directory)


class ExtractedEntry:
    """The ``sys.path`` entry finder of the directory a bundle extracts to (``sys.path`` holds
    that directory as an installed tool's holds its site-packages, for the code that maps a
    file to its module name through ``sys.path``, or lists the modules on it). It imports the
    bundle's own top-level names only, each checked or extracted first as
    :class:`ExtractedFinder` does, which answers them before the path finder anyway: whatever
    else is in the directory is never imported through it, under any name."""

    def __init__(self, finder: ExtractedFinder, path: str) -> None:
        self._finder = finder
        #: The directory.
        self.path = path

    def find_spec(self, fullname: str, target: object = None) -> ModuleSpec | None:
        finder = self._finder
        if "." in fullname or fullname not in finder._groups:
            return None
        if finder._extracted(fullname) != self.path:  # left to the archive, or in another directory
            return None
        return finder._file_finder(self.path).find_spec(fullname, target)  # type: ignore[arg-type]

    def invalidate_caches(self) -> None:
        finder = self._finder._file_finders.get(self.path)
        if finder is not None:
            finder.invalidate_caches()

    def iter_modules(self, prefix: str = "") -> Iterator[tuple[str, bool]]:
        """The bundle's top-level modules and packages, ``(name, whether a package)``, for
        ``pkgutil.iter_modules()``: what the path finder's listing of site-packages gives,
        a package without ``__init__`` left out as it leaves it out."""
        finder = self._finder
        for group in sorted(finder._groups):
            if "." in group:  # a directory of shared libraries
                continue
            files = [path for path, _ in finder._listed(group)]
            package = any(path.startswith(group + "/__init__.") for path in files)
            if package or any("/" not in path for path in files):
                yield prefix + group, package


def _file_loaders() -> list[tuple[Any, list[str]]]:
    """The loaders and suffixes of the path finder's own finders (``FileFinder``'s path hook)."""
    try:
        from _frozen_importlib_external import _get_supported_file_loaders  # type: ignore[attr-defined]

        found: list[tuple[Any, list[str]]] = _get_supported_file_loaders()
        return found
    except ImportError:  # pragma: no cover - an interpreter without the frozen modules
        import _imp
        from importlib.machinery import BYTECODE_SUFFIXES, SOURCE_SUFFIXES, SourceFileLoader, SourcelessFileLoader

        return [
            (ExtensionFileLoader, _imp.extension_suffixes()),
            (SourceFileLoader, SOURCE_SUFFIXES),
            (SourcelessFileLoader, BYTECODE_SUFFIXES),
        ]


def _site_index(path: Sequence[str]) -> int:
    """Where site-packages starts on ``path`` (``sys.path``): the index of the first site
    directory past ``path[0]`` (the bundle), so after the standard library's directories
    (which come before it); the end where ``site`` added none (``python -S``)."""
    site = sys.modules.get("site")
    added: set[str] = set()
    if site is not None:
        getsitepackages = getattr(site, "getsitepackages", None)  # not in old virtualenvs' site.py
        if getsitepackages is not None:
            added.update(os.path.abspath(directory) for directory in getsitepackages())
        user = getattr(site, "USER_SITE", None)
        if user and getattr(site, "ENABLE_USER_SITE", False):
            added.add(os.path.abspath(user))
    return next((index for index in range(1, len(path)) if path[index] in added), len(path))


def _fits(entry: os.DirEntry[str], size: int) -> bool:
    """Whether ``entry`` is a directory (``size`` -1), or a file of ``size`` bytes; no link."""
    if size < 0:
        return entry.is_dir(follow_symlinks=False)
    return entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size == size


def _pycache(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a ``__pycache__`` directory: where Python writes the bytecode of a
    source it imports, and reads it only for that source (a pyc there with no source beside
    it is never imported)."""
    return entry.name == PYCACHE and entry.is_dir(follow_symlinks=False)


def _unimported(entry: os.DirEntry[str]) -> bool:
    """Whether an entry the bundle does not hold may stay: a name with a leading dot (no module
    has one), or ``__pycache__``."""
    return entry.name.startswith(".") or _pycache(entry)


def _sync_directory(path: str) -> None:
    """Flush ``path``'s entries to disk (where a directory can be opened: not on Windows, whose
    file system journals its renames)."""
    if os.name == "nt":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _set_aside(path: str) -> None:
    """Move ``path`` (a damaged copy, a link, another user's directory) out of the way, into a
    directory beside it, and remove it."""
    import shutil
    import tempfile

    damaged = tempfile.mkdtemp(prefix=".damaged-", dir=os.path.dirname(path))
    os.rename(path, os.path.join(damaged, "old"))
    shutil.rmtree(damaged, ignore_errors=True)


def _used(path: str, found: os.stat_result) -> None:
    """Refresh the modification time of ``path`` (whose status is ``found``) if it is more than
    :data:`USED_EVERY` old: what ``hatch-pyc cache prune --older-than`` goes by."""
    import time

    if found.st_mtime < time.time() - USED_EVERY:
        try:
            os.utime(path)
        except OSError:  # a read-only cache still runs
            return


def _prepare(cache: str, own_parent: bool = True) -> None:
    """Make ``cache`` (``.../hatch-pyc/pyz``) and, with ``own_parent``, its parent private if
    missing, and raise OSError saying why if anyone but the user could replace what is below
    them."""
    own = [os.path.dirname(cache), cache] if own_parent else [cache]
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
        if not members <= {pwd.getpwuid(os.getuid()).pw_name}:
            return True
        # A group's own users (whose primary group it is) are not listed as its members.
        return any(user.pw_gid == found.st_gid and user.pw_uid != os.getuid() for user in pwd.getpwall())
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
    ``sys.meta_path``, ahead of ``PathFinder``, and the directory it extracts to on
    ``sys.path``, after the standard library, with an entry finder that imports the bundle's
    names only (:class:`ExtractedEntry`).

    Called by the bundle's ``__main__``; this module's loader is the bundle's zip importer.
    """
    archive = __loader__  # type: ignore[name-defined]  # set by the import system

    def read(member: str) -> bytes:
        data: bytes = archive.get_data(member.replace("/", os.sep))
        return data

    cache = extraction_root()
    own_parent = not os.environ.get(ROOT_VARIABLE)
    # After the builtin and frozen importers, as site-packages comes after them when installed:
    # a bundled module named as one of theirs does not replace it.
    at = next((i for i, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
    finder = ExtractedFinder(label, read, cache, digest, groups, modules, needed, own_parent)
    sys.meta_path.insert(at, finder)
    # The directory on sys.path too, as site-packages is: for the code that maps a file to its
    # module through sys.path, or lists the modules on it. Its entry finder imports only the
    # bundle's names; the finder above answers those first, from the extracted files, where
    # the archive at sys.path[0] would answer them from the archive.
    sys.path_hooks.insert(0, finder.path_hook)
    finder.on_sys_path = True
