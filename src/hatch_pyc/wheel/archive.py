"""Writing the zip archives hatch-pyc makes: the zip layout's archive and ``.pyz`` bundles.

``zipapp.create_archive`` is not used: before Python 3.13 it takes the order of entries
from the file system and their times from the files, so the bytes would depend on the
machine. Here entries are sorted, every entry has one fixed time and mode, and every
directory zipimport could take for a namespace package has an entry of its own, which it
needs to find one (a package with an ``__init__`` needs none).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

#: The earliest time a zip entry can hold; the pycs are hash-based, so no time matters.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
#: A ``.pyz`` is a program: ``./app.pyz`` runs it.
EXECUTABLE_MODE = 0o755
#: zlib's highest: a 1.5 % smaller bundle than its default level, and no slower to inflate.
COMPRESS_LEVEL = 9


def _may_be_namespace(directory: str, files: Mapping[str, object]) -> bool:
    """Whether zipimport could take ``directory`` (``a/b/``) for a namespace package, which it
    finds by the directory's own entry: each part a name, and no ``__init__`` module in it."""
    if not all(part.isidentifier() for part in directory[:-1].split("/")):
        return False
    return not any(f"{directory}__init__{suffix}" in files for suffix in (".py", ".pyc"))


def _entry(name: str, mode: int, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = (mode | (0o040000 if name.endswith("/") else 0o100000)) << 16
    if name.endswith("/"):
        info.external_attr |= 0x10  # MS-DOS directory flag
        info.compress_type = zipfile.ZIP_STORED
    return info


@contextmanager
def replacing(target: str, mode: int = FILE_MODE) -> Iterator[str]:
    """A temporary path beside ``target``, renamed to ``target`` (with ``mode``) if the block
    succeeds and removed if it fails: a failed build never leaves a partial file behind."""
    fd, partial = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=".hatch-pyc-", suffix=".partial")
    os.close(fd)
    try:
        yield partial
        os.chmod(partial, mode)
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise


@dataclass(frozen=True)
class Archive:
    """A zip archive still to be written (the zip layout's): ``{path in archive: file on disk,
    or its bytes}``, deflated or stored. The pipeline returns it; front ends write it."""

    files: Mapping[str, str | bytes]
    compress: bool

    def write(self, target: str) -> None:
        write_zip(target, self.files, compress=self.compress)


def read_content(content: str | bytes) -> bytes:
    """A file's bytes, given as a file on disk or as its bytes: how the pipeline hands files on."""
    if isinstance(content, str):
        with open(content, "rb") as f:
            return f.read()
    return content


def write_zip(target: str, files: Mapping[str, str | bytes], *, shebang: str | None = None, compress: bool) -> None:
    """Write ``files`` (``{path in archive: file on disk, or its bytes}``) to ``target``.

    With ``shebang`` the archive starts with ``#!shebang`` and is made executable, as a
    zipapp. ``compress`` deflates the entries; stored ones are bigger, but zipimport reads
    them without inflating each module at every start.
    """
    directories = {name[: index + 1] for name in files for index, char in enumerate(name) if char == "/"}
    directories = {directory for directory in directories if _may_be_namespace(directory, files)}
    mode = EXECUTABLE_MODE if shebang is not None else FILE_MODE
    with replacing(target, mode) as partial, open(partial, "wb") as out:
        if shebang is not None:
            out.write(b"#!" + shebang.encode() + b"\n")
        with zipfile.ZipFile(out, "w") as archive:
            for name in sorted(directories | set(files)):
                if name in directories:
                    archive.writestr(_entry(name, DIRECTORY_MODE, compress), b"")
                    continue
                archive.writestr(
                    _entry(name, FILE_MODE, compress), read_content(files[name]), compresslevel=COMPRESS_LEVEL
                )
