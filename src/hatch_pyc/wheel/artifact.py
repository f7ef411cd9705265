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
import hashlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from hatch_pyc.core.errors import BadArtifact, printable
from hatch_pyc.core.limits import MAX_ENTRY_SIZE, MAX_METADATA_SIZE, MAX_RATIO, RATIO_FROM, Budget, LimitExceeded
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
    #: The RECORD digest (SHA-256) and size of each entry read whole so far: verifying RECORD
    #: after the pycs were read need not inflate them again.
    sha256: dict[str, tuple[str, int]] = field(default_factory=dict)
    _spooled: list[IO[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> str:
        """The wheel's ``.data`` directory: ``demo_pkg-0.1.0.data``."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    def info(self, name: str) -> zipfile.ZipInfo:
        return self.archive.getinfo(name)

    def chunks(self, name: str) -> Iterator[bytes]:
        """The entry's bytes in chunks; its size and CRC are checked by zipfile as it goes."""
        try:
            with self.archive.open(name) as stream:
                while chunk := stream.read(_CHUNK):
                    yield chunk
        except ZIP_ERRORS as exc:
            raise BadArtifact(f"{self.path}: cannot read {printable(name)}: {exc}") from None

    def read(self, name: str, limit: int = MAX_ENTRY_SIZE) -> bytes:
        """The whole entry, which must be no larger than ``limit`` bytes."""
        size = self.info(name).file_size
        if size > limit:
            raise LimitExceeded(
                f"{self.path}: {printable(name)} has {size} bytes, more than {limit} (a limit of hatch-pyc)"
            )
        data = b"".join(self.chunks(name))
        self.sha256[name] = (records.digest_text(hashlib.sha256(data)), len(data))
        return data

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
        try:
            archive = zipfile.ZipFile(spool)
        except ZIP_ERRORS as exc:
            raise BadArtifact(f"{label}: not a readable zip archive ({exc})") from None
        nested = Artifact(path=label, kind="zip", archive=archive, names=[], budget=self.budget)
        self.nested.append(nested)
        nested.names = _checked_names(label, archive, self.budget)
        return nested

    def close(self) -> None:
        for nested in self.nested:
            nested.close()
        self.archive.close()
        for spool in self._spooled:
            spool.close()

    def __enter__(self) -> Artifact:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unsafe_name(name: str) -> str | None:
    """Why an entry name cannot be installed or trusted, or None."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or "\\" in name:
        return "absolute, empty, or with a backslash"
    parts = name.split("/")
    if name.endswith("/"):
        parts.pop()
    if any(part in ("", ".", "..") for part in parts):
        return "a '..', '.' or empty part: escaping the install directory or landing on another entry's path"
    if printable(name) != name:
        return "a control character"
    return None


def _checked_names(path: str, archive: zipfile.ZipFile, budget: Budget) -> list[str]:
    """The file entries of ``archive``, after refusing unsafe names and sizes that announce a bomb."""
    infos = archive.infolist()
    budget.take_entries(len(infos))
    for info in infos:
        # zipfile cuts a name at its first NUL: the name as stored is the one to judge.
        name = info.orig_filename
        reason = _unsafe_name(name)
        if reason is not None:
            raise BadArtifact(f"{path}: unsafe entry '{printable(name)}' ({reason})")
        if info.file_size > MAX_ENTRY_SIZE or (
            info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise LimitExceeded(
                f"{path}: entry '{printable(name)}' declares {info.file_size} bytes from {info.compress_size}: "
                f"refusing a possible zip bomb (a limit of hatch-pyc: {MAX_ENTRY_SIZE} bytes, ratio {MAX_RATIO})"
            )
        budget.take_bytes(info.file_size)
    names = [info.filename for info in infos if not info.is_dir()]
    if len(set(names)) != len(names):
        raise BadArtifact(f"{path}: an entry appears twice")
    return names


def _open_wheel(artifact: Artifact) -> None:
    path = artifact.path
    try:
        name, version, build, tags = parse_wheel_filename(os.path.basename(path))
    except InvalidWheelFilename as exc:
        raise BadArtifact(f"{path}: {exc}") from None
    artifact.name, artifact.version, artifact.tags = str(name), str(version), tags
    artifact.build_tag = "".join(map(str, build))
    dist_infos = {n.split("/")[0] for n in artifact.names if n.split("/")[0].endswith(".dist-info") and "/" in n}
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
    for required in ("WHEEL", "RECORD", "METADATA"):
        if f"{artifact.dist_info}/{required}" not in artifact.names:
            raise BadArtifact(f"{path}: {artifact.dist_info}/{required} is missing")
    artifact.wheel = wheelfile.parse_wheel(path, artifact.text(f"{artifact.dist_info}/WHEEL"))
    artifact.record = records.parse(path, artifact.text(f"{artifact.dist_info}/RECORD"))


def open_artifact(path: str) -> Artifact:
    """Open the wheel (``.whl``) or zipapp (``.pyz``) at ``path``; :class:`BadArtifact` if unusable."""
    kind = {".whl": "wheel", ".pyz": "pyz"}.get(os.path.splitext(path)[1])
    if kind is None:
        raise BadArtifact(f"{path}: not a wheel (.whl) or zipapp (.pyz)")
    if not os.path.isfile(path):
        raise BadArtifact(f"{path}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise BadArtifact(f"{path}: not a readable zip archive ({exc})") from None
    budget = Budget(label=path)
    try:
        artifact = Artifact(path=path, kind=kind, archive=archive, names=[], budget=budget)
        artifact.names = _checked_names(path, archive, budget)
        if kind == "wheel":
            _open_wheel(artifact)
    except BaseException:
        archive.close()
        raise
    return artifact


def hash_entry(artifact: Artifact, name: str, algorithm: str) -> tuple[str, int]:
    """The RECORD digest of entry ``name`` and its size: as it was read whole, if it was,
    else read in chunks."""
    if algorithm == "sha256" and name in artifact.sha256:
        return artifact.sha256[name]
    digest = hashlib.new(algorithm)
    size = 0
    for chunk in artifact.chunks(name):
        digest.update(chunk)
        size += len(chunk)
    return records.digest_text(digest), size


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

    def hash_of(name: str, algorithm: str) -> tuple[str, int]:
        return hash_entry(artifact, name, algorithm)

    return records.problems(artifact.record, artifact.names, artifact.dist_info, hash_of)


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
