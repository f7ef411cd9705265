"""Where compiled files are named: every rule that turns a module's path into a pyc's, a
distribution's name into a file name, or a pyc's name back into what it is for."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from hatch_pyc.core.discovery import Module

#: ``name.<cache tag>.pyc`` or ``name.<cache tag>.opt-1.pyc``: what the import system looks
#: for in ``__pycache__`` (``importlib.util.cache_from_source``).
CACHED_PYC = re.compile(r"^(?P<stem>.+?)\.(?P<tag>[^.]+)(?:\.opt-[12])?\.pyc$")
#: A console script's name, which installers write as a file of the scripts directory: no
#: separators, no leading dot or dash.
SCRIPT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$", re.ASCII)
#: What a script's name may not end with: the scripts directory is ``sys.path[0]`` of every
#: console script, so ``json.py`` there would be imported as ``json`` by all of them.
_MODULE_SUFFIXES = (".py", ".pyc", ".pyw", ".pyd", ".so")


def script_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a console script's, or None."""
    if not SCRIPT_NAME.match(name):
        return "not a plain file name"
    if name.lower().endswith(_MODULE_SUFFIXES):
        return "a module's name: in the scripts directory, sys.path[0] of every console script, it would be imported"
    return None


#: ``.opt-1.pyc``: the optimize level in a ``__pycache__`` pyc's name.
OPT_LEVEL = re.compile(r"\.opt-([12])\.pyc$")


def distribution_id(name: str) -> str:
    """The distribution name as in file names: ``Demo-Pkg`` becomes ``demo_pkg``."""
    return canonicalize_name(name).replace("-", "_")


def legacy_pyc_path(path: str) -> str:
    """``pkg/mod.pyc`` for ``pkg/mod.py``: the one place the import system loads a pyc
    without its source (and the only one zipimport looks at)."""
    return path[: -len(".py")] + ".pyc"


def pyc_path(path: str, level: int, cache_tag: str) -> str:
    """The ``__pycache__`` pyc of the module at ``path`` (inside the wheel) for ``level``.

    Not ``importlib.util.cache_from_source``: it knows only the running interpreter's tag,
    and it follows ``PYTHONPYCACHEPREFIX``, which must not move a file inside a wheel.
    """
    head, tail = posixpath.split(path)
    optimization = f".opt-{level}" if level else ""
    return posixpath.join(head, "__pycache__", f"{tail[: -len('.py')]}.{cache_tag}{optimization}.pyc")


def pyc_level(name: str) -> int:
    """The optimize level a ``__pycache__`` pyc's name says."""
    match = OPT_LEVEL.search(name)
    return int(match.group(1)) if match else 0


def code_filename(module: Module, kept: bool) -> str:
    """The ``co_filename`` of a module's code: its path in the wheel if its source ships
    beside the pyc (``kept``), else the path in angle brackets.

    The import system puts the real path in a pyc loaded beside its source, but not in one
    loaded alone or by zipimport. There ``linecache`` (tracebacks, ``inspect.getsource``)
    would look a relative name up in the working directory and on ``sys.path`` and show
    whatever file it finds there; a name in angle brackets it never looks up, so a traceback
    names the module's path and line with no source line, and ``getsource`` raises. A kept
    module in an archive keeps the plain name, which linecache resolves through the
    archive's loader to the source shipped beside it.
    """
    name = module.filename or module.path
    return name if kept else f"<{name}>"
