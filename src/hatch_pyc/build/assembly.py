"""What the wheel or archive gains from what was compiled: the pycs where the placement put
them, an archive's contents, the zip layout's archive and ``.pth`` file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from hatch_pyc.build.compilation import Compilation
from hatch_pyc.core.naming import distribution_id
from hatch_pyc.wheel.archive import Archive


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


def zip_layout_files(
    distribution: str, contents: Mapping[str, str | bytes], *, compress: bool
) -> dict[str, bytes | Archive]:
    """The zip layout's two files: ``{path in the wheel: content}``.

    ``<distribution>.zip`` holds ``contents`` (``{path in archive: file on disk, or bytes}``,
    see :func:`archive_files`), deflated if ``compress``; ``<distribution>.pth`` names it on its
    one line: a path relative to site-packages and no ``import``, so nothing runs at
    interpreter start-up.
    """
    name = distribution_id(distribution)
    return {f"{name}.zip": Archive(contents, compress), f"{name}.pth": f"{name}.zip\n".encode()}


def on_disk(files: Mapping[str, str | bytes | Archive], directory: str) -> dict[str, str]:
    """What a front end hands on of ``files`` (``{path in the wheel: content}``): ``{file on
    disk: path in the wheel}``, the bytes and archives written into ``directory`` first."""
    found = {}
    for path, content in sorted(files.items()):
        if isinstance(content, str):
            found[content] = path
            continue
        file = os.path.join(directory, "added", *path.split("/"))
        os.makedirs(os.path.dirname(file), exist_ok=True)
        if isinstance(content, Archive):
            content.write(file)
        else:
            with open(file, "wb") as f:
                f.write(content)
        found[file] = path
    return found
