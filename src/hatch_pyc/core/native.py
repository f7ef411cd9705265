"""What is native code, by path alone: extension modules, which no zip importer loads, and
the shared libraries they link to. The zip layout refuses extension modules, a bundle
extracts native files to run them from disk, and ``check`` requires a bundle's native files
to be among those it extracts: all by these rules.

The bundle runtime (:mod:`hatch_pyc._shipped.bundle_runtime`), which imports nothing of
hatch_pyc, spells :data:`NATIVE_LIBRARY_DIRECTORIES` itself (every bundle ships its bytes);
a unit test holds the two equal.
"""

from __future__ import annotations

#: Suffixes of extension modules (``_x.cpython-312-x86_64-linux-gnu.so``, ``_x.pyd``).
EXTENSION_SUFFIXES = (".so", ".pyd")
#: Suffixes of shared libraries that are not extension modules (Windows', macOS').
NATIVE_LIBRARY_SUFFIXES = (".dll", ".dylib")
#: Shared libraries that extension modules link to, which auditwheel and delocate put in a
#: top-level ``<name>.libs`` or ``.dylibs`` directory; extracted beside the modules.
NATIVE_LIBRARY_DIRECTORIES = (".libs", ".dylibs")


def is_extension_module(path: str) -> bool:
    """Whether the file at ``path`` is an extension module."""
    return path.endswith(EXTENSION_SUFFIXES)


def is_library_directory(name: str) -> bool:
    """Whether the top-level directory ``name`` holds the shared libraries of extension modules."""
    return name.endswith(NATIVE_LIBRARY_DIRECTORIES)


def is_native(path: str) -> bool:
    """Whether the file at ``path`` (``/``-separated, from the top of what is installed) is
    native code: an extension module, a shared library (``libz.so.1`` too), or a file in a
    top-level directory of shared libraries."""
    top = path.split("/")[0]
    return (
        path.endswith(EXTENSION_SUFFIXES + NATIVE_LIBRARY_SUFFIXES)
        or ".so." in path.rsplit("/", 1)[-1]
        or ("/" in path and is_library_directory(top))
    )
