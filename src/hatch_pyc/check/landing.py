"""Where each file of a wheel lands when it is installed, and what the import system makes of it there.

``check`` and ``install`` decide what to verify from this, never from what the artifact says
about itself: a pyc is checked against the source that lands beside it, wherever in the
wheel either came from (the root, ``.data/purelib``, ``.data/platlib``, or ``.data/data``
when the data scheme reaches site-packages); archives are opened when a ``.pth`` file puts
them on ``sys.path``; names are compared as the strictest file system compares them. The
bytecode metadata can only narrow what is allowed: bytecode without a source passes only
where the recorded layout puts it.

Everything here works on entry names and text, so that the rules are tested without a wheel.
"""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hatch_pyc.core.errors import printable
from hatch_pyc.wheel.wheelfile import IMPORTABLE_SCHEMES

#: purelib and platlib: both on ``sys.path`` (usually one directory), so one namespace here.
SITE = "site"
#: ``name.<cache tag>.pyc`` or ``name.<cache tag>.opt-1.pyc``: what the import system looks
#: for in ``__pycache__`` (``importlib.util.cache_from_source``).
CACHED_PYC = re.compile(r"^(?P<stem>.+?)\.(?P<tag>[^.]+)(?:\.opt-[12])?\.pyc$")
#: Modules the ``site`` module imports at every start when they are on ``sys.path``.
STARTUP_MODULES = ("sitecustomize", "usercustomize")


def fold(path: str) -> str:
    """``path`` as the strictest file system compares names: each part in one Unicode form
    (macOS normalizes), case-folded (macOS and Windows ignore case), without trailing dots and
    spaces (Windows drops them)."""
    return "/".join(
        unicodedata.normalize("NFC", unicodedata.normalize("NFD", part).casefold()).rstrip(". ")
        for part in path.split("/")
    )


@dataclass(frozen=True)
class Landing:
    """Where an entry goes: a scheme (:data:`SITE`, ``scripts``, ``data``, ``headers``, or a
    scheme no installer knows) and a path relative to that scheme's directory."""

    scheme: str
    path: str


def land(entry: str, data_dir: str, in_site: Mapping[str, Sequence[str]]) -> Landing:
    """Where the wheel entry ``entry`` lands. ``data_dir`` is the wheel's ``.data`` directory;
    ``in_site`` maps the other schemes (``data``...) to the paths of site-packages inside
    them (:func:`site_prefixes`)."""
    if not entry.startswith(data_dir + "/"):
        return Landing(SITE, entry)
    scheme, _, rest = entry[len(data_dir) + 1 :].partition("/")
    if scheme in IMPORTABLE_SCHEMES:
        return Landing(SITE, rest)
    parts = rest.split("/")
    for prefix in in_site.get(scheme, ()):
        depth = prefix.count("/") + 1
        if len(parts) > depth and fold("/".join(parts[:depth])) == fold(prefix):
            return Landing(SITE, "/".join(parts[depth:]))
    return Landing(scheme, rest)


@dataclass
class Audit:
    """What the import system will make of an install: the verdict of :func:`audit_wheel`."""

    #: Each pyc the import system loads in place of a source: ``{pyc entry: source entry}``.
    sources: dict[str, str] = field(default_factory=dict)
    #: One line per file that must not be installed as it is.
    problems: list[str] = field(default_factory=list)
    #: One line per piece of code that runs at every start of Python (``.pth`` import lines,
    #: PEP 829 ``.start`` files, ``sitecustomize``).
    startup: list[str] = field(default_factory=list)
    #: What fits but is worth knowing.
    notes: list[str] = field(default_factory=list)
    #: Archives a ``.pth`` file puts on ``sys.path``: ``{entry: whether the layout declares it}``.
    archives: dict[str, bool] = field(default_factory=dict)
    #: Pycs with no source, which only the recorded layout allows: nothing here can verify them.
    unverifiable: int = 0


def pth_lines(text: str) -> Iterable[tuple[int, str, bool]]:
    """The lines ``site`` acts on, as it reads them: ``(number, line, runs code)``."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        yield number, line.rstrip(), line.startswith(("import ", "import\t"))


def audit_wheel(
    entries: Iterable[str],
    *,
    data_dir: str,
    layout: str | None,
    archive_name: str,
    read_text: Callable[[str], str],
    in_site: Mapping[str, Sequence[str]] | None = None,
) -> Audit:
    """Audit the install of a wheel holding ``entries`` (files only).

    ``layout`` is the one the bytecode metadata records (None without metadata);
    ``archive_name`` the zip layout's archive (``demo_pkg.zip``), allowed to hold bytecode
    without source when that layout is recorded; ``read_text`` reads a ``.pth`` file.
    """
    audit = Audit()
    landings = {entry: land(entry, data_dir, in_site or {}) for entry in entries}
    exact: dict[str, str] = {}
    folded: dict[tuple[str, str], str] = {}
    for entry, where in landings.items():
        key = (where.scheme, fold(where.path))
        if key in folded:
            other = folded[key]
            how = "" if landings[other] == where else " where names are compared without case (macOS, Windows)"
            audit.problems.append(f"{printable(other)} and {printable(entry)} land on one file{how}")
        folded[key] = entry
        if where.scheme == SITE:
            exact[where.path] = entry
    for (scheme, path), entry in folded.items():
        for parent in _parents(path):
            clash = folded.get((scheme, parent))
            if clash is not None:
                audit.problems.append(f"{printable(entry)} needs a directory where {printable(clash)} lands as a file")
    site_dirs = {parent for (scheme, path) in folded if scheme == SITE for parent in _parents(path)}
    for entry, where in landings.items():
        if where.scheme == SITE:
            _audit_site_file(audit, entry, where.path, exact, folded, layout)
    for module in sorted({_startup_module(where.path) for where in landings.values() if where.scheme == SITE} - {""}):
        audit.startup.append(f"{printable(module)}: the site module imports it at every start of Python")
    for entry, where in landings.items():
        if where.scheme == SITE and "/" not in where.path:
            _audit_top_level(audit, entry, where.path, read_text, exact, folded, site_dirs, layout, archive_name)
    return audit


def _parents(path: str) -> Iterable[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _startup_module(path: str) -> str:
    """The ``sitecustomize`` module or package ``path`` (in site-packages) belongs to, or ""."""
    head, slash, _ = path.partition("/")
    key = fold(head)
    if key in STARTUP_MODULES and slash:
        return head
    if key.split(".")[0] in STARTUP_MODULES and not slash and key.endswith((".py", ".pyc", ".so", ".pyd")):
        return head
    return ""


def site_prefixes(paths: Mapping[str, str]) -> dict[str, list[str]]:
    """For each scheme that is not site-packages, the paths inside it that are: what a file of
    ``.data/data`` must start with to land in site-packages. ``paths`` is an install scheme."""
    found: dict[str, list[str]] = {}
    for scheme in ("data", "headers", "scripts"):
        if scheme not in paths:
            continue
        for site in dict.fromkeys((paths["purelib"], paths["platlib"])):
            relative = os.path.relpath(site, paths[scheme])
            if relative != os.curdir and not relative.startswith(os.pardir):
                found.setdefault(scheme, []).append(relative.replace(os.sep, "/"))
    return found


def _audit_site_file(
    audit: Audit,
    entry: str,
    path: str,
    exact: Mapping[str, str],
    folded: Mapping[tuple[str, str], str],
    layout: str | None,
) -> None:
    parts = path.split("/")
    folded_parts = fold(path).split("/")
    for raw, same in zip(parts[:-1], folded_parts[:-1], strict=True):
        if same == "__pycache__" and raw != "__pycache__":
            audit.problems.append(
                f"{printable(entry)}: a directory spelled {printable(raw)!r}, which is __pycache__ where names are "
                "compared without case (macOS, Windows)"
            )
    if not folded_parts[-1].endswith(".pyc"):
        return
    if len(parts) >= 2 and folded_parts[-2] == "__pycache__":
        match = CACHED_PYC.match(parts[-1])
        if match is None:
            return  # no name the import system looks for
        source = posixpath.join(*parts[:-2], match["stem"] + ".py")
        if source in exact:
            audit.sources[entry] = exact[source]
            return
        twin = folded.get((SITE, fold(source)))
        if twin is not None:
            audit.problems.append(
                f"{printable(entry)}: named unlike its source {printable(twin)}; the import system loads it in that "
                "source's place where names are compared without case (macOS, Windows)"
            )
        else:
            audit.problems.append(
                f"{printable(entry)}: a __pycache__ pyc with no source beside it ({printable(source)}): it would run "
                "in place of a module of that name installed later, and nothing can verify it"
            )
        return
    if path[:-1] in exact:
        return  # the source beside it is imported, not the pyc
    if layout == "sourceless":
        audit.unverifiable += 1
    else:
        audit.problems.append(
            f"{printable(entry)}: bytecode with no source beside it, which only a wheel whose bytecode metadata "
            "records the sourceless layout may ship: nothing can verify it"
        )


def _audit_top_level(
    audit: Audit,
    entry: str,
    name: str,
    read_text: Callable[[str], str],
    exact: Mapping[str, str],
    folded: Mapping[tuple[str, str], str],
    site_dirs: set[str],
    layout: str | None,
    archive_name: str,
) -> None:
    """A file at the top of site-packages: ``.pth`` and ``.start`` files, ``sitecustomize``."""
    key = fold(name)
    if key.endswith(".start") and not name.startswith("."):
        audit.startup.append(f"{printable(entry)}: its entry points run at every start of Python 3.15+ (PEP 829)")
    if not key.endswith(".pth") or name.startswith("."):
        return

    def outside(number: int, line: str) -> None:
        audit.notes.append(f"{printable(entry)} line {number} puts {printable(line)} on sys.path: not in this wheel")

    for number, line, runs_code in pth_lines(read_text(entry)):
        if runs_code:
            audit.startup.append(
                f"{printable(entry)} line {number} runs code at every start of Python: {printable(line[:100])}"
            )
            continue
        target = posixpath.normpath(line.replace("\\", "/"))
        if line.startswith(("/", "\\")) or (len(line) > 1 and line[1] == ":") or target.startswith(".."):
            outside(number, line)
            continue
        parts = target.split("/")
        # zipimport takes a path inside an archive too: ``extra.zip/lib``.
        for depth in range(1, len(parts) + 1):
            member = folded.get((SITE, fold("/".join(parts[:depth]))))
            if member is not None:
                declared = layout == "zip" and member == archive_name and exact.get(archive_name) == member
                audit.archives[member] = audit.archives.get(member, False) or declared
                break
        else:
            if fold(target) not in site_dirs:
                outside(number, line)


def audit_archive(names: Iterable[str], *, label: str, declared: bool) -> Audit:
    """Audit an archive on ``sys.path``: zipimport loads ``pkg/mod.pyc`` before ``pkg/mod.py``
    (checking it against that source, which it is verified against here) and, without a
    source, runs it as it is: allowed only in the archive the recorded layout declares."""
    audit = Audit()
    present = set(names)
    for name in sorted(present):
        if not name.endswith(".pyc") or "__pycache__" in name.split("/")[:-1]:
            continue  # zipimport never reads __pycache__
        source = name[:-1]
        if source in present:
            audit.sources[name] = source
        elif declared:
            audit.unverifiable += 1
        else:
            audit.problems.append(
                f"{printable(label)}/{printable(name)}: bytecode with no source beside it in an archive on sys.path "
                "that the bytecode metadata does not declare: nothing can verify it"
            )
    return audit
