"""The one error type hatch-pyc raises, the one every unusable artifact gives, and how messages are shown.

Every refusal, from the build hook or the commands, is a :class:`HatchPycError`. Its text
starts with ``hatch-pyc:`` (added here, and only here), so hatchling's build output, the
command's stderr and a caller of the Python API all see the same line.
"""

from __future__ import annotations

import re


class HatchPycError(Exception):
    """Something hatch-pyc cannot do, with a message that says what and what to do.

    ``message`` is the text without the ``hatch-pyc:`` prefix, for wrapping in another error.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"hatch-pyc: {self.message}"


class BadArtifact(HatchPycError):
    """A file cannot be used as a wheel or ``.pyz``; the message says which and why."""


class BundleError(HatchPycError):
    """The bundle cannot be made; the message says why and what to do."""


class VerifyError(HatchPycError):
    """The sources or the interpreters needed to verify cannot be used; the message says which."""


#: C0 and C1 control characters and DEL, which a terminal acts on instead of showing them, and
#: the bidirectional controls (U+202E and its kin), which make a name read as another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character (newlines and bidirectional controls too) written as
    an escape.

    Names read from an artifact are shown through this: a name holding ``\\r`` or an escape
    sequence must not redraw what the terminal already shows, nor start a line of its own.
    """
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
