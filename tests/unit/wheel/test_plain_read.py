"""The artifact's direct reader of plainly stored and deflated entries reads exactly what
``zipfile`` reads, and nothing ``zipfile`` refuses: every entry it leaves alone is read by
``zipfile``, whose refusal is the one ``check`` gives."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from hatch_pyc.core.errors import BadArtifact
from hatch_pyc.core.limits import Budget
from hatch_pyc.wheel.artifact import Artifact, hash_entry


def _archive(data: bytes) -> Artifact:
    return Artifact(path="x.zip", kind="zip", archive=zipfile.ZipFile(io.BytesIO(data)), names=[], budget=Budget("x"))


def _by_zipfile(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | Exception:
    try:
        with archive.open(info.filename) as stream:
            return stream.read()
    except Exception as exc:  # whatever zipfile refuses it with
        return exc


def _written(rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for index in range(4):
            name = rng.choice([f"d/f{index}.py", f"d/\u00e9{index}\U0001f600.py", f"\u00fc{index}"])
            if rng.random() < 0.5:
                data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(300)))
            else:
                data = b"abc" * rng.randrange(500)
            out.writestr(zipfile.ZipInfo(name), data, rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return buffer.getvalue()


def _damaged(rng: random.Random) -> bytes:
    """An archive with a byte or two changed, often in a header (local or central), or cut out."""
    data = bytearray(_written(rng))
    headers = [at for at in range(len(data) - 1) if data[at : at + 2] == b"PK"]
    for _ in range(rng.randrange(1, 3)):
        if rng.random() < 0.5:
            at = min(rng.choice(headers) + rng.randrange(46), len(data) - 1)
            data[at] = rng.getrandbits(8)
        elif rng.random() < 0.7:
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        else:
            at = rng.randrange(len(data))
            del data[at : at + rng.randrange(1, 5)]
    return bytes(data)


def test_plain_entries_are_read_directly() -> None:
    rng = random.Random(0)
    artifact = _archive(_written(rng))
    for info in artifact.archive.infolist():
        assert artifact._plain(info) == _by_zipfile(artifact.archive, info)


@pytest.mark.parametrize("seed", range(4))
def test_the_direct_reader_takes_only_what_zipfile_reads_alike(seed: int) -> None:
    rng = random.Random(seed)
    direct = 0
    for _ in range(600):
        try:
            artifact = _archive(_damaged(rng))
        except Exception:  # a directory zipfile cannot read: nothing to compare
            continue
        for info in artifact.archive.infolist():
            read = artifact._plain(info)
            if read is not None:
                direct += 1
                assert read == _by_zipfile(artifact.archive, info), info.orig_filename
    assert direct > 100


def test_entries_zipfile_refuses_are_refused_in_its_words() -> None:
    data = bytearray(_written(random.Random(1)))
    data[14:18] = b"\0\0\0\0"  # the first entry's CRC in its local header: not what zipfile checks
    at = data.rindex(b"PK\x01\x02", 0, data.index(b"PK\x05\x06"))
    artifact = _archive(bytes(data))
    first = artifact.archive.infolist()[0]
    assert artifact._plain(first) == _by_zipfile(artifact.archive, first)
    data[at + 16 : at + 20] = b"\0\0\0\0"  # the last entry's CRC in the directory
    artifact = _archive(bytes(data))
    last = artifact.archive.infolist()[-1]
    assert artifact._plain(last) is None
    with pytest.raises(BadArtifact, match=r"cannot read .*Bad CRC-32"):
        hash_entry(artifact, last.filename, "sha256")
