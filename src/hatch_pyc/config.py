"""The hook's options: parsed and validated up front, every problem reported at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hatch_pyc.errors import HatchPycError

LAYOUTS = ("alongside", "sourceless", "zip")
#: Layouts that ship no source for compiled modules: one interpreter, one pyc per module.
SOURCELESS_LAYOUTS = ("sourceless", "zip")
INVALIDATION_MODES = ("checked-hash", "unchecked-hash", "timestamp")
OPTIMIZE_LEVELS = (0, 1, 2)
#: Environment variables that override options, so a release job needs no pyproject edit.
PYTHON_ENV = "HATCH_PYC_PYTHON"
LAYOUT_ENV = "HATCH_PYC_LAYOUT"
CACHE_DIR_ENV = "HATCH_PYC_CACHE_DIR"

OPTIONS = frozenset(
    {
        "cache",
        "cache-dir",
        "compile-scripts",
        "compress",
        "debug-ranges",
        "exclude",
        "invalidation-mode",
        "jobs",
        "keep-source",
        "layout",
        "optimize",
        "python",
        "zipapp",
    }
)
ZIPAPP_OPTIONS = frozenset({"compress", "entry-point", "extension-modules", "include-dependencies", "shebang"})
#: What a bundle does with extension modules: extract them at start-up, or refuse them.
EXTENSION_MODULES = ("extract", "refuse")
#: ``module:function``, as in a console script entry point.
ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", re.ASCII)
#: Keys hatchling itself reads from every build hook's table.
HATCHLING_KEYS = frozenset(
    {"dependencies", "enable-by-default", "require-runtime-dependencies", "require-runtime-features"}
)


class ConfigError(HatchPycError):
    """The hook's configuration is invalid; ``problems`` lists each one with where it was set."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid configuration:\n{lines}")


@dataclass(frozen=True)
class Zipapp:
    """Options of the ``.pyz`` bundle written beside the wheel."""

    #: ``module:function`` to run; None means the project's only console script.
    entry_point: str | None = None
    #: The ``#!`` line's interpreter; None means ``/usr/bin/env python3.X`` of the target.
    shebang: str | None = None
    include_dependencies: bool = False
    #: Deflate the entries: smaller, but every start inflates each module it imports.
    compress: bool = False
    #: One of :data:`EXTENSION_MODULES`.
    extension_modules: str = "extract"


@dataclass(frozen=True)
class Options:
    """Validated options of the ``pyc`` build hook."""

    optimize: tuple[int, ...] = (0,)
    invalidation_mode: str = "checked-hash"
    exclude: tuple[str, ...] = ()
    jobs: int = 1
    layout: str = "alongside"
    #: Target interpreters as the user named them; empty means the one running the build.
    python: tuple[str, ...] = ()
    #: Where ``python`` was set (its TOML path or the environment variable), for messages.
    python_origin: str = field(default="python", compare=False)
    keep_source: tuple[str, ...] = ()
    compile_scripts: bool = False
    zipapp: Zipapp | None = None
    #: Reuse and keep pycs in the compile cache.
    cache: bool = True
    #: The compile cache's directory (absolute); None means the user cache directory.
    cache_dir: str | None = None
    #: Keep column positions in the code; None means where the source ships beside the pyc.
    debug_ranges: bool | None = None
    #: Deflate the zip layout's archive. Stored, it is bigger on disk, and zipimport reads
    #: each module without inflating it; the wheel is deflated anyway.
    compress: bool = False

    @property
    def sourceless(self) -> bool:
        return self.layout in SOURCELESS_LAYOUTS


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


def _boolean(value: object, key: str, problems: list[str]) -> bool:
    if not isinstance(value, bool):
        problems.append(f"{key}: must be true or false, got {value!r}")
    return bool(value)


def _choice(value: object, key: str, choices: tuple[str, ...], problems: list[str]) -> str:
    if value not in choices:
        problems.append(f"{key}: must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def _globs(value: object, key: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        problems.append(f"{key}: must be a list of non-empty glob strings, got {value!r}")
        return ()
    return tuple(value)


def _python(value: object, key: str, problems: list[str]) -> tuple[str, ...]:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        problems.append(
            f"{key}: must be an interpreter (a path, a command or a version such as '3.12') "
            f"or a non-empty list of them, got {value!r}"
        )
        return ()
    names = [str(name).strip() for name in names]
    if len(set(names)) != len(names):
        problems.append(f"{key}: names an interpreter twice: {value!r}")
    return tuple(names)


def _zipapp(value: object, key: str, problems: list[str], flags: bool) -> Zipapp | None:
    if not isinstance(value, Mapping):
        problems.append(f"{key}: must be a table, got {value!r}")
        return None

    def at(option: str) -> str:
        return zipapp_flag(option) if flags else f"{key}.{option}"

    for name in sorted(set(value) - ZIPAPP_OPTIONS):
        problems.append(f"{at(name)}: unknown option; valid options are: {', '.join(sorted(ZIPAPP_OPTIONS))}")
    entry_point = value.get("entry-point")
    if entry_point is not None and not (isinstance(entry_point, str) and ENTRY_POINT.match(entry_point)):
        problems.append(f"{at('entry-point')}: must be 'module:function', e.g. 'mypkg.cli:main', got {entry_point!r}")
    shebang = value.get("shebang")
    if shebang is not None and not (isinstance(shebang, str) and shebang.strip() and "\n" not in shebang):
        problems.append(f"{at('shebang')}: must be an interpreter path or command on one line, got {shebang!r}")
    return Zipapp(
        entry_point=entry_point,
        shebang=shebang,
        include_dependencies=_boolean(value.get("include-dependencies", False), at("include-dependencies"), problems),
        compress=_boolean(value.get("compress", False), at("compress"), problems),
        extension_modules=_choice(
            value.get("extension-modules", "extract"), at("extension-modules"), EXTENSION_MODULES, problems
        ),
    )


def zipapp_flag(option: str) -> str:
    """The ``bundle`` command's flag for a ``zipapp`` option."""
    return "--with-dependencies" if option == "include-dependencies" else f"--{option}"


def flag_options(flags: Mapping[str, Any]) -> Options:
    """Validate options given as command-line flags (``convert``'s, ``bundle``'s), by the
    hook's option names; None means not given, tuples are lists. The flags say everything:
    only where the compile cache lives may come from the environment."""
    raw = {key: list(value) if isinstance(value, tuple) else value for key, value in flags.items() if value is not None}
    environ = {CACHE_DIR_ENV: os.environ[CACHE_DIR_ENV]} if os.environ.get(CACHE_DIR_ENV) else {}
    return parse_options(raw, None, environ, root=os.getcwd())


def parse_options(
    raw: Mapping[str, Any], table: str | None, environ: Mapping[str, str] | None = None, root: str = "."
) -> Options:
    """Validate the hook table ``raw`` found at TOML path ``table``, and the environment.

    ``table`` None means the options came from command-line flags (``convert``'s), and
    problems name them as flags. ``HATCH_PYC_PYTHON`` (comma-separated for several), ``HATCH_PYC_LAYOUT`` and
    ``HATCH_PYC_CACHE_DIR`` in ``environ`` (default: ``os.environ``) override the ``python``,
    ``layout`` and ``cache-dir`` options. A relative ``cache-dir`` is taken from the
    project's ``root``, a relative ``HATCH_PYC_CACHE_DIR`` from the working directory.
    Raises :class:`ConfigError` naming every invalid or unknown key, so one build shows the
    user everything to fix.
    """
    environ = os.environ if environ is None else environ
    problems: list[str] = []

    def at(key: str) -> str:
        """Where option ``key`` was set: its TOML path, or its command-line flag."""
        return f"--{key}" if table is None else f"{table}.{key}"

    for key in sorted(set(raw) - OPTIONS - HATCHLING_KEYS):
        problems.append(f"{at(key)}: unknown option; valid options are: {', '.join(sorted(OPTIONS))}")

    optimize = _optimize(raw.get("optimize", 0), at("optimize"), problems)
    mode = _choice(
        raw.get("invalidation-mode", "checked-hash"),
        at("invalidation-mode"),
        INVALIDATION_MODES,
        problems,
    )
    exclude = _globs(raw.get("exclude", []), at("exclude"), problems)
    keep_source = _globs(raw.get("keep-source", []), at("keep-source"), problems)

    jobs = raw.get("jobs", os.cpu_count() or 1)
    if not _is_int(jobs) or jobs < 1:
        problems.append(f"{at('jobs')}: must be a whole number of at least 1, got {jobs!r}")
        jobs = 1

    if environ.get(LAYOUT_ENV):
        layout_key = f"{LAYOUT_ENV} (environment)"
        layout = _choice(environ[LAYOUT_ENV].strip(), layout_key, LAYOUTS, problems)
    else:
        layout_key = at("layout")
        layout = _choice(raw.get("layout", "alongside"), layout_key, LAYOUTS, problems)

    if environ.get(PYTHON_ENV):
        python_key = f"{PYTHON_ENV} (environment)"
        python = _python(environ[PYTHON_ENV].split(","), python_key, problems)
    else:
        python_key = at("python")
        python = _python(raw["python"], python_key, problems) if "python" in raw else ()

    compile_scripts = _boolean(
        raw.get("compile-scripts", layout in SOURCELESS_LAYOUTS), at("compile-scripts"), problems
    )

    zipapp = _zipapp(raw["zipapp"], at("zipapp"), problems, table is None) if "zipapp" in raw else None

    cache = _boolean(raw.get("cache", True), at("cache"), problems)
    debug_ranges = _boolean(raw["debug-ranges"], at("debug-ranges"), problems) if "debug-ranges" in raw else None
    compress = _boolean(raw.get("compress", False), at("compress"), problems)
    cache_dir = raw.get("cache-dir")
    if cache_dir is not None and not (isinstance(cache_dir, str) and cache_dir.strip()):
        problems.append(f"{at('cache-dir')}: must be a directory path, got {cache_dir!r}")
        cache_dir = None
    if environ.get(CACHE_DIR_ENV, "").strip():
        cache_dir = os.path.abspath(environ[CACHE_DIR_ENV].strip())
    elif cache_dir is not None:
        cache_dir = os.path.abspath(os.path.join(root, os.path.expanduser(cache_dir)))

    if mode == "timestamp" and (layout == "zip" or zipapp is not None):
        # zipimport checks a timestamp pyc against its source entry's time in the archive.
        what = f"the zip layout (set by {layout_key})" if layout == "zip" else at("zipapp")
        problems.append(
            f"{at('invalidation-mode')}: 'timestamp' pycs cannot be trusted inside an archive, as "
            f"{what} needs; use 'checked-hash' or 'unchecked-hash'"
        )

    if layout in SOURCELESS_LAYOUTS and len(python) > 1:
        problems.append(
            f"{python_key}: a {layout} wheel runs on one interpreter only; name one, got {list(python)} "
            f"(several interpreters are for the alongside layout; layout set by {layout_key}; "
            f"{PYTHON_ENV} overrides this option)"
        )

    if problems:
        raise ConfigError(problems)
    return Options(
        optimize=optimize,
        invalidation_mode=mode,
        exclude=exclude,
        jobs=jobs,
        layout=layout,
        python=python,
        python_origin=python_key,
        keep_source=keep_source,
        compile_scripts=compile_scripts,
        zipapp=zipapp,
        cache=cache,
        cache_dir=cache_dir,
        debug_ranges=debug_ranges,
        compress=compress,
    )
