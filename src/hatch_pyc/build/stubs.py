"""What a sourceless or zip wheel ships besides its bytecode: the selector package
(:mod:`hatch_pyc._shipped.selector`, ending with this wheel's values) and, in place of each
top-level module and package ``__init__``, a stub that hands over to it. ``check`` and
``verify`` write them again from the wheel and require the same bytes."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping, Sequence

from hatch_pyc._shipped import selector
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.interpreters import Interpreter
from hatch_pyc.core.naming import distribution_id


class StubError(HatchPycError):
    """The modules cannot be laid out for several interpreters; the message says which and why."""


#: What every selector package's name starts with.
PREFIX = "_hatch_pyc_bytecode_"


def selector_package(distribution: str) -> str:
    """The selector package of ``distribution``: ``_hatch_pyc_bytecode_demo_pkg``."""
    return PREFIX + distribution_id(distribution)


def manifest(compiled: Collection[str], shipped: Collection[str]) -> dict[str, bool | None]:
    """:data:`hatch_pyc._shipped.selector.MODULES` for the module paths ``compiled`` into the trees:
    each module, each package, and each directory between them with no ``__init__.py`` among
    the ``shipped`` paths (a namespace package)."""
    modules: dict[str, bool | None] = {}
    for path in sorted(compiled):
        parts = path[: -len(".py")].split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if f"{directory}/__init__.py" not in shipped:
                modules.setdefault(directory.replace("/", "."), None)
        if parts[-1] == "__init__":
            modules[".".join(parts[:-1])] = True
        else:
            modules[".".join(parts)] = False
    return modules


def _top_level(modules: Mapping[str, bool | None], kept: Collection[str]) -> list[str]:
    """The module paths the stubs take the place of; StubError for a top level that cannot have one."""
    paths = []
    for name, kind in sorted(modules.items()):
        if "." in name:
            continue
        if kind is None:
            raise StubError(
                f"{name} is a namespace package (no {name}/__init__.py): a wheel for several interpreters selects "
                "its bytecode when a top-level module or package is imported; add the __init__.py, or build one "
                "wheel per interpreter"
            )
        paths.append(f"{name}/__init__.py" if kind else f"{name}.py")
    for path in sorted(kept):
        if "/" not in path or (path.endswith("/__init__.py") and path.count("/") == 1):
            raise StubError(
                f"keep-source names {path}, a top-level module: in a wheel for several interpreters its bytecode "
                "selects the rest; keep the source of modules below it instead"
            )
    return paths


def stub(package: str) -> bytes:
    """A top-level module's stub: ``__import__`` leaves no name behind in its globals."""
    return (
        b"# Written by hatch-pyc: runs this module's bytecode for the running interpreter (see "
        + package.encode()
        + b').\n__import__("'
        + package.encode()
        + b'").run(globals())\n'
    )


def selector_source(
    distribution: str, interpreters: Sequence[Interpreter], modules: Mapping[str, bool | None]
) -> bytes:
    """The selector package's ``__init__.py``: :mod:`hatch_pyc._shipped.selector` and this wheel's values."""
    with open(selector.__file__, "rb") as f:
        text = f.read()
    targets = {i.cache_tag: i.named for i in interpreters}
    values = (
        f"\n\n# This wheel's, written by hatch-pyc.\nDISTRIBUTION = {distribution!r}\n"
        f"TARGETS = {dict(sorted(targets.items()))!r}\nMODULES = {dict(sorted(modules.items()))!r}\n"
    )
    return text.rstrip(b"\n") + values.encode()


def files(
    *,
    distribution: str,
    version: str,
    interpreters: Sequence[Interpreter],
    compiled: Collection[str],
    kept: Collection[str],
    shipped: Collection[str],
) -> dict[str, bytes]:
    """The selector package and the stubs: ``{path in the wheel: bytes}``. ``compiled`` are the
    module paths whose bytecode is in the selector's tree, ``shipped`` the ``.py`` paths the
    wheel had, ``kept`` those that keep their source."""
    package = selector_package(distribution)
    modules = manifest(compiled, shipped)
    found = {f"{package}/__init__.py": selector_source(f"{distribution} {version}", interpreters, modules)}
    found.update({path: stub(package) for path in _top_level(modules, kept)})
    return found


def tree_entry(path: str, package: str) -> tuple[str, str] | None:
    """``(cache tag, module's pyc path)`` of a pyc in a selector package's tree, else None:
    ``_hatch_pyc_bytecode_demo_pkg/cpython-311/demo/core.pyc`` is ``("cpython-311", "demo/core.pyc")``."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != package or not path.endswith(".pyc"):
        return None
    return parts[1], posixpath.join(*parts[2:])
