"""The command's habits: several artifacts per ``check`` and ``inspect`` (one block each, the
worst exit status, a JSON list), ``-q`` and ``-v``, and ``cache``; run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inmemory import NAME, pyc, run_cli, sourceless, write

from hatch_pyc import cli


def _wheels(tmp_path: Path) -> tuple[str, str, str]:
    """A wheel that fits, one that does not (a pyc of another magic number), a missing one."""
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    good = write(tmp_path / "good" / NAME, sourceless())
    bad = write(tmp_path / "bad" / NAME, {**sourceless(), "demo/core.pyc": pyc(b"", magic=b"\x00\x00\r\n")})
    return str(good), str(bad), str(tmp_path / "missing.whl")


@pytest.mark.parametrize("command", ["check", "inspect"])
def test_several_artifacts_give_one_block_each_as_one_would_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    good, bad, _ = _wheels(tmp_path)
    alone = [run_cli(capsys, command, path) for path in (good, bad)]
    code, out, err = run_cli(capsys, command, good, bad)
    assert out == alone[0][1] + "\n" + alone[1][1]
    assert code == max(each[0] for each in alone) == (1 if command == "check" else 0)
    assert err == ""


def test_an_unusable_artifact_among_several_says_so_and_the_others_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad, missing = _wheels(tmp_path)
    code, out, err = run_cli(capsys, "check", missing, good)
    assert code == 2
    assert out.startswith(f"ok: {NAME} fits ")
    assert err == f"hatch-pyc: {missing}: no such file\n"
    code, out, _ = run_cli(capsys, "check", good, bad, missing)
    assert code == 2
    assert out.count("\n\n") == 1  # two blocks: the missing one has none


@pytest.mark.parametrize("command", ["check", "inspect"])
def test_json_is_todays_object_for_one_artifact_and_a_list_for_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    good, bad, missing = _wheels(tmp_path)
    _, out, _ = run_cli(capsys, command, "--json", good)
    alone = json.loads(out)
    assert isinstance(alone, dict)
    code, out, err = run_cli(capsys, command, "--json", good, bad, missing)
    several = json.loads(out)
    assert code == 2
    assert several[0] == alone
    assert several[2] == {"file": missing, "error": f"{missing}: no such file"}
    assert err == f"hatch-pyc: {missing}: no such file\n"
    if command == "check":
        assert [each["ok"] for each in several[:2]] == [True, False]
    else:
        assert several[1]["file"] == bad


def test_quiet_check_prints_only_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad, _ = _wheels(tmp_path)
    assert run_cli(capsys, "check", "-q", good) == (0, "", "")
    code, out, _ = run_cli(capsys, "check", "--quiet", good, bad)
    assert code == 1
    assert out.startswith(f"{NAME}: ")
    assert "\n\n" not in out


@pytest.mark.parametrize("command", ["convert", "bundle"])
def test_quiet_and_verbose_are_one_or_the_other(command: str) -> None:
    assert cli.parser().parse_args([command, "x.whl", "-q"]).quiet
    assert cli.parser().parse_args([command, "-v", "x.whl"]).verbose
    with pytest.raises(SystemExit) as info:
        cli.parser().parse_args([command, "x.whl", "-q", "-v"])
    assert info.value.code == 2


def test_cache_list_and_prune(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HATCH_PYC_BUNDLE_ROOT", str(tmp_path / "root"))
    entry = tmp_path / "cache" / "v1" / "ab" / ("c" * 62 + "-" + "d" * 64 + ".pyc")
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"x" * 2000)
    cache = str(tmp_path / "cache")
    code, out, _ = run_cli(capsys, "cache", "list", "--cache-dir", cache)
    assert code == 0
    assert out.splitlines() == [
        f"compile cache: {cache}: 1 entry, 2.0 kB",
        f"bundle extraction root: {tmp_path / 'root'}: 0 directories, 0.0 kB",
    ]
    code, out, _ = run_cli(capsys, "cache", "prune", "--older-than", "3", "--cache-dir", cache)
    assert out == f"removed 0 bundle extraction directories (0.0 kB) from {tmp_path / 'root'}\n"
    assert entry.exists()
    code, out, _ = run_cli(capsys, "cache", "prune", "--all", "--json", "--cache-dir", cache)
    assert json.loads(out)["compile_cache"] == {"path": cache, "removed": 1, "size": 2000}
    assert not entry.exists()
    (tmp_path / "link").symlink_to(tmp_path / "cache")
    code, out, err = run_cli(capsys, "cache", "list", "--cache-dir", str(tmp_path / "link"))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "symbolic link" in err
