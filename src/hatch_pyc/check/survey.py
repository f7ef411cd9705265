"""What an install of an artifact puts where the import system finds it: every member,
nested archives that a ``.pth`` file puts on ``sys.path`` included, audited by
:mod:`hatch_pyc.check.landing`, and the files hatch-pyc itself writes into sourceless and zip
wheels (stubs and the selector package), which must be exactly what this version writes.
``check`` and ``verify`` both start from this survey.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from hatch_pyc._shipped.bundle_runtime import INDEX_MODULE, RESOURCES_MODULE, RUNTIME_MODULE
from hatch_pyc.build import placement, stubs
from hatch_pyc.build.bytecode_metadata import BytecodeMetadata
from hatch_pyc.check import landing
from hatch_pyc.check.landing import Audit, Places
from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.limits import MAX_PTH_SIZE, MAX_PYC_SIZE
from hatch_pyc.core.naming import distribution_id
from hatch_pyc.wheel import wheelfile
from hatch_pyc.wheel.artifact import Artifact


class Member(NamedTuple):
    """A file of the artifact, or of an archive inside it that a ``.pth`` file puts on ``sys.path``.

    A named tuple, made for every entry: a frozen dataclass sets each field through a call."""

    container: Artifact
    #: Its name in ``container``.
    entry: str
    #: Its name in messages: ``archive.zip/pkg/mod.pyc`` inside a nested archive.
    display: str


@dataclass
class Survey:
    """Every file the install puts where the import system finds it, and what it makes of them."""

    members: list[Member]
    #: The source each pyc is checked against: ``{(id(container), pyc entry): source entry}``.
    sources: dict[tuple[int, str], str]
    audit: Audit
    #: hatch-pyc's own files, as this version writes them: ``{(id(container), entry): bytes}``.
    own: dict[tuple[int, str], bytes]
    #: Where the wheel's entries that land in site-packages land: ``{entry: path there}``.
    site_paths: dict[str, str]
    places: Places
    #: The selector's code as this version writes it (:func:`hatch_pyc.build.stubs.selector_code`),
    #: for a wheel with a selector package; ``verify`` compiles it and compares.
    selector_code: bytes | None = None

    def site_path(self, entry: str, data_dir: str) -> str | None:
        """Where ``entry`` of the wheel (one it holds or not) lands in site-packages, or None."""
        if entry in self.site_paths:
            return self.site_paths[entry]
        landed = landing.destinations(
            [entry], data_dir=data_dir, root_scheme="purelib", places=self.places, resolve=lambda path: path
        )
        return _site_paths(landed, self.places).get(entry)


#: hatch-pyc's modules in a bundle, which it ships as bytecode only.
OWN_MODULES = (INDEX_MODULE, RESOURCES_MODULE, RUNTIME_MODULE)


def survey_artifact(artifact: Artifact, meta: BytecodeMetadata | None, places: Places | None = None) -> Survey:
    """Audit where each file lands (:mod:`hatch_pyc.check.landing`) on the target of ``places``
    (a generic venv without one), opening every archive a ``.pth`` file puts on ``sys.path``,
    whatever the bytecode metadata says."""
    layout = meta.layout if meta is not None else None
    members = [Member(artifact, name, name) for name in artifact.names]
    if artifact.kind != "wheel":
        audit = landing.audit_archive(artifact.names, label="", declared=layout is not None and layout.bundle)
        own_sources = sorted(set(artifact.names) & {f"{name}{end}" for name in OWN_MODULES for end in (".py", ".pyw")})
        audit.problems += [
            f"{printable(name)}: a source of hatch-pyc's bundle runtime, which hatch-pyc never writes: zipimport runs "
            "it in place of the module's pyc"
            for name in own_sources
        ]
        sources = {(id(artifact), pyc): src for pyc, src in audit.sources.items()}
        return Survey(members, sources, audit, {}, {}, places or Places.generic())

    def read_text(entry: str) -> str:
        return artifact.read(entry, MAX_PTH_SIZE).decode("utf-8-sig", errors="replace")

    places = places or Places.generic()
    selector = stubs.selector_package(artifact.name)
    root_is_purelib = artifact.wheel.get("Root-Is-Purelib", ["true"])[0].lower() == "true"
    audit = landing.audit_wheel(
        artifact.names,
        data_dir=artifact.data_dir,
        dist_info=artifact.dist_info,
        layout=layout,
        archive_name=f"{distribution_id(artifact.name)}.zip",
        read_text=read_text,
        places=places,
        root_scheme="purelib" if root_is_purelib else "platlib",
    )
    sources = {(id(artifact), pyc): src for pyc, src in audit.sources.items()}
    own: dict[tuple[int, str], bytes] = {}
    code = None
    in_site = _site_paths(audit.landed, places)
    if layout is not None and layout.selector and not layout.archive:  # the stubs beside the wheel's files
        found, code = _own_files(artifact, meta, in_site)
        own.update({(id(artifact), entry): data for entry, data in found.items()})
    scripts = places.schemes.get("scripts")
    # Only a path that starts with the scripts directory can be in it: the others are not sorted.
    near_scripts = [item for item in audit.landed.items() if scripts is not None and item[1].startswith(scripts)]
    for entry, path in sorted(near_scripts):
        # ``python bin/tool`` runs a script that is a zip archive (after its #! line) as a zipapp:
        # its __main__ and what it imports come from the archive, as zipimport reads it.
        if posixpath.dirname(path) != scripts or entry in audit.archives:
            continue
        kind = _script_kind(artifact, entry)
        if kind == "bytecode":
            audit.problems.append(
                f"{printable(entry)}: a script that is bytecode, which `python` runs as it is (it reads a pyc's "
                "magic number whatever the file's name): nothing can verify it"
            )
        elif kind == "zip":
            audit.archives[entry] = (False, "a script run as a zip application")
    #: The names in each archive on sys.path, for :func:`_shadowing`.
    archived: dict[str, tuple[bool, list[str]]] = {}
    for name, (declared, _) in sorted(audit.archives.items()):
        nested = artifact.open_nested(name)
        archived[name] = (declared, nested.names)
        members.extend(Member(nested, inner, f"{name}/{inner}") for inner in nested.names)
        inner_audit = landing.audit_archive(nested.names, label=name, declared=declared)
        sources.update({(id(nested), pyc): src for pyc, src in inner_audit.sources.items()})
        audit.problems += inner_audit.problems
        audit.startup += inner_audit.startup
        audit.unverifiable += inner_audit.unverifiable
        if declared and layout is not None and not layout.bundle:
            readers = _file_readers(nested, selector)
            if readers:
                audit.notes.append(
                    f"{printable(name)}: {', '.join(map(printable, readers))} may read data files beside __file__ "
                    "(its code names it), which are not files inside an archive: build the wheel with this version "
                    "of hatch-pyc, which ships such packages beside the archive, or in the sourceless layout"
                )
        if declared:
            # The zip layout's own files are in its archive, but the stubs of packages it ships
            # beside the archive (sourceless, in site-packages), which are the wheel's.
            found, code = _own_files(artifact, meta, {inner: inner for inner in nested.names}, in_site)
            in_archive = set(nested.names)
            by_path = {path: entry for entry, path in in_site.items()}
            for path, data in found.items():
                if path in in_archive or path not in by_path:
                    own[(id(nested), path)] = data
                else:
                    own[(id(artifact), by_path[path])] = data
    audit.problems += _shadowing(audit, archived)
    own_problems(audit, members, own, selector, in_site)
    return Survey(members, sources, audit, own, in_site, places, code)


def _top_name(relative: str) -> str | None:
    """The top-level module name a file at ``relative`` below a root on ``sys.path`` answers to."""
    head, slash, _ = relative.partition("/")
    name = head if slash else head.split(".")[0] if head.endswith((".py", ".pyc", ".pyw", ".so", ".pyd")) else ""
    return name if name.isidentifier() else None


def _shadowing(audit: Audit, archived: Mapping[str, tuple[bool, list[str]]]) -> list[str]:
    """One problem per top-level name that a zip-layout wheel's archive holds and that the wheel
    puts anywhere else the import system looks (site-packages, the scripts directory that is a
    console script's ``sys.path[0]``, a directory or another archive a ``.pth`` line adds):
    found there first, it would run in place of the archive's (the selector package, a stub,
    a module), unverified against it."""
    problems: dict[str, str] = {}
    for archive, (declared, names) in sorted(archived.items()):
        if not declared:
            continue
        inside = {top for name in names if (top := _top_name(name)) is not None}
        elsewhere = [
            (entry, root.path, audit.landed[entry][len(root.path) + 1 :]) for entry, root in audit.placed.items()
        ]
        elsewhere += [
            (f"{other}/{name}", other, name)
            for other, (other_declared, other_names) in archived.items()
            if other != archive
            for name in other_names
        ]
        for entry, root, relative in sorted(elsewhere):
            top = _top_name(relative)
            if top in inside and top not in problems:
                problems[top] = (
                    f"{printable(entry)}: answers the import of {top} from {printable(root)}, and {printable(archive)} "
                    "holds it too: the first one on sys.path runs in place of the other, unverified against it"
                )
    return list(problems.values())


def _file_readers(archive: Artifact, selector: str) -> list[str]:
    """The top-level packages in a zip layout's ``archive`` with data files and code that names
    ``__file__`` (:func:`hatch_pyc.build.placement.reads_files_beside`)."""
    found = placement.reads_files_beside(
        archive.names, lambda name: placement.mentions_file(archive.read(name, MAX_PYC_SIZE))
    )
    return sorted(top for top in found if top != selector)


def _script_kind(artifact: Artifact, entry: str) -> str:
    """What ``python script`` runs the entry as, from one reading of it to its end (the one
    RECORD is verified with): ``bytecode`` when it starts as a pyc of CPython 3 or PyPy 3
    does (its first two bytes are the running interpreter's magic), ``zip`` for a zip archive
    (an end record where zipfile looks for one), else ``source``."""
    start = tail = b""
    try:
        for chunk in artifact.chunks(entry):
            start = start or chunk[:4]
            tail = (tail + chunk)[-_END_SEARCH:]
    except BadArtifact:
        return "source"
    if len(start) == 4 and start[2:] == b"\r\n" and 3000 <= int.from_bytes(start[:2], "little") < 4000:
        return "bytecode"
    return "zip" if zipfile.is_zipfile(io.BytesIO(tail)) else "source"


#: What zipfile reads of an archive's end to find its end record: the record (22 bytes) and a
#: comment of up to 65,535 bytes, and the zip64 locator (20) and record (56) before them.
_END_SEARCH = 22 + 65535 + 20 + 56


def _site_paths(landed: Mapping[str, str], places: Places) -> dict[str, str]:
    """``{entry: its path in site-packages}`` of the ``landed`` sources and pycs that land there
    (what the stubs, the selector and ``verify`` look at; :meth:`Survey.site_path` finds others)."""
    found = {}
    for entry, path in landed.items():
        if not path.endswith((".py", ".pyc", ".pyw")):
            continue
        for site in places.sites:
            if path.startswith(site + "/"):
                found[entry] = path[len(site) + 1 :]
                break
    return found


def _own_files(
    artifact: Artifact, meta: BytecodeMetadata | None, paths: Mapping[str, str], beside: Mapping[str, str] = {}
) -> tuple[dict[str, bytes], bytes | None]:
    """What this version writes as stubs and selector package for the bytecode ``paths``
    (``{entry: path in site-packages or the archive}``) hold, with ``beside`` the files a
    zip-layout wheel has in site-packages: ``{entry: bytes}`` of the sources (their paths, for
    files not in ``paths``), and the selector's code (None where there is no selector package)."""
    selector = stubs.selector_package(artifact.name)
    interpreters = meta.interpreters if meta is not None else ()
    by_path = {path: entry for entry, path in paths.items()}
    init = f"{selector}/__init__.py"
    if init not in by_path or not interpreters:
        return {}, None
    compiled = set()
    for path in paths.values():
        tree = stubs.tree_entry(path, selector)
        if tree is not None:
            compiled.add(tree[1][: -len(".pyc")] + ".py")
    shipped = compiled | {path for path in [*paths.values(), *beside.values()] if path.endswith(".py")}
    headers = wheelfile.metadata_headers(artifact.text(f"{artifact.dist_info}/METADATA"))
    try:
        expected = stubs.files(
            distribution=headers.get("Name", artifact.name),
            version=headers.get("Version", artifact.version),
            interpreters=interpreters,
            compiled=compiled,
            kept=(),
            shipped=shipped,
            outside=frozenset(path.split("/")[0] for path in beside.values()),
        )
    except stubs.StubError:
        # No selector hatch-pyc writes has this tree: the one there is not its own.
        return {by_path[init]: b""}, None
    return {by_path.get(path, path): data for path, data in expected.sources.items()}, expected.code


def own_problems(
    audit: Audit,
    members: list[Member],
    own: Mapping[tuple[int, str], bytes],
    selector: str,
    in_site: Mapping[str, str],
) -> None:
    """A stub or selector file that is not what this version writes, a missing one, and a
    source in the selector package, are problems: they run, and no sdist holds them."""
    present = {(id(member.container), member.entry): member for member in members} if own else {}
    for key, data in sorted(own.items(), key=lambda item: item[0][1]):
        member = present.get(key)
        if member is None:
            audit.problems.append(f"{printable(key[1])}: missing; hatch-pyc writes it for this layout")
            continue
        if member.container.info(member.entry).file_size != len(data) or (
            member.container.read(member.entry, MAX_PYC_SIZE) != data
        ):
            audit.problems.append(
                f"{printable(member.display)}: not what hatch-pyc writes there for this wheel (a stub or the "
                "selector package): it runs at import, and no sdist holds it"
            )
    in_selector = selector + "/"
    for member in members:
        path = in_site.get(member.entry, member.entry) if member.container is members[0].container else member.entry
        # The selector package's top is the selector: the path is it, or starts with it and "/".
        if (
            path.endswith(".py")
            and (path == selector or path.startswith(in_selector))
            and (id(member.container), member.entry) not in own
        ):
            audit.problems.append(
                f"{printable(member.display)}: a source in the selector package, which hatch-pyc never writes"
            )
