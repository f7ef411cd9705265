"""Where compiled files go in the wheel or archive, and which sources leave it, decided before
compiling: :func:`place` decides, and :meth:`Placement.requests` states each module's pycs as
frozen :class:`Request` s that compilation fills (:mod:`hatch_pyc.build.assembly` takes it
from there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from hatch_pyc.core.discovery import Module, matching
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.naming import code_filename, legacy_pyc_path, pyc_path
from hatch_pyc.core.native import is_extension_module


class LayoutError(HatchPycError):
    """The files cannot go into the layout asked for; the message says which and why."""


def refuse_extension_modules(paths: Iterable[str], layout: Layout) -> None:
    """Raise :class:`LayoutError` naming the extension modules among ``paths``."""
    found = sorted(path for path in paths if is_extension_module(path))
    if found:
        raise LayoutError(
            f"the {layout.name} layout puts the package in a zip archive, from which Python cannot import "
            f"extension modules, and the wheel has {len(found)}: {', '.join(found)}; use the sourceless layout"
        )


@dataclass(frozen=True)
class Placement:
    """Which modules get a legacy ``pkg/mod.pyc``, and which lose their source."""

    #: Module paths compiled to ``pkg/mod.pyc``; the others get ``__pycache__`` pycs.
    legacy: frozenset[str]
    #: Module paths whose ``.py`` is not shipped.
    sourceless: frozenset[str]
    #: Module paths that ``keep-source`` names, in any layout: their source ships beside
    #: their pyc in every artifact of the build, a ``.pyz`` included.
    kept: frozenset[str] = frozenset()
    #: Module paths whose code keeps its column positions (the ``debug-ranges`` option).
    debug_ranges: frozenset[str] = frozenset()
    #: The selector package (:mod:`hatch_pyc._shipped.selector`) of a sourceless or zip wheel, whose
    #: ``<cache tag>/`` directories hold the legacy pycs of the modules ``in_tree``; the other
    #: legacy pycs sit in their modules' places.
    tree: str = ""
    in_tree: frozenset[str] = frozenset()
    #: For several interpreters, the cache tag whose pycs of the modules below the top level
    #: sit in their own places, as in a wheel for one: the package then exists on disk, with
    #: every module and directory, for whatever lists it. The others' are in the tree.
    primary: str = ""

    def requests(self, modules: Sequence[Module], optimize: Sequence[int], cache_tag: str) -> tuple[Request, ...]:
        """What to compile of each module for the interpreter of ``cache_tag``: a legacy pyc
        at the lowest of the ``optimize`` levels (Python loads it at every ``-O`` level, and the
        lowest keeps the asserts and docstrings the source has), or ``__pycache__`` pycs at each."""
        return tuple(
            Request(
                module=module,
                pycs=((min(_levels(module, optimize)), self._legacy_path(module.path, cache_tag)),)
                if module.path in self.legacy
                else tuple((level, pyc_path(module.path, level, cache_tag)) for level in _levels(module, optimize)),
                dfile=code_filename(module, module.path in self.kept),
                debug_ranges=module.path in self.debug_ranges,
            )
            for module in modules
        )

    def _legacy_path(self, path: str, cache_tag: str) -> str:
        in_place = cache_tag == self.primary and not is_top_level(path)
        if path in self.in_tree and not in_place:
            return f"{self.tree}/{cache_tag}/{legacy_pyc_path(path)}"
        return legacy_pyc_path(path)


def _levels(module: Module, optimize: Sequence[int]) -> Sequence[int]:
    return (module.optimize,) if module.optimize is not None else optimize


@dataclass(frozen=True)
class Request:
    """One module to compile, as placed: its pycs and how its code is made."""

    module: Module
    #: ``(optimize level, path of the pyc in the wheel)`` of each pyc.
    pycs: tuple[tuple[int, str], ...]
    #: The code's ``co_filename`` (see :func:`hatch_pyc.core.naming.code_filename`).
    dfile: str
    #: Whether the code keeps its column positions.
    debug_ranges: bool


def place(
    layout: Layout,
    modules: Sequence[Module],
    keep_source: Sequence[str],
    debug_ranges: bool | None = None,
    tree: str = "",
    several: bool = False,
    primary: str = "",
) -> Placement:
    """Place the modules for ``layout``.

    alongside: sources stay, pycs go to ``__pycache__``. sourceless: every module but those
    matching ``keep_source`` ships as ``pkg/mod.pyc`` alone; kept ones keep their source and
    ``__pycache__`` pycs. zip (and ``.pyz`` bundles): zipimport reads nothing but legacy pycs,
    so every module gets one, and kept ones keep their source beside it.

    Column positions serve only a traceback that can show the source line they point into:
    unless ``debug_ranges`` says otherwise, the modules whose source ships beside the pyc
    keep them, and the others do not.

    A sourceless or zip wheel's selector package ``tree`` gets the legacy pycs of its
    top-level modules, which stubs replace (the import then fails clearly on another
    interpreter); for ``several`` interpreters, every module's, each interpreter's in its own
    directory, and then kept modules get ``__pycache__`` pycs in the sourceless layout and
    none in an archive, which zipimport reads only beside sources; the ``primary``
    interpreter's pycs below the top level stay in the modules' places.
    """
    every = frozenset(module.path for module in modules)
    kept = frozenset(matching(modules, keep_source))
    if layout.keeps_sources:
        with_source = every
        placement = Placement(legacy=frozenset(), sourceless=frozenset(), kept=kept)
    else:
        dropped = every - kept
        with_source = kept
        legacy = every if layout.archive and not several else dropped
        top = frozenset(path for path in dropped if is_top_level(path))
        in_tree = (dropped if several else top) if tree else frozenset()
        placement = Placement(
            legacy=legacy, sourceless=dropped, kept=kept, tree=tree, in_tree=in_tree, primary=primary if several else ""
        )
    ranges = with_source if debug_ranges is None else (every if debug_ranges else frozenset())
    return dataclasses.replace(placement, debug_ranges=ranges)


#: Files in a package that are read as modules, by type checkers or by compilers (the C and
#: Cython sources some wheels ship beside their extension modules), not beside ``__file__``.
NOT_DATA = (".py", ".pyc", ".pyi", ".c", ".h", ".pyx", ".pxd")


def names_file(module: Module) -> bool:
    """Whether a module's source names ``__file__`` (to build the path of a file beside it)."""
    if module.data is not None:
        return mentions_file(module.data)
    with open(module.source, "rb") as f:
        return mentions_file(f.read())


def mentions_file(data: bytes) -> bool:
    """Whether a module's source or bytecode names ``__file__`` (its own or another module's:
    either can build the path of a data file), which a pyc holds as those bytes too."""
    return b"__file__" in data


def reads_files_beside(paths: Collection[str], names_file: Callable[[str], bool]) -> frozenset[str]:
    """The top-level packages among ``paths`` with data files that their modules find by
    ``__file__``: in an archive such code finds no file. ``importlib.resources`` does, so data
    alone is not a reason. ``names_file(path)`` says whether the module at ``path`` names
    ``__file__`` (:func:`names_file`, :func:`mentions_file`); it is asked only of the modules
    of packages that have data files, and only until one does."""
    with_data: set[str] = set()
    modules: dict[str, list[str]] = {}
    for path in paths:
        parts = path.split("/")
        if len(parts) < 2:
            continue
        if path.endswith((".py", ".pyc")):
            modules.setdefault(parts[0], []).append(path)
        if "__pycache__" in parts or parts[0].endswith((".dist-info", ".data")):
            continue
        if not parts[-1].endswith(NOT_DATA) and parts[-1] != "py.typed":
            with_data.add(parts[0])
    return frozenset(top for top in with_data if any(names_file(path) for path in modules.get(top, ())))


def is_top_level(path: str) -> bool:
    """Whether ``path`` is a top-level module or a top-level package's ``__init__.py``: what a stub replaces."""
    return "/" not in path or path.partition("/")[2] == "__init__.py"
