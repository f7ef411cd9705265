"""Starting workers: ``worker.py`` runs from its pyc where the installation holds a current one."""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import sys
from pathlib import Path

import pytest

from hatch_pyc._shipped import worker
from hatch_pyc.core import processes


def test_a_worker_runs_from_its_pyc_not_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy of worker.py with a current timestamp pyc, then its source replaced by as many
    # bytes that do not compile, its time kept: only a worker loaded from the pyc answers.
    copy = tmp_path / "_shipped" / "worker.py"
    copy.parent.mkdir()
    copy.write_bytes(Path(worker.__file__).read_bytes())
    cached = importlib.util.cache_from_source(str(copy))
    py_compile.compile(
        str(copy), cfile=cached, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
    )
    status = copy.stat()
    copy.write_bytes(b"(" * status.st_size)
    os.utime(copy, ns=(status.st_atime_ns, status.st_mtime_ns))
    monkeypatch.setattr(worker, "__file__", str(copy))
    result = processes.run_once(sys.executable, ["--info"], 60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["protocol"] == worker.PROTOCOL
    # Without it, the source is what runs.
    os.unlink(cached)
    assert "SyntaxError" in processes.run_once(sys.executable, ["--info"], 60).stderr
