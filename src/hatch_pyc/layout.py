"""Where compiled files go in the wheel."""

from __future__ import annotations

import os

from hatch_pyc.compilation import Compilation


def alongside(compilation: Compilation, out_dir: str) -> dict[str, str]:
    """Files to add for the "alongside" layout: ``{file on disk: path in the wheel}``.

    Sources stay; each module gets its ``__pycache__`` pycs, which is where the import
    system looks first, so the first import after any install compiles nothing.
    """
    return {os.path.join(out_dir, path): path for compiled in compilation.modules for _, path in compiled.pycs}
