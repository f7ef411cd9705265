"""The layouts: how a wheel ships its bytecode, and how a ``.pyz`` bundle does, one frozen
:class:`Layout` each with every property the build, the checks and the front ends decide by.

Nothing else names a layout but to look one up here (:func:`layout`): options hold the
:class:`Layout`, the bytecode metadata records its :attr:`~Layout.name`. A new layout is one
more object in :data:`LAYOUTS`, and the properties it takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """One way to ship bytecode; each property is a decision some module takes by it."""

    #: What the options, the bytecode metadata and messages call it.
    name: str
    #: Compiled modules keep their source beside their bytecode; otherwise only those that
    #: ``keep-source`` names do, and a pyc ships without its source.
    keeps_sources: bool
    #: The bytecode is a legacy ``pkg/mod.pyc``, one per module, which Python loads at every
    #: ``-O`` level: compiled at the lowest optimize level. Otherwise ``__pycache__`` pycs, one
    #: per level.
    legacy: bool
    #: The modules ship in a zip archive that zipimport reads: no extension modules, no
    #: ``timestamp`` pycs, and a legacy pyc for every module, a kept one too.
    archive: bool
    #: A selector package and stubs choose each module's bytecode for the running interpreter
    #: (:mod:`hatch_pyc._shipped.selector`); for several interpreters, each one's in its own directory.
    selector: bool
    #: The wheel tag and ``Requires-Python`` name the interpreters the bytecode is for, not
    #: those the project's own tags and ``Requires-Python`` name.
    interpreter_tag: bool
    #: A ``.pyz`` bundle, not a wheel: its ``__main__.py`` is the bootstrap hatch-pyc writes,
    #: and neither the hook nor ``convert`` builds it.
    bundle: bool = False

    def several(self, interpreters: int) -> bool:
        """Whether a wheel for ``interpreters`` interpreters is a wheel for several: each one's
        bytecode in the selector package's tree."""
        return self.selector and interpreters > 1

    def shipped_levels(self, optimize: Sequence[int], kept: bool) -> list[int]:
        """The optimize levels the bytecode ships at, of those asked for: every one where
        ``__pycache__`` pycs ship (``kept`` says some modules keep theirs), else the lowest."""
        return list(optimize) if not self.legacy or kept else [min(optimize)]

    def __str__(self) -> str:
        return self.name


ALONGSIDE = Layout("alongside", keeps_sources=True, legacy=False, archive=False, selector=False, interpreter_tag=False)
SOURCELESS = Layout("sourceless", keeps_sources=False, legacy=True, archive=False, selector=True, interpreter_tag=True)
ZIP = Layout("zip", keeps_sources=False, legacy=True, archive=True, selector=True, interpreter_tag=True)
#: A ``.pyz`` bundle's: one interpreter's legacy pycs in the archive, no selector.
ZIPAPP = Layout(
    "zipapp", keeps_sources=False, legacy=True, archive=True, selector=False, interpreter_tag=False, bundle=True
)

#: Every layout by name, in the order messages list them.
LAYOUTS = {each.name: each for each in (ALONGSIDE, SOURCELESS, ZIP, ZIPAPP)}
#: The names of the layouts a wheel is built in (the ``layout`` option's choices).
WHEEL_LAYOUTS = tuple(name for name, each in LAYOUTS.items() if not each.bundle)


def layout(name: object) -> Layout:
    """The layout called ``name``; ValueError naming the layouts for another name."""
    found = LAYOUTS.get(name) if isinstance(name, str) else None
    if found is None:
        raise ValueError(f"layout {name!r} is none of {', '.join(LAYOUTS)}")
    return found
