"""The documentation's console examples and generated reference tables, made by running them.

    python docs/examples.py           # write docs/examples/*
    python docs/examples.py --check   # exit 1 naming each file that differs from what runs now

Run from the repository's dev venv (hatch-pyc installed, ``uv`` on PATH), as
``tests/e2e/test_docs_examples.py`` does. Each example runs in one scratch copy of
``example_project``, in order (later ones use the wheels earlier ones built), with a fresh
compile cache and fixed terminal width, and its file holds each shown command after ``$ ``
and what it printed. The pages include them with ``--8<--`` (pymdownx.snippets).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "examples"
WHEEL = "dist/example_app-1.0.0-py3-none-any.whl"
SOURCELESS = "sourceless/example_app-1.0.0-cp311-none-any.whl"

#: ``(file name, [(command, shown)])``: a hidden command prepares, a shown one is printed.
EXAMPLES: list[tuple[str, list[tuple[str, bool]]]] = [
    ("build.txt", [("python -m hatchling build -t wheel", True)]),
    (
        "run-installed.txt",
        [
            # The interpreter that built the wheel; outside the project, which the sdist holds whole.
            ("python -m venv --without-pip ../app", True),
            (f"uv pip install -q -p ../app/bin/python --no-compile {WHEEL}", True),
            ("../app/bin/example-app", True),
        ],
    ),
    ("inspect.txt", [(f"hatch-pyc inspect {WHEEL}", True)]),
    ("check.txt", [(f"hatch-pyc check {WHEEL}", True)]),
    (
        "sourceless.txt",
        [
            ("HATCH_PYC_LAYOUT=sourceless python -m hatchling build -t wheel -d sourceless", True),
            (f"hatch-pyc inspect {SOURCELESS}", True),
            (f"hatch-pyc check {SOURCELESS}", True),
        ],
    ),
    (
        "bytecode-metadata.txt",
        [
            (f"python -m zipfile -e {SOURCELESS} unpacked", True),
            ("cat unpacked/example_app-1.0.0.dist-info/extra_metadata/hatch_pyc.json", True),
        ],
    ),
    (
        "wrong-interpreter.txt",
        [
            (f"python -m zipfile -e {SOURCELESS} target", False),  # what `pip install --target` writes
            ("PYTHONPATH=target python3.12 -m example_app", True),
        ],
    ),
    (
        "old-target.txt",
        [
            ("HATCH_BUILD_NO_HOOKS=true python -m hatchling build -t wheel -d plain", False),
            ("hatch-pyc convert plain/example_app-1.0.0-py3-none-any.whl --python 3.7", True),
        ],
    ),
    (
        "check-other-interpreter.txt",
        [(f"hatch-pyc check {SOURCELESS} --python 3.12", True)],
    ),
    (
        "many-interpreters.txt",
        [
            (
                "HATCH_PYC_LAYOUT=sourceless HATCH_PYC_PYTHON=3.11,3.12 python -m hatchling build -t wheel -d multi",
                True,
            ),
            ("hatch-pyc check multi/*.whl --python 3.12", True),
        ],
    ),
    (
        "verify.txt",
        [
            ("python -m hatchling build -t sdist -d sdist", False),
            (f"hatch-pyc verify {SOURCELESS} --source sdist/example_app-1.0.0.tar.gz", True),
        ],
    ),
    (
        "config-error.txt",
        [
            ("sed -i 's/^optimize = .*/optimise = 1\\noptimize = 3/' pyproject.toml", False),
            ("HATCH_PYC_LAYOUT=flat python -m hatchling build -t wheel -d broken", True),
            ("cp ../pyproject.toml.orig pyproject.toml", False),
        ],
    ),
    (
        "bundle.txt",
        [
            (f"hatch-pyc bundle {WHEEL} -o example-app.pyz", True),
            ("python example-app.pyz --tip 1", True),
        ],
    ),
]

COMMANDS = ["inspect", "check", "install", "convert", "bundle", "verify"]


def other_python(version: str) -> str:
    """An interpreter of that version: pyenv's (as on the CI machines), else on PATH."""
    pyenv = sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python"))
    found = str(pyenv[-1]) if pyenv else shutil.which(f"python{version}")
    if found is None:
        raise SystemExit(f"no Python {version} for the examples: put python{version} on PATH")
    return found


def run_examples(scratch: Path) -> dict[str, str]:
    """``{file name: text}`` of every console example, run in ``scratch``."""
    work = scratch / "example_project"
    shutil.copytree(REPO / "example_project", work)
    shutil.copy(work / "pyproject.toml", scratch / "pyproject.toml.orig")
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        # Only the dev venv and the system's: what a message says it looked at stays the same.
        "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
        "COLUMNS": "100",
        "HATCH_PYC_CACHE_DIR": str(scratch / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    tools = scratch / "bin"
    tools.mkdir()
    (tools / "python3.12").symlink_to(other_python("3.12"))
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    env.pop("HATCH_PYC_LAYOUT", None)
    found = {}
    for name, steps in EXAMPLES:
        shutil.rmtree(scratch / "cache", ignore_errors=True)
        text = []
        for command, shown in steps:
            ran = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True)
            if not shown:
                if ran.returncode != 0:
                    raise SystemExit(f"{name}: {command} failed:\n{ran.stderr}")
                continue
            text.append(f"$ {command}\n{_without_traceback(ran.stdout + ran.stderr)}")
            if ran.returncode != 0:
                text.append(f"[exit status {ran.returncode}]\n")
        found[name] = "".join(text).replace(str(scratch), "/tmp/work")
    for command in COMMANDS:
        ran = subprocess.run(
            ["hatch-pyc", command, "--help"], env=env, capture_output=True, text=True, check=True, cwd=scratch
        )
        found[f"help-{command}.txt"] = f"$ hatch-pyc {command} --help\n{ran.stdout}"
    found["options-table.md"] = options_table()
    return found


def _without_traceback(output: str) -> str:
    """A build's error as the user reads it: the traceback hatchling prints around a build hook's
    error cut to its last line, the error itself."""
    if "Traceback (most recent call last):" not in output:
        return output
    lines = output.splitlines(keepends=True)
    start = max(i for i, line in enumerate(lines) if line.startswith("  File ")) + 1
    while start < len(lines) and lines[start].startswith("    "):
        start += 1
    return "[hatchling's traceback]\n" + "".join(lines[start:])


def options_table() -> str:
    """Every option of the hook: its TOML key, its flag, its environment variable and its help."""
    from hatch_pyc.core import config

    rows = ["| TOML key | command flag | environment variable | default and meaning |", "| --- | --- | --- | --- |"]
    for option in sorted(config.TABLE, key=lambda option: option.zipapp):
        if option is config.ZIPAPP:
            continue
        key = f"`zipapp.{option.key}`" if option.zipapp else f"`{option.key}`"
        flag = option.flag
        if option.kind == "either":
            flag = f"{flag}, --no-{option.key}"
        flags = f"`{flag}` ({', '.join(option.commands)})" if option.commands else "—"
        env = f"`{option.env}`" if option.env else "—"
        rows.append(f"| {key} | {flags} | {env} | {option.help} |")
    return "\n".join(rows) + "\n"


def _readme_with(text: str, found: dict[str, str]) -> str:
    """README's console blocks marked ``<!-- docs/examples/NAME -->``, made from those examples."""
    marker = "<!-- docs/examples/"
    parts = text.split(marker)
    for index in range(1, len(parts)):
        name, _, rest = parts[index].partition(" -->\n```console\n")
        _, _, after = rest.partition("```\n")
        parts[index] = f"{name} -->\n```console\n{found[name]}```\n{after}"
    return marker.join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hatch-pyc-docs-") as scratch:
        found = run_examples(Path(scratch))
    readme = REPO / "README.md"
    found_readme = _readme_with(readme.read_text(), found)
    stale = []
    if args.check:
        if readme.read_text() != found_readme:
            stale.append("README.md")
    else:
        readme.write_text(found_readme)
    OUT.mkdir(exist_ok=True)
    for name, text in sorted(found.items()):
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale examples (run python docs/examples.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
