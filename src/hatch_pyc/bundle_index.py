"""Runs inside every ``.pyz`` bundle as its ``_hatch_pyc_index`` module: answers
``importlib.metadata`` and ``importlib.resources`` for what the bundle holds from the
archive's table of contents, which zipimport has read already at the start.

Left to themselves, both open the archive again with ``zipfile`` and list all its entries:
``importlib.metadata`` at each process start that asks for a distribution, reading every
distribution's METADATA for its name too (httpie's ``entry_points()``: 46 ms from its bundle),
``importlib.resources.files()`` at each call (binaryornot's: 15 ms from cookiecutter's).

Standard library only, in the syntax of the oldest target (3.8): it is compiled for
whichever interpreter the bundle is for.
"""

from __future__ import annotations

import os
import sys
import zipimport

try:  # importlib.machinery's, from the modules already loaded
    from _frozen_importlib_external import PathFinder
except ImportError:  # pragma: no cover - an interpreter without the frozen modules
    from importlib.machinery import PathFinder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any


class Distributions:
    """A meta path finder that serves the ``.dist-info`` directories the bundle records to
    ``importlib.metadata``, ahead of ``PathFinder``: :func:`serve` puts the bundle on
    ``sys.path`` as ``<archive>/``, a path zipimport reads and ``importlib.metadata`` skips."""

    def __init__(self, entry: str, archive: str, read: Callable[[str], bytes], dist_infos: Sequence[str]) -> None:
        #: The bundle's ``sys.path`` entry.
        self._entry = entry
        self._archive = archive
        self._read = read
        #: ``{normalized name: .dist-info directory}``.
        self._dist_infos = {_normalized(dist_info.split("-")[0]): dist_info for dist_info in dist_infos}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        """Modules are the zip importer's."""
        return None

    def find_distributions(self, context: Any = None) -> Iterator[Any]:
        from importlib.metadata import DistributionFinder  # loaded already: its caller asks

        context = context if context is not None else DistributionFinder.Context()
        if self._entry not in context.path:
            return
        name = getattr(context, "name", None)
        wanted = _normalized(name) if name is not None else None
        for normalized, dist_info in self._dist_infos.items():
            if wanted is None or normalized == wanted:
                yield _distribution_type()(self._read, self._archive, dist_info, normalized)


def _normalized(name: str) -> str:
    """A distribution's name as ``importlib.metadata`` compares names."""
    import re

    return re.sub(r"[-_.]+", "_", name).lower()


_DISTRIBUTION: Any = None


def _distribution_type() -> Any:
    """The class of the bundle's distributions, made at the first use of ``importlib.metadata``
    so that a start that does not use it does not import it."""
    global _DISTRIBUTION
    if _DISTRIBUTION is not None:
        return _DISTRIBUTION
    from importlib.metadata import Distribution

    class BundledDistribution(Distribution):
        def __init__(self, read: Callable[[str], bytes], archive: str, dist_info: str, normalized: str) -> None:
            self._read_member = read
            self._archive = archive
            self._dist_info = dist_info
            self._normalized = normalized

        def read_text(self, filename: Any) -> str | None:
            try:
                return self._read_member(f"{self._dist_info}{os.sep}{filename}").decode("utf-8")
            except OSError:
                return None

        def locate_file(self, path: Any) -> Any:
            import zipfile

            return zipfile.Path(self._archive, str(path))

        @property
        def _normalized_name(self) -> str:
            return self._normalized

    _DISTRIBUTION = BundledDistribution
    return _DISTRIBUTION


def serve(dist_infos: Sequence[str]) -> None:
    """Answer ``importlib.metadata`` for the bundle's ``dist_infos`` (see :class:`Distributions`).

    Called by the bundle's ``__main__`` before anything else is imported from the bundle.
    """
    archive = getattr(__loader__, "archive", None)  # type: ignore[name-defined]  # the bundle's zip importer
    if archive not in sys.path:  # run from a directory, or the bundle is not on sys.path
        return
    entry = archive + os.sep
    sys.path[sys.path.index(archive)] = entry
    at = next((i for i, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
    importer = _BundleImporter(entry)
    sys.path_importer_cache[entry] = importer  # the hook below makes those of its packages' paths
    sys.meta_path.insert(at, Distributions(entry, archive, importer.get_data, dist_infos))
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
    one opens the archive again with ``zipfile`` and lists all its entries at each call
    (binaryornot's one ``files()`` call: 15 ms from cookiecutter's bundle)."""

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
