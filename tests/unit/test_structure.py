"""The package's rooms and the one direction imports go between them.

Front ends (the top-level modules) → ``check`` and ``bundle`` → ``build`` → ``wheel`` →
``core`` → ``_shipped``. A module imports its own room and the rooms below it, never a room
above or beside it; ``_shipped`` imports nothing of hatch_pyc, since each of its modules runs
as a file of its own in another interpreter, a wheel or a bundle. No import circle, counting
the imports only type checkers read.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import hatch_pyc

PACKAGE = pathlib.Path(hatch_pyc.__file__).parent
#: Each room's rank: a module may import a room of lower rank, or its own.
RANKS = {"_shipped": 0, "core": 1, "wheel": 2, "build": 3, "check": 4, "bundle": 4, "": 5}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(("hatch_pyc", *parts))] = path
    return found


MODULES = _modules()


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else ""


def _imports(module: str) -> set[str]:
    """The hatch_pyc modules ``module`` imports, anywhere in its body."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def test_every_module_is_in_a_room() -> None:
    rooms = {_room(module) for module in MODULES}
    assert rooms <= set(RANKS), rooms - set(RANKS)
    assert {path.parent.name for path in PACKAGE.glob("*/__init__.py")} == set(RANKS) - {""}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down(module: str) -> None:
    room = _room(module)
    wrong = []
    for imported in sorted(_imports(module)):
        other = _room(imported)
        if room == "_shipped" or (other != room and RANKS[other] >= RANKS[room] and imported != "hatch_pyc"):
            wrong.append(imported)
    assert not wrong, f"{module} ({room or 'front end'}) imports {wrong}, which are not below it"


def test_no_import_circle() -> None:
    graph = {module: _imports(module) - {"hatch_pyc"} for module in MODULES}
    # Importing a room's module imports the room's __init__ first: not an edge that can loop here,
    # since no __init__ but the top one imports anything.
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycle = [*path[path.index(imported) :], imported] if imported in path else [module, imported]
                pytest.fail(f"import circle: {' -> '.join(cycle)}")
            if imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
