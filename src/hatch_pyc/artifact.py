"""Opening a wheel or a ``.pyz`` safely: anything unusable is a :class:`BadArtifact`.

The commands read files that may come from anywhere, so nothing here trusts the archive: not
its entry names (``..``, absolute paths), not its declared sizes (a zip bomb), not its
``.dist-info`` files. Every problem is one clear message, never a traceback.
"""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import os
import posixpath
import zipfile
from dataclasses import dataclass, field

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

#: Largest uncompressed entry, and whole archive, that the commands read.
MAX_ENTRY_SIZE = 512 * 1024 * 1024
MAX_TOTAL_SIZE = 2 * 1024 * 1024 * 1024
#: Beyond this ratio of uncompressed to compressed size an entry is taken for a zip bomb.
MAX_RATIO = 1000
#: Signature files a wheel may hold that RECORD does not list.
UNRECORDED = ("RECORD.jws", "RECORD.p7s")


class BadArtifact(Exception):
    """The file cannot be used as a wheel or ``.pyz``; the message says why."""


@dataclass
class Artifact:
    """An opened wheel or ``.pyz``."""

    path: str
    kind: str
    archive: zipfile.ZipFile
    #: Every file entry (directories left out), in archive order.
    names: list[str]
    #: For wheels: the ``.dist-info`` directory, file-name tags and the parsed WHEEL and RECORD.
    dist_info: str = ""
    name: str = ""
    version: str = ""
    build_tag: str = ""
    tags: frozenset[Tag] = frozenset()
    wheel: dict[str, list[str]] = field(default_factory=dict)
    record: list[tuple[str, str, str]] = field(default_factory=list)

    def read(self, name: str) -> bytes:
        try:
            return self.archive.read(name)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise BadArtifact(f"{self.path}: cannot read {name}: {exc}") from None

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> Artifact:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_entries(path: str, infos: list[zipfile.ZipInfo]) -> None:
    """Raise :class:`BadArtifact` for unsafe entry names or sizes that announce a zip bomb."""
    total = 0
    for info in infos:
        name = info.filename
        parts = name.split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts or "\\" in name:
            raise BadArtifact(f"{path}: unsafe entry {name!r} (absolute, or escaping the install directory)")
        if info.file_size > MAX_ENTRY_SIZE or (
            info.compress_size and info.file_size > 1024 * 1024 and info.file_size / info.compress_size > MAX_RATIO
        ):
            raise BadArtifact(f"{path}: entry {name!r} declares {info.file_size} bytes: refusing a possible zip bomb")
        total += info.file_size
    if total > MAX_TOTAL_SIZE:
        raise BadArtifact(f"{path}: entries declare {total} bytes in all: refusing a possible zip bomb")


def _parse_wheel_file(path: str, text: str) -> dict[str, list[str]]:
    message = email.parser.Parser().parsestr(text)
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value.strip())
    if not fields.get("Wheel-Version") or not fields.get("Tag"):
        raise BadArtifact(f"{path}: WHEEL has no Wheel-Version or no Tag line")
    return fields


def _parse_record(path: str, text: str) -> list[tuple[str, str, str]]:
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row:
            continue
        if len(row) != 3:
            raise BadArtifact(f"{path}: RECORD line {number} has {len(row)} fields, not 3")
        rows.append((row[0], row[1], row[2]))
    return rows


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
    for required in ("WHEEL", "RECORD", "METADATA"):
        if f"{artifact.dist_info}/{required}" not in artifact.names:
            raise BadArtifact(f"{path}: {artifact.dist_info}/{required} is missing")
    try:
        artifact.wheel = _parse_wheel_file(path, artifact.read(f"{artifact.dist_info}/WHEEL").decode())
        artifact.record = _parse_record(path, artifact.read(f"{artifact.dist_info}/RECORD").decode())
    except UnicodeDecodeError as exc:
        raise BadArtifact(f"{path}: {artifact.dist_info} holds a file that is not UTF-8: {exc}") from None


def open_artifact(path: str) -> Artifact:
    """Open the wheel (``.whl``) or zipapp (``.pyz``) at ``path``; :class:`BadArtifact` if unusable."""
    kind = {".whl": "wheel", ".pyz": "pyz"}.get(os.path.splitext(path)[1])
    if kind is None:
        raise BadArtifact(f"{path}: not a wheel (.whl) or zipapp (.pyz)")
    if not os.path.isfile(path):
        raise BadArtifact(f"{path}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise BadArtifact(f"{path}: not a readable zip archive ({exc})") from None
    try:
        infos = archive.infolist()
        check_entries(path, infos)
        names = [info.filename for info in infos if not info.is_dir()]
        if len(set(names)) != len(names):
            raise BadArtifact(f"{path}: an entry appears twice")
        artifact = Artifact(path=path, kind=kind, archive=archive, names=names)
        if kind == "wheel":
            _open_wheel(artifact)
    except BaseException:
        archive.close()
        raise
    return artifact


def record_hash(data: bytes, algorithm: str) -> str:
    """``data``'s digest as RECORD writes it: urlsafe base64 without padding."""
    digest = hashlib.new(algorithm, data).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def is_unrecorded(artifact: Artifact, name: str) -> bool:
    """Whether RECORD rightly leaves ``name`` out (itself and signature files)."""
    directory, base = posixpath.split(name)
    return directory == artifact.dist_info and base in ("RECORD", *UNRECORDED)
