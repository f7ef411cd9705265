"""What a release publishes: the sdist and the wheel ``python -m build`` makes of this repository.

The wheel is built from the sdist (``python -m build``'s default), so a file the sdist lacks
fails the build here before it fails a user's.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("release")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], check=True, capture_output=True)
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
