"""Compiled scripts: a script's code moves into a module, and a launcher takes its place.

Python never caches the bytecode of a file it runs as a script, so a Python script in a
wheel's ``.data/scripts/`` is compiled at every start. Moving its code into a module of the
wheel gives it a pyc like any other module; the installed script becomes a two-line
launcher that runs that code object in its own ``__main__``, so ``sys.argv``, ``__name__``,
``__file__`` and exit codes are what the original script saw.
"""

from __future__ import annotations

import os
import re

from hatch_pyc.core.discovery import Module

#: The package compiled scripts live in: a namespace package, shared by every distribution.
PACKAGE = "_hatch_pyc_scripts"
#: A Python shebang, as installers recognise it (the wheel spec's "#!python" rewriting).
PYTHON_SHEBANG = re.compile(rb"^#!.*(?:pythonw?|pypyw?)[0-9.]*(?:\s.*)?$", flags=re.DOTALL)
#: Installers only look at the first line, and a shebang longer than this does not work.
MAX_SHEBANG_LENGTH = 512


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name, flags=re.ASCII)
    return f"_{ident}" if ident[:1].isdigit() else ident


def python_shebang(data: bytes) -> bytes | None:
    """The first line of ``data`` if it is a Python shebang, else None."""
    first = data.split(b"\n", 1)[0]
    if len(first) < MAX_SHEBANG_LENGTH and PYTHON_SHEBANG.match(first):
        return first
    return None


#: What follows the interpreter in a Python shebang (its arguments), as the wheel spec keeps it.
_SHEBANG_REST = re.compile(rb"^#!.*(?:pythonw?|pypyw?)[0-9.]*(.*)", flags=re.DOTALL)


def as_in_wheel(data: bytes) -> bytes:
    """A Python script as a wheel carries it: the shebang written ``#!python`` (the wheel
    spec's rewriting, which hatchling applies), the arguments after the interpreter kept.

    A compiled script's module holds these bytes, so that the hook and ``convert`` (which
    sees only the wheel's copy) compile the same source.
    """
    first, newline, rest = data.partition(b"\n")
    match = _SHEBANG_REST.match(first)
    return b"#!python" + match.group(1) + newline + rest if match else data


def module_name(distribution: str, script: str) -> str:
    """The dotted name of the module holding ``script``'s code, e.g. ``_hatch_pyc_scripts.pkg.tool``."""
    return f"{PACKAGE}.{_identifier(distribution)}.{_identifier(script.rsplit('/', 1)[-1])}"


def module_path(name: str) -> str:
    """The module's source path in the wheel, e.g. ``_hatch_pyc_scripts/pkg/tool.py``."""
    return name.replace(".", "/") + ".py"


def launcher(shebang: bytes, module: str) -> bytes:
    """The script installed in place of the original.

    It keeps the original first line, so the installer rewrites the shebang exactly as it
    would have. The code runs with ``exec`` in the launcher's own globals, which makes it
    ``__main__`` with the launcher's ``__file__``; going through ``__import__`` leaves no
    helper names behind in those globals.
    """
    return (
        shebang + b"\n"
        b"# Launcher written by hatch-pyc: this script's code is compiled in module " + module.encode() + b".\n"
        b'exec(__import__("importlib.util", fromlist=["find_spec"]).find_spec("' + module.encode() + b'")'
        b'.loader.get_code("' + module.encode() + b'"))\n'
    )


def compile_script(
    data: bytes, *, distribution: str, script: str, display: str, out_dir: str
) -> tuple[Module, bytes] | None:
    """The module to compile in place of the script ``script`` (its path in the wheel's
    scripts), its source written under ``out_dir`` as the wheel carries it, and the launcher
    that replaces the script; None for a script that is not Python."""
    shebang = python_shebang(data)
    if shebang is None:
        return None
    name = module_name(distribution, script)
    path = module_path(name)
    source = os.path.join(out_dir, "scripts", *path.split("/"))
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, "wb") as f:
        f.write(as_in_wheel(data))
    return Module(source=source, path=path, display=display, filename=script), launcher(shebang, name)
