"""The selector package's ``__init__.py`` inside sourceless and zip wheels.

It runs :mod:`hatch_pyc._shipped.selector`, compiled for each interpreter the wheel is for
into ``<cache tag>.pyc`` beside it, in its own globals; on any other interpreter it fails the
import in one line. It is the one source of the selector that must run on every interpreter
(it ships compiled too where it can: ``__pycache__`` pycs, or a pyc beside it in an archive),
so it stays this small. The shipped copy ends with a call naming the distribution and its
interpreters; hatch-pyc imports this module to write it and to test it.
"""

import sys


def _selector(distribution: str, targets: "dict[str, str]") -> object:
    tag = sys.implementation.cache_tag
    if tag not in targets:
        name = sys.implementation.name
        running = {"cpython": "CPython", "pypy": "PyPy"}.get(name, name)
        version = ".".join(map(str, sys.version_info[:3]))
        raise ImportError(
            f"{distribution} has bytecode for {', '.join(targets.values())}; this is {running} {version} at "
            f"{sys.executable}: install the wheel built for this interpreter, or the sdist"
        )
    data = __loader__.get_data(__path__[0] + "/" + tag + ".pyc")  # type: ignore[name-defined]  # noqa: F821
    return __import__("marshal").loads(memoryview(data)[16:])
