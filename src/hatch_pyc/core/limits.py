"""The limits every command keeps to while it reads an artifact, whatever the artifact says.

One :class:`Budget` is spent by everything read from one artifact, the archives nested in it
included, so that no input costs more time or memory than these numbers allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hatch_pyc.core.errors import HatchPycError

#: Entries (files and directories) in an artifact and the archives inside it.
MAX_ENTRIES = 200_000
#: Uncompressed bytes of one entry.
MAX_ENTRY_SIZE = 256 * 1024 * 1024
#: Uncompressed bytes of all entries, nested archives counted again.
MAX_TOTAL_SIZE = 2 * 1024 * 1024 * 1024
#: Uncompressed to compressed size of an entry of more than :data:`RATIO_FROM` bytes:
#: deflate reaches about 1030 at best, so only a crafted entry goes past this.
MAX_RATIO = 1100
RATIO_FROM = 1024 * 1024
#: Objects in the marshal data of all pycs, read by the pure-Python reader: about one per 25
#: bytes of pyc, so ten times what a very large project (sympy) ships. The worker that loads
#: pycs counts the items of their constants instead.
MAX_MARSHAL_OBJECTS = 20_000_000
#: CPU seconds of the worker that loads pycs with ``marshal.loads``: this many, plus one for
#: each :data:`MARSHAL_BYTES_PER_CPU_SECOND` bytes handed to it: several times slower than it
#: reads honest pycs, and a bound on what crafted data can cost.
MARSHAL_CPU_SECONDS = 2
MARSHAL_BYTES_PER_CPU_SECOND = 32 * 1024 * 1024
#: Memory that worker may take on top of what it holds at its start.
MARSHAL_MEMORY = 1024 * 1024 * 1024
#: CPU seconds of each worker that compiles shipped sources to compare their pycs: this
#: many, plus one for each :data:`VERIFY_BYTES_PER_CPU_SECOND` bytes of sources and pycs
#: handed to it (it compiles sympy's at about 5 MB a second), and the memory it may take
#: on top of what it holds at its start (sympy's hungriest module takes 50 MB).
VERIFY_CPU_SECONDS = 2
VERIFY_BYTES_PER_CPU_SECOND = 1024 * 1024
VERIFY_MEMORY = 2 * 1024 * 1024 * 1024
#: Times those workers may die (a crash) comparing one artifact's pycs, each a problem of the
#: pycs it held, before the artifact is refused whole: each death starts a worker afresh,
#: with its CPU allowance.
VERIFY_DEATHS = 2
#: Bytes of one pyc, or of one source a pyc is compared with: ``check`` reads these whole.
#: The largest honest pycs are a few MB (generated tables); with what is read ahead for the
#: worker (:data:`MAX_HELD`), the checking process stays under 256 MiB whatever the artifact.
MAX_PYC_SIZE = 32 * 1024 * 1024
#: Bytes of pycs and sources ``check`` holds while the worker has not answered for them.
MAX_HELD = 64 * 1024 * 1024
#: Bytes of a ``.dist-info`` text file (METADATA, RECORD, WHEEL): every command refuses a
#: wheel whose METADATA, RECORD or WHEEL is larger, whether it reads METADATA or not.
MAX_METADATA_SIZE = 64 * 1024 * 1024
#: Bytes of the bytecode metadata file, which hatch-pyc writes in a few hundred.
MAX_BYTECODE_METADATA_SIZE = 1024 * 1024
#: Parts of all member names of an sdist together: what ``verify`` walks and makes directories
#: for (20,000 members 256 directories deep took a minute). An honest sdist of 10,000 files
#: has about 80,000.
MAX_SDIST_PARTS = 1_000_000
#: Bytes of a ``.pth`` file read (a wheel's, or one installed already): decoded and split
#: whole, as site reads it.
MAX_PTH_SIZE = 1024 * 1024
#: Bytes of an ``entry_points.txt``, which configparser reads whole into its own structures.
MAX_ENTRY_POINTS_SIZE = 1024 * 1024
#: Rows of a RECORD: one per entry, and RECORD itself.
MAX_RECORD_ROWS = MAX_ENTRIES + 1
#: Lines ``site`` acts on in one ``.pth`` file of a wheel: each is a directory on ``sys.path``
#: or code at every start, which the model follows or names one by one.
MAX_PTH_LINES = 10_000
#: A bundle's ``__main__.py``, parsed by ``check``: its syntax tree takes up to about 75 times
#: its size (8,000 native files' manifest in 1 MiB).
MAX_BOOTSTRAP_SIZE = 1024 * 1024

#: Bytes of an archive's central directory, which ``zipfile`` reads whole and makes an object
#: of each entry of before anything can count them: 2 million empty entries took it to 1 GB.
#: An honest archive at the entry limit has about 170 bytes of directory an entry.
MAX_DIRECTORY_SIZE = 32 * 1024 * 1024
#: Bytes of one part of an entry name (between slashes): what file systems hold (255 on ext4,
#: NTFS, APFS).
MAX_NAME_PART = 255
#: Bytes of a whole entry name: Linux's PATH_MAX.
MAX_NAME_SIZE = 4096
#: Parts of an entry name (directories and the file): several times deeper than any real
#: package (vendored node_modules included), and shallow enough that what walks a name's
#: parents stays linear.
MAX_NAME_DEPTH = 64
#: Directories the entry names of one archive make, and characters of their names together
#: (``a/b/c.py`` makes ``a`` and ``a/b``): what is kept for each directory (where it lands,
#: the selector's list of modules) is bounded by these, not by the entries' sizes. 1,000
#: entries 240 directories deep, each below a directory of its own, made 240,000 directories of
#: 430 MB of names from 7 MB of wheel. An honest wheel has several files a directory.
MAX_DIRECTORIES = 100_000
MAX_DIRECTORY_NAMES = 16 * 1024 * 1024
#: Lines of the header section of a WHEEL or METADATA file, and bytes of that section:
#: ``email`` holds each line as an object of its own, so a crafted file of one-byte folded
#: lines would take 40 times its size. Headers past the section (METADATA's body, the
#: description) are not given to ``email``. A long description folded into a
#: ``Description`` header (old setuptools) takes a line per line of it.
MAX_HEADER_LINES = 100_000
MAX_HEADER_SIZE = 4 * 1024 * 1024
#: Tags of one wheel: those its file name and its WHEEL Tag lines name, a compressed tag set
#: (``py2.py3-none-any``) counted as the tags it expands to (the product of the numbers of
#: dot-separated names of its three parts) before anything expands it. A manylinux wheel names a
#: few dozen; a 1.4 kB Tag line of 100 x 100 x 100 names expands to a million (30 s, 630 MB).
MAX_TAGS = 1024
#: Interpreters the bytecode metadata records: hatch-pyc builds for the few it is given.
MAX_INTERPRETERS = 256
#: Bytes of one tar extended header of an sdist (PAX ``x`` or ``g``, GNU long name ``L`` or
#: long link ``K``), which ``tarfile`` reads whole; of all global (``g``) ones; and how many
#: may come one after another before a member (tarfile holds each one as it reads the next).
MAX_TAR_HEADER_SIZE = 1024 * 1024
MAX_TAR_GLOBAL_SIZE = 1024 * 1024
MAX_TAR_HEADER_CHAIN = 8


class LimitExceeded(HatchPycError):
    """The artifact goes past one of the limits above; the message names it and its value."""


@dataclass
class Budget:
    """What is left of the limits for one artifact. The limits default to the ones above;
    tests give smaller ones."""

    label: str
    max_entries: int = MAX_ENTRIES
    max_bytes: int = MAX_TOTAL_SIZE
    max_objects: int = MAX_MARSHAL_OBJECTS
    #: The marshal worker's CPU seconds before the per-byte allowance (:data:`MARSHAL_CPU_SECONDS`).
    cpu_seconds: int = MARSHAL_CPU_SECONDS
    entries_left: int = field(init=False)
    bytes_left: int = field(init=False)
    objects_left: int = field(init=False)

    def __post_init__(self) -> None:
        self.entries_left = self.max_entries
        self.bytes_left = self.max_bytes
        self.objects_left = self.max_objects

    def take_entries(self, count: int) -> None:
        self.entries_left -= count
        if self.entries_left < 0:
            raise LimitExceeded(f"{self.label}: more than {self.max_entries} entries (a limit of hatch-pyc)")

    def take_bytes(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise LimitExceeded(
                f"{self.label}: more than {self.max_bytes} bytes uncompressed in all, refusing a possible zip bomb "
                "(a limit of hatch-pyc)"
            )

    def take_objects(self, count: int) -> None:
        self.objects_left -= count
        if self.objects_left < 0:
            raise LimitExceeded(
                f"{self.label}: more than {self.max_objects} objects in its bytecode (a limit of hatch-pyc)"
            )


#: Characters of a name that fits every name limit, however it is spelled: each character is at
#: most 4 bytes of UTF-8, and a part no longer than the name.
_SHORT_NAME = min(MAX_NAME_PART // 4, MAX_NAME_SIZE // 4, MAX_NAME_DEPTH - 1)


def name_over_limits(name: str) -> str | None:
    """Why the entry name ``name`` (``/``-separated) goes past the name limits, or None.

    Checked before anything splits the name or walks its parents, so a name of 32,000 parts
    costs no more than one of 256."""
    if len(name) <= _SHORT_NAME:
        return None
    # In ASCII, as nearly every name is, a character is a byte.
    one_byte = name.isascii()
    size = len(name) if one_byte else len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_SIZE:
        return f"a name of {size} bytes, more than {MAX_NAME_SIZE} (a limit of hatch-pyc)"
    depth = name.rstrip("/").count("/") + 1
    if depth > MAX_NAME_DEPTH:
        return f"{depth} parts deep, more than {MAX_NAME_DEPTH} (a limit of hatch-pyc)"
    parts = name.split("/")
    longest = max(map(len, parts)) if one_byte else max(len(part.encode("utf-8", "surrogateescape")) for part in parts)
    if longest > MAX_NAME_PART:
        return f"a part of {longest} bytes, more than {MAX_NAME_PART} (a limit of hatch-pyc)"
    return None
