"""The ``.dist-info`` files of a wheel, read and written: WHEEL, METADATA, ``entry_points.txt``,
and the one writer of wheels (``convert``'s output), whose RECORD comes from :mod:`hatch_pyc.wheel.records`.

Readers take the file's text and a label for messages, and raise :class:`BadArtifact`; none
opens an archive (:mod:`hatch_pyc.wheel.artifact` does that).
"""

from __future__ import annotations

import email.parser
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.tags import parse_tag

from hatch_pyc.core.config import ENTRY_POINT_PATTERN
from hatch_pyc.core.errors import BadArtifact, HatchPycError, printable
from hatch_pyc.core.limits import (
    MAX_ENTRY_POINTS_SIZE,
    MAX_HEADER_LINES,
    MAX_HEADER_SIZE,
    MAX_TAGS,
    LimitExceeded,
)
from hatch_pyc.wheel import archive, records

if TYPE_CHECKING:
    import email.message

#: ``.data`` directories a wheel may install into (the wheel spec's schemes).
DATA_SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
#: The schemes that install beside the wheel's root, where the import system finds them.
IMPORTABLE_SCHEMES = ("purelib", "platlib")
#: A regular file, ``rw-r--r--``, as zip ``external_attr``.
FILE_ATTR = 0o100644 << 16


#: The first empty line, which ends a header section for ``email`` whatever else it counts as
#: a line break.
_END_OF_HEADERS = re.compile(r"\r?\n\r?\n|\r\r")
#: What ``email`` (``str.splitlines``) breaks lines at.
_LINE_BREAKS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _headers(label: str, text: str) -> email.message.Message:
    """The header section of ``text`` as ``email`` parses it, given to ``email`` only within
    :data:`~hatch_pyc.core.limits.MAX_HEADER_LINES` and :data:`~hatch_pyc.core.limits.MAX_HEADER_SIZE`:
    ``email`` keeps an object for every line, so folded one-byte lines cost it 40 times their
    size. What follows the first empty line (METADATA's description) is not given to it."""
    end = _END_OF_HEADERS.search(text)
    section = text[: end.start() + 1] if end else text
    if len(section) > MAX_HEADER_SIZE:
        raise LimitExceeded(
            f"{label}: its header section has {len(section)} characters, more than {MAX_HEADER_SIZE} "
            "(a limit of hatch-pyc)"
        )
    # An upper bound on the lines email sees (it counts "\r\n" once).
    lines = sum(section.count(brk) for brk in _LINE_BREAKS)
    if lines > MAX_HEADER_LINES:
        raise LimitExceeded(
            f"{label}: its header section has {lines} lines, more than {MAX_HEADER_LINES} (a limit of hatch-pyc)"
        )
    return email.parser.Parser().parsestr(section, headersonly=True)


def tags_named(tag: str) -> int:
    """How many tags the compressed tag set ``tag`` (``py2.py3-none-any``) expands to, counted
    without expanding it: the product of the numbers of dot-separated names of its parts."""
    count = 1
    for part in tag.split("-", 2):
        count *= part.count(".") + 1
    return count


def parse_wheel(label: str, text: str, named_tags: int = 0) -> dict[str, list[str]]:
    """The fields of a WHEEL file, each a list of values; only version 1.x with its required fields.

    ``named_tags`` is how many tags the wheel's file name names: with those of the Tag lines,
    counted before packaging expands any, they may be no more than
    :data:`~hatch_pyc.core.limits.MAX_TAGS`."""
    message = _headers(f"{label}: WHEEL", text)
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(str(value).strip())
    if not fields.get("Wheel-Version") or not fields.get("Tag"):
        raise BadArtifact(f"{label}: WHEEL has no Wheel-Version or no Tag line")
    version = fields["Wheel-Version"][0]
    if not version.startswith("1.") or not version[2:].isdigit():
        raise BadArtifact(f"{label}: WHEEL says Wheel-Version {printable(version)}; hatch-pyc reads version 1.x only")
    if fields.get("Root-Is-Purelib", [""])[0].lower() not in ("true", "false"):
        raise BadArtifact(f"{label}: WHEEL has no Root-Is-Purelib: true or false")
    for line in fields["Tag"]:
        if line.count("-") != 2:  # what parse_tag would split whole before refusing it
            raise BadArtifact(f"{label}: WHEEL has a malformed Tag line {printable(line[:200])}")
    total = named_tags + sum(map(tags_named, fields["Tag"]))
    if total > MAX_TAGS:
        counted = "its Tag lines and file name name" if named_tags else "its Tag lines name"
        raise LimitExceeded(f"{label}: WHEEL: {counted} {total} tags, more than {MAX_TAGS} (a limit of hatch-pyc)")
    for line in fields["Tag"]:
        try:
            parse_tag(line)
        except Exception:  # packaging raises several types for a malformed tag
            raise BadArtifact(f"{label}: WHEEL has a malformed Tag line {printable(line)}") from None
    return fields


def wheel_with_tags(text: str, tags: Sequence[str]) -> str:
    """A WHEEL file's text with its Tag lines replaced by ``tags``."""
    lines = [line for line in text.rstrip("\n").split("\n") if not line.startswith("Tag:")]
    return "\n".join([*lines, *(f"Tag: {tag}" for tag in tags)]) + "\n"


def metadata_headers(text: str) -> email.message.Message:
    """The headers of a METADATA file (its body, the description, is not read)."""
    return _headers("METADATA", text)


def requirements(label: str, text: str, environment: Mapping[str, str]) -> list[str]:
    """METADATA's ``Requires-Dist`` lines whose markers hold in ``environment``."""
    # Imported by the readers that need them (install, bundle): check reads WHEEL and METADATA
    # headers only, and starts faster without pypa/installer, configparser and packaging's
    # requirement parser.
    from packaging.requirements import InvalidRequirement, Requirement

    needed = []
    for value in metadata_headers(text).get_all("Requires-Dist") or []:
        line = str(value)
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise BadArtifact(f"{label}: Requires-Dist {line!r} is invalid: {exc}") from None
        if requirement.marker is None or requirement.marker.evaluate(dict(environment)):
            needed.append(line)
    return needed


def with_requires_python(text: str, requires_python: str) -> str:
    """METADATA with its ``Requires-Python`` header set to ``requires_python``, in its place
    (or last among the headers, where there was none)."""
    head, separator, body = text.partition("\n\n")
    lines = head.rstrip("\n").split("\n")
    line = f"Requires-Python: {requires_python}"
    found = [index for index, text in enumerate(lines) if text.lower().startswith("requires-python:")]
    if found:
        lines[found[0]] = line
        lines = [text for index, text in enumerate(lines) if index not in found[1:]]
    else:
        lines.append(line)
    return "\n".join(lines) + (separator + body if separator else "\n")


#: configparser's reference to another value, which pypa/installer's parser of entry points
#: expands: nine levels of a few references each in 400 bytes take an hour to expand. No
#: entry point (``module:function [extras]``) needs one.
INTERPOLATION = "%("
INTERPOLATION_PROBLEM = (
    "entry_points.txt refers to other values with '%(', which pypa/installer would expand "
    "(a few hundred bytes of such references take hours); no entry point needs one"
)


def scripts(label: str, text: str) -> list[str]:
    """The names of the scripts ``entry_points.txt`` asks an installer to make, parsed as
    pypa/installer parses them, so that what it would refuse is refused first."""
    from installer.utils import parse_entrypoints

    if len(text) > MAX_ENTRY_POINTS_SIZE:
        raise LimitExceeded(
            f"{label}: entry_points.txt is larger than {MAX_ENTRY_POINTS_SIZE} bytes (a limit of hatch-pyc)"
        )
    if INTERPOLATION in text:
        raise BadArtifact(f"{label}: {INTERPOLATION_PROBLEM}")
    try:
        return [name for name, _, _, _ in parse_entrypoints(text)]
    except HatchPycError:
        raise
    except Exception as exc:  # configparser errors, and pypa/installer's asserts
        raise BadArtifact(f"{label}: entry_points.txt is malformed ({type(exc).__name__})") from None


def console_scripts(label: str, text: str) -> dict[str, str]:
    """``{script: module:function}`` of the ``console_scripts`` group, each checked to be
    ``module:function`` (a bundle's bootstrap imports it by name, so the message names the value)."""
    import configparser

    if len(text) > MAX_ENTRY_POINTS_SIZE:
        raise LimitExceeded(
            f"{label}: entry_points.txt is larger than {MAX_ENTRY_POINTS_SIZE} bytes (a limit of hatch-pyc)"
        )
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise BadArtifact(f"{label}: entry_points.txt is not readable: {exc}") from None
    if not parser.has_section("console_scripts"):
        return {}
    found = {}
    for script, value in parser.items("console_scripts"):
        target = value.split("[")[0].strip().replace(" ", "")
        if not ENTRY_POINT_PATTERN.match(target):
            raise BadArtifact(f"{label}: console script {script!r} is {value!r}, not 'module:function'")
        found[script] = target
    return found


@dataclass
class Entry:
    """One file of a wheel being written: its content (a file on disk, or bytes) and zip attributes."""

    content: str | bytes
    external_attr: int = FILE_ATTR


def write_wheel(target: str, entries: Mapping[str, Entry], dist_info: str, date_time: tuple[int, ...]) -> None:
    """Write ``entries`` and their RECORD to ``target`` (through a temporary file), every
    entry deflated and dated ``date_time``; the ``.dist-info`` comes last, RECORD at its end."""
    order = sorted(entries, key=lambda name: (name.startswith(f"{dist_info}/"), name))
    rows = []
    with archive.replacing(target) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for name in order:
            entry = entries[name]
            data = archive.read_content(entry.content)
            _write(out, name, data, entry.external_attr, date_time)
            rows.append(records.row(name, data))
        _write(out, f"{dist_info}/RECORD", records.render(dist_info, rows), FILE_ATTR, date_time)


def _write(out: zipfile.ZipFile, name: str, data: bytes, external_attr: int, date_time: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
    info.external_attr = external_attr
    info.compress_type = zipfile.ZIP_DEFLATED
    out.writestr(info, data)
