"""The hook's options: parsed and validated up front, every problem reported at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LAYOUTS = ("alongside",)
#: Layouts that later versions of hatch-pyc add; named so the error can say so.
PLANNED_LAYOUTS = ("sourceless", "zip")
INVALIDATION_MODES = ("checked-hash", "unchecked-hash", "timestamp")
OPTIMIZE_LEVELS = (0, 1, 2)

#: Keys hatchling itself reads from every build hook's table.
HATCHLING_KEYS = frozenset(
    {"dependencies", "enable-by-default", "require-runtime-dependencies", "require-runtime-features"}
)


class ConfigError(ValueError):
    """The hook's configuration is invalid; ``problems`` lists each one with its TOML path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"hatch-pyc: invalid configuration in pyproject.toml:\n{lines}")


@dataclass(frozen=True)
class Options:
    """Validated options of the ``pyc`` build hook."""

    optimize: tuple[int, ...] = (0,)
    invalidation_mode: str = "checked-hash"
    exclude: tuple[str, ...] = ()
    jobs: int = 1
    layout: str = "alongside"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optimize(value: object, key: str, problems: list[str]) -> tuple[int, ...]:
    levels = value if isinstance(value, list) else [value]
    if not levels or not all(_is_int(level) and level in OPTIMIZE_LEVELS for level in levels):
        problems.append(f"{key}: must be 0, 1, 2 or a non-empty list of them, got {value!r}")
        return ()
    if len(set(levels)) != len(levels):
        problems.append(f"{key}: lists a level twice: {value!r}")
    return tuple(sorted(set(levels)))


def _choice(value: object, key: str, choices: tuple[str, ...], problems: list[str]) -> str:
    if value not in choices:
        problems.append(f"{key}: must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def parse_options(raw: Mapping[str, Any], table: str) -> Options:
    """Validate the hook table ``raw`` found at TOML path ``table``.

    Raises :class:`ConfigError` naming every invalid or unknown key, so one build shows the
    user everything to fix.
    """
    problems: list[str] = []
    known = {"optimize", "invalidation-mode", "exclude", "jobs", "layout"}
    for key in sorted(set(raw) - known - HATCHLING_KEYS):
        problems.append(f"{table}.{key}: unknown option; valid options are: {', '.join(sorted(known))}")

    optimize = _optimize(raw.get("optimize", 0), f"{table}.optimize", problems)
    mode = _choice(
        raw.get("invalidation-mode", "checked-hash"),
        f"{table}.invalidation-mode",
        INVALIDATION_MODES,
        problems,
    )

    exclude = raw.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
        problems.append(f"{table}.exclude: must be a list of non-empty glob strings, got {exclude!r}")
        exclude = []

    jobs = raw.get("jobs", os.cpu_count() or 1)
    if not _is_int(jobs) or jobs < 1:
        problems.append(f"{table}.jobs: must be a whole number of at least 1, got {jobs!r}")
        jobs = 1

    layout = raw.get("layout", "alongside")
    if layout in PLANNED_LAYOUTS:
        problems.append(
            f"{table}.layout: {layout!r} is not available in this version of hatch-pyc; "
            f"available: {', '.join(map(repr, LAYOUTS))}"
        )
    else:
        _choice(layout, f"{table}.layout", LAYOUTS, problems)

    if problems:
        raise ConfigError(problems)
    return Options(optimize=optimize, invalidation_mode=mode, exclude=tuple(exclude), jobs=jobs, layout=layout)
