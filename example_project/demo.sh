#!/usr/bin/env bash
# Build example_project with the hatch-pyc hook, install the wheel into a fresh venv and run
# `example-app`. Needs python3 (3.10+) and the package registries; leaves nothing behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet --disable-pip-version-check build
# hatch-pyc is not on PyPI here: build it first and let the isolated build find it.
"$work/tools/bin/python" -m build --wheel --outdir "$work/wheelhouse" "$repo" >/dev/null
PIP_FIND_LINKS="$work/wheelhouse" "$work/tools/bin/python" -m build --wheel --outdir "$work/dist" "$here" >/dev/null
wheel=$(ls "$work"/dist/*.whl)
echo "built $(basename "$wheel"), with these pycs:"
"$work/tools/bin/python" -m zipfile -l "$wheel" | grep '\.pyc' | awk '{print "  " $1}'

python3 -m venv "$work/app"
# --no-compile: keep the shipped pycs exactly as built (pip would otherwise rewrite them).
"$work/app/bin/pip" install --quiet --disable-pip-version-check --no-compile "$wheel"
echo "\$ example-app   (with PYTHONDONTWRITEBYTECODE=1: any pyc used is one the wheel shipped)"
PYTHONDONTWRITEBYTECODE=1 "$work/app/bin/example-app"
