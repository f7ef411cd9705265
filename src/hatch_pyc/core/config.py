"""The options, in one table: the hook's TOML keys, the ``convert`` and ``bundle`` flags, the
environment variables, and how each value is read. Parsed and validated up front, every
problem reported at once with where it was set.

Each option's key and flag are spelled here only: the command line (:mod:`hatch_pyc.cli`)
is made from :data:`TABLE`, and messages elsewhere name an option by its :class:`Option`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hatch_pyc.core import layouts
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.layouts import Layout
from hatch_pyc.core.naming import SCRIPT_NAME

INVALIDATION_MODES = ("checked-hash", "unchecked-hash", "timestamp")
OPTIMIZE_LEVELS = (0, 1, 2)
#: What a bundle does with extension modules: extract them at start-up, or refuse them.
EXTENSION_MODULE_CHOICES = ("extract", "refuse")
#: Where a bundle runs its pure-Python packages from: files extracted to the user cache, or
#: the archive itself.
RUN_FROM_CHOICES = ("cache", "archive")
#: ``module:function``, as in a console script entry point.
ENTRY_POINT_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", re.ASCII)
#: Keys hatchling itself reads from every build hook's table.
HATCHLING_KEYS = frozenset(
    {"dependencies", "enable-by-default", "require-runtime-dependencies", "require-runtime-features"}
)

Problems = list[str]


class ConfigError(HatchPycError):
    """The hook's configuration is invalid; ``problems`` lists each one with where it was set."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid configuration:\n{lines}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optimize(value: object, key: str, problems: Problems) -> tuple[int, ...]:
    levels = value if isinstance(value, list) else [value]
    if not levels or not all(_is_int(level) and level in OPTIMIZE_LEVELS for level in levels):
        problems.append(f"{key}: must be 0, 1, 2 or a non-empty list of them, got {value!r}")
        return ()
    if len(set(levels)) != len(levels):
        problems.append(f"{key}: lists a level twice: {value!r}")
    return tuple(sorted(set(levels)))


def _boolean(value: object, key: str, problems: Problems) -> bool:
    if not isinstance(value, bool):
        problems.append(f"{key}: must be true or false, got {value!r}")
    return bool(value)


def _choice(choices: tuple[str, ...]) -> Callable[[object, str, Problems], str]:
    def read(value: object, key: str, problems: Problems) -> str:
        if value not in choices:
            problems.append(f"{key}: must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return str(value)

    return read


def _layout(value: object, key: str, problems: Problems) -> Layout | None:
    """A wheel layout by its name; None, a problem appended, for another value."""
    name = _choice(layouts.WHEEL_LAYOUTS)(value, key, problems)
    return layouts.LAYOUTS[name] if name in layouts.WHEEL_LAYOUTS else None


def _globs(value: object, key: str, problems: Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        problems.append(f"{key}: must be a list of non-empty glob strings, got {value!r}")
        return ()
    return tuple(value)


def _python(value: object, key: str, problems: Problems) -> tuple[str, ...]:
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


def _jobs(value: object, key: str, problems: Problems) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{key}: must be a whole number of at least 1, got {value!r}")
        return 1
    return value


def _directory(value: object, key: str, problems: Problems) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        problems.append(f"{key}: must be a directory path, got {value!r}")
        return None
    return value


def _entry_point(value: object, key: str, problems: Problems) -> str | None:
    valid = isinstance(value, str) and (ENTRY_POINT_PATTERN.match(value) or SCRIPT_NAME.match(value))
    if value is not None and not valid:
        problems.append(
            f"{key}: must be 'module:function', e.g. 'mypkg.cli:main', or a console script's name, got {value!r}"
        )
    return value  # type: ignore[return-value]  # reported above when not a string


def _shebang(value: object, key: str, problems: Problems) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip() and "\n" not in value):
        problems.append(f"{key}: must be an interpreter path or command on one line, got {value!r}")
    return value  # type: ignore[return-value]  # reported above when not a string


def _table(value: object, key: str, problems: Problems) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        problems.append(f"{key}: must be a table, got {value!r}")
        return None
    return value


def _optional_boolean(value: object, key: str, problems: Problems) -> bool | None:
    return None if value is None else _boolean(value, key, problems)


#: How a flag takes its value, as argparse reads it.
FlagKind = str  # "value", "int", "switch" (on when given), "off" (--no-<key>), "either" (--x / --no-x)


@dataclass(frozen=True)
class Option:
    """One option: its TOML key, its flag on the commands that have one, and how it is read."""

    #: The TOML key, kebab-case, in the hook's table or (``zipapp``) in its ``zipapp`` table.
    key: str
    #: ``read(value, where, problems)``: the validated value, each problem appended.
    read: Callable[[object, str, Problems], Any]
    #: The value when the option is not set (None: not set, decided later).
    default: object = None
    #: One line for ``--help``.
    help: str = ""
    zipapp: bool = False
    #: The commands with a flag for it, and how the flag reads.
    commands: tuple[str, ...] = ("convert", "bundle")
    kind: FlagKind = "value"
    #: The commands on which the flag may be given again, for a list.
    repeated: tuple[str, ...] = ()
    #: The flag, where it is not ``--<key>``.
    flag_name: str | None = None
    #: The environment variable that overrides it.
    env: str | None = None

    @property
    def flag(self) -> str:
        return self.flag_name or (f"--no-{self.key}" if self.kind == "off" else f"--{self.key}")

    @property
    def attribute(self) -> str:
        return self.key.replace("-", "_")


LAYOUT = Option(
    "layout", _layout, layouts.ALONGSIDE.name,
    f"{layouts.ALONGSIDE.name} (default), {', '.join(layouts.WHEEL_LAYOUTS[1:-1])} or {layouts.WHEEL_LAYOUTS[-1]}",
    commands=("convert",),
    env="HATCH_PYC_LAYOUT",
)  # fmt: skip
PYTHON = Option(
    "python", _python, (), "interpreter to compile for (default: this one)", repeated=("convert",),
    env="HATCH_PYC_PYTHON",
)  # fmt: skip
OPTIMIZE = Option("optimize", _optimize, 0, "0, 1 or 2 (default 0)", kind="int", repeated=("convert",))
INVALIDATION_MODE = Option(
    "invalidation-mode", _choice(INVALIDATION_MODES), "checked-hash", "checked-hash, unchecked-hash, timestamp"
)
EXCLUDE = Option("exclude", _globs, [], "glob of modules not to compile", repeated=("convert", "bundle"))
KEEP_SOURCE = Option(
    "keep-source", _globs, [], "glob of modules that keep their source", repeated=("convert", "bundle")
)
JOBS = Option("jobs", _jobs, None, "worker processes (default: the CPU count)", kind="int")
COMPILE_SCRIPTS = Option(
    "compile-scripts", _boolean, None, "compile Python scripts in .data/scripts/ too", commands=("convert",),
    kind="switch",
)  # fmt: skip
CACHE = Option("cache", _boolean, True, "neither use nor fill the compile cache", kind="off")
CACHE_DIR = Option(
    "cache-dir", _directory, None, "the compile cache's directory (default: the user cache directory)",
    env="HATCH_PYC_CACHE_DIR",
)  # fmt: skip
DEBUG_RANGES = Option(
    "debug-ranges", _optional_boolean, None,
    "keep column positions in the code (default: only where the source ships beside the pyc)", kind="either",
)  # fmt: skip
COMPRESS = Option(
    "compress", _boolean, False, "deflate the zip layout's archive (default: stored)", commands=("convert",),
    kind="switch",
)  # fmt: skip
ZIPAPP = Option("zipapp", _table, None, commands=())
ENTRY_POINT = Option(
    "entry-point", _entry_point, None,
    "a console script's name or module:function to run (default: the only console script)", zipapp=True,
    commands=("bundle",),
)  # fmt: skip
SHEBANG = Option(
    "shebang", _shebang, None, "the #! line's interpreter (default: /usr/bin/env python3.X)", zipapp=True,
    commands=("bundle",),
)  # fmt: skip
INCLUDE_DEPENDENCIES = Option(
    "include-dependencies", _boolean, False, "bundle the dependencies too, installed for that interpreter",
    zipapp=True, commands=("bundle",), kind="switch", flag_name="--with-dependencies",
)  # fmt: skip
BUNDLE_COMPRESS = Option(
    "compress", _boolean, True, "deflate the entries (default); --no-compress stores them", zipapp=True,
    commands=("bundle",), kind="either",
)  # fmt: skip
EXTENSION_MODULES = Option(
    "extension-modules", _choice(EXTENSION_MODULE_CHOICES), "extract",
    "extract (default): extract them at start-up, the bundle being for this platform; refuse: fail instead",
    zipapp=True, commands=("bundle",),
)  # fmt: skip
RUN_FROM = Option(
    "run-from", _choice(RUN_FROM_CHOICES), "cache",
    "cache (default): extract each top-level package to the user cache at its first import, and run it "
    "from there as installed; archive: import pure-Python packages from the bundle, writing nothing for them",
    zipapp=True, commands=("bundle",),
)  # fmt: skip

#: Every option, in the order ``--help`` lists them.
TABLE = (
    LAYOUT,
    PYTHON,
    OPTIMIZE,
    ENTRY_POINT,
    SHEBANG,
    INCLUDE_DEPENDENCIES,
    BUNDLE_COMPRESS,
    RUN_FROM,
    EXTENSION_MODULES,
    INVALIDATION_MODE,
    EXCLUDE,
    KEEP_SOURCE,
    JOBS,
    CACHE,
    CACHE_DIR,
    DEBUG_RANGES,
    COMPILE_SCRIPTS,
    COMPRESS,
    ZIPAPP,
)
HOOK_OPTIONS = {option.key: option for option in TABLE if not option.zipapp}
ZIPAPP_OPTIONS = {option.key: option for option in TABLE if option.zipapp}


def command_options(command: str) -> tuple[Option, ...]:
    """The options ``command`` (``convert``, ``bundle``) takes as flags."""
    return tuple(option for option in TABLE if command in option.commands)


@dataclass(frozen=True)
class Zipapp:
    """Options of the ``.pyz`` bundle written beside the wheel."""

    #: ``module:function`` to run; None means the project's only console script.
    entry_point: str | None = None
    #: The ``#!`` line's interpreter; None means ``/usr/bin/env python3.X`` of the target.
    shebang: str | None = None
    include_dependencies: bool = False
    #: Deflate the entries: a third of the size, and every start inflates each module it imports.
    compress: bool = True
    #: One of :data:`RUN_FROM_CHOICES`.
    run_from: str = "cache"
    #: One of :data:`EXTENSION_MODULE_CHOICES`.
    extension_modules: str = "extract"


@dataclass(frozen=True)
class Options:
    """Validated options of the ``pyc`` build hook, made by :func:`parse_options` (or
    :func:`flag_options`): each field's default is its option's. Defaults derived from other
    options are properties here, nowhere else."""

    optimize: tuple[int, ...] = (0,)
    invalidation_mode: str = "checked-hash"
    exclude: tuple[str, ...] = ()
    #: Worker processes; None means :attr:`workers` decides.
    jobs: int | None = None
    layout: Layout = layouts.ALONGSIDE
    #: Target interpreters as the user named them; empty means the one running the build.
    python: tuple[str, ...] = ()
    keep_source: tuple[str, ...] = ()
    #: Compile Python scripts into modules; None means :attr:`compiles_scripts` decides.
    compile_scripts: bool | None = None
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
    #: Where each option was set or would be (its TOML path, flag or environment variable),
    #: by :func:`origin_key`: for messages, see :meth:`where`.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def several(self) -> bool:
        """A wheel for several interpreters (:meth:`~hatch_pyc.core.layouts.Layout.several`)."""
        return self.layout.several(len(self.python))

    @property
    def workers(self) -> int:
        """Worker processes to compile in: ``jobs``, else the CPU count."""
        return self.jobs or os.cpu_count() or 1

    @property
    def compiles_scripts(self) -> bool:
        """Whether Python scripts become modules: by default where sources leave, for one
        interpreter (a script's launcher runs one interpreter's bytecode)."""
        if self.compile_scripts is not None:
            return self.compile_scripts
        return not self.layout.keeps_sources and not self.several

    def where(self, option: Option) -> str:
        """How messages name ``option``: where it was set, else its flag."""
        return self.origins.get(origin_key(option), option.flag)


def origin_key(option: Option) -> str:
    """``option``'s key in :attr:`Options.origins`: the ``zipapp`` table's own keys apart."""
    return f"{ZIPAPP.key}.{option.key}" if option.zipapp else option.key


def _zipapp(value: object, key: str, problems: Problems, flags: bool, origins: dict[str, str]) -> Zipapp | None:
    table = ZIPAPP.read(value, key, problems)
    if table is None:
        return None

    def at(option: Option) -> str:
        return option.flag if flags else f"{key}.{option.key}"

    for name in sorted(set(table) - set(ZIPAPP_OPTIONS)):
        where = f"--{name}" if flags else f"{key}.{name}"
        problems.append(f"{where}: unknown option; valid options are: {', '.join(sorted(ZIPAPP_OPTIONS))}")
    origins.update({origin_key(option): at(option) for option in ZIPAPP_OPTIONS.values()})
    found = {
        option.attribute: option.read(table.get(option.key, option.default), at(option), problems)
        for option in ZIPAPP_OPTIONS.values()
    }
    return Zipapp(**found)


def flag_options(flags: Mapping[str, Any]) -> Options:
    """Validate options given as command-line flags (``convert``'s, ``bundle``'s), by the
    hook's option names; None means not given, tuples are lists. The flags say everything:
    only where the compile cache lives may come from the environment."""
    raw = {key: list(value) if isinstance(value, tuple) else value for key, value in flags.items() if value is not None}
    environ = {CACHE_DIR.env: os.environ[CACHE_DIR.env]} if CACHE_DIR.env and os.environ.get(CACHE_DIR.env) else {}
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
    problems: Problems = []

    def at(option: Option) -> str:
        """Where ``option`` was set: the environment, its TOML path, or its command-line flag."""
        # HATCH_PYC_CACHE_DIR is taken as it is: a cache-dir problem is where the TOML says it.
        if option.env and environ.get(option.env) and option is not CACHE_DIR:
            return f"{option.env} (environment)"
        return f"--{option.key}" if table is None else f"{table}.{option.key}"

    for key in sorted(set(raw) - set(HOOK_OPTIONS) - HATCHLING_KEYS):
        where = f"--{key}" if table is None else f"{table}.{key}"
        problems.append(f"{where}: unknown option; valid options are: {', '.join(sorted(HOOK_OPTIONS))}")

    origins = {origin_key(option): at(option) for option in HOOK_OPTIONS.values()}
    values: dict[str, Any] = {}
    for option in (OPTIMIZE, INVALIDATION_MODE, EXCLUDE, KEEP_SOURCE, JOBS, LAYOUT, PYTHON):
        value = raw.get(option.key, option.default)
        if option is JOBS and value is None:
            values[option.attribute] = None
            continue
        if option.env and environ.get(option.env):
            value = environ[option.env].strip()
            if option is PYTHON:
                value = environ[option.env].split(",")
        if option is PYTHON and value == ():
            values[option.attribute] = ()
            continue
        values[option.attribute] = option.read(value, at(option), problems)
    layout = values["layout"]
    values["compile_scripts"] = (
        COMPILE_SCRIPTS.read(raw[COMPILE_SCRIPTS.key], at(COMPILE_SCRIPTS), problems)
        if raw.get(COMPILE_SCRIPTS.key) is not None
        else None
    )
    values["zipapp"] = (
        _zipapp(raw[ZIPAPP.key], at(ZIPAPP), problems, table is None, origins) if ZIPAPP.key in raw else None
    )
    for option in (CACHE, DEBUG_RANGES, COMPRESS, CACHE_DIR):
        values[option.attribute] = option.read(raw.get(option.key, option.default), at(option), problems)
    cache_dir = values["cache_dir"]
    if CACHE_DIR.env and environ.get(CACHE_DIR.env, "").strip():
        values["cache_dir"] = os.path.abspath(environ[CACHE_DIR.env].strip())
    elif cache_dir is not None:
        values["cache_dir"] = os.path.abspath(os.path.join(root, os.path.expanduser(cache_dir)))

    archive = layout if layout is not None and layout.archive else None
    if values["invalidation_mode"] == "timestamp" and (archive is not None or values["zipapp"] is not None):
        # zipimport checks a timestamp pyc against its source entry's time in the archive.
        what = f"the {archive.name} layout (set by {at(LAYOUT)})" if archive is not None else at(ZIPAPP)
        problems.append(
            f"{at(INVALIDATION_MODE)}: 'timestamp' pycs cannot be trusted inside an archive, as "
            f"{what} needs; use 'checked-hash' or 'unchecked-hash'"
        )

    if layout is not None and layout.several(len(values["python"])) and raw.get(COMPILE_SCRIPTS.key) is True:
        problems.append(
            f"{at(COMPILE_SCRIPTS)}: a compiled script runs one interpreter's bytecode, and {at(PYTHON)} names "
            f"several for the {layout.name} layout (set by {at(LAYOUT)}); set it to false, or build one wheel per "
            "interpreter"
        )

    if problems:
        raise ConfigError(problems)
    return Options(origins=origins, **values)
