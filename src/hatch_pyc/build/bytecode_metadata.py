"""The bytecode metadata file a hatch-pyc wheel carries in its ``.dist-info`` (and a ``.pyz``
at its root): written by :func:`render`, read back and validated by :func:`read`, the one
reader, as a :class:`BytecodeMetadata`.

It says which interpreter the shipped bytecode is for, so that a checker (or a person) can
refuse a mismatch before Python meets a pyc with the wrong magic number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hatch_pyc import __version__
from hatch_pyc.core import config, layouts
from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.interpreters import Interpreter, in_version_order
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.limits import MAX_BYTECODE_METADATA_SIZE

if TYPE_CHECKING:
    from hatch_pyc.wheel.artifact import Artifact

#: The file's name in hatchling's ``extra_metadata`` directory of the ``.dist-info``.
FILENAME = "hatch_pyc.json"
#: Where the file lives, relative to the ``.dist-info`` directory.
METADATA_PATH = f"extra_metadata/{FILENAME}"
FORMAT_VERSION = 1
METADATA_KEYS = ("format", "layout", "interpreters")
INTERPRETER_KEYS = ("implementation", "version", "cache_tag", "magic_number")


@dataclass(frozen=True)
class BytecodeMetadata:
    """What the bytecode metadata file records, validated: :func:`read` makes it."""

    layout: Layout
    #: What the bytecode is compiled for, in the recorded order.
    interpreters: tuple[Interpreter, ...]
    #: Each interpreter's wheel python tag as recorded (``""`` where none is), which
    #: ``inspect`` shows as it is.
    python_tags: tuple[str, ...]
    #: The optimize levels the bytecode ships at; ``(0,)`` where none is recorded.
    optimize: tuple[int, ...]
    #: The pycs' invalidation mode; None where none is recorded.
    invalidation_mode: str | None
    #: How many modules were compiled.
    modules: int
    format: int
    #: The hatch-pyc version that wrote it; None where none is recorded.
    hatch_pyc_version: str | None
    #: The file's JSON document as it is (``inspect --json`` prints it).
    document: dict[str, Any] = field(compare=False, repr=False)


def render(
    *,
    interpreters: Sequence[Interpreter],
    layout: Layout,
    optimize: Sequence[int],
    invalidation_mode: str,
    modules: int,
) -> str:
    """The metadata file's text: JSON with sorted keys, so equal builds give equal bytes."""
    document = {
        "format": FORMAT_VERSION,
        "hatch_pyc_version": __version__,
        "layout": layout.name,
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
            for interpreter in in_version_order(interpreters)
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


MAGIC = re.compile(r"^[0-9a-f]{4}0d0a$")
VERSION = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,4}$")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _validated_metadata(document: object) -> dict[str, Any]:
    """``document`` if it is bytecode metadata this version reads; ValueError saying what is wrong."""
    if not isinstance(document, dict) or any(key not in document for key in METADATA_KEYS):
        raise ValueError(f"it lacks one of {', '.join(METADATA_KEYS)}")
    if document["format"] != FORMAT_VERSION or isinstance(document["format"], bool):
        raise ValueError(f"format {document['format']!r}; this hatch-pyc reads format {FORMAT_VERSION}")
    layouts.layout(document["layout"])  # ValueError for none of them
    modules = document.get("modules", 0)
    if not isinstance(modules, int) or isinstance(modules, bool) or modules < 0:
        raise ValueError(f"modules {modules!r} is not a count")
    optimize = document.get("optimize", [0])
    if not isinstance(optimize, list) or not all(level in config.OPTIMIZE_LEVELS for level in optimize):
        raise ValueError(f"optimize {optimize!r} is not a list of 0, 1 and 2")
    if document.get("invalidation_mode", "checked-hash") not in config.INVALIDATION_MODES:
        raise ValueError(f"invalidation_mode {document['invalidation_mode']!r} is none of the modes")
    entries = document["interpreters"]
    if not isinstance(entries, list) or not entries:
        raise ValueError("interpreters is not a non-empty list")
    for entry in entries:
        if not isinstance(entry, dict) or any(not isinstance(entry.get(key), str) for key in INTERPRETER_KEYS):
            raise ValueError(f"an interpreter lacks one of {', '.join(INTERPRETER_KEYS)}")
        if not MAGIC.match(entry["magic_number"]):
            raise ValueError(f"magic_number {entry['magic_number']!r} is not 4 bytes of hex ending in 0d0a")
        if not VERSION.match(entry["version"]):
            raise ValueError(f"version {entry['version']!r} is not major.minor.micro")
        if not isinstance(entry.get("free_threaded", False), bool):
            raise ValueError(f"free_threaded {entry['free_threaded']!r} is not true or false")
    return document


def _typed(document: dict[str, Any]) -> BytecodeMetadata:
    """The validated ``document`` as a :class:`BytecodeMetadata`."""
    entries = document["interpreters"]
    version = document.get("hatch_pyc_version")
    return BytecodeMetadata(
        layout=layouts.layout(document["layout"]),
        interpreters=tuple(
            Interpreter(
                implementation=entry["implementation"],
                version=entry["version"],
                cache_tag=entry["cache_tag"],
                magic_number=entry["magic_number"],
                free_threaded=entry.get("free_threaded", False),
            )
            for entry in entries
        ),
        python_tags=tuple(str(entry.get("python_tag", "")) for entry in entries),
        optimize=tuple(document.get("optimize") or [0]),
        invalidation_mode=document.get("invalidation_mode"),
        modules=document.get("modules", 0),
        format=document["format"],
        hatch_pyc_version=version if isinstance(version, str) else None,
        document=document,
    )


def read(artifact: Artifact) -> BytecodeMetadata | None:
    """The artifact's bytecode metadata, validated; None where it has none (hatch-pyc did not build it)."""
    name = f"{artifact.dist_info}/{METADATA_PATH}" if artifact.kind == "wheel" else FILENAME
    if name not in artifact.names:
        return None
    text = artifact.read(name, MAX_BYTECODE_METADATA_SIZE)
    try:
        return _typed(_validated_metadata(json.loads(text, parse_constant=_refuse_constant)))
    except (ValueError, TypeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BadArtifact(f"{artifact.path}: {name} is not valid bytecode metadata: {printable(reason)}") from None
