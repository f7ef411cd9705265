"""Where compiled files go in the wheel, and which sources leave it."""

from __future__ import annotations

import os
from collections.abc import Sequence

from hatch_pyc.compilation import Compilation
from hatch_pyc.discovery import Module, matching


def sourceless_modules(layout: str, modules: Sequence[Module], keep_source: Sequence[str]) -> frozenset[str]:
    """Paths of the modules that ship as ``pkg/mod.pyc`` alone, without their source.

    In the alongside layout none. In the sourceless layout every compiled module but those
    matching ``keep_source``, which keep their source and get ``__pycache__`` pycs.
    """
    if layout == "alongside":
        return frozenset()
    kept = matching(modules, keep_source)
    return frozenset(module.path for module in modules if module.path not in kept)


def pyc_files(compilations: Sequence[Compilation], out_dir: str) -> dict[str, str]:
    """Every compiled file to add: ``{file on disk: path in the wheel}``.

    The compilation already put each pyc at its path in the wheel: ``__pycache__`` pycs,
    which the import system looks for first, and legacy ``pkg/mod.pyc`` for sourceless
    modules, the one place it loads a pyc without a source.
    """
    return {
        os.path.join(out_dir, path): path
        for compilation in compilations
        for compiled in compilation.modules
        for _, path in compiled.pycs
    }
