"""Target interpreters: finding them, asking them who they are, and how wheels name them.

The bytecode in a wheel belongs to one interpreter version. The build may run on another
one (hatchling needs 3.10+, targets go back to 3.8), so a target is named by the user, found
on disk, and asked for its own cache tag and magic number rather than guessed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.tags import INTERPRETER_SHORT_NAMES
from packaging.version import Version

from hatch_pyc._shipped import worker
from hatch_pyc.core import processes
from hatch_pyc.core.errors import HatchPycError

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

#: The oldest interpreter hatch-pyc compiles for: the worker keeps to its syntax.
OLDEST = (3, 8)
#: The newest version of each implementation whose marshal format hatch-pyc reads, and whose
#: compiler it has tested. PyPy marshals its code objects as CPython 3.8 to 3.10 does.
NEWEST = {"cpython": (3, 15), "pypy": (3, 11)}
SUPPORTED = "CPython 3.8 to 3.15 and PyPy 3.8 to 3.11"
#: A target named by version alone, e.g. ``"3.12"``, or ``"3.14t"`` for a free-threaded build.
VERSION_SPEC = re.compile(r"^(\d+)\.(\d+)(t?)$")
PROBE_TIMEOUT = 60
_NUMBER = re.compile(r"(\d+)")


class TargetError(HatchPycError):
    """A target interpreter cannot be found or used; the message says which and why."""


@dataclass(frozen=True)
class Interpreter:
    """An interpreter bytecode is compiled for: what the bytecode metadata records."""

    implementation: str
    version: str
    cache_tag: str
    magic_number: str
    #: A free-threaded CPython build (``python3.14t``): the same bytecode and cache tag as the
    #: default build, so the same wheel tag; recorded so that a reader knows which built it.
    free_threaded: bool = False

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def has_columns(self) -> bool:
        """Whether its code records column positions (CPython 3.11 and newer), which
        ``-X no_debug_ranges`` turns off."""
        return self.implementation == "cpython" and self.minor >= (3, 11)

    @property
    def named(self) -> str:
        """How messages name it: ``CPython 3.11``, ``PyPy 3.10``."""
        name = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        return f"{name} {self.minor[0]}.{self.minor[1]}"

    @property
    def python_tag(self) -> str:
        """The wheel python tag, e.g. ``cp311``."""
        short = INTERPRETER_SHORT_NAMES.get(self.implementation, self.implementation)
        return f"{short}{self.minor[0]}{self.minor[1]}"


@dataclass(frozen=True)
class Target:
    """A target interpreter: the executable to run the workers with, what it is, and what
    its one probe said of it (:func:`hatch_pyc._shipped.worker.interpreter_facts`)."""

    executable: str
    interpreter: Interpreter
    #: Where it installs a wheel's files: ``{"paths": {scheme: directory}, "include": ...,
    #: "executable": its sys.executable}``.
    scheme: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: Which native code it loads: ``platform``, ``soabi``, ``sys_platform``, ``machine``, ``suffixes``.
    platform: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: Where its import system looks: ``path`` (``sys.path`` at start-up, absolute) and ``stdlib``
    #: (the top-level names of its standard library and built-in modules).
    imports: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


#: A number in a :func:`version_order` key: by value (digits without leading zeros, how many
#: then which), then as written, so that any text sorts without ``int()``, whose limit of 4,300
#: digits a crafted Tag line or bytecode metadata would pass, and in time linear in its length.
_Number = tuple[int, str, str]
#: No minor version: before any.
_NO_MINOR: _Number = (-1, "", "")


def _number(digits: str) -> _Number:
    value = digits.lstrip("0")
    return len(value), value, digits


def version_order(text: str) -> tuple[str | tuple[_Number, _Number], ...]:
    """A sort key that puts interpreter names, wheel tags and cache tags in version order, not
    text order: ``cp39`` before ``cp311``, ``cpython-39`` before ``cpython-311``, ``CPython 3.9``
    before ``CPython 3.15``.

    A number right after a letter or a ``-`` is a tag's major and minor written together
    (``311`` is 3.11); any other number is compared as a number. Total on any text, numbers of
    any length included.
    """
    parts = _NUMBER.split(text)
    key: list[str | tuple[_Number, _Number]] = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            key.append(part)
        elif parts[index - 1][-1:].isalpha() or parts[index - 1].endswith("-"):
            key.append((_number(part[0]), _number(part[1:]) if len(part) > 1 else _NO_MINOR))
        else:
            key.append((_number(part), _NO_MINOR))
    return tuple(key)


def in_version_order(items: Iterable[Interpreter]) -> list[Interpreter]:
    """``items`` by implementation, then version: CPython 3.9 before CPython 3.15."""
    return sorted(items, key=lambda i: (i.implementation, i.minor, i.free_threaded, i.version))


def running() -> Target:
    """The interpreter running the build."""
    return _target(sys.executable, worker.interpreter_facts())


def _target(executable: str, facts: dict[str, Any]) -> Target:
    return Target(executable, Interpreter(**facts["interpreter"]), facts["scheme"], facts["platform"], facts["imports"])


def pyenv_root() -> str:
    return os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")


def _pyenv_pythons(major: str, minor: str, suffix: str = "") -> list[str]:
    """pyenv's CPython ``major.minor.*`` installs (``major.minor.*t`` with suffix ``t``),
    newest patch first."""
    versions = os.path.join(pyenv_root(), "versions")
    try:
        names = os.listdir(versions)
    except OSError:
        return []
    pattern = re.compile(rf"^{major}\.{minor}\.(\d+){suffix}$")
    found = sorted(((int(m.group(1)), name) for name in names if (m := pattern.match(name))), reverse=True)
    return [os.path.join(versions, name, "bin", "python") for _, name in found]


def probe(executable: str) -> Target:
    """Ask ``executable`` to describe itself; raises :class:`TargetError` if it cannot."""
    try:
        result = processes.run_once(executable, ["--info"], PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TargetError(f"{executable} could not be run: {exc}") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or [f"exit status {result.returncode}"]
        raise TargetError(f"{executable} is not a working Python {OLDEST[0]}.{OLDEST[1]}+: {lines[0]}")
    try:
        facts = json.loads(result.stdout)
        protocol = facts.get("protocol") if isinstance(facts, dict) else None
        if protocol != worker.PROTOCOL:
            raise TargetError(
                f"{executable} runs a hatch-pyc worker of protocol {protocol!r}, not {worker.PROTOCOL}: "
                "hatch_pyc/_shipped/worker.py is not the one of this hatch-pyc"
            )
        target = _target(executable, facts)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise TargetError(f"{executable} did not describe itself: {result.stdout.strip()[:200]!r}") from None
    interpreter = target.interpreter
    newest = NEWEST.get(interpreter.implementation)
    if newest is None or not OLDEST <= interpreter.minor <= newest:
        raise TargetError(
            f"{executable} is {interpreter.implementation} {interpreter.version}; hatch-pyc compiles for {SUPPORTED}"
        )
    if not interpreter.cache_tag:
        raise TargetError(
            f"{executable} has no cache tag (sys.implementation.cache_tag is None): it was built to read no "
            "__pycache__ directory, and hatch-pyc supports no such build"
        )
    return target


def find(spec: str) -> Target:
    """Find the interpreter ``spec`` names: a path, a command on PATH, or ``"3.12"``.

    A version is looked for as ``python3.12`` on PATH and then under pyenv; candidates that
    do not run or are another version (a pyenv shim for a version that is not active, say)
    are skipped. Raises :class:`TargetError` saying where it looked, or, for a version hatch-pyc
    does not compile for, which ones it does (before looking).
    """
    version = VERSION_SPEC.match(spec)
    if version is None:
        if os.sep in spec or (os.altsep and os.altsep in spec):
            if not os.path.isfile(spec):
                raise TargetError(f"{spec} does not exist")
            executable = os.path.abspath(spec)
        else:
            found = shutil.which(spec)
            if found is None:
                raise TargetError(f"no command {spec!r} on PATH")
            executable = found
        return probe(executable)

    major, minor, suffix = version.groups()
    kind = "free-threaded CPython" if suffix else "CPython"
    if not OLDEST <= (int(major), int(minor)) <= NEWEST["cpython"]:
        raise TargetError(f"{kind} {major}.{minor} is not a supported target: hatch-pyc compiles for {SUPPORTED}")
    candidates = []
    on_path = shutil.which(f"python{major}.{minor}{suffix}")
    if on_path:
        candidates.append(on_path)
    candidates.extend(_pyenv_pythons(major, minor, suffix))
    rejected = []
    for candidate in candidates:
        try:
            target = probe(candidate)
        except TargetError as exc:
            rejected.append(exc.message)
            continue
        interpreter = target.interpreter
        if interpreter.minor == (int(major), int(minor)) and interpreter.free_threaded == bool(suffix):
            return target
        rejected.append(f"{candidate} is {interpreter.version}{' free-threaded' if interpreter.free_threaded else ''}")
    looked = f"python{spec} on PATH and {os.path.join(pyenv_root(), 'versions', f'{major}.{minor}.*{suffix}')}"
    detail = "".join(f"; {reason}" for reason in rejected)
    raise TargetError(f"no {kind} {major}.{minor} found (looked for {looked}{detail})")


def find_soon(spec: str | None) -> Callable[[], Target]:
    """Start finding the interpreter ``spec`` names (:func:`find`; the running one for None)
    in a thread, so that its probe runs on another core while the caller imports and opens
    what it needs. The function returned waits for it: the target, or what :func:`find` raised."""
    if not spec:
        return running
    outcome: list[Target | Exception] = []

    def look() -> None:
        try:
            outcome.append(find(spec))
        except Exception as exc:  # raised again by found(), in the caller's thread
            outcome.append(exc)

    thread = threading.Thread(target=look, daemon=True)
    thread.start()

    def found() -> Target:
        thread.join()
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    return found


def abi_tag(target: Target) -> str:
    """The target's ABI as packaging names it: ``cpython-311-x86_64-linux-gnu`` is ``cp311``,
    ``pypy311-pp73`` is ``pypy311_pp73``; ``none`` where it has none."""
    soabi = target.platform["soabi"].split("-")
    if soabi[0] == "cpython" and len(soabi) > 1:
        return f"cp{soabi[1]}"
    return "_".join(soabi[:2]) or "none"


def platform_tag(target: Target) -> str:
    """The target's platform as a wheel tag: ``linux_x86_64``, ``macosx_11_0_arm64``."""
    return str(target.platform["platform"]).replace("-", "_").replace(".", "_")


def wheel_tags(targets: Sequence[Target]) -> str:
    """The tag of a wheel of bytecode for ``targets``: one target's :func:`wheel_tag`, or for
    several CPython versions a compressed tag set, ``cp310.cp311-none-any``."""
    if len(targets) == 1:
        return wheel_tag(targets[0])
    return ".".join(sorted({t.interpreter.python_tag for t in targets}, key=version_order)) + "-none-any"


def wheel_tag(target: Target) -> str:
    """The tag of a wheel whose bytecode only this interpreter version can load.

    CPython: ``cp311-none-any``. PyPy: ``pp311-none.pypy311_pp73-any.manylinux_2_17_x86_64``,
    a compressed tag set. pip takes ``pp311-none-any`` on any PyPy 3.11; uv (0.13) takes no
    ``ppXY-none-any`` on PyPy, only the interpreter's own ABI on a platform, so the set adds
    those of the target. The wheel holds no native code, so the oldest manylinux claims
    nothing false, and PyPI refuses ``linux_*`` tags.
    """
    interpreter = target.interpreter
    if interpreter.implementation != "pypy":
        return f"{interpreter.python_tag}-none-any"
    platform = platform_tag(target)
    if platform.startswith("linux_"):
        platform = "manylinux_2_17_" + platform[len("linux_") :]
    return f"{interpreter.python_tag}-none.{abi_tag(target)}-any.{platform}"


def parse_requires_python(requires_python: str) -> SpecifierSet:
    """The project's ``requires-python``; :class:`TargetError` if it is not a specifier set."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # the build's alone: check imports less

    try:
        return SpecifierSet(requires_python)
    except InvalidSpecifier as exc:
        raise TargetError(f"project.requires-python is invalid: {exc}") from None


def narrowed_requires_python(requires_python: str, interpreters: Sequence[Interpreter]) -> str:
    """The project's ``requires-python`` narrowed to the interpreters' minor versions:
    ``==3.11.*`` for one, ``>=3.10,<3.14,!=3.12.*`` for 3.10, 3.11 and 3.13.

    Raises :class:`TargetError` when the project's own range excludes an interpreter: such
    a wheel could not be installed there.
    """
    from packaging.specifiers import SpecifierSet

    project = parse_requires_python(requires_python)
    check_admitted(project, interpreters)
    minors = sorted({interpreter.minor for interpreter in interpreters})
    if len(minors) == 1:
        return str(project & SpecifierSet("=={}.{}.*".format(*minors[0])))
    (major, low), (_, high) = minors[0], minors[-1]
    gaps = [f"!={major}.{minor}.*" for minor in range(low, high) if (major, minor) not in minors]
    return str(project & SpecifierSet(",".join([f">={major}.{low}", f"<{major}.{high + 1}", *gaps])))


def check_admitted(requires_python: SpecifierSet, interpreters: Sequence[Interpreter]) -> None:
    """Raise :class:`TargetError` if ``requires_python`` excludes any of ``interpreters``."""
    excluded = [i for i in interpreters if not requires_python.contains(Version(i.version), prereleases=True)]
    if excluded:
        names = ", ".join(f"{i.implementation} {i.version}" for i in excluded)
        raise TargetError(
            f"project.requires-python {str(requires_python)!r} excludes the target interpreter ({names}); "
            "change requires-python or the `python` option"
        )
