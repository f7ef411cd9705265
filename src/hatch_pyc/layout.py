"""Where compiled files go in the wheel or archive, and which sources leave it.

Before compiling, :func:`place` decides, and :meth:`Placement.requests` states each module's
pycs as frozen :class:`Request` s that compilation fills; after it, the functions below say
what the wheel or archive gains from what was compiled.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hatch_pyc import archive
from hatch_pyc.discovery import Module, matching
from hatch_pyc.errors import HatchPycError
from hatch_pyc.naming import code_filename, distribution_id, legacy_pyc_path, pyc_path

if TYPE_CHECKING:
    from hatch_pyc.compilation import Compilation

#: Suffixes of extension modules, which zipimport cannot load.
EXTENSION_SUFFIXES = (".so", ".pyd")


class LayoutError(HatchPycError):
    """The files cannot go into the layout asked for; the message says which and why."""


def refuse_extension_modules(paths: Iterable[str], layout: str) -> None:
    """Raise :class:`LayoutError` naming the extension modules among ``paths``."""
    found = sorted(path for path in paths if path.endswith(EXTENSION_SUFFIXES))
    if found:
        raise LayoutError(
            f"the {layout} layout puts the package in a zip archive, from which Python cannot import "
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
    #: The selector package (:mod:`hatch_pyc.selector`) of a sourceless or zip wheel, whose
    #: ``<cache tag>/`` directories hold the legacy pycs of the modules ``in_tree``; the other
    #: legacy pycs sit in their modules' places.
    tree: str = ""
    in_tree: frozenset[str] = frozenset()

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
        return f"{self.tree}/{cache_tag}/{legacy_pyc_path(path)}" if path in self.in_tree else legacy_pyc_path(path)


def _levels(module: Module, optimize: Sequence[int]) -> Sequence[int]:
    return (module.optimize,) if module.optimize is not None else optimize


@dataclass(frozen=True)
class Request:
    """One module to compile, as placed: its pycs and how its code is made."""

    module: Module
    #: ``(optimize level, path of the pyc in the wheel)`` of each pyc.
    pycs: tuple[tuple[int, str], ...]
    #: The code's ``co_filename`` (see :func:`hatch_pyc.naming.code_filename`).
    dfile: str
    #: Whether the code keeps its column positions.
    debug_ranges: bool


def place(
    layout: str,
    modules: Sequence[Module],
    keep_source: Sequence[str],
    debug_ranges: bool | None = None,
    tree: str = "",
    several: bool = False,
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
    none in an archive, which zipimport reads only beside sources.
    """
    every = frozenset(module.path for module in modules)
    kept = frozenset(matching(modules, keep_source))
    if layout == "alongside":
        with_source = every
        placement = Placement(legacy=frozenset(), sourceless=frozenset(), kept=kept)
    else:
        dropped = every - kept
        with_source = kept
        legacy = every if layout == "zip" and not several else dropped
        top = frozenset(path for path in dropped if "/" not in path or _top_level_package(path))
        in_tree = (dropped if several else top) if tree else frozenset()
        placement = Placement(legacy=legacy, sourceless=dropped, kept=kept, tree=tree, in_tree=in_tree)
    ranges = with_source if debug_ranges is None else (every if debug_ranges else frozenset())
    return dataclasses.replace(placement, debug_ranges=ranges)


def _top_level_package(path: str) -> bool:
    """Whether ``path`` is a top-level package's ``__init__.py``."""
    return path.partition("/")[2] == "__init__.py"


def pyc_files(compilations: Sequence[Compilation]) -> dict[str, str]:
    """Every compiled file to add to the wheel: ``{file on disk: path in the wheel}``.

    The compilation already chose each pyc's path in the wheel: ``__pycache__`` pycs,
    which the import system looks for first, and legacy ``pkg/mod.pyc`` for sourceless
    modules, the one place it loads a pyc without a source.
    """
    return {
        file: path
        for compilation in compilations
        for compiled in compilation.modules
        for _, path, file in compiled.pycs
    }


def archive_files(
    shipped: Iterable[tuple[str, str]], compilation: Compilation, sourceless: frozenset[str]
) -> dict[str, str]:
    """The contents of an archive in the legacy layout: ``{path in archive: file on disk}``.

    ``shipped`` holds ``(file on disk, path in the wheel)`` of every file the wheel would
    ship. Each compiled module is there as its legacy pyc, at the place the compilation gave
    it (``pkg/mod.pyc``, or in the selector package), compiled at its lowest level; its source
    only if it is not in ``sourceless``.
    """
    compiled = {entry.module.path: entry for entry in compilation.modules}
    files = {path: source for source, path in shipped if path not in compiled}
    for path, entry in compiled.items():
        _, placed, pyc = min(entry.pycs)
        files[placed] = pyc
        if path not in sourceless:
            files[path] = entry.module.source
    return files


def zip_layout_files(distribution: str, contents: Mapping[str, str], out_dir: str, *, compress: bool) -> dict[str, str]:
    """Write the zip layout's two files into ``out_dir``: ``{file on disk: path in the wheel}``.

    ``<distribution>.zip`` holds ``contents`` (``{path in archive: file on disk}``, see
    :func:`archive_files`), deflated if ``compress``; ``<distribution>.pth`` names it on its one
    line: a path relative to site-packages and no ``import``, so nothing runs at interpreter
    start-up.
    """
    name = distribution_id(distribution)
    archive_file = os.path.join(out_dir, f"{name}.zip")
    archive.write_zip(archive_file, contents, compress=compress)
    pth_file = os.path.join(out_dir, f"{name}.pth")
    with open(pth_file, "w", encoding="utf-8") as f:
        f.write(f"{name}.zip\n")
    return {archive_file: f"{name}.zip", pth_file: f"{name}.pth"}
