"""Real command-line tools from PyPI, bundled with their dependencies, run as they run installed:
mypyc-compiled black (its extension modules win, its grammar files are found), httpie,
cookiecutter, jinja2-cli, check-jsonschema and pylint (astroid maps its files to module names
through sys.path)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import run

from hatch_pyc.bundle.make import bundle_wheel

#: ``(wheel to fetch, entry point)``: each tool's own console script, by name.
TOOLS = {
    "black": ("black", "black"),
    "httpie": ("httpie", "http"),
    "cookiecutter": ("cookiecutter", "cookiecutter"),
    "jinja2-cli": ("jinja2-cli", "jinja2"),
    "check-jsonschema": ("check-jsonschema", "check-jsonschema"),
    "pylint": ("pylint", "pylint"),
}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clis")
    found = {}
    for tool, (requirement, script) in TOOLS.items():
        dest = root / tool
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", dest]
        run([*command, requirement])
        (wheel,) = dest.glob("*.whl")
        options = {"include-dependencies": True, "entry-point": script}
        found[tool] = Path(bundle_wheel(wheel, dest / f"{tool}.pyz", options))
        if tool == "black":  # native code and data beside __file__, the rest read from the archive
            archived = {**options, "run-from": "archive"}
            found["black from the archive"] = Path(bundle_wheel(wheel, dest / "black-archive.pyz", archived))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("bundle", ["black", "black from the archive"])
def test_black_runs_its_compiled_modules_and_finds_its_grammar(
    bundles: dict[str, Path], tmp_path: Path, bundle: str
) -> None:
    assert "(compiled: yes)" in run([sys.executable, bundles[bundle], "--version"]).stdout
    source = tmp_path / "t.py"
    source.write_text("x = ( 1,2 )\n")
    run([sys.executable, bundles[bundle], "-q", source])
    assert source.read_text() == "x = (1, 2)\n"


@pytest.mark.slow
def test_httpie_sends_an_offline_request(bundles: dict[str, Path]) -> None:
    sent = run([sys.executable, bundles["httpie"], "--offline", "--ignore-stdin", "POST", "example.org", "a=1"])
    assert sent.stdout.startswith("POST / HTTP/1.1")
    assert '"a": "1"' in sent.stdout


@pytest.mark.slow
def test_cookiecutter_renders_a_local_template(bundles: dict[str, Path], tmp_path: Path) -> None:
    template = tmp_path / "template"
    (template / "{{cookiecutter.name}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text('{"name": "demo"}')
    (template / "{{cookiecutter.name}}" / "f.txt").write_text("hi {{cookiecutter.name}}\n")
    run([sys.executable, bundles["cookiecutter"], "--no-input", "-o", tmp_path / "out", template])
    assert (tmp_path / "out" / "demo" / "f.txt").read_text() == "hi demo\n"


@pytest.mark.slow
def test_jinja2_cli_renders(bundles: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("hello {{ name }}\n")
    (tmp_path / "d.json").write_text('{"name": "x"}')
    assert run([sys.executable, bundles["jinja2-cli"], tmp_path / "t.j2", tmp_path / "d.json"]).stdout == "hello x\n"


@pytest.mark.slow
def test_check_jsonschema_validates_a_file(bundles: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"type": "object", "required": ["a"]}')
    (tmp_path / "good.json").write_text('{"a": 1}')
    (tmp_path / "bad.json").write_text("{}")
    command = [sys.executable, bundles["check-jsonschema"], "--schemafile", tmp_path / "s.json"]
    assert "ok -- validation done" in run([*command, tmp_path / "good.json"]).stdout
    assert run([*command, tmp_path / "bad.json"], check=False).returncode == 1


@pytest.mark.slow
def test_pylint_lints_a_file(bundles: dict[str, Path], tmp_path: Path) -> None:
    """pylint loads its checkers by file, and astroid maps each file to its module name through
    sys.path: the directory the bundle extracts to is on it, as site-packages is."""
    (tmp_path / "t.py").write_text('"""A module."""\n\nimport os\n')
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    linted = run([sys.executable, bundles["pylint"], "-sn", "t.py"], cwd=tmp_path, env=env, check=False)
    assert (linted.returncode, linted.stderr) == (4, "")  # a warning
    assert linted.stdout.splitlines() == ["************* Module t", "t.py:3:0: W0611: Unused import os (unused-import)"]
