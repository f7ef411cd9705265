"""What a release publishes: the sdist and the wheel ``python -m build`` makes of this repository.

The wheel is built from the sdist (``python -m build``'s default), so a file the sdist lacks
fails the build here before it fails a user's.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The pages a user follows: README and every page of the site (not the generated examples).
PAGES = [REPO / "README.md", *sorted(p for p in (REPO / "docs").rglob("*.md") if "examples" not in p.parts)]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("release")
    # Without isolation, with this environment's hatchling: seconds less, and no index needed.
    # The release workflow builds in isolation, as a user's frontend does.
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)]
    subprocess.run(command, check=True, capture_output=True)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_the_wheel_carries_the_license_and_its_expression(artifacts: tuple[Path, Path]) -> None:
    _, wheel = artifacts
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(archive.read(metadata).decode())
        dist_info = metadata.split("/")[0]
        assert f"{dist_info}/licenses/LICENSE" in names
        assert archive.read(f"{dist_info}/licenses/LICENSE").startswith(b"MIT License")
    assert headers["License-Expression"] == "MIT"
    assert headers.get_all("License-File") == ["LICENSE"]
    # PEP 639: a license expression and license classifiers do not go together.
    assert not [c for c in headers.get_all("Classifier") or [] if c.startswith("License ::")]
    assert {url.split(",")[0] for url in headers.get_all("Project-URL") or []} >= {"Documentation", "Source"}


def test_the_sdist_carries_the_license_tests_docs_and_example_project(artifacts: tuple[Path, Path]) -> None:
    sdist, _ = artifacts
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
        root = members[0].split("/")[0]
        paths = {name.split("/", 1)[1] for name in members if "/" in name}
        pkg_info = archive.extractfile(f"{root}/PKG-INFO")
        assert pkg_info is not None
        headers = HeaderParser().parsestr(pkg_info.read().decode())
    assert headers["License-Expression"] == "MIT"
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "mkdocs.yml"} <= paths
    tops = {path.split("/")[0] for path in paths if "/" in path}
    assert {"src", "tests", "docs", "example_project"} <= tops
    assert "tests/e2e/test_release.py" in paths
    assert "example_project/pyproject.toml" in paths
    assert "docs/index.md" in paths
    # Nothing of a working checkout: no venv, no built site, no bytecode caches.
    assert not [path for path in paths if path.split("/")[0] in {".venv", "site", "dist"} or "__pycache__" in path]


def _console_commands() -> list[tuple[str, str]]:
    """``(page:line, command)`` of every ``$ `` line in the pages' console blocks."""
    found = []
    for page in PAGES:
        inside = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                inside = line.strip() == "```console"
            elif inside and line.startswith("$ "):
                found.append((f"{page.relative_to(REPO)}:{number}", line[2:]))
    return found


def _hatch_pyc_invocations(command: str) -> list[list[str]]:
    """The arguments of each ``hatch-pyc`` run in a shell line (after ``;``, ``&&``, ``|``, ``do``,
    environment assignments; a redirection's target is not a command)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token and all(c in ";&|<>()" for c in token):
            segments.append([])
        else:
            segments[-1].append(token)
    runs = []
    for words in segments:
        while words and (words[0] in {"do", "then", "else", "time"} or re.match(r"^[A-Z_]+=", words[0])):
            words = words[1:]
        if words and words[0] == "hatch-pyc":
            runs.append(words[1:])
    return runs


def test_documented_hatch_pyc_commands_are_ones_it_takes() -> None:
    """Every ``$ hatch-pyc ...`` the README and the docs show parses: its command, flags and
    arguments are ones the command line takes now."""
    from hatch_pyc.cli import parser

    refused = []
    checked = 0
    for where, command in _console_commands():
        for argv in _hatch_pyc_invocations(command):
            if {"--help", "-h", "--version"} & set(argv):
                continue
            checked += 1
            try:
                parser().parse_args(argv)
            except SystemExit:
                refused.append(f"{where}: hatch-pyc {shlex.join(argv)}")
    assert checked >= 5
    assert not refused, "\n".join(refused)


def _quotes_a_tilde(command: str) -> bool:
    """Whether a shell word of ``command`` has ``~`` inside quotes."""
    lexer = shlex.shlex(command, posix=False)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # not a shell line (an apostrophe in prose)
        return False
    return any("~" in part for word in words for part in re.findall(r"'[^']*'|\"[^\"]*\"", word))


def test_no_documented_command_quotes_a_tilde() -> None:
    """``'~/wheelhouse/...'`` reaches the program as it is: the shell expands ``~`` only unquoted.
    Console lines and inline code (``uv tool install ...`` in a sentence) alike."""
    found = [f"{where}: {command}" for where, command in _console_commands() if _quotes_a_tilde(command)]
    for page in PAGES:
        prose = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
        found += [
            f"{page.relative_to(REPO)}: {span}"
            for span in re.findall(r"`([^`]+)`", prose)
            if _quotes_a_tilde(span.replace("\n", " "))
        ]
    assert not found, "\n".join(found)
