"""Reading pycs that may come from anywhere: the header, and one bounded pass over the marshal data.

Nothing here loads the code (``marshal.loads`` is not meant for untrusted data: a crafted
stream can crash the interpreter). The pass is iterative, so depth costs no recursion; every
length and count is checked against the bytes that are left before it is used, so a crafted
size allocates nothing and ends the pass at once; and every object is counted against a
:class:`~hatch_pyc.core.limits.Budget` shared by the whole artifact, so the time spent is bounded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# The marshal type codes, as the worker (which reads the same data in the target) states them.
from hatch_pyc._shipped.worker import (
    _CODE,
    _LONG,
    _NULL,
    _OLD_COMPLEX,
    _OLD_FLOAT,
    _REF,
    _SINGLETONS,
    _SLICE,
    _SMALL_TUPLE,
    FLAG_REF,
    code_layout,
)
from hatch_pyc._shipped.worker import _FIXED_SIZE as _FIXED
from hatch_pyc._shipped.worker import _SEQUENCES as _SEQUENCE4
from hatch_pyc._shipped.worker import _SHORT_SIZED as _SIZED1
from hatch_pyc._shipped.worker import _SIZED as _SIZED4
from hatch_pyc.core.limits import Budget

HEADER_SIZE = 16
#: PEP 552 flags: bit 0 set means hash-based, bit 1 (with it) means checked.
HASH_BASED, CHECK_SOURCE = 0b01, 0b10
#: Deepest nesting of containers a pyc may have: CPython's own marshal refuses deeper data.
MAX_DEPTH = 2000

#: Objects with no payload (the null that ends a dict is read apart).
_EMPTY = frozenset(_SINGLETONS - {_NULL})
#: Strings (``s`` is bytes), and which of them are ASCII.
_TEXT = frozenset(b"tuaAzZ")
_ASCII = frozenset(b"aAzZ")
#: Dicts (in no pyc CPython writes) and frozendicts (marshal version 6, CPython 3.15): pairs
#: ended by a null.
_DICT, _FROZENDICT = b"{}"
#: Objects whose size comes first: the sized ones and the sequences.
_COUNTED = _SIZED4 | _SIZED1 | _SEQUENCE4 | {_SMALL_TUPLE}
_INT32 = struct.Struct("<i")


class InvalidBytecode(Exception):
    """The data is not one code object in the marshal format of the interpreter named."""


@dataclass(frozen=True)
class PycHeader:
    """The 16-byte header of a pyc (PEP 552)."""

    magic: bytes
    flags: int
    #: For a hash-based pyc, the SipHash of the source (``importlib.util.source_hash``).
    source_hash: bytes | None

    @property
    def mode(self) -> str:
        """The invalidation mode, as the ``invalidation-mode`` option names it."""
        if not self.flags & HASH_BASED:
            return "timestamp"
        return "checked-hash" if self.flags & CHECK_SOURCE else "unchecked-hash"


def parse_header(data: bytes) -> PycHeader:
    if len(data) < HEADER_SIZE:
        raise InvalidBytecode(f"{len(data)} bytes, shorter than a pyc header")
    if data[2:4] != b"\r\n":
        raise InvalidBytecode(f"no pyc magic number ({data[:4].hex()})")
    flags = struct.unpack("<I", data[4:8])[0]
    if flags & ~(HASH_BASED | CHECK_SOURCE) or flags == CHECK_SOURCE:
        raise InvalidBytecode(f"unknown pyc flags {flags:#x}")
    return PycHeader(magic=data[:4], flags=flags, source_hash=data[8:16] if flags & HASH_BASED else None)


class _Frame:
    """A container being read: how many items are left (None: a dict, ended by a null)."""

    __slots__ = ("is_code", "left", "read", "ref")

    def __init__(self, left: int | None, ref: int | None, is_code: bool = False) -> None:
        self.left = left
        self.ref = ref
        self.is_code = is_code
        self.read = 0


def code_filenames(data: bytes, version: tuple[int, int], budget: Budget, implementation: str = "cpython") -> list[str]:
    """The ``co_filename`` of every code object in the marshal ``data`` of a pyc for
    ``implementation`` ``version``.

    Raises :class:`InvalidBytecode` unless ``data`` is exactly one code object, and
    :class:`~hatch_pyc.wheel.artifact.BadArtifact` (through ``budget``) past the artifact's limits.
    """
    ints, objects, tail, filename_index = code_layout(version, implementation)
    end = len(data)
    if not data or data[0] & ~FLAG_REF != _CODE:
        raise InvalidBytecode("the marshal data is not a code object")
    allowed = budget.objects_left
    counted = 0
    #: Per back-reference slot: ``(start, stop, ascii)`` of a string, else None.
    refs: list[tuple[int, int, bool] | None] = []
    names: set[str] = set()
    stack: list[_Frame] = []
    pos = 0
    while True:
        value: tuple[int, int, bool] | None = None
        if stack and stack[-1].left is None and pos < end and data[pos] == _NULL:
            pos += 1  # the null that ends a dict
            stack.pop()
        else:
            if pos >= end:
                raise InvalidBytecode("truncated marshal data")
            byte = data[pos]
            code = byte & ~FLAG_REF
            pos += 1
            counted += 1
            if counted > allowed:
                budget.take_objects(counted)
            ref = None
            if byte & FLAG_REF:
                ref = len(refs)
                refs.append(None)
            opened: _Frame | None = None
            if code in _EMPTY:
                if ref is not None:
                    raise InvalidBytecode(f"a back-reference flag on {chr(code)!r} at offset {pos - 1}")
            elif code == _REF:
                index = _INT32.unpack_from(data, pos)[0] if ref is None and pos + 4 <= end else -1
                if not 0 <= index < len(refs):
                    raise InvalidBytecode(f"a back-reference to no object at offset {pos - 1}")
                value = refs[index]
                pos += 4
            elif code in _FIXED:
                pos += _FIXED[code]
            elif code in _COUNTED:
                # A length of bytes, or a count of items (each takes a byte at least): either
                # way no more than what is left.
                if code in _SIZED1 or code == _SMALL_TUPLE:
                    size = data[pos] if pos < end else -1
                    pos += 1
                else:
                    size = _INT32.unpack_from(data, pos)[0] if pos + 4 <= end else -1
                    pos += 4
                if not 0 <= size <= end - pos:
                    raise InvalidBytecode(f"a size of {size} at offset {pos} with {max(end - pos, 0)} bytes left")
                if code in _SIZED4 or code in _SIZED1:
                    if code in _TEXT:
                        value = (pos, pos + size, code in _ASCII)
                    pos += size
                elif size:
                    opened = _Frame(size, ref)
            elif code == _DICT or (code == _FROZENDICT and version >= (3, 15)):
                opened = _Frame(None, ref)
            elif code == _CODE:
                pos += 4 * ints
                opened = _Frame(objects + tail, ref, is_code=True)
            elif code == _LONG:
                digits = _INT32.unpack_from(data, pos)[0] if pos + 4 <= end else end
                pos += 4
                if not abs(digits) <= (end - pos) // 2:
                    raise InvalidBytecode(f"a long of {digits} digits at offset {pos - 4}")
                pos += 2 * abs(digits)
            elif code in (_OLD_FLOAT, _OLD_COMPLEX):
                for _ in range(1 if code == _OLD_FLOAT else 2):
                    pos += 1 + (data[pos] if pos < end else 0)
            elif code == _SLICE and version >= (3, 14):
                opened = _Frame(3, ref)
            else:
                raise InvalidBytecode(f"unknown marshal type {chr(code)!r} at offset {pos - 1}")
            if pos > end:
                raise InvalidBytecode("truncated marshal data")
            if opened is not None:
                if len(stack) >= MAX_DEPTH:
                    raise InvalidBytecode(f"objects nested more than {MAX_DEPTH} deep")
                stack.append(opened)
                continue
            if ref is not None:
                refs[ref] = value
        # ``value`` is whole: hand it to the container it belongs to, and close every
        # container it completes.
        while stack:
            frame = stack[-1]
            if frame.is_code:
                if frame.read == filename_index:
                    if value is None:
                        raise InvalidBytecode(f"a code object whose file name is not a string, before offset {pos}")
                    start, stop, ascii = value
                    raw = data[start:stop]
                    names.add(raw.decode("latin-1") if ascii else raw.decode("utf-8", "surrogatepass"))
                elif frame.read == objects - 1:
                    pos += 4  # co_firstlineno, between the objects and the tail
                    if pos > end:
                        raise InvalidBytecode("truncated marshal data")
            frame.read += 1
            if frame.left is None:
                break
            frame.left -= 1
            if frame.left:
                break
            stack.pop()
            value = None
        if not stack:
            break
    budget.take_objects(counted)
    if pos != end:
        raise InvalidBytecode(f"{end - pos} bytes after the code object")
    return sorted(names)
