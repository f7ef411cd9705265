"""README's and CONTRIBUTING's links to files of the repository lead somewhere (mkdocs checks
the site's own links and anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("page", ["README.md", "CONTRIBUTING.md"])
def test_relative_links_name_files_that_exist(page: str) -> None:
    text = (REPO / page).read_text()
    targets = [target for target in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in target]
    assert targets
    missing = [target for target in targets if not (REPO / target.split("#")[0]).exists()]
    assert missing == []


def test_every_page_of_the_site_is_in_its_navigation() -> None:
    listed = set(re.findall(r": ([\w/-]+\.md)$", (REPO / "mkdocs.yml").read_text(), re.MULTILINE))
    pages = {str(path.relative_to(REPO / "docs")) for path in (REPO / "docs").rglob("*.md")}
    pages -= {"examples/options-table.md"}  # a part of the options page
    assert pages == listed
