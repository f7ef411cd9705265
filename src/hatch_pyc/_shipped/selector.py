"""Runs inside sourceless and zip wheels, as the code of their ``_hatch_pyc_bytecode_<distribution>``
package: compiled for each interpreter into ``<cache tag>.pyc`` there, which the package's
``__init__.py`` (:mod:`hatch_pyc._shipped.selector_init`) runs in its globals.

Each top-level module and package of the distribution ships as a two-line stub that calls
:func:`run`: it executes that module's bytecode for the running interpreter, after putting
:class:`Finder` on ``sys.meta_path`` (after the built-in and frozen importers, where
site-packages is searched) for the distribution's other modules. The finder answers only
names below a top-level module whose stub ran, so the distribution answers no name that the
standard library or another distribution owns. Nothing runs
at interpreter start-up, and nothing is compiled at import.

Each interpreter's bytecode lives in ``<this package>/<cache tag>/``, laid out as in a
sourceless wheel (``pkg/mod.pyc``), where no installer looks: pip and uv compile only ``.py``
files (into ``__pycache__``), and pypa/installer skips ``__pycache__``; but :data:`PRIMARY`'s
below the top level, which is in the modules' own places. A module gets the ``__file__`` it
has in a sourceless wheel for one interpreter (``pkg/mod.pyc``, beside its data files), a file
that exists, so paths built from it, ``pkgutil`` and ``importlib.resources`` find what ships
beside it.

Standard library only, in the syntax of the oldest target (3.8). Everything is read through
this module's own loader, so it works from an archive on ``sys.path`` (the zip layout) as from
site-packages. The compiled copy ends with the values of :data:`DISTRIBUTION`,
:data:`PRIMARY` and :data:`MODULES`; hatch-pyc itself imports this module to write it and to test it.
"""

from __future__ import annotations

import marshal
import os
import sys

try:  # what importlib.machinery and importlib.util hold, from the modules already loaded
    from _frozen_importlib import ModuleSpec
    from _frozen_importlib_external import MAGIC_NUMBER, SourcelessFileLoader, spec_from_file_location
except ImportError:  # pragma: no cover - an interpreter without the frozen modules
    from importlib.machinery import ModuleSpec, SourcelessFileLoader
    from importlib.util import MAGIC_NUMBER, spec_from_file_location

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The distribution and its version, for messages: ``demo-pkg 0.1.0``.
DISTRIBUTION = ""
#: In a wheel for several interpreters, the cache tag whose bytecode of the modules below the
#: top level is in their own places (``pkg/mod.pyc``), so that the package exists on disk with
#: all its modules; every other interpreter's is in its directory here.
PRIMARY = ""
#: ``{module name: True for a package, False for a module, None for a namespace package}``,
#: of every module whose bytecode is here (the modules that keep their source are not).
MODULES: dict[str, bool | None] = {}

#: The top-level modules whose stub ran: the Finder answers only names below them.
_TOP: set[str] = set()
#: This package's directory (in site-packages, or in an archive on sys.path).
HERE = os.path.dirname(__file__)
#: Reads a file here, from the file system or the archive.
_read = __loader__.get_data  # type: ignore[name-defined]


def _tree() -> str:
    """The running interpreter's bytecode directory (the package's ``__init__`` ran this code
    only on an interpreter the wheel has bytecode for)."""
    return os.path.join(HERE, sys.implementation.cache_tag)


def _relative(fullname: str) -> str:
    """The pyc of module ``fullname``, relative to a bytecode directory or to where its top-level package is."""
    path = fullname.replace(".", "/")
    return path + "/__init__.pyc" if MODULES[fullname] else path + ".pyc"


def run(namespace: dict[str, Any]) -> None:
    """Execute, in ``namespace`` (a stub's globals), the bytecode of that top-level module for
    the running interpreter, with :class:`Finder` in place for the modules it imports."""
    name = namespace["__name__"]
    data = _read(os.path.join(_tree(), _relative(name)))
    if data[:4] != MAGIC_NUMBER:  # a directory of another interpreter under this one's tag
        raise ImportError(f"{DISTRIBUTION}: {name} is not bytecode for this interpreter", name=name)
    # The path finders chose this stub for ``name``: the names below it are the distribution's.
    _TOP.add(name)
    if Finder not in sys.meta_path:
        # After the built-in and frozen importers, as site-packages is searched after them.
        finders = [finder for finder in sys.meta_path if getattr(finder, "__name__", "") == "PathFinder"]
        sys.meta_path.insert(sys.meta_path.index(finders[0]) if finders else len(sys.meta_path), Finder)
    exec(marshal.loads(data[16:]), namespace)


class Loader(SourcelessFileLoader):
    """Loads a module as the sourceless pyc at ``path`` (in the distribution's own place),
    its bytes ``read`` from ``bytecode`` (the running interpreter's bytecode directory, or
    ``path`` itself); ``archive`` is the archive ``path`` is in, for resource readers."""

    def __init__(self, fullname: str, path: str, bytecode: str, read: Any, archive: str | None) -> None:
        super().__init__(fullname, path)
        self.bytecode = bytecode
        self.read = read
        if archive is not None:
            # Read by importlib.resources on 3.9 to make a zipfile.Path of the package.
            self.archive = archive

    def get_data(self, path: str) -> bytes:
        return self.read(self.bytecode) if path == self.path else super().get_data(path)

    def get_resource_reader(self, name: str | None = None) -> Any:
        archive = getattr(self, "archive", None)
        if archive is None:
            return super().get_resource_reader(name)
        return _ArchiveResources(archive, os.path.dirname(self.path))


class _ArchiveResources:
    """The files of a package in an archive, for ``importlib.resources``."""

    def __init__(self, archive: str, directory: str) -> None:
        self.archive = archive
        self.directory = directory

    def files(self) -> Any:
        import zipfile

        inner = os.path.relpath(self.directory, self.archive).replace(os.sep, "/")
        return zipfile.Path(self.archive, at=inner + "/")

    def open_resource(self, resource: str) -> Any:
        return self.files().joinpath(resource).open("rb")

    def resource_path(self, resource: str) -> str:
        raise FileNotFoundError(resource)

    def is_resource(self, path: str) -> bool:
        return bool(self.files().joinpath(path).is_file())

    def contents(self) -> Any:
        return (item.name for item in self.files().iterdir())


class Finder:
    """Finds the distribution's modules below its top-level ones in the running interpreter's
    bytecode directory; every other name is left to the rest of ``sys.meta_path``."""

    @classmethod
    def find_spec(cls, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if fullname not in MODULES or top not in _TOP or "." not in fullname:
            return None  # another distribution's, or a top-level stub, which the path finders find
        # Where its top-level package is (this package's archive, or beside it on the file
        # system for a package that reads its files there), and how that package was read.
        package: Any = sys.modules[top]
        root = os.path.dirname(package.__path__[0])
        directory = os.path.join(root, *fullname.split("."))
        if MODULES[fullname] is None:
            spec = ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [directory]
            return spec
        relative = _relative(fullname)
        place = os.path.join(root, relative)
        if sys.implementation.cache_tag == PRIMARY:
            read, bytecode = package.__loader__.get_data, place
        else:
            read, bytecode = _read, os.path.join(_tree(), relative)
        loader = Loader(fullname, place, bytecode, read, getattr(package.__loader__, "archive", None))
        locations = [directory] if MODULES[fullname] else None
        return spec_from_file_location(fullname, place, loader=loader, submodule_search_locations=locations)

    @classmethod
    def invalidate_caches(cls) -> None:
        pass
