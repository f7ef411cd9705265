"""The command's habits, run as a user runs them: ``python -m hatch_pyc``, several artifacts per
``check``, ``-q``, the bundle root moved by ``HATCH_PYC_BUNDLE_ROOT``, and ``hatch-pyc cache``
listing and pruning what builds and bundles left there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inmemory import DIST, write

#: The installed command, from the venv the tests run in.
HATCH_PYC = str(Path(sys.executable).parent / "hatch-pyc")
DAY = 24 * 60 * 60
SOURCE = b"""import os


def main():
    with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
        print(f.read().strip())
"""


def _plain_wheel(path: Path) -> Path:
    """A wheel another backend could have built: a console script whose package reads a file
    beside ``__file__`` (so a bundle extracts it, and says so)."""
    return write(
        path,
        {
            "demo/__init__.py": SOURCE,
            "demo/data.txt": b"hello from data.txt\n",
            f"{DIST}/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.1.0\n",
            f"{DIST}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            f"{DIST}/entry_points.txt": b"[console_scripts]\ndemo = demo:main\n",
        },
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HATCH_PYC_CACHE_DIR": str(tmp_path / "cache"),
        "HATCH_PYC_BUNDLE_ROOT": str(tmp_path / "bundles"),
    }


def _run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], env=env, capture_output=True, text=True, timeout=120)


def _hatch_pyc(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return _run(env, HATCH_PYC, *args)


def test_python_m_hatch_pyc_is_the_command(env: dict[str, str]) -> None:
    as_module = _run(env, sys.executable, "-m", "hatch_pyc", "--version")
    assert (as_module.returncode, as_module.stdout) == (0, _hatch_pyc(env, "--version").stdout)
    usage = _run(env, sys.executable, "-m", "hatch_pyc", "check")
    assert usage.returncode == 2
    assert usage.stderr.startswith("usage: hatch-pyc check ")


def test_check_several_wheels_then_bundle_and_prune(tmp_path: Path, env: dict[str, str]) -> None:
    plain = _plain_wheel(tmp_path / "demo_pkg-0.1.0-py3-none-any.whl")
    here = f"cp{sys.version_info[0]}{sys.version_info[1]}"

    converted = _hatch_pyc(env, "convert", "-q", plain, "--layout", "sourceless", "-o", tmp_path / "dist")
    assert (converted.returncode, converted.stderr) == (0, "")
    sourceless = Path(converted.stdout.strip())
    assert sourceless.name == f"demo_pkg-0.1.0-{here}-none-any.whl"

    # Several artifacts: one block each, as each alone; the worst exit status.
    alone = [_hatch_pyc(env, "check", wheel).stdout for wheel in (sourceless, plain)]
    both = _hatch_pyc(env, "check", sourceless, plain)
    assert (both.returncode, both.stdout) == (0, alone[0] + "\n" + alone[1])
    missing = _hatch_pyc(env, "check", "--json", sourceless, tmp_path / "missing.whl")
    assert missing.returncode == 2
    assert missing.stderr == f"hatch-pyc: {tmp_path / 'missing.whl'}: no such file\n"
    assert [entry.get("ok", entry.get("error")) for entry in json.loads(missing.stdout)] == [
        True,
        f"{tmp_path / 'missing.whl'}: no such file",
    ]
    assert _hatch_pyc(env, "check", "-q", sourceless, plain).stdout == ""

    # A bundle: its information line, or none with -q; it extracts into the moved root.
    told = _hatch_pyc(env, "bundle", plain, "-o", tmp_path / "told.pyz")
    assert told.returncode == 0, told.stderr
    assert "demo_pkg (demo: data files that its modules find by __file__)" in told.stderr
    quiet = _hatch_pyc(env, "bundle", plain, "-q", "-o", tmp_path / "app.pyz")
    assert (quiet.returncode, quiet.stdout.strip(), quiet.stderr) == (0, str(tmp_path / "app.pyz"), "")
    assert _run(env, sys.executable, tmp_path / "app.pyz").stdout == "hello from data.txt\n"

    listed = _hatch_pyc(env, "cache", "list", "--json")
    document = json.loads(listed.stdout)
    assert document["compile_cache"]["path"] == str(tmp_path / "cache")
    assert document["compile_cache"]["entries"] > 0
    assert document["bundle_root"]["path"] == str(tmp_path / "bundles")
    (extraction,) = document["bundle_root"]["extractions"]
    directory = Path(extraction["path"])
    assert directory.parent == tmp_path / "bundles"
    assert (directory / "demo" / "data.txt").read_text() == "hello from data.txt\n"

    # A start refreshes a day-old directory's time of use: pruning by age keeps it.
    then = time.time() - 3 * DAY
    os.utime(directory, (then, then))
    _run(env, sys.executable, tmp_path / "app.pyz")
    kept = _hatch_pyc(env, "cache", "prune", "--older-than", "1")
    assert kept.stdout == f"removed 0 bundle extraction directories (0.0 kB) from {tmp_path / 'bundles'}\n"
    os.utime(directory, (then, then))
    pruned = _hatch_pyc(env, "cache", "prune", "--older-than", "1")
    assert pruned.stdout.startswith("removed 1 bundle extraction directory (")
    assert not directory.exists()
    assert _run(env, sys.executable, tmp_path / "app.pyz").stdout == "hello from data.txt\n"  # extracted again

    everything = _hatch_pyc(env, "cache", "prune", "--all")
    assert everything.returncode == 0
    assert everything.stdout.startswith(f"removed {document['compile_cache']['entries']} compile cache entries (")
    text = _hatch_pyc(env, "cache", "list").stdout
    assert text.splitlines() == [
        f"compile cache: {tmp_path / 'cache'}: 0 entries, 0.0 kB",
        f"bundle extraction root: {tmp_path / 'bundles'}: 0 directories, 0.0 kB",
    ]
