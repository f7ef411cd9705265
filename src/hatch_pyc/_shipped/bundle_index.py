"""Runs inside every ``.pyz`` bundle as its ``_hatch_pyc_index`` module: answers
``importlib.metadata`` for the distributions the bundle holds from the archive's table of
contents, which zipimport has read already at the start.

Left to itself, ``importlib.metadata`` opens the archive again with ``zipfile`` and lists all
its entries at each process start that asks for a distribution, reading every
distribution's METADATA for its name too (docs/performance.md has what that costs).

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
    importer = zipimport.zipimporter(entry)
    sys.path_importer_cache[entry] = importer
    sys.meta_path.insert(at, Distributions(entry, archive, importer.get_data, dist_infos))
