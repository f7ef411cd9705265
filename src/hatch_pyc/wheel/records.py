"""RECORD, the one module that reads, compares and writes a wheel's list of files.

As in pypa/installer's ``records.py``: a row is ``(path, "algorithm=digest", size)``, the
digest urlsafe base64 without padding; RECORD lists itself with no hash, and signature
files beside it are not listed. Everything here works on text, bytes and callbacks, never on
an open archive, so the artifact reader, ``convert``'s writer and the bundle share it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import posixpath
from collections.abc import Callable, Iterable, Sequence

from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.limits import MAX_RECORD_ROWS, LimitExceeded

#: Signature files a wheel may hold that RECORD does not list.
UNRECORDED = ("RECORD.jws", "RECORD.p7s")
#: Hashes RECORD may use (PEP 376 allows any of ``hashlib.algorithms_guaranteed`` but md5 and sha1).
ALGORITHMS = ("sha256", "sha384", "sha512")

Row = tuple[str, str, str]


def digest_text(digest: hashlib._Hash) -> str:
    """A digest as RECORD writes it: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def hasher(algorithm: str) -> hashlib._Hash:
    """A new hash of ``algorithm`` (one of :data:`ALGORITHMS`), through hashlib's own
    constructor: ``hashlib.new`` looks the name up in Python at each call, once per entry."""
    return getattr(hashlib, algorithm)()  # type: ignore[no-any-return]


def algorithms(rows: Iterable[Row]) -> dict[str, str]:
    """The hash each of RECORD's ``rows`` names for its path, where it is one of :data:`ALGORITHMS`."""
    named = ((path, digest.partition("=")[0]) for path, digest, _ in rows)
    return {path: algorithm for path, algorithm in named if algorithm in ALGORITHMS}


def record_hash(data: bytes, algorithm: str = "sha256") -> str:
    """``data``'s digest as RECORD writes it."""
    return digest_text(hashlib.new(algorithm, data))


def parse(label: str, text: str) -> list[Row]:
    """The rows of a RECORD's ``text``; :class:`BadArtifact` naming ``label`` and the line if unreadable."""
    rows: list[Row] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row:
                continue
            if len(rows) == MAX_RECORD_ROWS:
                raise LimitExceeded(f"{label}: RECORD has more than {MAX_RECORD_ROWS} rows (a limit of hatch-pyc)")
            if len(row) != 3:
                raise BadArtifact(f"{label}: RECORD line {number} has {len(row)} fields, not 3")
            rows.append((row[0], row[1], row[2]))
    except csv.Error as exc:
        raise BadArtifact(f"{label}: RECORD is not readable CSV: {exc}") from None
    return rows


def row(path: str, content: bytes) -> Row:
    """The row listing ``content`` as the file ``path``."""
    return (path, f"sha256={record_hash(content)}", str(len(content)))


def render(dist_info: str, rows: Iterable[Row]) -> bytes:
    """A RECORD of ``rows`` (in the order given), then of itself."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows(rows)
    writer.writerow((f"{dist_info}/RECORD", "", ""))
    return text.getvalue().encode()


def is_unrecorded(dist_info: str, name: str) -> bool:
    """Whether RECORD rightly leaves ``name`` out (itself and signature files)."""
    if not name.endswith(_UNRECORDED_ENDS):
        return False
    directory, base = posixpath.split(name)
    return directory == dist_info and base in ("RECORD", *UNRECORDED)


#: How the names :func:`is_unrecorded` may take end: most names are ruled out by this alone.
_UNRECORDED_ENDS = tuple(f"/{base}" for base in ("RECORD", *UNRECORDED))


def problems(
    rows: Sequence[Row], names: Sequence[str], dist_info: str, hash_of: Callable[[str, str], tuple[str, int]]
) -> list[str]:
    """One line per file of ``names`` whose content or size does not match ``rows``, or that
    only one of them lists. ``hash_of(name, algorithm)`` gives an entry's digest and size."""
    found = []
    recorded = {path: (digest, size) for path, digest, size in rows}
    for name in names:
        if name.endswith(_UNRECORDED_ENDS) and is_unrecorded(dist_info, name):
            continue
        row = recorded.get(name)
        if row is None:
            found.append(f"{printable(name)}: in the wheel but not in RECORD")
            continue
        digest, size = row
        algorithm, _, expected = digest.partition("=")
        if algorithm not in ALGORITHMS:
            found.append(f"{printable(name)}: RECORD gives no usable hash ({printable(digest) or 'none'})")
            continue
        actual, length = hash_of(name, algorithm)
        if actual != expected:
            found.append(f"{printable(name)}: content does not match its RECORD hash")
        if size != str(length):
            found.append(f"{printable(name)}: size {length} does not match RECORD's {printable(size) or 'none'}")
    for name in sorted(set(recorded) - set(names)):
        if not is_unrecorded(dist_info, name):
            found.append(f"{printable(name)}: in RECORD but not in the wheel")
    return found
