"""What a sourceless or zip wheel ships besides its bytecode: the selector package
(:mod:`hatch_pyc._shipped.selector_init` as its ``__init__.py``, and
:mod:`hatch_pyc._shipped.selector` with this wheel's values compiled for each interpreter)
and, in place of each top-level module and package ``__init__``, a stub that hands over to
it. The sources ship compiled too, so that an import compiles nothing. ``check`` and
``verify`` write the sources again from the wheel and require the same bytes, and ``verify``
compiles them and the selector's code again."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from hatch_pyc._shipped import selector
from hatch_pyc._shipped import selector_init as selector_init_module
from hatch_pyc.build.placement import Request, is_top_level
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.interpreters import Interpreter, in_version_order
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.naming import code_filename, distribution_id, legacy_pyc_path, pyc_path


class StubError(HatchPycError):
    """The modules cannot be laid out for several interpreters; the message says which and why."""


#: What every selector package's name starts with.
PREFIX = "_hatch_pyc_bytecode_"


def selector_package(distribution: str) -> str:
    """The selector package of ``distribution``: ``_hatch_pyc_bytecode_demo_pkg``."""
    return PREFIX + distribution_id(distribution)


def manifest(compiled: Collection[str], shipped: Collection[str]) -> dict[str, bool | None]:
    """:data:`hatch_pyc._shipped.selector.MODULES` for the module paths ``compiled`` into the trees:
    each module, each package, and each directory between them with no ``__init__.py`` among
    the ``shipped`` paths (a namespace package)."""
    modules: dict[str, bool | None] = {}
    for path in sorted(compiled):
        parts = path[: -len(".py")].split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if f"{directory}/__init__.py" not in shipped:
                modules.setdefault(directory.replace("/", "."), None)
        if parts[-1] == "__init__":
            modules[".".join(parts[:-1])] = True
        else:
            modules[".".join(parts)] = False
    return modules


def _top_level(modules: Mapping[str, bool | None], kept: Collection[str]) -> list[str]:
    """The module paths the stubs take the place of; StubError for a top level that cannot have one."""
    paths = []
    for name, kind in sorted(modules.items()):
        if "." in name:
            continue
        if kind is None:
            raise StubError(
                f"{name} is a namespace package (no {name}/__init__.py): a wheel for several interpreters selects "
                "its bytecode when a top-level module or package is imported; add the __init__.py, or build one "
                "wheel per interpreter"
            )
        paths.append(f"{name}/__init__.py" if kind else f"{name}.py")
    for path in sorted(kept):
        if is_top_level(path):
            raise StubError(
                f"keep-source names {path}, a top-level module: in a wheel for several interpreters its bytecode "
                "selects the rest; keep the source of modules below it instead"
            )
    return paths


def stub(package: str, path: str, cache_tag: str | None) -> bytes:
    """The stub of the top-level module at ``path``: ``__import__`` leaves no name behind in its
    globals. For several interpreters it runs the selector. For one (``cache_tag``) it runs
    that interpreter's bytecode itself, as cheaply as a pyc loads, and imports the selector
    package only on another interpreter, which fails there with the selector's message. Its
    origin is its source, or in an archive the pyc beside it (``.pyc``, one ``c`` more); the
    stub does not name ``__file__``, which would make its package look like one that reads files
    beside it (:func:`hatch_pyc.build.placement.mentions_file`)."""
    first = f"# Written by hatch-pyc: runs this module's bytecode for the running interpreter (see {package}).\n"
    if cache_tag is None:
        return f'{first}__import__("{package}").run(globals())\n'.encode()
    pyc = f"{package}/{cache_tag}/{legacy_pyc_path(path)}"
    return (
        f"{first}"
        f'if __import__("sys").implementation.cache_tag != "{cache_tag}":\n'
        f'    __import__("{package}")\n'
        f'exec(__import__("marshal").loads(__loader__.get_data('
        f'__spec__.origin.rstrip("c")[: -{len(path)}] + "{pyc}")[16:]))\n'
    ).encode()


def _shipped_text(module: ModuleType) -> str:
    """A shipped module's text without its docstring (a comment names it instead): what
    runs on every interpreter stays small."""
    with open(module.__file__ or "", encoding="utf-8") as f:
        text = f.read()
    body = text[text.index('\n"""\n') + len('\n"""\n') :].lstrip("\n")
    return f"# Written by hatch-pyc from hatch_pyc/_shipped/{module.__name__.rpartition('.')[2]}.py.\n{body}"


def selector_init(distribution: str, interpreters: Sequence[Interpreter]) -> bytes:
    """The selector package's ``__init__.py`` (:mod:`hatch_pyc._shipped.selector_init`) for
    ``distribution`` (``demo-pkg 1.0``) and the interpreters it has bytecode for."""
    targets = {i.cache_tag: i.named for i in in_version_order(interpreters)}
    call = f"\nexec(_selector({distribution!r}, {targets!r}))\n"
    return (_shipped_text(selector_init_module).rstrip("\n") + "\n" + call).encode()


def primary_tag(interpreters: Sequence[Interpreter]) -> str:
    """The cache tag of the interpreter whose bytecode of the modules below the top level a
    wheel for several keeps in their own places (the newest), so that its package exists on
    disk as a wheel for one interpreter's does: :attr:`hatch_pyc.build.placement.Placement.primary`."""
    return in_version_order(interpreters)[-1].cache_tag


def selector_code(distribution: str, modules: Mapping[str, bool | None], primary: str) -> bytes:
    """The selector's code (:mod:`hatch_pyc._shipped.selector` and this wheel's values), which
    ships compiled for each interpreter as :func:`selector_code_path`."""
    values = (
        f"\n\n# This wheel's.\nDISTRIBUTION = {distribution!r}\nPRIMARY = {primary!r}\n"
        f"MODULES = {dict(sorted(modules.items()))!r}\n"
    )
    return (_shipped_text(selector).rstrip("\n") + values).encode()


def selector_code_path(package: str, cache_tag: str) -> str:
    """Where the selector's code for one interpreter ships: ``<package>/cpython-311.pyc``, a
    name no import finds (the package's ``__init__.py`` reads it)."""
    return f"{package}/{cache_tag}.pyc"


def selector_code_tag(path: str, package: str) -> str | None:
    """The cache tag of the selector's code at ``path`` (:func:`selector_code_path`), else None."""
    directory, _, name = path.rpartition("/")
    stem = name[: -len(".pyc")]
    if directory != package or not name.endswith(".pyc") or "." in stem or stem == "__init__":
        return None  # __init__.pyc: the package's __init__.py compiled, beside it in an archive
    return stem


@dataclass(frozen=True)
class Own:
    """What hatch-pyc writes into a sourceless or zip wheel besides the modules' bytecode."""

    #: The selector package: ``_hatch_pyc_bytecode_demo_pkg``.
    package: str
    #: The sources that ship: ``{path: bytes}`` of the selector package's ``__init__.py``
    #: and of each top-level module's stub.
    sources: dict[str, bytes]
    #: The selector's code, compiled for each interpreter (:func:`selector_code_path`).
    code: bytes
    #: The top-level names a zip-layout wheel ships beside its archive (whose stubs are there too).
    outside: frozenset[str] = frozenset()

    def modules(self, cache_tag: str) -> list[Module]:
        """What to compile of it for the interpreter of ``cache_tag``: each source, and the
        code under the name of its pyc (``<package>/cpython-311.py``)."""
        found = [Module(source="", path=path, display=path, data=data) for path, data in sorted(self.sources.items())]
        code = selector_code_path(self.package, cache_tag)[: -len("c")]
        return [*found, Module(source="", path=code, display=code, data=self.code)]

    def requests(self, layout: Layout, several: bool, optimize: Sequence[int], cache_tag: str) -> tuple[Request, ...]:
        """The pycs of :meth:`modules`: the sources' as the import system reads them beside a
        source (``__pycache__`` pycs at each level on the file system, one pyc beside it in a
        single interpreter's archive, none in an archive for several: zipimport reads one
        ``mod.pyc``), and the code's at the lowest level, not beside any source."""
        requests = []
        for module in self.modules(cache_tag):
            archived = layout.archive and module.path.split("/")[0] not in self.outside
            if module.path not in self.sources:
                pycs: tuple[tuple[int, str], ...] = ((min(optimize), f"{module.path}c"),)
            elif not archived:
                pycs = tuple((level, pyc_path(module.path, level, cache_tag)) for level in optimize)
            elif not several:
                pycs = ((min(optimize), legacy_pyc_path(module.path)),)
            else:
                continue
            kept = module.path in self.sources
            requests.append(Request(module, pycs, code_filename(module, kept), debug_ranges=kept))
        return tuple(requests)


def files(
    *,
    distribution: str,
    version: str,
    interpreters: Sequence[Interpreter],
    compiled: Collection[str],
    kept: Collection[str],
    shipped: Collection[str],
    outside: frozenset[str] = frozenset(),
) -> Own:
    """The selector package and the stubs. ``compiled`` are the module paths whose bytecode
    is in the selector's tree, ``shipped`` the ``.py`` paths the wheel had, ``kept`` those
    that keep their source, ``outside`` the top-level names a zip-layout wheel ships beside its archive."""
    package = selector_package(distribution)
    modules = manifest(compiled, shipped)
    named = f"{distribution} {version}"
    sources = {f"{package}/__init__.py": selector_init(named, interpreters)}
    # A stub beside a zip layout's archive reads its bytecode through the selector, in the archive.
    alone = interpreters[0].cache_tag if len(interpreters) == 1 else None
    sources.update(
        {
            path: stub(package, path, None if path.split("/")[0] in outside else alone)
            for path in _top_level(modules, kept)
        }
    )
    return Own(package, sources, selector_code(named, modules, primary_tag(interpreters)), outside)


def tree_entry(path: str, package: str) -> tuple[str, str] | None:
    """``(cache tag, module's pyc path)`` of a pyc in a selector package's tree, else None:
    ``_hatch_pyc_bytecode_demo_pkg/cpython-311/demo/core.pyc`` is ``("cpython-311", "demo/core.pyc")``."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != package or parts[1] == "__pycache__" or not path.endswith(".pyc"):
        return None  # the selector package's own __init__ compiled is no interpreter's tree
    return parts[1], posixpath.join(*parts[2:])
