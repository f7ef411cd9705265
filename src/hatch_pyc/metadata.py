"""The bytecode metadata file a hatch-pyc wheel carries in its ``.dist-info``.

It says which interpreter the shipped bytecode is for, so that a checker (or a person) can
refuse a mismatch before Python meets a pyc with the wrong magic number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hatch_pyc import __version__
from hatch_pyc.interpreters import Interpreter

#: The file's name in hatchling's ``extra_metadata`` directory of the ``.dist-info``.
FILENAME = "hatch_pyc.json"
#: Where the file lives, relative to the ``.dist-info`` directory.
METADATA_PATH = f"extra_metadata/{FILENAME}"
FORMAT_VERSION = 1


def render(
    *,
    interpreters: Sequence[Interpreter],
    layout: str,
    optimize: Sequence[int],
    invalidation_mode: str,
    modules: int,
) -> str:
    """The metadata file's text: JSON with sorted keys, so equal builds give equal bytes."""
    document = {
        "format": FORMAT_VERSION,
        "hatch_pyc_version": __version__,
        "layout": layout,
        "optimize": list(optimize),
        "invalidation_mode": invalidation_mode,
        "modules": modules,
        "interpreters": [
            {
                "implementation": interpreter.implementation,
                "version": interpreter.version,
                "python_tag": interpreter.python_tag,
                "cache_tag": interpreter.cache_tag,
                "magic_number": interpreter.magic_number,
                "free_threaded": interpreter.free_threaded,
            }
            for interpreter in interpreters
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
