"""The ``example-app`` command."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from example_app import __version__
from example_app.tips.picker import pick_tip


def bytecode_report(names: list[str]) -> list[str]:
    """Say, for each module, which pyc it can be loaded from, if any is there."""
    # Each spec's origin: the file its module was loaded from, in a directory or an archive.
    root = os.path.dirname(os.path.dirname(sys.modules["example_app"].__spec__.origin or ""))
    lines = []
    for name in names:
        module = sys.modules[name]
        cached = getattr(module, "__cached__", None)
        origin = module.__spec__.origin or ""
        archive = getattr(module.__loader__, "archive", None)  # a zipimporter's: zip layout, .pyz
        if cached and os.path.exists(cached):
            where = os.path.relpath(cached, root)
        elif archive and origin.endswith(".pyc"):
            where = f"{os.path.basename(archive)}: {os.path.relpath(origin, archive)}"
        elif origin.endswith(".pyc"):
            where = os.path.relpath(origin, root)
        else:
            where = "(no pyc: compiled at every start)"
        lines.append(f"  {name:<24} {where}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="example-app", description=__doc__)
    parser.add_argument("--tip", type=int, default=0, help="which tip to show (wraps around)")
    args = parser.parse_args(argv)
    print(f"example-app {__version__} on {platform.python_implementation()} {platform.python_version()}")
    print("modules and their bytecode:")
    for line in bytecode_report(["example_app", "example_app.cli", "example_app.tips", "example_app.tips.picker"]):
        print(line)
    print("tip: " + pick_tip(args.tip))
    return 0
