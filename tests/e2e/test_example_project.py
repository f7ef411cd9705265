"""The example project in the repository builds with the hook and runs from its shipped pycs."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import REPO, BuildWheel, MakeVenv, run


def test_example_app_runs_from_shipped_bytecode(tmp_path: Path, build_wheel: BuildWheel, make_venv: MakeVenv) -> None:
    project = tmp_path / "example_project"
    shutil.copytree(REPO / "example_project", project)
    wheel = build_wheel(project)
    venv = make_venv()
    venv.uv_install(wheel)
    result = run([venv.path / "bin" / "example-app", "--tip", "2"], env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert "example_app.cli          example_app/__pycache__/cli.cpython-" in result.stdout
    assert "compiled at every start" not in result.stdout
    assert "tip: checked-hash pycs stay valid after any installer" in result.stdout
