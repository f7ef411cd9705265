"""Runs inside the ``.pyz`` bundles that import packages from the archive itself
(``run-from = "archive"``) as their ``_hatch_pyc_resources`` module: answers
``importlib.resources`` for those packages from the archive's table of contents, which
zipimport has read already at the start, where the standard zip importer opens the archive
again with ``zipfile`` and lists all its entries at each ``files()`` call (binaryornot's: 15
ms from cookiecutter's bundle). A bundle that runs its packages from extracted files has
files to read, and no need of it.

Standard library only, in the syntax of the oldest target (3.8): it is compiled for
whichever interpreter the bundle is for.
"""

from __future__ import annotations

import os
import sys
import zipimport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any


def serve() -> None:
    """Give the bundle's ``sys.path`` entry (``<archive>/``, set by ``_hatch_pyc_index``), and
    its packages' paths, a :class:`_BundleImporter`.

    Called by the bundle's ``__main__`` after ``_hatch_pyc_index.serve``.
    """
    entry = getattr(__loader__, "archive", "") + os.sep  # type: ignore[name-defined]  # the bundle's zip importer
    if entry not in sys.path:  # run from a directory, or the bundle is not on sys.path
        return
    sys.path_importer_cache[entry] = _BundleImporter(entry)  # the hook below makes those of its packages' paths
    sys.path_hooks.insert(0, _importer_within(entry))


def _importer_within(prefix: str) -> Callable[[str], zipimport.zipimporter]:
    """A path hook giving the bundle's path entry, and its packages' paths, a
    :class:`_BundleImporter`."""

    def hook(path: str) -> zipimport.zipimporter:
        if not path.startswith(prefix):
            raise ImportError("not in the bundle")
        return _BundleImporter(path)

    return hook


class _BundleImporter(zipimport.zipimporter):
    """The bundle's zip importer, whose packages' ``importlib.resources.files()`` walk the
    archive's table of contents, which the import system has already read, where the standard
    one opens the archive again with ``zipfile`` and lists all its entries at each call."""

    def get_resource_reader(self, fullname: str) -> Any:
        names = _table_of_contents(self)
        if names is None or sys.version_info < (3, 10) or not self.is_package(fullname):
            return super().get_resource_reader(fullname)
        return _resources_type()(self, names, self.prefix.replace(os.sep, "/") + fullname.rpartition(".")[2])


_TREES: dict[str, tuple[frozenset[str], dict[str, list[str]]]] = {}


def _table_of_contents(importer: zipimport.zipimporter) -> tuple[frozenset[str], dict[str, list[str]]] | None:
    """The archive's files and ``{directory: its entries' names}``, from zipimport's own
    table (``_files``; ``_get_files()`` from 3.13); None where this Python has neither."""
    archive = importer.archive
    if archive not in _TREES:
        table = getattr(importer, "_files", None)
        if table is None and hasattr(importer, "_get_files"):
            table = importer._get_files()
        if not isinstance(table, dict):
            return None
        files = frozenset(name.replace(os.sep, "/") for name in table if not name.endswith(os.sep))
        children: dict[str, set[str]] = {}
        for name in table:
            parts = name.replace(os.sep, "/").rstrip("/").split("/")
            for depth in range(len(parts)):
                children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
        _TREES[archive] = (files, {path: sorted(names) for path, names in children.items()})
    return _TREES[archive]


_RESOURCES: Any = None


def _resources_type() -> Any:
    """The resource reader and its Traversable, made at the first ``importlib.resources`` call
    (which has imported their base classes already)."""
    global _RESOURCES
    if _RESOURCES is not None:
        return _RESOURCES
    import io

    try:
        from importlib.resources.abc import Traversable, TraversableResources  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # 3.10
        from importlib.abc import Traversable, TraversableResources

    class Entry(Traversable):  # type: ignore[misc, unused-ignore]
        def __init__(self, importer: Any, tree: Any, path: str) -> None:
            self._importer, self._tree, self._path = importer, tree, path

        @property
        def name(self) -> str:
            return self._path.rsplit("/", 1)[-1]

        def iterdir(self) -> Iterator[Any]:
            for child in self._tree[1].get(self._path, ()):
                yield Entry(self._importer, self._tree, f"{self._path}/{child}")

        def is_dir(self) -> bool:
            return self._path in self._tree[1]

        def is_file(self) -> bool:
            return self._path in self._tree[0]

        def joinpath(self, *descendants: Any) -> Any:
            parts = [part for descendant in descendants for part in str(descendant).split("/") if part]
            return Entry(self._importer, self._tree, "/".join([self._path, *parts]))

        def __truediv__(self, child: Any) -> Any:
            return self.joinpath(child)

        def open(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if not self.is_file():
                raise FileNotFoundError(f"{self._importer.archive}/{self._path}")
            data = io.BytesIO(self._importer.get_data(self._path.replace("/", os.sep)))
            return data if "b" in mode else io.TextIOWrapper(data, *args, **kwargs)

        def __str__(self) -> str:
            return f"{self._importer.archive}{os.sep}{self._path}"

    class Reader(TraversableResources):  # type: ignore[misc, unused-ignore]
        def __init__(self, importer: Any, tree: Any, package: str) -> None:
            self._root = Entry(importer, tree, package)

        def files(self) -> Any:
            return self._root

    _RESOURCES = Reader
    return _RESOURCES
