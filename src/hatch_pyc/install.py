"""Installing a checked wheel with pypa/installer into an interpreter's environment, all or nothing.

Everything that would make the install fail half-way is refused before the first file is
moved into place: paths that clash, a file where a directory must go, a file already in the
way, names too long for the file system, unknown ``.data`` schemes, entry points that are
not plain names, another install of the same project. Whatever still fails while writing (a
full disk, a read-only directory) is undone: every file written and every directory made
is removed, so the environment is exactly as before and a retry works.

pypa/installer writes while the check runs, into a staging directory in site-packages
(``.hatch-pyc-install-*``: not a name import finds, and ``site`` reads no ``.pth`` file below
it), at most :data:`_AHEAD` bytes before the check has passed. It writes in a thread of its
own, or, for a wheel of more than :data:`_ALONE_ENTRIES` entries, in a process of its own
(:func:`_write_alone`): its work for each file then runs on another core than the check's,
and the zip directory it reads is not held in the checking process. On POSIX that process
hands the small files of the root scheme to a third (:func:`_create_alone`), which creates
them while the next are read and hashed. A refusal stops them (the processes are killed)
and removes the staging directory; once the check has passed and the plan
is made, each directory the wheel adds is moved into place whole, by one rename, and files
into directories already there one by one. The files and RECORD are those pypa/installer
writes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import queue
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, cast

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.sources import WheelContentElement, WheelFile
from installer.utils import Scheme, get_launcher_kind, parse_metadata_file
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from hatch_pyc._shipped import worker
from hatch_pyc.build.cache import CompileCache
from hatch_pyc.check.checker import CheckResult, check_for
from hatch_pyc.check.landing import Places, real_path
from hatch_pyc.core import interpreters
from hatch_pyc.core.errors import BadArtifact, HatchPycError, printable
from hatch_pyc.core.interpreters import TargetError
from hatch_pyc.core.limits import MAX_ENTRY_POINTS_SIZE, MAX_METADATA_SIZE
from hatch_pyc.core.naming import CACHED_PYC, script_name_problem
from hatch_pyc.wheel import records, wheelfile
from hatch_pyc.wheel.artifact import CHANGED, Artifact, dist_info_as_declared, open_artifact
from hatch_pyc.wheel.wheelfile import DATA_SCHEMES

#: Longest file name and path most file systems take (NAME_MAX, PATH_MAX on Linux).
MAX_NAME = 255
MAX_PATH = 4096


class InstallRefused(HatchPycError):
    """The wheel does not fit the target, or is installed there already; nothing was written.

    ``problems`` has one line per reason.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("not installed: " + "; ".join(problems))
        self.problems = problems


class InstallFailed(HatchPycError):
    """Writing failed part-way; everything written was removed again."""


@dataclass
class Installed:
    check: CheckResult
    executable: str
    #: The directory the wheel's root went to (purelib or platlib).
    root: str
    #: The wheel's ``Requires-Dist`` lines: installing them is left to pip or uv.
    dependencies: list[str]


#: Files up to this size are read whole and handed to the writer threads; larger ones are
#: written by the thread reading them, in chunks.
_SMALL = 256 * 1024
#: Threads creating and writing the staged files while pypa/installer reads the next ones
#: (the system calls release the GIL). More contend for the directory in the kernel: creating
#: 20,000 files in one directory took about a third more system time with two than with one.
_WRITERS = 1
#: And in a process of its own, none: its GIL is contended only by those threads, which then
#: wait for it after each system call (on a tmpfs, a third more CPU time than writing in turns).
_ALONE_WRITERS = 0
#: Files waiting for a writer thread: with :data:`_SMALL`, at most 64 MiB held.
_QUEUED = 256
#: Bytes staged before the check has finished, at most: past them the writer waits for its
#: verdict, so that a wheel the check refuses (a bomb) costs no more disk and time than this.
_AHEAD = 256 * 1024 * 1024
#: The staging directory's name in the root scheme's directory: a dot, never an importable name.
_STAGING = ".hatch-pyc-install-"
#: Wheels of more entries are written by a process of its own: pypa/installer's work for each
#: file then runs beside the check's, not in turns with it (one GIL), and the zip directory it
#: reads is not held beside the check's in one process.
_ALONE_ENTRIES = 20_000


def _entries(path: str) -> int | None:
    """How many entries the zip archive at ``path`` says it has (its end record); None if unknown."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 22 - 0xFFFF))
            tail = f.read()
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    total = int.from_bytes(tail[at + 10 : at + 12], "little")
    return None if total == 0xFFFF else total  # 0xFFFF: zip64, as many as that or more


#: A relative path that is already normal: parts joined by single slashes, none of them empty,
#: ``.`` or ``..``. Never matches on Windows, where a backslash or a drive separates too.
_PLAIN = re.compile(r"(?!\.\.?(?:/|$))[^/]+(?:/(?!\.\.?(?:/|$))[^/]+)*" if os.sep == "/" else r"(?!)")


class _Cancelled(Exception):
    """The check refused the wheel, or something failed: the writer stops."""


class _Destination(SchemeDictionaryDestination):
    """Writes every file of the install below ``staging`` (``staging/<scheme>/<path>``), to be
    moved into place once the check has passed (:meth:`_Staged.move`); writes the wheel's
    checked ``__pycache__`` pycs too, and the RECORD pypa/installer makes, as it would.

    pypa/installer skips such pycs (a pyc nobody checked is a risk); ``check`` verifies each of
    these against RECORD, its magic number against the target and its code against its
    source, and nothing staged is moved into place before it has, so they are written and
    recorded like every other file. Small files are created by ``writers`` threads.
    """

    def __init__(
        self,
        pycache: list[str],
        root_scheme: Scheme,
        staging: str,
        checked: threading.Event,
        cancelled: threading.Event,
        ahead: int = _AHEAD,
        writers: int = _WRITERS,
        creator: BinaryIO | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.ahead = ahead
        #: The input of the process that creates the small files (:func:`_create_alone`), if any.
        self.creator = creator
        #: The names of those pycs: each is copied from the wheel in chunks, never held whole.
        self.pycache = pycache
        #: The wheel, open while pypa/installer writes it, and what keeps the digests of its entries.
        self.archive: zipfile.ZipFile | None = None
        self.source: _Source | None = None
        self.root_scheme = root_scheme
        self.staging = staging
        self._targets = {key: os.path.abspath(directory) for key, directory in self.scheme_dict.items()}
        #: Set when the check has passed; set too (with ``cancelled``) when the writer must stop.
        self.checked = checked
        self.cancelled = cancelled
        self.staged = 0
        self._queue: queue.Queue[tuple[str, bytes, bool] | None] = queue.Queue(_QUEUED)
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(writers)]
        for thread in self._threads:
            thread.start()

    def _staged(self, scheme: Scheme, path: str) -> str:
        """Where the file ``path`` of ``scheme`` is staged; refused outside the scheme's directory."""
        if _PLAIN.fullmatch(path):  # normalizing it would change nothing
            return f"{self.staging}{os.sep}{scheme}{os.sep}{path}"
        directory = self._targets[scheme]
        target = os.path.abspath(os.path.join(directory, path))
        if not target.startswith(directory + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        return os.path.join(self.staging, scheme, target[len(directory) + 1 :])

    def _path_with_destdir(self, scheme: Scheme, path: str) -> Path:
        return Path(self._staged(scheme, path))

    def write_to_fs(self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        if self._errors:
            raise self._errors[0]
        if self.cancelled.is_set():
            raise _Cancelled
        if self.staged > self.ahead and not self.checked.is_set():
            self.checked.wait()
            if self.cancelled.is_set():
                raise _Cancelled
        target = self._staged(scheme, path)
        data = stream.read(_SMALL + 1)
        hashed = hashlib.new(self.hash_algorithm, data)
        size = len(data)
        # Scripts are made executable by pypa/installer once written: written here and now.
        if size <= _SMALL and scheme == self.root_scheme and self.creator is not None:
            name = os.fsencode(target)
            self.creator.write(_FRAME.pack(len(name), size, is_executable) + name + data)
        elif size <= _SMALL and scheme == self.root_scheme and self._threads:
            self._queue.put((target, data, is_executable))
        else:
            fd = _create(target)
            try:
                _write_all(fd, data)
                while chunk := stream.read(1024 * 1024):
                    if self.cancelled.is_set():
                        raise _Cancelled
                    if self.staged + size > self.ahead and not self.checked.is_set():
                        # The bound holds within a file too: a 256 MiB one may start just under it.
                        self.checked.wait()
                        if self.cancelled.is_set():
                            raise _Cancelled
                    hashed.update(chunk)
                    _write_all(fd, chunk)
                    size += len(chunk)
                if is_executable:
                    os.fchmod(fd, _EXECUTABLE)
            finally:
                os.close(fd)
        self.staged += size
        return RecordEntry(path, Hash(self.hash_algorithm, records.digest_text(hashed)), size)

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            target, data, executable = item
            try:
                if not self._errors:
                    _create_file(target, data, executable)
            except BaseException as exc:
                self._errors.append(exc)

    def finish(self, completed: bool = True) -> None:
        """Wait for every staged file to be written, or handed to the creating process, which
        is then told that was all if pypa/installer ``completed``; raise what writing one raised."""
        if self.creator is not None and completed:
            self.creator.write(_FRAME.pack(0, 0, False))
            self.creator.close()
        elif self.creator is not None:
            with contextlib.suppress(OSError):  # it may have failed first
                self.creator.close()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._errors:
            raise self._errors[0]

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        records = list(records)
        for path in sorted(self.pycache):
            assert self.archive is not None
            assert self.source is not None
            with self.archive.open(path) as stream:
                hashing = self.source.hashing(path, stream)
                written = self.write_file(self.root_scheme, path, cast("BinaryIO", hashing), False)
                self.source.seen(path, hashing.digest())
                records.append((self.root_scheme, written))
        super().finalize_installation(scheme, record_file_path, records)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The mode of an executable file, as pypa/installer's ``make_file_executable`` sets it. The
#: umask is read once, here: reading it sets it to 0 for a moment, which another thread
#: creating a file then would see (pypa/installer reads it for each executable).
_EXECUTABLE = 0o777 & ~_umask() | 0o111
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create(path: str) -> int:
    """A new file at ``path`` (never one that is there), its directories made as needed: its
    descriptor. Three system calls a file (open, write, close), where ``open()`` makes five."""
    try:
        return os.open(path, _NEW, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return os.open(path, _NEW, 0o666)


def _create_file(path: str, data: bytes, executable: bool) -> None:
    """A new file at ``path`` holding ``data`` (see :func:`_create`), executable if asked."""
    fd = _create(path)
    try:
        _write_all(fd, data)
        if executable:
            os.fchmod(fd, _EXECUTABLE)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):  # rare but allowed: the rest without copying
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


def _target_pycache(names: Iterable[str], data_dir: str, target_tag: str) -> list[str]:
    """The wheel's ``__pycache__`` pycs for the target (``target_tag``), outside ``data_dir``:
    the ones install writes, where pypa/installer skips them all."""
    found = []
    for name in names:
        directory, base = posixpath.split(name)
        match = CACHED_PYC.match(base)
        in_pycache = posixpath.basename(directory) == "__pycache__"
        if in_pycache and not name.startswith(data_dir + "/") and match and match["tag"] == target_tag:
            found.append(name)
    return found


class _Hashing:
    """An entry's stream as pypa/installer reads it, hashing what it reads from the start: it
    reads a script's first bytes and seeks back to the start (``fix_shebang``)."""

    def __init__(self, stream: IO[bytes], algorithm: str) -> None:
        self.stream = stream
        self.algorithm = algorithm
        self.hasher = records.hasher(algorithm)
        #: Whether pypa/installer read it at all: it skips RECORD and ``__pycache__`` entries.
        self.used = False

    def read(self, size: int = -1) -> bytes:
        self.used = True
        data = self.stream.read(size)
        self.hasher.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        self.used = True
        data = self.stream.readline(size)
        self.hasher.update(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if (offset, whence) != (0, os.SEEK_SET):
            raise OSError(f"an entry is read from its start only, not from {offset} ({whence})")
        self.used = True
        self.stream.seek(0)
        self.hasher = records.hasher(self.algorithm)
        return 0

    def digest(self) -> str:
        """``algorithm=digest`` of the entry, as RECORD gives it: what was read, and the rest."""
        while self.read(1024 * 1024):
            pass
        return f"{self.algorithm}={records.digest_text(self.hasher)}"


class _Source(WheelFile):
    """The wheel as pypa/installer reads it, keeping the digest of each entry it reads
    (:attr:`read`): ``install`` compares them with the RECORD the check found every entry to
    match, since the writer opens the wheel by its path, as the check does, and the file
    there may have changed between the two."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        super().__init__(archive)
        #: ``{entry: "algorithm=digest"}`` of every entry read; for one read twice that
        #: differed, :data:`~hatch_pyc.wheel.artifact.CHANGED`.
        self.read: dict[str, str] = {}
        self._algorithms: dict[str, str] | None = None

    def seen(self, name: str, digest: str) -> None:
        """Keep ``digest`` of entry ``name``, read once more."""
        self.read[name] = digest if self.read.get(name, digest) == digest else CHANGED

    def _algorithm(self, name: str) -> str:
        """The hash this wheel's RECORD gives entry ``name``, one the check accepts, else SHA-256."""
        if self._algorithms is None:
            rows = records.parse(f"{self.dist_info_dir}/RECORD", super().read_dist_info("RECORD"))
            self._algorithms = records.algorithms(rows)
        return self._algorithms.get(name, "sha256")

    def hashing(self, name: str, stream: IO[bytes]) -> _Hashing:
        """``stream``, entry ``name``'s, hashed as this wheel's RECORD hashes it."""
        return _Hashing(stream, self._algorithm(name))

    def read_dist_info(self, filename: str) -> str:
        text = super().read_dist_info(filename)
        name = f"{self.dist_info_dir}/{filename}"
        algorithm = self._algorithm(name)
        self.seen(name, f"{algorithm}={records.record_hash(text.encode(), algorithm)}")
        return text

    def get_contents(self) -> Iterator[WheelContentElement]:
        for record, stream, executable in super().get_contents():
            hashing = self.hashing(record[0], stream)
            yield record, cast("BinaryIO", hashing), executable
            if hashing.used:
                self.seen(record[0], hashing.digest())


def _unchecked(read: Mapping[str, str], record: Mapping[str, str], dist_info: str) -> list[str]:
    """The entries the writer read (``read``: their digests) that are not as the check found
    them (``record``: the RECORD it read, which every entry matched)."""
    return [
        name
        for name, digest in sorted(read.items())
        if record.get(name) != digest and not records.is_unrecorded(dist_info, name)
    ]


def _write(
    path: str,
    paths: dict[str, str],
    staging: str,
    target_tag: str,
    executable: str,
    checked: threading.Event,
    cancelled: threading.Event,
    ahead: int = _AHEAD,
    writers: int = _WRITERS,
    creator: BinaryIO | None = None,
) -> dict[str, str]:
    """pypa/installer writing the wheel at ``path`` below ``staging``, as :class:`_Destination` does,
    at most ``ahead`` bytes before ``checked`` is set; the digest of each entry it read
    (:attr:`_Source.read`)."""
    with zipfile.ZipFile(path) as archive, warnings.catch_warnings():
        source = _Source(archive)
        if not _parsed_within_bounds(path, archive, source.dist_info_dir):
            # What pypa/installer parses before it writes a file: only once the check, which
            # refuses such a wheel at little cost, has passed.
            checked.wait()
            if cancelled.is_set():
                raise _Cancelled
        metadata = parse_metadata_file(source.read_dist_info("WHEEL"))
        root_scheme = Scheme("purelib" if str(metadata["Root-Is-Purelib"]).lower() == "true" else "platlib")
        pycache = _target_pycache(archive.namelist(), source.data_dir, target_tag)
        destination = _Destination(
            pycache,
            root_scheme,
            staging,
            checked,
            cancelled,
            ahead,
            writers,
            creator,
            scheme_dict=paths,
            interpreter=executable,
            script_kind=get_launcher_kind(),
        )
        destination.archive = archive
        destination.source = source
        warnings.filterwarnings("ignore", message=".*__pycache__.*", category=RuntimeWarning)
        completed = False
        try:
            install(source, destination, {"INSTALLER": b"hatch-pyc\n"})
            completed = True
        finally:
            destination.finish(completed)
    return source.read


def _parsed_within_bounds(path: str, archive: zipfile.ZipFile, dist_info: str) -> bool:
    """Whether what pypa/installer reads whole before it writes anything (WHEEL, RECORD,
    entry_points.txt) is small enough to parse while the check still runs: a refused wheel
    costs no more than the check then (a RECORD of 1 GiB of rows, parsed whole, took 4 GB).
    Raises :class:`BadArtifact` for entry points installer would expand for hours."""
    names = set(archive.namelist())
    sizes = {
        name: archive.getinfo(f"{dist_info}/{name}").file_size
        for name in ("WHEEL", "RECORD", "entry_points.txt")
        if f"{dist_info}/{name}" in names
    }
    bounds = {"WHEEL": 64 * 1024, "RECORD": 1024 * 1024 + 512 * len(names), "entry_points.txt": MAX_ENTRY_POINTS_SIZE}
    if any(size > bounds[name] for name, size in sizes.items()):
        return False
    try:
        # pypa/installer reads them with ZipFile.read, which inflates past the declared size.
        dist_info_as_declared(path, archive, dist_info)
    except BadArtifact:
        return False
    if "entry_points.txt" in sizes:
        wheelfile.scripts(dist_info, archive.read(f"{dist_info}/entry_points.txt").decode("utf-8", "replace"))
    return True


#: What the writing process runs: its request is the first line of its input.
_ALONE = (
    "import json, sys; request = json.loads(sys.stdin.buffer.readline()); sys.path[:] = request.pop('sys_path'); "
    "from hatch_pyc.install import _write_alone; _write_alone(**request)"
)
#: The line that tells the writing process the check has passed.
_CHECKED = b"checked\n"


def _write_alone(
    path: str,
    paths: dict[str, str],
    staging: str,
    target_tag: str,
    executable: str,
    ahead: int = _AHEAD,
    creator: int | None = None,
) -> None:
    """:func:`_write` in a process of its own (:data:`_ALONE`), handing small files to the
    creating process whose input is the descriptor ``creator``, if any: ``checked`` once its
    input says so; cancelled once its input ends before it is done (the installing process gave
    up, or died), and the staging directory removed (by the creating process, if any, which
    writes last). Its last line of output says how it ended."""
    checked = threading.Event()
    cancelled = threading.Event()

    def listen() -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in sys.stdin.buffer:
                if line == _CHECKED:
                    checked.set()
        cancelled.set()
        checked.set()

    threading.Thread(target=listen, daemon=True).start()
    try:
        with open(creator, "wb", buffering=1024 * 1024) if creator is not None else contextlib.nullcontext() as pipe:
            read = _write(path, paths, staging, target_tag, executable, checked, cancelled, ahead, _ALONE_WRITERS, pipe)
        reply: dict[str, object] = {"read": read}
    except BaseException as exc:
        if cancelled.is_set() and creator is None:  # else the creating process, which writes last
            shutil.rmtree(staging, ignore_errors=True)
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # Not through the interpreter's shutdown, which would wait for the thread reading the input.
    os._exit(0)


#: A file for the creating process: the lengths of its path and its bytes, and whether it is
#: executable; a path of length 0 says there are no more.
_FRAME = struct.Struct("<IIB")
#: What the creating process runs: its request is the first line of its input.
_CREATING = _ALONE.replace("_write_alone", "_create_alone")


def _create_alone(staging: str) -> None:
    """Create the files the writing process sends (:data:`_FRAME`, its path, its bytes) as they
    come, in a process of its own: the system's work for each file runs beside the writing
    process's own, not in turns with it. Its one line of output says how it ended: ``{}`` when
    told there were no more, ``{"ended": true}`` when its input ended first (the writing process
    failed, was cancelled or died: ``staging`` is removed, as it is the last to write there),
    or the error."""
    source = sys.stdin.buffer
    reply: dict[str, object] = {"ended": True}
    try:
        while len(header := source.read(_FRAME.size)) == _FRAME.size:
            name_size, size, executable = _FRAME.unpack(header)
            if not name_size:
                reply = {}
                break
            name = source.read(name_size)
            data = source.read(size)
            if len(name) != name_size or len(data) != size:
                break
            _create_file(os.fsdecode(name), data, executable)
    except BaseException as exc:
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    if reply.get("ended"):
        shutil.rmtree(staging, ignore_errors=True)
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


def _close(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    with contextlib.suppress(OSError):  # what it was told and did not read (it ended first)
        process.stdin.close()
    with process:  # the other pipes closed
        pass


class _WriterFailed(Exception):
    """What the writing process said went wrong (its exception's type and text), or how it died."""


class _Staged:
    """pypa/installer writing the wheel below a staging directory while the check runs, in a
    thread of its own or, for a wheel of many entries, in a process of its own
    (:func:`_write_alone`): :meth:`finish` waits for it, :meth:`move` puts what it wrote in
    place, :meth:`undo` removes all of it. Whatever it raises waits for :meth:`finish`."""

    def __init__(
        self, path: str, paths: dict[str, str], root: str, target_tag: str, executable: str, *, alone: bool = False
    ) -> None:
        self.path = path
        self.paths = paths
        #: The files and directories moved into place (each wholly this install's), in order,
        #: and the directories made for them (the root scheme's too, as pypa/installer would).
        self.moved: list[str] = []
        self.made: list[str] = []
        self.staging: str | None = None
        self.thread: threading.Thread | None = None
        self.process: subprocess.Popen[bytes] | None = None
        #: The process creating the small files the writing process sends it.
        self.creator: subprocess.Popen[bytes] | None = None
        self._stderr: dict[int, IO[bytes]] = {}
        self.error: BaseException | None = None
        #: What the writer read: ``{entry: "algorithm=digest"}`` (:attr:`_Source.read`).
        self.read: dict[str, str] = {}
        self.checked = threading.Event()
        self.cancelled = threading.Event()
        self._make(root)
        try:
            self.staging = tempfile.mkdtemp(prefix=_STAGING, dir=root)
            # A frozen hatch-pyc's executable runs no -c; one that cannot be started is written
            # by a thread, as a wheel of fewer entries is.
            if alone and sys.executable and not getattr(sys, "frozen", False):
                with contextlib.suppress(OSError):
                    self._start_process(target_tag, executable)
        except BaseException:
            self.undo()
            raise
        if self.process is None:
            self.thread = threading.Thread(target=self._run, args=(target_tag, executable, self.staging), daemon=True)
            self.thread.start()

    def _start_process(self, target_tag: str, executable: str) -> None:
        # The creating process first, its input then handed to the writing process; each its
        # own interpreter (-I: nothing from the environment; -B: no pyc written beside
        # hatch-pyc's modules), importing hatch-pyc from where this process does.
        handed: tuple[int, ...] = ()
        try:
            if os.name == "posix":  # where a descriptor can be handed on (pass_fds)
                self.creator = self._spawn(_CREATING)
                assert self.creator.stdin is not None
                first = {"sys_path": sys.path, "staging": self.staging}
                self.creator.stdin.write(json.dumps(first).encode() + b"\n")
                self.creator.stdin.flush()
                handed = (self.creator.stdin.fileno(),)
            self.process = self._spawn(_ALONE, handed)
        except BaseException:
            self.undo_processes()
            self.creator = None
            raise
        if self.creator is not None:
            assert self.creator.stdin is not None
            self.creator.stdin.close()  # its input ends when the writing process's copy closes
        request = {
            "sys_path": sys.path,
            "path": os.path.abspath(self.path),
            "paths": self.paths,
            "staging": self.staging,
            "target_tag": target_tag,
            "executable": executable,
            "creator": handed[0] if handed else None,
        }
        self._tell(json.dumps(request).encode() + b"\n")

    def _spawn(self, code: str, handed: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _ended()
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                pass_fds=handed,
            )
        except BaseException:
            stderr.close()
            raise
        self._stderr[process.pid] = stderr
        return process

    def _tell(self, line: bytes) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):  # it died: finish() says how
            self.process.stdin.write(line)
            self.process.stdin.flush()

    def _run(self, target_tag: str, executable: str, staging: str) -> None:
        try:
            self.read = _write(self.path, self.paths, staging, target_tag, executable, self.checked, self.cancelled)
        except BaseException as exc:
            self.error = exc

    def verdict(self) -> None:
        """The check has passed: the writer goes on past :data:`_AHEAD`."""
        self.checked.set()
        if self.process is not None:
            self._tell(_CHECKED)

    def wait(self) -> None:
        """Wait for the writer to end (all written, or failed)."""
        if self.thread is not None:
            self.thread.join()
        if self.process is not None and self.error is None:
            self.error = self._end()

    def _end(self) -> _WriterFailed | None:
        """Wait for the writing process, then the creating one, to end; what went wrong in them,
        if anything: the creating process's failure first (the writing one then fails to send
        it more), unless it only saw its input end (the writing one failed first)."""
        assert self.process is not None
        failure = self._ended(self.process, "writing")
        if self.creator is not None:
            created = self._ended(self.creator, "creating")
            if isinstance(created, _WriterFailed) or (created is not None and failure is None):
                return _WriterFailed(str(created))
        return failure if isinstance(failure, _WriterFailed) else None

    def _ended(self, process: subprocess.Popen[bytes], role: str) -> _WriterFailed | str | None:
        """Wait for ``process`` to end: None if it said all went well, what went wrong if it
        did, a message if its input ended first."""
        assert process.stdout is not None
        out = process.stdout.read()
        status = process.wait()
        _close(process)
        stderr = self._stderr.pop(process.pid)
        stderr.seek(0)
        said = stderr.read().decode(errors="replace").strip().splitlines()
        stderr.close()
        try:
            reply = json.loads(out.splitlines()[-1])
        except (ValueError, IndexError):
            reply = None
        if isinstance(reply, dict) and set(reply) <= {"read"} and status == 0:
            self.read = reply.get("read", self.read)
            return None
        if reply == {"ended": True} and status == 0:
            return f"the {role} process was sent less than all"
        if isinstance(reply, dict) and isinstance(reply.get("error"), str):
            return _WriterFailed(reply["error"])
        return _WriterFailed(f"the {role} process ended with exit status {status}" + (f": {said[-1]}" if said else ""))

    def finish(self) -> None:
        """Wait for the writer; raise what it raised."""
        self.wait()
        if self.error is not None:
            raise self.error

    def move(self) -> None:
        """Every staged file into place: a directory that is not there yet whole, by one rename."""
        assert self.staging is not None
        for scheme in sorted(os.listdir(self.staging)):
            self._merge(os.path.join(self.staging, scheme), self.paths[scheme])

    def _make(self, directory: str) -> None:
        """``directory`` and the directories above it that are missing, each remembered."""
        missing = []
        while not os.path.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for made in reversed(missing):
            os.mkdir(made)
            self.made.append(made)

    def _merge(self, staged: str, directory: str) -> None:
        self._make(directory)
        with os.scandir(staged) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        for name, is_dir in sorted(names):
            target = os.path.join(directory, name)
            if is_dir and os.path.isdir(target):
                self._merge(os.path.join(staged, name), target)
                continue
            if os.path.lexists(target):  # planned to be free: something else wrote it since
                raise FileExistsError(f"File already exists: {target}")
            try:
                os.rename(os.path.join(staged, name), target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.move(os.path.join(staged, name), target)
            self.moved.append(target)

    def undo(self) -> None:
        """Stop the writer, and remove every file it wrote and everything moved into place."""
        self.cancelled.set()
        self.checked.set()
        if self.thread is not None:
            self.thread.join()
        self.undo_processes()
        for target in reversed(self.moved):
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)
        for directory in reversed(self.made):
            with contextlib.suppress(OSError):  # not empty: something else wrote there since
                os.rmdir(directory)
        self.cleanup()

    def undo_processes(self) -> None:
        """Stop the writing and creating processes, if any: nothing writes once this returns."""
        for process in (self.process, self.creator):
            if process is not None and process.returncode is None:
                process.kill()
                process.wait()
                _close(process)
        for stderr in self._stderr.values():
            stderr.close()
        self._stderr.clear()

    def cleanup(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _installed_already(name: str, directories: Iterable[str]) -> str | None:
    """A ``.dist-info`` or ``.egg-info`` of distribution ``name`` in ``directories``, if any."""
    wanted = canonicalize_name(name)
    for directory in dict.fromkeys(directories):
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.rpartition(".")
            project = re.split(r"-\d", stem, maxsplit=1)[0]
            if dot and suffix in ("dist-info", "egg-info", "egg-link") and canonicalize_name(project) == wanted:
                return os.path.join(directory, entry)
    return None


class _Previous:
    """An installed version of the project, moved aside while another is written in its place:
    put back if that fails, removed if it succeeds."""

    def __init__(self, dist_info: str, paths: Mapping[str, str], files: list[str]) -> None:
        self.site = os.path.dirname(dist_info)
        self.roots = {os.path.realpath(directory) for directory in paths.values()}
        self.files = files
        self.aside = os.path.join(self.site, f".hatch-pyc-previous-{os.getpid()}")
        self.moved: list[tuple[str, str]] = []

    def move_aside(self) -> None:
        if self.files:
            os.makedirs(self.aside, exist_ok=True)
        for number, file in enumerate(self.files):
            kept = os.path.join(self.aside, str(number))
            os.replace(file, kept)
            self.moved.append((file, kept))

    def put_back(self) -> None:
        for file, kept in reversed(self.moved):
            os.makedirs(os.path.dirname(file), exist_ok=True)
            os.replace(kept, file)
        self.moved.clear()
        with contextlib.suppress(OSError):
            os.rmdir(self.aside)

    def remove(self) -> None:
        for file, kept in self.moved:
            os.unlink(kept)
            # The directories it emptied, up to the scheme's own (the new version may use them).
            directory = os.path.dirname(file)
            while directory not in self.roots and os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)
                directory = os.path.dirname(directory)
        with contextlib.suppress(OSError):
            os.rmdir(self.aside)


#: In the scripts directory, the interpreter's and the environment's own files, which no
#: distribution's RECORD can claim: ``python3.11``, ``pydoc3``, ``idle3``, ``2to3-3.11``,
#: ``activate.fish``.
_ENVIRONMENT_SCRIPTS = ("python", "pypy", "pydoc", "idle", "2to3", "activate", "deactivate", "Activate.ps1")
#: The interpreter's own directories in its include directory, where a project's headers go.
_INTERPRETER_HEADERS = ("cpython", "internal")
#: The metadata of installed distributions in site-packages: of these, only the version's own
#: ``.dist-info`` is removed.
_METADATA = (".dist-info", ".egg-info", ".egg-link", ".egg")
_HASHES = ("sha256", "sha384", "sha512")


@dataclass
class _Claims:
    """What the other distributions installed in site-packages own: every file they list (a
    ``.dist-info``'s RECORD, an ``.egg-info``'s ``installed-files.txt``), as real paths; the
    paths of those below site-packages with every leading part of them (:func:`_units`); and
    whole top-level names (``top_level.txt``, the top of each ``SOURCES.txt`` path, and the
    project's own name where nothing lists its files)."""

    files: set[str] = field(default_factory=set)
    units: set[tuple[str, ...]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(self, file: str, sites: list[str]) -> None:
        self.files.add(file)
        below = _below(file, sites)
        if below is not None:
            self.units.update(_units(below[1]))


def _top_name(part: str) -> str:
    """A top-level name as claims compare them, a module name: ``Foo.py``, ``foo/``, ``foo.pth``
    and ``foo.cpython-311-x86_64-linux-gnu.so`` are all ``foo``."""
    return part.split(".")[0].lower()


def _units(parts: list[str]) -> list[tuple[str, ...]]:
    """Every leading part of a path below site-packages, outermost first, its top-level name as
    :func:`_top_name` has it (a top-level module's ``__pycache__/foo.*.pyc`` is ``foo``)."""
    if parts[0] == "__pycache__" and len(parts) == 2:
        return [(_top_name(parts[1]),)]
    top = (_top_name(parts[0]),)
    return [top + tuple(parts[1:depth]) for depth in range(1, len(parts) + 1)]


def _below(file: str, sites: Iterable[str]) -> tuple[str, list[str]] | None:
    """The site-packages directory ``file`` is in, and its parts below it; None if in none."""
    for root in sites:
        if file.startswith(root + "/"):
            return root, file[len(root) + 1 :].split("/")
    return None


def _recorded_files(dist_info: str, places: Places) -> list[str]:
    """The files an installed version owns, which a reinstall removes: the rows of its RECORD
    (and the bytecode beside its modules, which an installer may not record) that can be
    proven its own; whatever cannot stays (leaving a file behind is the safe failure).

    Never a file another installed distribution lists (a ``.dist-info``'s RECORD, an
    ``.egg-info``'s ``installed-files.txt``), nor a link. In site-packages, its own
    ``.dist-info`` and the files below a name it owns: a top-level name no other distribution
    claims (by the files it lists, its ``top_level.txt`` or ``SOURCES.txt``, or its project
    name where nothing lists its files; compared as module names, so ``foo.py``, ``foo/`` and
    ``foo.pth`` are one name), or, where the top-level name is a namespace package that others
    share (a directory without ``__init__``), a directory below it that none claims; never
    another ``.dist-info``, ``.egg-info``, ``.egg-link`` or ``.egg``. Elsewhere only files whose
    content is what the RECORD row says (hash and size), outside the standard library:
    directly in the scripts directory, but not the interpreter's or the environment's
    (``python*``, ``pypy*``, ``pydoc*``, ``idle*``, ``2to3*``, ``activate*``, ``deactivate*``);
    in the distribution's own headers directory (``include/python3.11/<name>``, the name
    compared as project names; not the interpreter's ``cpython`` and ``internal``); and in the
    rest of the data directory only when the target is a venv (the data directory holds
    ``pyvenv.cfg``) and outside the interpreter's own directories (``include/python*``,
    ``lib*/python*``, ``lib*/libpython*``, ``lib*/pkgconfig/python*``) and ``pyvenv.cfg``.
    Links are resolved first (a venv's ``lib64`` is ``lib``)."""
    rows = _record_rows(dist_info)
    if rows is None:
        raise InstallRefused([f"{dist_info} has no readable RECORD; uninstall it first"])
    site = os.path.dirname(dist_info)
    own_info = real_path(dist_info)
    claims = _claims(places, own_info)
    found: dict[str, None] = {}
    for path, digest, size in rows:
        file = real_path(os.path.join(site, path))
        if file in claims.files or not os.path.isfile(file) or os.path.islink(file):
            continue
        below = _below(file, places.sites)
        if below is None:
            if _own_elsewhere(file, digest, size, places):
                found[file] = None
            continue
        if not _own_in_site(*below, own_info, claims):
            continue
        found[file] = None
        if file.endswith(".py"):
            cache = os.path.join(os.path.dirname(file), "__pycache__")
            stem = os.path.basename(file)[: -len(".py")]
            with contextlib.suppress(OSError):
                for name in os.listdir(cache):
                    pyc = posixpath.join(cache, name)
                    if name.startswith(f"{stem}.") and name.endswith(".pyc") and pyc not in claims.files:
                        found[pyc] = None
    return list(found)


def _own_in_site(root: str, parts: list[str], own_info: str, claims: _Claims) -> bool:
    """Whether the file at ``parts`` below site-packages ``root`` is the installed version's
    (see :func:`_recorded_files`)."""
    if parts[0].endswith(_METADATA):
        return posixpath.join(root, parts[0]) == own_info
    units = _units(parts)
    if units[0][0] in claims.names:
        return False
    directory = root
    for depth, unit in enumerate(units):
        if unit not in claims.units:
            return True
        # Claimed: go on only through a namespace package to a directory below it.
        directory = posixpath.join(directory, parts[depth])
        if depth + 2 >= len(parts) or not _namespace(directory):
            return False
    return False


def _namespace(directory: str) -> bool:
    """Whether ``directory`` is a directory without ``__init__`` (a namespace package)."""
    try:
        return not any(name.startswith("__init__.") for name in os.listdir(directory))
    except OSError:
        return False


def _own_elsewhere(file: str, digest: str, size: str, places: Places) -> bool:
    """Whether ``file``, outside site-packages, is the installed version's (see :func:`_recorded_files`)."""
    if any(file.startswith(root + "/") for root in places.path):
        return False  # the standard library, where the data scheme reaches it outside a venv
    scripts, headers, data = (places.schemes.get(key, "\0") for key in ("scripts", "headers", "data"))
    include = posixpath.dirname(headers)
    if file.startswith(scripts + "/"):
        name = file[len(scripts) + 1 :]
        owned = "/" not in name and not name.startswith(_ENVIRONMENT_SCRIPTS)
    elif file.startswith(include + "/") and headers != "\0":
        parts = file[len(include) + 1 :].split("/")
        own = canonicalize_name(posixpath.basename(headers))
        owned = len(parts) > 1 and parts[0] not in _INTERPRETER_HEADERS and canonicalize_name(parts[0]) == own
    elif file.startswith(data + "/") and os.path.isfile(posixpath.join(data, "pyvenv.cfg")):
        owned = not _interpreter_file(file[len(data) + 1 :].split("/"))
    else:
        owned = False
    return owned and _as_recorded(file, digest, size)


def _interpreter_file(parts: list[str]) -> bool:
    """Whether the path ``parts`` below an environment's prefix is the interpreter's or the environment's."""
    first, second, third = [*parts, "", ""][:3]
    return (
        parts == ["pyvenv.cfg"]
        or (first == "include" and second.startswith("python"))
        or (first.startswith("lib") and second.startswith(("python", "libpython")))
        or (first.startswith("lib") and second == "pkgconfig" and third.startswith("python"))
    )


def _as_recorded(file: str, digest: str, size: str) -> bool:
    """Whether ``file`` holds what the RECORD row says: what its installer wrote there."""
    algorithm, _, expected = digest.partition("=")
    if algorithm not in _HASHES or not expected:
        return False
    try:
        if size and int(size) != os.path.getsize(file):
            return False
        hashed = hashlib.new(algorithm)
        with open(file, "rb") as f:
            while chunk := f.read(1024 * 1024):
                hashed.update(chunk)
    except (OSError, ValueError):
        return False
    return records.digest_text(hashed) == expected


def _record_rows(dist_info: str) -> list[tuple[str, str, str]] | None:
    text = _metadata_text(dist_info, "RECORD")
    return None if text is None else records.parse(os.path.join(dist_info, "RECORD"), text)


def _metadata_text(directory: str, name: str) -> str | None:
    """The metadata file ``name`` in ``directory``; None if it cannot be read."""
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_METADATA_SIZE + 1)
    except OSError:
        return None
    if len(data) > MAX_METADATA_SIZE:
        raise InstallRefused([f"{path} is larger than {MAX_METADATA_SIZE} bytes (a limit of hatch-pyc)"])
    return data.decode("utf-8", errors="replace")


def _claims(places: Places, own_info: str) -> _Claims:
    """What every other distribution in site-packages claims. One whose list of files cannot
    be read whole (too large, not CSV) refuses the reinstall: what it owns is not known."""
    claims = _Claims()
    sites = places.sites
    for site in sites:
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            other = posixpath.join(site, name)
            if not name.endswith(_METADATA) or real_path(other) == own_info:
                continue
            listing = "RECORD" if name.endswith(".dist-info") else "installed-files.txt"
            try:
                text = _metadata_text(other, listing) if name.endswith((".dist-info", ".egg-info")) else None
                if text is not None and listing == "RECORD":
                    for row, _, _ in records.parse(os.path.join(other, listing), text):
                        claims.add(real_path(os.path.join(site, row)), sites)
                elif text is not None:
                    for line in text.splitlines():
                        if line.strip():
                            claims.add(real_path(os.path.join(other, line.strip())), sites)
                for line in (_metadata_text(other, "top_level.txt") or "").splitlines():
                    if line.strip():
                        claims.names.add(_top_name(line.strip().split("/")[0]))
                for line in (_metadata_text(other, "SOURCES.txt") or "").splitlines():
                    parts = [part for part in line.strip().split("/") if part]
                    if parts[:1] in (["src"], ["lib"]):
                        parts = parts[1:]
                    if parts:
                        claims.names.add(_top_name(parts[0]))
            except (BadArtifact, InstallRefused) as exc:
                raise InstallRefused([f"cannot tell which files {other} owns ({exc}); uninstall it first"]) from None
            if text is None:
                project = re.split(r"-\d", name.rpartition(".")[0], maxsplit=1)[0]
                claims.names.add(_top_name(project.replace("-", "_")))
    return claims


def _plan(
    artifact: Artifact, names: list[str], paths: dict[str, str], root_scheme: str, scripts: list[str]
) -> dict[str, str]:
    """Where each of ``names`` and ``scripts`` goes: ``{absolute path: what puts it there}``,
    refusing what cannot be written whole (see the module docstring)."""
    planned: dict[str, str] = {}

    def add(directory: str, relative: str, what: str) -> None:
        target = os.path.normpath(os.path.join(directory, relative))
        key = os.path.normcase(target)
        if key in planned:
            raise BadArtifact(f"{artifact.path}: {what} and {planned[key]} would both install {target}")
        planned[key] = what
        if len(os.fsencode(target)) > MAX_PATH or any(len(os.fsencode(p)) > MAX_NAME for p in target.split(os.sep)):
            raise BadArtifact(f"{artifact.path}: {what} would install a path too long for the file system")

    data_dir = artifact.data_dir + "/"
    for name in names:
        if name.startswith(data_dir):
            scheme, _, rest = name[len(data_dir) :].partition("/")
            if scheme not in DATA_SCHEMES or not rest:
                raise BadArtifact(f"{artifact.path}: {printable(name)} is in no scheme an installer knows ({scheme})")
            add(paths[scheme], rest, printable(name))
        else:
            add(paths[root_scheme], name, printable(name))
    for script in scripts:
        add(paths["scripts"], script, f"the entry point script {script}")
    add(paths[root_scheme], f"{artifact.dist_info}/INSTALLER", "the INSTALLER file")

    # Each directory is looked at once: below one that is not there, no file is either.
    fine: set[str] = set()
    missing: set[str] = set()
    for key, what in planned.items():
        directory = os.path.dirname(key)
        if directory not in missing and os.path.lexists(key):
            raise BadArtifact(f"{artifact.path}: {what} would overwrite {key}, which is there already")
        walked = []
        parent = directory
        while parent not in fine:
            if parent in planned:
                raise BadArtifact(f"{artifact.path}: {what} needs a directory where {planned[parent]} is a file")
            walked.append(parent)
            if os.path.lexists(parent):
                if not os.path.isdir(parent):
                    raise BadArtifact(f"{artifact.path}: {what} needs a directory where {parent} is a file")
                break
            missing.add(parent)
            if os.path.dirname(parent) == parent:
                break
            parent = os.path.dirname(parent)
        fine.update(walked)
    return planned


def _scripts(artifact: Artifact) -> list[str]:
    """The names of the entry point scripts, each a plain file name."""
    name = f"{artifact.dist_info}/entry_points.txt"
    if name not in artifact.names:
        return []
    scripts = wheelfile.scripts(artifact.path, artifact.text(name))
    for script in scripts:
        problem = script_name_problem(script)
        if problem is not None:
            raise BadArtifact(f"{artifact.path}: the entry point name {printable(script)!r} is {problem}")
    return scripts


def find_environment(environ: Mapping[str, str], cwd: str) -> str:
    """The interpreter of the environment the ``install`` command puts a wheel into when no
    ``--python`` names one, found as uv finds it: an activated ``VIRTUAL_ENV``, else ``.venv`` in
    ``cwd`` or a directory above it. Never hatch-pyc's own environment: :class:`TargetError`."""
    executable = os.path.join("Scripts", "python.exe") if sys.platform == "win32" else os.path.join("bin", "python")
    if environ.get("VIRTUAL_ENV"):
        return os.path.join(environ["VIRTUAL_ENV"], executable)
    directory = os.path.abspath(cwd)
    while True:
        candidate = os.path.join(directory, ".venv", executable)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            raise TargetError(
                f"no environment to install into: give --python, activate a virtual environment (VIRTUAL_ENV), "
                f"or create .venv in {os.path.abspath(cwd)} or a directory above it"
            )
        directory = parent


class _Kept:
    """The pycs the check found to be exactly what the target writes, for the compile cache.

    Those install writes to ``__pycache__`` are kept once they are in place, as second names
    of the installed files (:meth:`CompileCache.link`): nothing is written twice. Any other
    (a module of an archive on ``sys.path``) is stored as the check finds it.
    """

    def __init__(self, cache: CompileCache | None) -> None:
        self.cache = cache
        #: ``(path in the wheel, cache key, entry name, size)`` of each pyc to keep.
        self.files: list[tuple[str, str, str, int]] = []

    def __call__(self, path: str, key: str, pyc: bytes) -> None:
        if self.cache is None:
            return
        if posixpath.basename(posixpath.dirname(path)) == "__pycache__":
            self.files.append((path, key, worker.entry_name(key, pyc), len(pyc)))
        else:
            self.cache.store(key, pyc)

    def link(self, root: str, written: Iterable[str]) -> None:
        """Keep the pycs written below ``root`` (``written``: their paths in the wheel)."""
        if self.cache is None:
            return
        written = set(written)
        for path, key, name, size in self.files:
            if path in written:
                self.cache.link(key, name, os.path.join(root, *path.split("/")), size)


def install_wheel(
    path: str | os.PathLike[str],
    python: str | None = None,
    *,
    verify_code: bool = True,
    allow_startup_code: bool = False,
    jobs: int | None = None,
    reinstall: bool = False,
    cache: CompileCache | None = None,
) -> Installed:
    """Check the wheel at ``path`` against ``python`` (the running interpreter by default),
    then install it into that interpreter's environment.

    ``verify_code`` (on by default; off is unsafe) compiles each shipped source whose pyc
    the target would load, in ``jobs`` worker processes (the CPU count by default), and refuses
    a pyc that holds other code; one that ``cache`` (the compile cache) holds byte for byte
    for its source and the target is not compiled again. Only the target's own
    ``__pycache__`` pycs are installed; pycs for other interpreters are skipped, as
    pypa/installer skips them all. A wheel with code that runs at every start of Python
    (:attr:`CheckResult.startup`) is refused unless ``allow_startup_code``.
    Raises :class:`InstallRefused` (with the check's problems) or :class:`BadArtifact`
    before writing anything when the wheel does not fit or cannot be written whole, and
    :class:`InstallFailed` when writing fails, after removing all it wrote.
    """
    path = os.fspath(path)
    found = interpreters.find(python) if python else interpreters.running()
    scheme = found.scheme
    # The version installed now: its files are not another distribution's (the environment
    # check leaves them alone), and they are what a reinstall removes.
    other = replaced = None
    project: str | None = None
    with contextlib.suppress(InvalidWheelFilename):
        project = str(parse_wheel_filename(os.path.basename(path))[0])
        other = _installed_already(project, [scheme["paths"]["purelib"], scheme["paths"]["platlib"]])
    if other is not None and project is not None and other.endswith(".dist-info"):
        replaced = _recorded_files(other, Places.of(scheme, found.imports, found.platform, project))
    # Written while the check runs, below a staging directory nothing imports or runs from,
    # and moved into place only once the check has passed and the plan has been made.
    paths = dict(scheme["paths"])
    staged: _Staged | None = None
    staging_error: OSError | None = None
    if project is not None:
        paths["headers"] = os.path.join(scheme["include"], project)
    # Only into a site-packages that is there (one made now would outlive a refusal).
    entries = _entries(path) if project is not None and path.endswith(".whl") else None
    if entries is not None and os.path.isdir(paths["purelib"]):
        try:
            staged = _Staged(
                path,
                paths,
                paths["purelib"],
                found.interpreter.cache_tag,
                scheme["executable"],
                alone=entries > _ALONE_ENTRIES,
            )
        except OSError as exc:  # a read-only site-packages, say: said once the check has passed
            staging_error = exc
    previous = None
    kept = _Kept(cache)
    try:
        result = check_for(
            path, found, verify_code=verify_code, jobs=jobs, replacing=replaced or [], cache=cache, keep=kept
        )
        if result.inspection.kind != "wheel":
            raise BadArtifact(f"{path}: only wheels can be installed")
        if not result.ok:
            raise InstallRefused(result.problems)
        if result.startup and not allow_startup_code:
            raise InstallRefused(
                [*result.startup, "it runs code at every start of Python; --allow-startup-code installs it anyway"]
            )
        target_tag = result.target.cache_tag
        if staged is None and staging_error is None:  # how many entries it holds is not known
            try:
                staged = _Staged(path, paths, paths["purelib"], target_tag, scheme["executable"], alone=True)
            except OSError as exc:
                staging_error = exc
        if staged is not None:
            staged.verdict()
            if staged.process is None:
                staged.wait()  # its zip directory gone before the next is read
        with open_artifact(path) as artifact:
            root_scheme = Scheme("purelib" if artifact.wheel["Root-Is-Purelib"][0].lower() == "true" else "platlib")
            pycache = _target_pycache(artifact.names, artifact.data_dir, target_tag)
            paths["headers"] = os.path.join(scheme["include"], artifact.name)
            if other is not None:
                if not reinstall or not other.endswith(".dist-info"):
                    how = "--reinstall replaces it" if other.endswith(".dist-info") else "uninstall it first"
                    raise InstallRefused([f"{artifact.name} is installed already ({other}); {how}"])
                previous = _Previous(other, paths, replaced or [])
            # pypa/installer writes no other file under a __pycache__ directory.
            cached = set(pycache)
            written = [n for n in artifact.names if "__pycache__" not in n.split("/")[:-1] or n in cached]
            try:
                if previous is not None:
                    previous.move_aside()
                _plan(artifact, written, paths, root_scheme, _scripts(artifact))
            except BaseException:
                if previous is not None:
                    previous.put_back()
                    previous = None
                raise
            root = paths[root_scheme]
            name = artifact.name
            metadata = wheelfile.metadata_headers(artifact.text(f"{artifact.dist_info}/METADATA"))
            dependencies = [str(line) for line in metadata.get_all("Requires-Dist") or []]
    except BaseException:
        if staged is not None:
            staged.undo()
        raise
    try:
        if staging_error is not None:
            raise staging_error
        assert staged is not None
        staged.finish()
        changed = _unchecked(staged.read, result.record, result.dist_info)
        if changed:
            raise InstallRefused(
                [
                    f"{printable(changed[0])}"
                    + (f" and {len(changed) - 1} more entries" if len(changed) > 1 else "")
                    + ": not what was checked (the file changed on disk while it was installed)"
                ]
            )
        staged.move()
    except BaseException as exc:
        if staged is not None:
            staged.undo()
        if previous is not None:
            previous.put_back()
        if not isinstance(exc, Exception) or isinstance(exc, InstallRefused):
            raise
        again = "; the version installed before is back" if previous is not None else ""
        what = str(exc) if isinstance(exc, _WriterFailed) else f"{type(exc).__name__}: {exc}"
        raise InstallFailed(
            f"installing {name} into {root} failed: {what}; everything written was removed{again}"
        ) from None
    staged.cleanup()
    if previous is not None:
        previous.remove()
    kept.link(root, pycache)
    return Installed(check=result, executable=scheme["executable"], root=root, dependencies=dependencies)
