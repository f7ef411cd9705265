"""The model of an install: every file of a wheel at the real path it lands on, and what the
target interpreter can execute from there.

``check``, ``verify`` and ``install`` decide what to verify from this, never from what the
artifact says about itself. Each entry is mapped through the target's install scheme to an
absolute path with its links resolved (a venv's ``lib64`` is ``lib``; outside a venv the data
scheme reaches the standard library). Then every directory the import system searches is a
root: the target's ``sys.path``, site-packages, what this wheel's ``.pth`` lines add (archives
too, read as zipimport reads them), and the scripts directory, which is ``sys.path[0]`` of
every console script. Under each root a file is what the path finder makes of it:

- a source module (``.py``): the distribution's source, readable as it is;
- a ``__pycache__`` pyc: it runs in place of the source beside it, so it is verified against
  that source, which must land from this wheel;
- a pyc without a source beside it (``pkg/mod.pyc``): bytecode only the recorded layout may
  ship, in site-packages;
- an extension module: native code, which nothing here verifies;
- start-up code: ``.pth`` import lines and path lines to anything outside the wheel, PEP 829
  ``.start`` files, and ``sitecustomize``/``usercustomize`` at the top of any root.

Everything here works on entry names, text and the target's paths, so that the rules are
tested without a wheel or a file system; :func:`real_path` is the one place that asks the
file system, and the caller can replace it.
"""

from __future__ import annotations

import bisect
import functools
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hatch_pyc.core.errors import printable
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.limits import MAX_PTH_LINES, MAX_PTH_SIZE, LimitExceeded
from hatch_pyc.core.naming import CACHED_PYC
from hatch_pyc.wheel.wheelfile import DATA_SCHEMES, IMPORTABLE_SCHEMES

#: Modules the ``site`` module imports at every start when they are anywhere on ``sys.path``.
STARTUP_MODULES = ("sitecustomize", "usercustomize")
#: What the interpreter reads at start-up to find its paths, beside its executable or at the
#: environment's root (``<executable>._pth`` replaces ``sys.path`` whole, on every platform).
STARTUP_FILES = ("._pth", "pyvenv.cfg", "pybuilddir.txt")
#: The file suffixes of Python code the path finder loads, besides extension modules.
SOURCE = ".py"
BYTECODE = ".pyc"


def fold(path: str) -> str:
    """``path`` as the strictest file system compares names: each part in one Unicode form
    (macOS normalizes), case-folded (macOS and Windows ignore case), without trailing dots and
    spaces (Windows drops them)."""
    if path.isascii() and "./" not in path and " /" not in path and not path.endswith((".", " ")):
        # In ASCII, with no part that ends in a dot or a space, folding is lowering the case.
        return path.lower()
    return "/".join(map(_fold_part, path.split("/")))


@functools.lru_cache(maxsize=4096)
def _fold_part(part: str) -> str:
    # A wheel's paths share most of their parts: each is folded once.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", part).casefold()).rstrip(". ")


#: The site-packages of :meth:`Places.generic`, and what is it in a venv of any interpreter:
#: ``lib/python3.11/site-packages``, ``lib64/pypy3.11/site-packages`` (``lib64`` is ``lib``).
_GENERIC_SITE = "/venv/lib/python/site-packages"
_ANY_SITE = re.compile(r"^/venv/lib(?:64)?/[^/]+/site-packages(?=/|$)")


def real_path(path: str) -> str:
    """``path`` with every link among its existing parts resolved, as a POSIX path."""
    return os.path.realpath(path).replace(os.sep, "/")


class _RealPaths:
    """:func:`real_path` of directories, each found from its parent's: one ``lstat`` of a
    directory whose parent is known (a link is resolved whole, as ``realpath`` does), not one
    of each part of its path, which ``realpath`` takes anew for every directory."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        known = self._known.get(path)
        if known is not None:
            return known
        head, _, name = path.rpartition("/")
        if os.sep != "/" or not head or name in ("", ".", ".."):
            found = real_path(path)
        else:
            parent = self(head)
            candidate = f"{parent}/{name}" if parent != "/" else f"/{name}"
            # realpath takes a part that is no link (or does not exist) as it is.
            found = real_path(path) if os.path.islink(candidate) else candidate
        self._known[path] = found
        return found


@dataclass(frozen=True)
class Places:
    """Where the target installs a wheel and where its import system looks: absolute POSIX
    paths with their links resolved."""

    #: ``{scheme: directory}`` for purelib, platlib, scripts, data and headers.
    schemes: Mapping[str, str]
    #: ``sys.path`` at the target's start-up, before any ``.pth`` file of the wheel.
    path: Sequence[str]
    #: The top-level names its standard library and built-in modules answer.
    stdlib: frozenset[str] = frozenset()
    #: Its extension module suffixes (``.cpython-311-x86_64-linux-gnu.so``, ``.so``).
    suffixes: Sequence[str] = (".so", ".pyd")
    #: A venv of no particular interpreter (:meth:`generic`): every interpreter's site-packages
    #: in it is its one site-packages.
    any_interpreter: bool = False

    @classmethod
    def of(
        cls,
        scheme: Mapping[str, Any],
        imports: Mapping[str, Any],
        platform: Mapping[str, Any],
        name: str,
        resolve: Callable[[str], str] = real_path,
    ) -> Places:
        """The places of a target from its probe (:class:`~hatch_pyc.core.interpreters.Target`)
        for distribution ``name`` (headers go to a directory of their own, as installers put them)."""
        paths = dict(scheme.get("paths", {}))
        if "include" in scheme:
            paths["headers"] = os.path.join(scheme["include"], name)
        return cls(
            schemes={key: resolve(paths[key]) for key in DATA_SCHEMES if key in paths},
            path=[resolve(entry) for entry in imports.get("path", ())],
            stdlib=frozenset(imports.get("stdlib", ())),
            suffixes=tuple(platform.get("suffixes") or (".so", ".pyd")),
        )

    @classmethod
    def generic(cls) -> Places:
        """A venv of no particular interpreter, for reading an artifact without a target."""
        return cls(
            schemes={"purelib": _GENERIC_SITE, "platlib": _GENERIC_SITE, "scripts": "/venv/bin", "data": "/venv"}
            | {"headers": "/venv/include/site"},
            path=["/python/lib/python", _GENERIC_SITE],
            any_interpreter=True,
        )

    @property
    def sites(self) -> list[str]:
        """The directories whose ``.pth`` files ``site`` reads."""
        return list(dict.fromkeys(self.schemes[key] for key in IMPORTABLE_SCHEMES if key in self.schemes))


@dataclass(frozen=True)
class Root:
    """A directory or archive the import system searches, with what puts it there."""

    path: str
    #: ``stdlib`` (the target's own ``sys.path``), ``site``, ``pth`` (a ``.pth`` line of the
    #: wheel) or ``scripts`` (``sys.path[0]`` of console scripts).
    kind: str
    why: str = ""


@dataclass
class Audit:
    """What the import system will make of an install: the verdict of :func:`audit_wheel`."""

    #: Each pyc the import system loads in place of a source: ``{pyc entry: source entry}``.
    sources: dict[str, str] = field(default_factory=dict)
    #: One line per file that must not be installed as it is.
    problems: list[str] = field(default_factory=list)
    #: One line per piece of code that runs at every start of Python.
    startup: list[str] = field(default_factory=list)
    #: What fits but is worth knowing.
    notes: list[str] = field(default_factory=list)
    #: Archives on ``sys.path``: ``{entry: (whether the layout declares it, why it is there)}``.
    archives: dict[str, tuple[bool, str]] = field(default_factory=dict)
    #: Pycs with no source, which only the recorded layout allows: nothing here can verify them.
    unverifiable: int = 0
    #: Extension modules the import system can load: native code nothing here verifies.
    native: int = 0
    #: Where each entry lands: ``{entry: absolute path}`` (entries of unknown schemes left out).
    landed: dict[str, str] = field(default_factory=dict)
    #: The top-level names the wheel puts in site-packages (modules, packages, directories).
    top_level: set[str] = field(default_factory=set)
    #: The roots the import system searches, in order, and below which one each landed file
    #: is found: ``{entry: root}``.
    roots: list[Root] = field(default_factory=list)
    placed: dict[str, Root] = field(default_factory=dict)


def pth_lines(text: str) -> Iterable[tuple[int, str, bool]]:
    """The lines ``site`` acts on, as it reads them: ``(number, line, runs code)``."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        yield number, line.rstrip(), line.startswith(("import ", "import\t"))


def destinations(
    entries: Iterable[str], *, data_dir: str, root_scheme: str, places: Places, resolve: Callable[[str], str]
) -> dict[str, str]:
    """Where each entry lands: ``{entry: absolute path}``. An entry in a scheme no installer
    knows lands nowhere (``install`` refuses the wheel)."""
    landed: dict[str, str] = {}
    #: Each directory resolved once: an existing file of a new entry's name is refused by install.
    resolved: dict[str, str] = {}
    if resolve is real_path:
        resolve = _RealPaths()
    data_prefix = data_dir + "/"
    for entry in entries:
        scheme, rest = root_scheme, entry
        if entry.startswith(data_prefix):
            scheme, _, rest = entry[len(data_prefix) :].partition("/")
        directory = places.schemes.get(scheme)
        if directory is None or not rest:
            continue
        parent, _, name = posixpath.join(directory, rest).rpartition("/")
        if parent not in resolved:
            resolved[parent] = resolve(parent)
            if places.any_interpreter:
                resolved[parent] = _ANY_SITE.sub(_GENERIC_SITE, resolved[parent])
        landed[entry] = f"{resolved[parent]}/{name}"
    return landed


def _inside(path: str, root: str) -> str | None:
    """``path`` relative to ``root``, or None when it is not below it."""
    if path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    return None


@functools.lru_cache(maxsize=16)
def _longest_first(suffixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(suffixes, key=len, reverse=True))


def _module_stem(name: str, suffixes: Sequence[str]) -> tuple[str, str] | None:
    """``(stem, kind)`` of a file the path finder loads: kind ``native``, ``source`` or
    ``bytecode``; None for any other file."""
    native = _longest_first(suffixes if isinstance(suffixes, tuple) else tuple(suffixes))
    if name.endswith(native):
        for suffix in native:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)], "native"
    if name.endswith(SOURCE) and len(name) > len(SOURCE):
        return name[: -len(SOURCE)], "source"
    if name.endswith(BYTECODE) and len(name) > len(BYTECODE):
        return name[: -len(BYTECODE)], "bytecode"
    return None


def _startup_name(relative: str, suffixes: Sequence[str]) -> str:
    """The ``sitecustomize`` or ``usercustomize`` module that ``relative`` (below a root) is or
    belongs to, or ""."""
    if not relative.startswith(STARTUP_MODULES):
        return ""
    head, slash, rest = relative.partition("/")
    if slash:
        return head if head in STARTUP_MODULES and rest.startswith("__init__.") else ""
    found = _module_stem(head, suffixes)
    return found[0] if found is not None and found[0] in STARTUP_MODULES else ""


def audit_wheel(
    entries: Iterable[str],
    *,
    data_dir: str,
    dist_info: str,
    layout: Layout | None,
    archive_name: str,
    read_text: Callable[[str], str],
    places: Places,
    root_scheme: str = "purelib",
    resolve: Callable[[str], str] = real_path,
) -> Audit:
    """Audit the install of a wheel holding ``entries`` (files only) on the target of ``places``.

    ``layout`` is the one the bytecode metadata records (None without metadata);
    ``archive_name`` the zip layout's archive (``demo_pkg.zip``); ``read_text`` reads a ``.pth``
    file.
    """
    audit = Audit()
    entries = list(entries)
    landed = destinations(entries, data_dir=data_dir, root_scheme=root_scheme, places=places, resolve=resolve)
    audit.landed = landed
    at: dict[str, str] = {}
    folded: dict[str, str] = {}
    #: Each path's fold, taken once.
    folds: dict[str, str] = {}
    for entry, path in landed.items():
        key = folds[path] = fold(path)
        if key in folded:
            other = folded[key]
            how = "" if landed[other] == path else " where names are compared without case (macOS, Windows)"
            audit.problems.append(f"{printable(other)} and {printable(entry)} land on one file{how}")
        folded[key] = entry
        at[path] = entry
    #: Every directory the install makes or writes into, with the first file below it.
    directories = _Directories(at)
    folded_directories = _Directories(folded)
    for path, entry in at.items():
        below = folded_directories.below(folds[path])
        if below is not None:
            audit.problems.append(
                f"{printable(folded[below])} needs a directory where {printable(entry)} lands as a file"
            )

    for entry, path in landed.items():
        name = posixpath.basename(path)
        if name.endswith(STARTUP_FILES) or name in STARTUP_FILES:
            audit.problems.append(
                f"{printable(entry)}: a file Python reads to find its paths at start-up ({printable(name)}): it "
                "can put anything on sys.path before the standard library, and no wheel ships one"
            )
    #: Each site-packages directory as the start of the paths below it (what _inside makes of it).
    site_prefixes = [site.rstrip("/") + "/" for site in places.sites]
    for entry, path in landed.items():
        for prefix in site_prefixes:
            if path.startswith(prefix):
                relative = path[len(prefix) :]
                top = relative.partition("/")[0]
                if top.endswith((".dist-info", ".egg-info")) and top != dist_info:
                    audit.problems.append(
                        f"{printable(entry)}: lands in {printable(top)}, the metadata of another distribution"
                    )
                elif top != dist_info:
                    audit.top_level.add(top.split(".")[0] if "/" not in relative else top)

    #: The landed files in the order of their paths, for the roots and the files below them.
    ordered = sorted(at.items())
    roots = audit.roots = _roots(audit, ordered, at, directories, places, read_text, layout, archive_name)
    for root in roots:
        # The interpreter's own entries: those after site-packages were put there by .pth files
        # installed already (this distribution's own archive, checked again once installed).
        if root.kind == "stdlib" and root.path in at:
            audit.problems.append(
                f"{printable(at[root.path])}: lands on {printable(root.path)}, which is on sys.path at every start: "
                "whatever it holds is imported as if installed"
            )
    by_path: dict[str, Root] = {}
    for root in roots:
        by_path.setdefault(root.path, root)
    #: The roots each directory is below, innermost first: found once per directory.
    roots_of: dict[str, list[Root]] = {}
    suffixes = places.suffixes
    for path, entry in ordered:
        directory = posixpath.dirname(path)
        roots_here = roots_of.get(directory)
        if roots_here is None:
            roots_here = roots_of[directory] = [
                by_path[parent] for parent in (directory, *parents(directory)) if parent in by_path
            ]
        if not roots_here:
            continue
        for root in roots_here:
            relative = path[len(root.path) + 1 :]
            startup = _startup_name(relative, suffixes)
            if startup:
                audit.startup.append(
                    f"{printable(entry)}: the site module imports it as {startup} at every start of Python"
                )
        # The innermost root decides: site-packages inside the standard library's directory
        # (outside a venv) is searched as site-packages.
        root = roots_here[0]
        audit.placed[entry] = root
        _audit_file(audit, entry, path, root, path[len(root.path) + 1 :], at, folded, places, layout)
    audit.startup = list(dict.fromkeys(audit.startup))
    return audit


class _Directories:
    """The directories above the paths given, each with the first of those paths below it, found
    by bisection in the sorted paths rather than held one by one: entries 64 directories deep,
    each in a directory of its own, would make a string of up to 4 KB for each of their parents."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths = sorted(paths)

    def below(self, directory: str) -> str | None:
        """The first path below ``directory``, or None if it is not one of the directories."""
        prefix = directory.rstrip("/") + "/"
        if prefix == "/":
            return None
        index = bisect.bisect_left(self._paths, prefix)
        if index < len(self._paths) and self._paths[index].startswith(prefix):
            return self._paths[index]
        return None

    def __contains__(self, directory: object) -> bool:
        return isinstance(directory, str) and self.below(directory) is not None


def parents(path: str) -> Iterable[str]:
    """The directories above ``path``, innermost first."""
    parent = posixpath.dirname(path)
    while parent and parent != "/":
        yield parent
        parent = posixpath.dirname(parent)


def _roots(
    audit: Audit,
    ordered: Sequence[tuple[str, str]],
    at: Mapping[str, str],
    directories: _Directories,
    places: Places,
    read_text: Callable[[str], str],
    layout: Layout | None,
    archive_name: str,
) -> list[Root]:
    """Every directory the target's import system searches for this install, in order, and the
    archives among them (into ``audit.archives``)."""
    # sys.path at start-up: the standard library's directories before site-packages; after it,
    # what site added from there (.pth directories, the base's site-packages of a venv that
    # sees them), searched after this install's own files.
    first_site = next((index for index, path in enumerate(places.path) if path in places.sites), len(places.path))
    roots = [Root(path, "stdlib") for path in places.path[:first_site] if path not in places.sites]
    roots += [Root(site, "site") for site in places.sites]
    roots += [Root(path, "after") for path in places.path[first_site:] if path not in places.sites]
    if "scripts" in places.schemes:
        roots.append(Root(places.schemes["scripts"], "scripts", "sys.path[0] of every console script"))
    added = {root.path for root in roots}
    sites = places.sites
    for path, entry in ordered:
        name = posixpath.basename(path)
        # Only a .pth or .start file in site-packages is read, whatever else lands there.
        if not name.endswith((".pth", ".start")):
            continue
        site = posixpath.dirname(path)
        if site not in sites or name.startswith("."):
            continue
        if name.endswith(".start"):
            audit.startup.append(f"{printable(entry)}: its entry points run at every start of Python 3.15+ (PEP 829)")
        if not name.endswith(".pth"):
            continue
        for count, (number, line, runs_code) in enumerate(pth_lines(read_text(entry)), 1):
            if count > MAX_PTH_LINES:
                raise LimitExceeded(
                    f"{printable(entry)}: more than {MAX_PTH_LINES} lines that site acts on (a limit of hatch-pyc)"
                )
            where = f"{printable(entry)} line {number}"
            if runs_code:
                audit.startup.append(f"{where} runs code at every start of Python: {printable(line[:100])}")
                continue
            target = posixpath.normpath(posixpath.join(site, line.replace("\\", "/")))
            member = _archive_of(target, at)
            if member is not None:
                wheel_archive = layout is not None and layout.archive and not layout.bundle
                declared = wheel_archive and at[member] == archive_name and posixpath.dirname(member) == site
                kept, _ = audit.archives.get(at[member], (False, ""))
                audit.archives[at[member]] = (kept or declared, where)
            elif target in directories and _own_directory(target, places.sites, audit.top_level):
                if target not in added:
                    added.add(target)
                    roots.append(Root(target, "pth", where))
            else:
                audit.startup.append(
                    f"{where} puts {printable(line)} on sys.path, which this wheel does not install: whatever is "
                    "there is imported as if installed"
                )
    return roots


def _own_directory(target: str, sites: Sequence[str], top_level: set[str]) -> bool:
    """Whether ``target`` is a directory inside site-packages below one of the wheel's own
    top-level names: anything else a ``.pth`` line adds (the scripts directory, the
    environment's root, another distribution's package) holds files the wheel does not."""
    for site in sites:
        relative = _inside(target, site)
        if relative is not None and relative.split("/")[0] in top_level:
            return True
    return False


def _archive_of(target: str, at: Mapping[str, str]) -> str | None:
    """The landed file that ``target`` is, or is a path inside (zipimport takes ``a.zip/lib``)."""
    for candidate in (target, *parents(target)):
        if candidate in at:
            return candidate
    return None


def _audit_file(
    audit: Audit,
    entry: str,
    path: str,
    root: Root,
    relative: str,
    at: Mapping[str, str],
    folded: Mapping[str, str],
    places: Places,
    layout: Layout | None,
) -> None:
    """What the path finder makes of ``entry`` below ``root``."""
    parts = relative.split("/")
    for raw in parts[:-1]:
        # A part has no "/": its fold is its one part's, which is cached.
        if raw != "__pycache__" and _fold_part(raw) == "__pycache__":
            audit.problems.append(
                f"{printable(entry)}: a directory spelled {printable(raw)!r}, which is __pycache__ where names are "
                "compared without case (macOS, Windows)"
            )
    name = parts[-1]
    if len(parts) == 1 and name.endswith(".pkg"):
        audit.problems.append(
            f"{printable(entry)}: pkgutil.extend_path adds each line of it to package "
            f"{printable(name[: -len('.pkg')])}'s __path__, wherever it points: code there would be imported as "
            "that package's"
        )
    if len(parts) >= 2 and parts[-2] == "__pycache__":
        _audit_cached(audit, entry, path, at, folded)
        return
    found = _module_stem(name, places.suffixes)
    if found is None:
        return
    stem, kind = found
    if kind == "native":
        audit.native += 1
    if root.kind != "scripts" and kind != "bytecode":
        return
    label = printable(entry)
    directory = posixpath.dirname(path)
    if root.kind == "scripts":
        top = parts[0] if len(parts) > 1 else stem
        if top.isidentifier() and (kind != "source" or top in places.stdlib or top in audit.top_level):
            what = "the standard library's" if top in places.stdlib else "any"
            audit.problems.append(
                f"{label}: lands in the scripts directory, {root.why}: every console script that imports "
                f"{printable(top)} runs it in place of {what} module of that name"
            )
        return
    if kind != "bytecode":
        return
    source = at.get(f"{directory}/{stem}{SOURCE}")
    if source is not None:
        if layout is not None:  # never what hatch-pyc writes outside an archive
            audit.problems.append(
                f"{label}: the source beside it ({printable(source)}) is what runs, not this bytecode: rebuild the "
                "artifact so that it ships one or the other"
            )
        return
    # Bytecode alone: a sourceless or zip wheel's in site-packages (the zip layout ships a package
    # that reads files beside __file__ there, sourceless).
    if root.kind == "site" and layout is not None and layout.selector:
        audit.unverifiable += 1
    else:
        where = {
            "stdlib": "in the standard library's directories",
            "after": "in a directory on sys.path after site-packages",
            "pth": f"in a directory {root.why} adds",
        }
        audit.problems.append(
            f"{label}: bytecode with no source beside it"
            + (f" {where[root.kind]}" if root.kind in where else "")
            + ", which only a wheel whose bytecode metadata records the sourceless or zip layout may ship, in "
            "site-packages: nothing can verify it"
        )


def _audit_cached(audit: Audit, entry: str, path: str, at: Mapping[str, str], folded: Mapping[str, str]) -> None:
    """A ``__pycache__`` pyc: it runs in place of the source beside it."""
    match = CACHED_PYC.match(posixpath.basename(path))
    if match is None or not path.endswith(BYTECODE):
        return  # no name the import system looks for
    source = f"{posixpath.dirname(posixpath.dirname(path))}/{match['stem']}{SOURCE}"
    if source in at:
        audit.sources.setdefault(entry, at[source])
        return
    label = printable(entry)
    twin = folded.get(fold(source))
    if twin is not None:
        audit.problems.append(
            f"{label}: named unlike its source {printable(twin)}; the import system loads it in that "
            "source's place where names are compared without case (macOS, Windows)"
        )
    else:
        audit.problems.append(
            f"{label}: a __pycache__ pyc with no source beside it from this wheel ({printable(source)}): it would "
            "run in place of a module of that name installed before or after, and nothing can verify it"
        )


def audit_archive(
    names: Iterable[str], *, label: str, declared: bool, suffixes: Sequence[str] = (".so", ".pyd")
) -> Audit:
    """Audit an archive on ``sys.path`` as zipimport reads it: it loads ``pkg/mod.pyc`` before
    ``pkg/mod.py`` (checking it against that source, which it is verified against here) and,
    without a source, runs it as it is: allowed only in the archive the recorded layout
    declares. A ``sitecustomize`` at its top runs at every start."""
    audit = Audit()
    present = set(names)
    for name in sorted(present):
        shown = f"{printable(label)}/{printable(name)}" if label else printable(name)
        startup = _startup_name(name, ())
        if startup and (name.endswith((SOURCE, BYTECODE))):
            audit.startup.append(f"{shown}: the site module imports it as {startup} at every start of Python")
        if not name.endswith(BYTECODE) or "__pycache__" in name.split("/")[:-1]:
            continue  # zipimport never reads __pycache__
        source = name[:-1]
        if source in present:
            audit.sources[name] = source
        elif declared:
            audit.unverifiable += 1
        else:
            audit.problems.append(
                f"{shown}: bytecode with no source beside it in an archive on sys.path "
                "that the bytecode metadata does not declare: nothing can verify it"
            )
    return audit


class Environment:
    """What is installed where the target's import system looks, read from the file system
    once per directory: for :func:`environment_problems`."""

    def __init__(self, places: Places, ours: Iterable[str]) -> None:
        self.places = places
        self.ours = set(ours)
        self._listings: dict[str, frozenset[str]] = {}

    def names(self, directory: str) -> frozenset[str]:
        """The names in ``directory`` (none if it cannot be read), leaving out what this install writes."""
        if directory not in self._listings:
            try:
                found = frozenset(
                    name for name in os.listdir(directory) if posixpath.join(directory, name) not in self.ours
                )
            except OSError:
                found = frozenset()
            self._listings[directory] = found
        return self._listings[directory]

    def answers(self, directory: str, name: str) -> list[str]:
        """The files or directories in ``directory`` that answer module ``name`` there, other
        than this install's: ``name/`` (a package or a namespace portion), ``name.py``..."""
        present = self.names(directory)
        found = [name] if name in present else []
        for entry in sorted(present):
            stem = _module_stem(entry, self.places.suffixes)
            if stem is not None and stem[0] == name:
                found.append(entry)
        return found

    def namespace(self, directory: str, name: str) -> bool:
        """Whether ``directory/name`` is a namespace package portion another distribution installed."""
        path = posixpath.join(directory, name)
        return name in self.names(directory) and os.path.isdir(path) and self.package_init(path) is None

    def package_init(self, directory: str) -> str | None:
        """The ``__init__`` of another distribution that makes ``directory`` a package, if any."""
        return next(iter(self.answers(directory, "__init__")), None)

    def pth_roots(self) -> list[str]:
        """The directories the ``.pth`` files already installed put on ``sys.path``."""
        roots = []
        for site in self.places.sites:
            for name in sorted(self.names(site)):
                if not name.endswith(".pth") or name.startswith("."):
                    continue
                try:
                    with open(posixpath.join(site, name), "rb") as f:
                        text = f.read(MAX_PTH_SIZE).decode("utf-8", errors="replace")
                except OSError:
                    continue
                for _, line, runs_code in pth_lines(text):
                    if not runs_code:
                        roots.append(real_path(posixpath.join(site, line)))
        return roots


def environment_problems(audit: Audit, environment: Environment) -> list[str]:
    """What this install would change for names the standard library or another installed
    distribution answers: a package over their module, a source over their bytecode, a
    top-level module in a directory searched before theirs, a file inside their package, a
    namespace package they share turned into this distribution's own."""
    places = environment.places
    problems = []
    ours = set(audit.landed.values())
    order = [root.path for root in audit.roots if root.kind != "scripts"]
    later_roots = [*order, *(root for root in environment.pth_roots() if root not in order)]
    stdlib_roots = [root.path for root in audit.roots if root.kind == "stdlib"]
    for root in audit.roots:
        if root.kind == "pth" and environment.names(root.path):
            problems.append(
                f"{root.why} puts {printable(root.path)} on sys.path, which holds files of another installed "
                "distribution: they would be imported as top-level modules"
            )
    for entry, root in sorted(audit.placed.items()):
        relative = audit.landed[entry][len(root.path) + 1 :]
        label = printable(entry)
        parts = relative.split("/")
        directory = posixpath.join(root.path, *parts[:-1])
        found = _module_stem(parts[-1], places.suffixes)
        owner = next(
            (
                init
                for depth in range(len(parts) - 1, 0, -1)
                if (init := environment.package_init(posixpath.join(root.path, *parts[:depth]))) is not None
            ),
            None,
        )
        if owner is not None and not (found is not None and found[0] == "__init__" and len(parts) == 2):
            problems.append(
                f"{label}: lands in {printable(directory)}, inside a package of another installed distribution "
                f"({printable(owner)})"
            )
            continue
        if found is None or "__pycache__" in parts:
            continue
        stem, kind = found
        if stem == "__init__":
            if len(parts) < 2:
                continue
            name, parent = parts[-2], posixpath.join(root.path, *parts[:-2])
            beaten = [other for other in environment.answers(parent, name) if other != name]
            if environment.names(directory):
                beaten.append(f"{name}/ (a namespace package it shares)")
            top = len(parts) == 2
        else:
            name, parent, top = stem, directory, len(parts) == 1
            rank = {"native": 0, "source": 1, "bytecode": 2}[kind]
            beaten = []
            for other in environment.answers(parent, name):
                other_kind = _module_stem(other, places.suffixes)
                if other_kind is not None and {"native": 0, "source": 1, "bytecode": 2}[other_kind[1]] > rank:
                    beaten.append(other)
        if beaten:
            problems.append(
                f"{label}: would be imported as {printable(name)} in place of {printable(beaten[0])}, which "
                f"another installed distribution put in {printable(parent)}"
            )
            continue
        if not top:
            # In a namespace package (no __init__ on the way, ours or another's) a module found in
            # this directory hides the same module in the package's portions searched after it.
            namespace = all(
                not any(
                    posixpath.join(root.path, *parts[:depth], f"__init__{suffix}") in ours
                    for suffix in (SOURCE, BYTECODE, *places.suffixes)
                )
                and environment.package_init(posixpath.join(root.path, *parts[:depth])) is None
                for depth in range(1, len(parts))
            )
            if namespace and root.path in later_roots:
                for other_root in later_roots[later_roots.index(root.path) + 1 :]:
                    others = environment.answers(posixpath.join(other_root, *parts[:-1]), name)
                    if others:
                        hidden = posixpath.join(other_root, *parts[:-1], others[0])
                        problems.append(
                            f"{label}: would be imported as {printable('.'.join([*parts[:-1], name]))} in place of "
                            f"{printable(hidden)}, which is searched after it"
                        )
                        break
            continue
        if (
            name in places.stdlib
            and root.kind != "scripts"
            and not any(environment.answers(r, name) for r in stdlib_roots)
        ):
            problems.append(
                f"{label}: named like {printable(name)} of the standard library, which has no file for it here: it "
                "would answer that name for the standard library"
            )
            continue
        if root.kind == "scripts" or root.path in order:
            after = later_roots if root.kind == "scripts" else later_roots[later_roots.index(root.path) + 1 :]
            if root.kind == "scripts" and name in places.stdlib:
                problems.append(
                    f"{label}: in the scripts directory ({root.why}) it is imported as {printable(name)} in place "
                    "of the standard library's module"
                )
                continue
            for other_root in after:
                others = environment.answers(other_root, name)
                if others:
                    problems.append(
                        f"{label}: would be imported as {printable(name)} in place of "
                        f"{printable(posixpath.join(other_root, others[0]))}, which is searched after it"
                    )
                    break
            else:
                # A regular package or module anywhere on sys.path wins over a namespace package,
                # whose portions are only gathered when no directory has one.
                shared = next((r for r in later_roots if r != root.path and environment.namespace(r, name)), None)
                if shared is not None:
                    problems.append(
                        f"{label}: would be imported as {printable(name)} in place of the namespace package that "
                        f"{printable(posixpath.join(shared, name))} is part of"
                    )
    return problems
