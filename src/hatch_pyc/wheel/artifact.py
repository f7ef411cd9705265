"""Opening a wheel or a ``.pyz`` safely: anything unusable is a :class:`BadArtifact`.

The commands read files that may come from anywhere, so nothing here trusts the archive: not
its entry names (``..``, absolute paths, control characters), not its declared sizes (a zip
bomb), not its compression (a corrupt stream, an unknown method, encryption), not its
``.dist-info`` files. Everything read from one artifact, the archives nested in it included,
is counted against one :class:`~hatch_pyc.core.limits.Budget`; entries are read in chunks, never
held whole to hash or count them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, NoReturn

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.limits import (
    MAX_DIRECTORIES,
    MAX_DIRECTORY_NAMES,
    MAX_DIRECTORY_SIZE,
    MAX_ENTRIES,
    MAX_ENTRY_SIZE,
    MAX_METADATA_SIZE,
    MAX_RATIO,
    MAX_TAGS,
    RATIO_FROM,
    Budget,
    LimitExceeded,
    name_over_limits,
)
from hatch_pyc.wheel import records, wheelfile

#: What zipfile and zlib raise for an archive they cannot read: a corrupt deflate stream, an
#: unknown compression method or zip version (NotImplementedError), an encrypted entry
#: (RuntimeError), a CRC or size that does not match.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)
_CHUNK = 1024 * 1024
#: The digest kept for an entry that was read twice and differed: it matches no RECORD row.
CHANGED = "changed while it was read"


@dataclass
class Artifact:
    """An opened wheel, ``.pyz``, or zip archive inside one."""

    path: str
    kind: str
    archive: zipfile.ZipFile
    #: Every file entry (directories left out), in archive order.
    names: list[str]
    budget: Budget
    #: For wheels: the ``.dist-info`` directory, file-name tags and the parsed WHEEL and RECORD.
    dist_info: str = ""
    name: str = ""
    version: str = ""
    build_tag: str = ""
    tags: frozenset[Tag] = frozenset()
    wheel: dict[str, list[str]] = field(default_factory=dict)
    record: list[tuple[str, str, str]] = field(default_factory=list)
    #: Archives opened inside this one, closed with it.
    nested: list[Artifact] = field(default_factory=list)
    #: The RECORD digest and size of each entry of a wheel read to its end so far, by entry and
    #: hash: RECORD is verified with the bytes that were looked at (a pyc loaded, an archive
    #: surveyed), never with another reading of a file that may have changed since, and
    #: without inflating them again. Hashed as RECORD's row for the entry says, or, for what is
    #: read before RECORD, in every hash it may use. :data:`CHANGED` for an entry read twice
    #: that differed.
    digests: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: The hash RECORD gives each entry, once RECORD is read.
    algorithms: dict[str, str] | None = None
    _spooled: list[IO[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> str:
        """The wheel's ``.data`` directory: ``demo_pkg-0.1.0.data``."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    def info(self, name: str) -> zipfile.ZipInfo:
        return self.archive.getinfo(name)

    def chunks(self, name: str) -> Iterator[bytes]:
        """The entry's bytes in chunks; its size and CRC are checked by zipfile as it goes, and
        its digest kept (:attr:`digests`) once read to its end."""
        hashers = self._hashers(name)
        size = 0
        try:
            with self.archive.open(name) as stream:
                while chunk := stream.read(_CHUNK):
                    for hasher in hashers:
                        hasher.update(chunk)
                    size += len(chunk)
                    yield chunk
        except ZIP_ERRORS as exc:
            raise BadArtifact(f"{self.path}: cannot read {printable(name)}: {exc}") from None
        for hasher in hashers:
            digest = (records.digest_text(hasher), size)
            key = (name, hasher.name)
            self.digests[key] = digest if self.digests.get(key, digest) == digest else (CHANGED, size)

    def _hashers(self, name: str) -> list[hashlib._Hash]:
        if self.kind != "wheel":
            return []
        if self.algorithms is None:
            return [records.hasher(algorithm) for algorithm in records.ALGORITHMS]
        return [records.hasher(self.algorithms.get(name, "sha256"))]

    def within(self, name: str, limit: int) -> None:
        """Raise :class:`LimitExceeded` if the entry has more than ``limit`` bytes uncompressed."""
        size = self.info(name).file_size
        if size > limit:
            raise LimitExceeded(
                f"{self.path}: {printable(name)} has {size} bytes, more than {limit} (a limit of hatch-pyc)"
            )

    def read(self, name: str, limit: int = MAX_ENTRY_SIZE) -> bytes:
        """The whole entry, which must be no larger than ``limit`` bytes."""
        self.within(name, limit)
        return b"".join(self.chunks(name))

    def text(self, name: str) -> str:
        """A ``.dist-info`` text file, as UTF-8."""
        try:
            return self.read(name, MAX_METADATA_SIZE).decode()
        except UnicodeDecodeError as exc:
            raise BadArtifact(f"{self.path}: {printable(name)} is not UTF-8: {exc}") from None

    def open_nested(self, name: str) -> Artifact:
        """The zip archive stored as entry ``name``, its entries checked against the same budget.

        It is copied to a temporary file, not into memory; the copy goes with this artifact.
        """
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._spooled.append(spool)
        for chunk in self.chunks(name):
            spool.write(chunk)
        spool.seek(0)
        label = f"{self.path}!{name}"
        _directory_within_limits(label, spool)
        try:
            archive = zipfile.ZipFile(spool)
        except ZIP_ERRORS as exc:
            raise BadArtifact(f"{label}: not a readable zip archive ({exc})") from None
        nested = Artifact(path=label, kind="zip", archive=archive, names=[], budget=self.budget)
        self.nested.append(nested)
        nested.names = _checked_names(label, archive, self.budget)
        _one_directory(label, archive)
        _data_as_declared(label, archive, spool)
        return nested

    def close(self) -> None:
        """Close the archive and drop what was read of it but its names: a closed artifact of
        100,000 entries would otherwise hold their zip directory and RECORD (70 MB) while an
        installer reads the wheel again."""
        for nested in self.nested:
            nested.close()
        self.archive.close()
        self.archive.filelist = []
        self.archive.NameToInfo = {}
        self.record = []
        self.digests = {}
        for spool in self._spooled:
            spool.close()

    def __enter__(self) -> Artifact:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: The base of a Windows short name: ``CORE_M~1``, ``AB12~10``.
_SHORT_BASE = re.compile(r".+~[0-9]+", re.ASCII)


def _short_name(part: str) -> bool:
    """Whether ``part`` is shaped like a Windows short (8.3) name: ``CORE_M~1.PY``, ``PROGRA~1``.

    Windows looks a name up after dropping trailing dots and spaces, and finds a file by its
    short name too: a base of at most 8 characters ending in ``~`` and digits, and an extension
    of at most 3. ``demo/CORE_M~1.PY`` can be ``demo/core_module.py``, whoever wrote it.
    """
    base, _, extension = part.rstrip(". ").partition(".")
    return len(base) <= 8 and len(extension) <= 3 and "." not in extension and _SHORT_BASE.fullmatch(base) is not None


def _unsafe_name(name: str) -> str | None:
    """Why an entry name cannot be installed or trusted, or None."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or "\\" in name:
        return "absolute, empty, or with a backslash"
    if ":" in name:
        return "a ':', which Windows reads as a drive or an alternate data stream: 'x.pth::$DATA' is the file x.pth"
    parts = name.split("/")
    if name.endswith("/"):
        parts.pop()
    if "" in parts or "." in parts or ".." in parts:
        return "a '..', '.' or empty part: escaping the install directory or landing on another entry's path"
    # Printable ASCII, as nearly every name is, has no control character to escape.
    if not (name.isascii() and name.isprintable()) and printable(name) != name:
        return "a control character"
    if "~" in name and any(_short_name(part) for part in parts):
        return "shaped like a Windows short name ('CORE_M~1.PY'): Windows may resolve it to another file's long name"
    return None


def _directory_within_limits(path: str, fp: IO[bytes]) -> None:
    """Refuse an archive whose end record announces more entries, or a larger central
    directory, than the limits allow, before ``zipfile`` reads that directory whole. The end
    record is found as ``zipfile`` finds it; an archive it cannot find one in is left to it."""
    try:
        end = getattr(zipfile, "_EndRecData")(fp)  # noqa: B009 - zipfile's own reader, not typed
        fp.seek(0)
    except (OSError, struct.error, ValueError):
        return
    if not end:
        return
    entries, size = end[4], end[5]
    if entries > MAX_ENTRIES or size > MAX_DIRECTORY_SIZE:
        raise LimitExceeded(
            f"{path}: its central directory announces {entries} entries in {size} bytes, more than "
            f"{MAX_ENTRIES} entries or {MAX_DIRECTORY_SIZE} bytes (a limit of hatch-pyc)"
        )


#: The Info-ZIP Unicode Path extra field: a second name for the entry.
_UNICODE_PATH = 0x7075


def _extra_ids(extra: bytes) -> list[int]:
    """The header IDs of the extra fields in ``extra``, as far as they are well formed."""
    found, offset = [], 0
    while offset + 4 <= len(extra):
        header, size = struct.unpack_from("<HH", extra, offset)
        found.append(header)
        offset += 4 + size
    return found


def _checked_names(path: str, archive: zipfile.ZipFile, budget: Budget) -> list[str]:
    """The file entries of ``archive``, after refusing unsafe names and sizes that announce a bomb."""
    infos = archive.infolist()
    budget.take_entries(len(infos))
    #: The bytes of the entries so far, taken from the budget at once unless they go past it:
    #: then at the entry that does, as entry by entry.
    taken = 0
    for info in infos:
        # zipfile cuts a name at its first NUL: the name as stored is the one to judge.
        name = info.orig_filename
        too_long = name_over_limits(name)
        if too_long is not None:
            shown = printable(name[:200]) + ("..." if len(name) > 200 else "")
            raise LimitExceeded(f"{path}: entry '{shown}' is too long: {too_long}")
        reason = _unsafe_name(name)
        if reason is not None:
            raise BadArtifact(f"{path}: unsafe entry '{printable(name)}' ({reason})")
        if (info.extra and _UNICODE_PATH in _extra_ids(info.extra)) or info.filename != name.replace("\\", "/"):
            raise BadArtifact(
                f"{path}: entry '{printable(name)}' carries another name in an Info-ZIP Unicode Path field, which "
                "zipfile takes from Python 3.12 and zipimport never does: readers disagree on its name"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # zipfile inflates a bzip2 or LZMA chunk whole, however far past the entry's size.
            raise BadArtifact(
                f"{path}: entry '{printable(name)}' is compressed with method {info.compress_type}: hatch-pyc "
                "reads only stored and deflated entries, which every wheel and zipapp tool writes"
            )
        size = info.file_size
        if size > MAX_ENTRY_SIZE or (size > RATIO_FROM and size > MAX_RATIO * max(info.compress_size, 1)):
            raise LimitExceeded(
                f"{path}: entry '{printable(name)}' declares {size} bytes from {info.compress_size}: "
                f"refusing a possible zip bomb (a limit of hatch-pyc: {MAX_ENTRY_SIZE} bytes, ratio {MAX_RATIO})"
            )
        taken += size
        if taken > budget.bytes_left:
            budget.take_bytes(taken)
    budget.take_bytes(taken)
    directories, size = _directories_made([info.filename for info in infos])
    if directories > MAX_DIRECTORIES:
        raise LimitExceeded(
            f"{path}: its entry names make {directories} directories, more than {MAX_DIRECTORIES} "
            "(a limit of hatch-pyc)"
        )
    if size > MAX_DIRECTORY_NAMES:
        raise LimitExceeded(
            f"{path}: the names of the directories its entries make come to {size} characters, more than "
            f"{MAX_DIRECTORY_NAMES} (a limit of hatch-pyc)"
        )
    names = [info.filename for info in infos if not info.is_dir()]
    if len(set(names)) != len(names):
        raise BadArtifact(f"{path}: an entry appears twice")
    return names


def _directories_made(names: list[str]) -> tuple[int, int]:
    """How many directories the entry names ``names`` make, and the characters of their names
    together, counted without making them: in text order the names below one directory come
    together, so a name's directories that the name before it has not are new."""
    count = size = 0
    previous = previous_directory = ""
    for name in sorted(names):
        directory = name[: name.rfind("/") + 1]
        if directory == previous_directory:
            # In the directory of the name before it, as most names are: no new directory.
            previous = name
            continue
        previous_directory = directory
        # The length of the prefix shared with the previous name, by bisection (each step one
        # comparison in C).
        low, high = 0, min(len(name), len(previous))
        while low < high:
            middle = (low + high + 1) // 2
            if name[:middle] == previous[:middle]:
                low = middle
            else:
                high = middle - 1
        slash = name.find("/", low)
        while slash != -1:
            count += 1
            size += slash
            if count > MAX_DIRECTORIES or size > MAX_DIRECTORY_NAMES:
                return count, size
            slash = name.find("/", slash + 1)
        previous = name
    return count, size


_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_LOCATOR64 = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
#: The end of central directory record (22 bytes, then its comment), the zip64 end record
#: without extensible data (56 bytes) and the zip64 locator (20 bytes) just before it.
_END_RECORD = struct.Struct("<4s4H2LH")
_END64_RECORD = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_PART = _END64_RECORD.size + _LOCATOR.size
#: How much of the end of an archive is read: the end record may have a comment of up to
#: 65535 bytes after it, and the zip64 records lie before it.
_TAIL = 0xFFFF + _END_RECORD.size + _ZIP64_PART + 1
#: Where zipfile looks for the end record: in the last 64 KiB and 22 bytes.
_ZIPFILE_WINDOW = (1 << 16) + _END_RECORD.size
_CENTRAL_HEADER = 46
#: A directory entry's name, extra field and comment sizes, 28 bytes into it.
_SIZES = struct.Struct("<3H")


#: The entries zipimport reads when it imports: sources, bytecode, and a bundle's __main__.
_IMPORTED = (".py", ".pyc")
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_ENCRYPTED = 0x1


def _imported(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith(_IMPORTED)


def _data_as_declared(
    path: str,
    archive: zipfile.ZipFile,
    raw: IO[bytes],
    chosen: Callable[[zipfile.ZipInfo], bool] = _imported,
    reader: str = "zipimport would read what zipfile does not",
) -> None:
    """Refuse an archive on ``sys.path`` (the zip layout's, a ``.pyz``) whose module entries
    zipimport would read otherwise than zipfile: zipfile stops at an entry's declared size,
    while zipimport takes all of its compressed size, stored as it is or inflated whole. So
    each module's data must be exactly its declared size, stored or inflated. ``chosen`` picks
    other entries, which ``reader`` would read otherwise (a wheel's ``.dist-info`` files, which
    pypa/installer reads with ``ZipFile.read``: that asks zlib for up to 1 GiB at once before it
    cuts the output to the declared size)."""
    for info in archive.infolist():
        if info.is_dir() or not chosen(info):
            continue
        label = f"{path}: {printable(info.filename)}"
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise BadArtifact(
                    f"{label}: stored with {info.compress_size} bytes of data but declaring {info.file_size}: {reader}"
                )
            continue
        if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & _ENCRYPTED:
            # zipimport inflates any other method as deflate, and ignores encryption.
            encrypted = ", encrypted" if info.flag_bits & _ENCRYPTED else ""
            raise BadArtifact(
                f"{label}: compression method {info.compress_type}{encrypted}: zipimport reads it as plain deflate, "
                "zipfile otherwise"
            )
        raw.seek(info.header_offset)
        header = raw.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size:
            raise BadArtifact(f"{label}: its local header is cut short")
        name_size, extra_size = _LOCAL_HEADER.unpack(header)[10:12]
        raw.seek(info.header_offset + _LOCAL_HEADER.size + name_size + extra_size)
        inflater = zlib.decompressobj(-15)
        left, made = info.compress_size, 0
        try:
            while left and not inflater.eof:
                chunk = raw.read(min(left, _CHUNK))
                if not chunk:
                    break
                left -= len(chunk)
                # Never more than one byte past the declared size: enough to know, and bounded.
                made += len(inflater.decompress(chunk, info.file_size + 1 - made))
                while inflater.unconsumed_tail and made <= info.file_size:
                    made += len(inflater.decompress(inflater.unconsumed_tail, info.file_size + 1 - made))
                if made > info.file_size:
                    break
        except zlib.error as exc:
            raise BadArtifact(f"{label}: not a readable deflate stream ({exc})") from None
        if made != info.file_size:
            raise BadArtifact(
                f"{label}: its compressed data inflates to {'more' if made > info.file_size else 'less'} than the "
                f"{info.file_size} bytes it declares: {reader}"
            )


def dist_info_as_declared(path: str, archive: zipfile.ZipFile, dist_info: str) -> None:
    """Raise :class:`BadArtifact` unless each file of the wheel's ``dist_info`` directory
    inflates to exactly its declared size (see :func:`_data_as_declared`)."""
    with open(path, "rb") as raw:
        _data_as_declared(
            path,
            archive,
            raw,
            lambda info: info.filename.startswith(dist_info + "/"),
            "readers of the whole entry inflate it",
        )


def _one_directory(path: str, archive: zipfile.ZipFile) -> None:
    """Refuse an archive in which Python's readers could find different central directories.

    ``zipfile`` (pip, pypa/installer, hatch-pyc) follows a zip64 end record where one is
    present; ``zipimport`` (archives on ``sys.path``, a ``.pyz`` run by ``runpy``) follows the
    32-bit end record before CPython 3.13, the zip64 one after, and reads directory entries
    until the next signature is not one, whatever the record's size. So the archive must have
    one end record, zip64 values that agree with the 32-bit ones (or the 32-bit ones set to
    their "see zip64" value), a directory that ends exactly where the record says, and no
    other directory where the 32-bit record would send zipimport.
    """

    def refuse(what: str) -> NoReturn:
        raise BadArtifact(
            f"{path}: {what}, so zipimport and zipfile (pip, installers, hatch-pyc) could read different "
            "files from it; rebuild it with a standard zip writer"
        )

    fp = archive.fp
    if fp is None:  # only a closed archive has none
        raise BadArtifact(f"{path}: closed before it was read")
    try:
        size = fp.seek(0, os.SEEK_END)
        tail_at = max(size - _TAIL, 0)
        fp.seek(tail_at)
        tail = fp.read()
    except OSError as exc:
        raise BadArtifact(f"{path}: cannot read its end: {exc}") from None
    # zipfile's own search (_EndRecData): a record without a comment at the very end, else the
    # last signature in the last 64 KiB.
    if tail[-_END_RECORD.size : -_END_RECORD.size + 4] == _END and tail[-2:] == b"\0\0":
        at = len(tail) - _END_RECORD.size
    else:
        at = tail.rfind(_END, max(len(tail) - _ZIPFILE_WINDOW, 0))
    if at < 0 or at + _END_RECORD.size > len(tail):
        refuse("its end of central directory record is not where zipfile looks for it")
    if tail.rfind(_END) != at:
        # zipimport takes the last signature (3.13) or the one at the very end (before).
        refuse("an end of central directory signature follows its end record")
    end = tail_at + at
    _, _, _, count_here, count, cd_size, cd_offset, _ = _END_RECORD.unpack_from(tail, at)
    has_locator = at >= _LOCATOR.size and tail[at - _LOCATOR.size : at - _LOCATOR.size + 4] == _LOCATOR64
    has_record = at >= _ZIP64_PART and tail[at - _ZIP64_PART : at - _ZIP64_PART + 4] == _END64
    if has_locator != has_record:
        # zipfile takes the zip64 record only with its locator, CPython 3.13's zipimport without.
        refuse("a zip64 end record without its locator just after it, or a locator without the record")
    used = (count_here, count, cd_size, cd_offset)
    before = 0
    if has_record:
        _, record_size, _, _, _, _, *zip64 = _END64_RECORD.unpack_from(tail, at - _ZIP64_PART)
        record_offset = _LOCATOR.unpack_from(tail, at - _LOCATOR.size)[2]
        if record_size != _END64_RECORD.size - 12 or record_offset != zip64[3] + zip64[2]:
            refuse("its zip64 end record is not where its locator points, just after the central directory")
        sentinels = (0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        if any(small not in (sentinel, big) for small, big, sentinel in zip(used, zip64, sentinels, strict=True)):
            refuse(
                f"its two end records name different central directories (entries {count}, size {cd_size}, "
                f"offset {cd_offset} in the 32-bit one; entries {zip64[1]}, size {zip64[2]}, offset {zip64[3]} "
                "in the zip64 one)"
            )
        used = (zip64[0], zip64[1], zip64[2], zip64[3])
        before = _ZIP64_PART
    used_here, used_count, used_size, used_offset = used
    start = end - before - used_size
    if start != archive.start_dir:
        refuse(f"zipfile read its central directory at {archive.start_dir}, not at {start} where its end record says")
    entries = len(archive.infolist())
    walked, stop = _walk_directory(fp, start, used_size, entries)
    if (walked, stop) != (used_count, start + used_size) or used_here != used_count or walked != entries:
        refuse(
            f"its central directory holds {walked} entries in {stop - start} bytes where its end record says "
            f"{used_count} in {used_size}"
        )
    # zipimport before 3.13 (and 3.13 where it does not take the zip64 record) reads from where
    # the 32-bit record puts it, with the data offsets moved as that start implies.
    zipimport_start = end - cd_size
    if zipimport_start >= cd_offset and (zipimport_start, cd_offset) != (start, used_offset):
        try:
            fp.seek(zipimport_start)
            there = fp.read(4)
        except OSError as exc:
            raise BadArtifact(f"{path}: cannot read its end: {exc}") from None
        if there == _CENTRAL:
            refuse(f"its 32-bit end record names another central directory (at {zipimport_start}) than zipfile read")


def _walk_directory(fp: IO[bytes], start: int, size: int, most: int) -> tuple[int, int]:
    """How many directory entries follow one another from ``start`` (at most ``most`` + 1),
    counting until ``size`` bytes are passed or a signature is not one; and where they end."""
    count, at = 0, start
    buffer, buffer_at = b"", start
    while at < start + size and count <= most:
        offset = at - buffer_at
        if offset + _CENTRAL_HEADER > len(buffer):
            try:
                fp.seek(at)
                buffer, buffer_at, offset = fp.read(_CHUNK), at, 0
            except OSError:
                break
        if buffer[offset : offset + 4] != _CENTRAL or offset + _CENTRAL_HEADER > len(buffer):
            break
        name_size, extra_size, comment_size = _SIZES.unpack_from(buffer, offset + 28)
        at += _CENTRAL_HEADER + name_size + extra_size + comment_size
        count += 1
    return count, at


def _open_wheel(artifact: Artifact) -> None:
    path = artifact.path
    # Counted before packaging expands the file name's compressed tag set.
    stem = os.path.basename(path)[: -len(".whl")]
    named_tags = wheelfile.tags_named("-".join(stem.rsplit("-", 3)[1:]))
    if named_tags > MAX_TAGS:
        raise LimitExceeded(
            f"{path}: its file name names {named_tags} tags, more than {MAX_TAGS} (a limit of hatch-pyc)"
        )
    try:
        name, version, build, tags = parse_wheel_filename(os.path.basename(path))
    except InvalidWheelFilename as exc:
        raise BadArtifact(f"{path}: {exc}") from None
    artifact.name, artifact.version, artifact.tags = str(name), str(version), tags
    artifact.build_tag = "".join(map(str, build))
    dist_infos = {top for n in artifact.names if "/" in n and (top := n.partition("/")[0]).endswith(".dist-info")}
    if len(dist_infos) != 1:
        raise BadArtifact(f"{path}: expected one .dist-info directory, found {len(dist_infos)}")
    artifact.dist_info = dist_infos.pop()
    stem, _, dist_version = artifact.dist_info[: -len(".dist-info")].rpartition("-")
    try:
        same = canonicalize_name(stem) == name and Version(dist_version) == version
    except InvalidVersion:
        same = False
    if not same:
        raise BadArtifact(f"{path}: its .dist-info directory {printable(artifact.dist_info)} is not {name} {version}'s")
    _one_data_directory(artifact)
    for required in ("WHEEL", "RECORD", "METADATA"):
        if f"{artifact.dist_info}/{required}" not in artifact.names:
            raise BadArtifact(f"{path}: {artifact.dist_info}/{required} is missing")
    # Read whole by the commands that read it (bundle, install, convert), and refused by every
    # command alike, whether it reads it or not.
    artifact.within(f"{artifact.dist_info}/METADATA", MAX_METADATA_SIZE)
    artifact.wheel = wheelfile.parse_wheel(path, artifact.text(f"{artifact.dist_info}/WHEEL"), named_tags)
    artifact.record = records.parse(path, artifact.text(f"{artifact.dist_info}/RECORD"))
    artifact.algorithms = records.algorithms(artifact.record)


def _one_data_directory(artifact: Artifact) -> None:
    """Refuse a wheel whose ``.data`` directory installers would not agree on.

    pypa/installer takes ``{distribution}-{version}.data`` as the wheel's file name spells
    them, hatch-pyc (and uv) the ``.dist-info`` directory's name, pip every top-level
    directory whose name ends in ``.data``. Where the wheel has one, all three must be it.
    """
    path = artifact.path
    tops = sorted({top for name in artifact.names if (top := name.partition("/")[0]).endswith(".data")})
    if not tops:
        return
    distribution, version = os.path.basename(path)[: -len(".whl")].split("-")[:2]
    by_file_name = f"{distribution}-{version}.data"
    if by_file_name != artifact.data_dir:
        raise BadArtifact(
            f"{path}: its data directory is {printable(artifact.data_dir)} by its .dist-info directory but "
            f"{printable(by_file_name)} by its file name, and installers take one or the other; spell the "
            "distribution and version in the file name as in the .dist-info directory"
        )
    for top in tops:
        if top != artifact.data_dir:
            raise BadArtifact(
                f"{path}: {printable(top)} is a second data directory beside {printable(artifact.data_dir)}: pip "
                f"installs the files of every *.data directory, pypa/installer leaves them in site-packages; move "
                f"its files into {printable(artifact.data_dir)}"
            )


def open_artifact(path: str) -> Artifact:
    """Open the wheel (``.whl``) or zipapp (``.pyz``) at ``path``; :class:`BadArtifact` if unusable."""
    kind = {".whl": "wheel", ".pyz": "pyz"}.get(os.path.splitext(path)[1])
    if kind is None:
        raise BadArtifact(f"{path}: not a wheel (.whl) or zipapp (.pyz)")
    if not os.path.isfile(path):
        raise BadArtifact(f"{path}: no such file")
    try:
        with open(path, "rb") as fp:
            _directory_within_limits(path, fp)
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise BadArtifact(f"{path}: not a readable zip archive ({exc})") from None
    budget = Budget(label=path)
    try:
        artifact = Artifact(path=path, kind=kind, archive=archive, names=[], budget=budget)
        artifact.names = _checked_names(path, archive, budget)
        _one_directory(path, archive)
        if kind == "wheel":
            _open_wheel(artifact)
            dist_info_as_declared(path, archive, artifact.dist_info)
        else:
            with open(path, "rb") as raw:
                _data_as_declared(path, archive, raw)
    except BaseException:
        archive.close()
        raise
    return artifact


def hash_entry(artifact: Artifact, name: str, algorithm: str) -> tuple[str, int]:
    """The RECORD digest of entry ``name`` and its size: of the bytes read before, if it was
    read, else read now."""
    known = artifact.digests.get((name, algorithm))
    if known is None:
        for _ in artifact.chunks(name):
            pass
        known = artifact.digests[(name, algorithm)]
    return known


def extract(artifact: Artifact, name: str, target: str) -> None:
    """Copy entry ``name`` to the file ``target`` (making its directory), in chunks; a name
    the file system cannot hold there is a :class:`BadArtifact`."""
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            for chunk in artifact.chunks(name):
                out.write(chunk)
    except (OSError, RecursionError) as exc:
        # os.makedirs recurses once per missing directory: thousands of them end it.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "nested too deeply"
        raise BadArtifact(
            f"{artifact.path}: cannot unpack {printable(name)}: {reason} (a file and a directory of one "
            "name, or a name too long for the file system)"
        ) from None


def install_path(artifact: Artifact, name: str) -> str | None:
    """Where the wheel entry ``name`` lands relative to site-packages, or None (metadata, scripts, data)."""
    top = name.split("/")[0]
    if top == artifact.dist_info:
        return None
    if top.endswith(".data"):
        parts = name.split("/", 2)
        return parts[2] if len(parts) == 3 and parts[1] in wheelfile.IMPORTABLE_SCHEMES else None
    return name


def record_problems(artifact: Artifact) -> list[str]:
    """One line per file whose content or size does not match the wheel's RECORD, or that only one lists."""
    return records.problems(
        artifact.record, artifact.names, artifact.dist_info, functools.partial(hash_entry, artifact)
    )


@contextlib.contextmanager
def intact_wheel(path: str, purpose: str) -> Iterator[Artifact]:
    """The wheel at ``path``, opened, if every entry matches its RECORD; else
    :class:`BadArtifact`: ``purpose`` (``"converting"``) says what is not done to it."""
    with open_artifact(path) as artifact:
        if artifact.kind != "wheel":
            raise BadArtifact(f"{path}: not a wheel; {purpose} takes wheels only")
        damage = record_problems(artifact)
        if damage:
            raise BadArtifact(f"{path}: does not match its RECORD ({damage[0]}); not {purpose} a damaged wheel")
        yield artifact
