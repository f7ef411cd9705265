"""A wheel's METADATA past the limit is refused by every command alike, those that never read it too."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from inmemory import DIST, NAME, run_cli, sourceless

from hatch_pyc.core.limits import MAX_METADATA_SIZE
from hatch_pyc.wheel import records


@pytest.mark.parametrize("command", ["inspect", "check", "bundle", "convert"])
def test_metadata_past_the_limit_is_refused_by_every_command_in_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = sourceless()
    entries[f"{DIST}/METADATA"] += b"\n" + b"x" * (MAX_METADATA_SIZE + 1024 * 1024)
    size = len(entries[f"{DIST}/METADATA"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        zf.writestr(f"{DIST}/RECORD", records.render(DIST, [records.row(n, d) for n, d in entries.items()]))
    wheel = tmp_path / NAME
    wheel.write_bytes(buffer.getvalue())
    extra = {"bundle": ["-o", str(tmp_path / "out.pyz")], "convert": ["-o", str(tmp_path / "out")]}
    code, out, err = run_cli(capsys, command, str(wheel), *extra.get(command, []))
    assert (code, out) == (2, "")
    assert err == (
        f"hatch-pyc: {wheel}: {DIST}/METADATA has {size} bytes, more than {MAX_METADATA_SIZE} (a limit of hatch-pyc)\n"
    )
