"""Which of the files a wheel ships are modules to compile."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.limits import MAX_ENTRY_SIZE


@dataclass(frozen=True)
class Module:
    """A file that goes into the wheel: a module where it is Python source (:func:`select_modules`)."""

    #: Absolute path of the file on the build machine.
    source: str
    #: Path inside the wheel with ``/`` separators, e.g. ``pkg/mod.py``.
    path: str
    #: How to name the file in messages: relative to the project root where it is inside it.
    display: str
    #: The name its code carries when not ``path``: a compiled script's own name, the
    #: installed path of a wheel's ``.data/purelib/`` entry (see compilation.code_filename).
    filename: str | None = None
    #: The one optimization level it compiles at, whatever the options ask (hatch-pyc's own
    #: modules in a bundle); None: the options decide.
    optimize: int | None = None
    #: Its bytes, for a file hatch-pyc writes (a stub, the selector), which ``source`` does not name.
    data: bytes | None = None


def read_source(path: str, display: str) -> bytes:
    """The bytes of the file at ``path`` (``display`` in messages), which must be a regular file
    of at most :data:`~hatch_pyc.core.limits.MAX_ENTRY_SIZE` bytes: a FIFO would block the build, a
    link to ``/dev/zero`` never end."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise HatchPycError(
                f"{display} is not a regular file (a FIFO, device or socket); it cannot go into a wheel"
            )
        if status.st_size > MAX_ENTRY_SIZE:
            raise HatchPycError(
                f"{display} has {status.st_size} bytes, more than {MAX_ENTRY_SIZE} (a limit of hatch-pyc)"
            )
        with open(path, "rb") as f:
            return f.read(MAX_ENTRY_SIZE + 1)[:MAX_ENTRY_SIZE]
    except OSError as exc:
        raise HatchPycError(f"{display} cannot be read: {exc.strerror or exc} (a dangling or looping link?)") from None


def matching(modules: Iterable[Module], patterns: Sequence[str]) -> set[str]:
    """Paths of the ``modules`` that gitignore-style ``patterns`` match (on their wheel path)."""
    # pathspec is imported where patterns are matched: the commands that read artifacts
    # import this module (through the naming rules) and never match one.
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    return {module.path for module in modules if spec.match_file(module.path)}


def select_modules(files: Iterable[Module], exclude: Sequence[str]) -> list[Module]:
    """Return the modules among ``files``, sorted by their path in the wheel.

    Every ``.py`` file whose name the import system can look up (``a.b.py`` is not one: it
    ships as it is) is a module unless a gitignore-style ``exclude`` pattern, matched against
    its path in the wheel, says otherwise.
    """
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(exclude)
    modules = [
        Module(source=file.source, path=file.path, display=file.display, filename=file.filename)
        for file in files
        if file.path.endswith(".py") and _module_name(file.path).isidentifier() and not spec.match_file(file.path)
    ]
    return sorted(modules, key=lambda module: module.path)


def _module_name(path: str) -> str:
    return path.rsplit("/", 1)[-1][: -len(".py")]


def unmatched(patterns: Sequence[str], paths: Sequence[str], key: str) -> list[str]:
    """A problem for each of ``patterns`` (option ``key``) that matches none of ``paths``,
    naming the closest path: a glob written against the project tree (``src/pkg/mod.py``)
    rather than the wheel (``pkg/mod.py``) would otherwise do nothing, silently."""
    import difflib

    import pathspec

    problems = []
    for pattern in patterns:
        if pattern.startswith("!") or any(pathspec.GitIgnoreSpec.from_lines([pattern]).match_files(paths)):
            continue
        closest = difflib.get_close_matches(pattern, paths, n=1, cutoff=0) or ["(none)"]
        problems.append(
            f"{key}: {pattern!r} matches no module; globs match a module's path in the wheel, "
            f"the closest is {closest[0]!r}"
        )
    return problems
