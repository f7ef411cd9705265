"""The documentation's console examples are what the commands print now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_console_example_is_what_its_command_prints() -> None:
    ran = subprocess.run(
        [sys.executable, REPO / "docs" / "examples.py", "--check"], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
