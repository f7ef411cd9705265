"""The ``hatch-pyc`` command: inspect, check, install, convert, bundle and verify wheels, and ``.pyz`` bundles.

Exit status: 0 when all is well, 1 when the artifact does not fit (one line per problem),
2 for anything else: input the command cannot use, an interpreter it cannot find, a limit
reached (one ``hatch-pyc: ...`` line on stderr, never a traceback); for several artifacts,
the worst of theirs. Text that comes from an artifact is printed with its control characters
escaped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from hatch_pyc import __version__
from hatch_pyc.core import config
from hatch_pyc.core.errors import HatchPycError, printable
from hatch_pyc.core.interpreters import find_soon, version_order

if TYPE_CHECKING:
    from hatch_pyc.build.cache import CompileCache
    from hatch_pyc.build.pipeline import Session
    from hatch_pyc.check.checker import Inspection

OK, MISMATCH, UNUSABLE = 0, 1, 2


def _size(count: int) -> str:
    return f"{count / 1e3:.1f} kB" if count < 1e6 else f"{count / 1e6:.2f} MB"


def _describe(inspection: Inspection) -> list[str]:
    lines = [f"file: {inspection.file}", f"kind: {inspection.kind}"]
    if inspection.name:
        lines += [
            f"distribution: {inspection.name} {inspection.version}",
            f"tags: {', '.join(sorted(inspection.tags, key=version_order))}",
        ]
    meta = inspection.bytecode_metadata
    if meta is None:
        lines.append("built by: not hatch-pyc (no bytecode metadata)")
    else:
        lines += [
            f"built by: hatch-pyc {meta.get('hatch_pyc_version', '?')}",
            f"layout: {inspection.layout}",
            f"optimize: {', '.join(map(str, meta.get('optimize', [])))}",
            f"invalidation mode: {meta.get('invalidation_mode', '?')}",
        ]
        lines += [
            f"interpreter: {i['implementation']} {i['version']}{' free-threaded' if i.get('free_threaded') else ''} "
            f"({i['python_tag']}, cache tag {i['cache_tag']}, magic {i['magic_number']})"
            for i in inspection.interpreters
        ]
    lines += [
        f"modules: {inspection.modules}" if meta else "modules: unknown",
        f"pycs: {inspection.pycs}",
        f"sources: {inspection.sources}",
        f"size: {_size(inspection.size)} ({_size(inspection.uncompressed_size)} uncompressed)",
    ]
    return lines


#: What a command does with one artifact: its exit status, its JSON object and its lines.
Outcome = tuple[int, dict[str, Any], list[str]]


def _each_artifact(args: argparse.Namespace, run: Callable[[str], Outcome]) -> int:
    """Run ``run`` on each artifact given, in order: one block of lines each (an empty line
    between blocks), or with ``--json`` one object, or for several a list of them (an
    artifact that cannot be used is ``{"file": ..., "error": ...}`` there). One that cannot be
    used says so on stderr and the others go on; the exit status is the worst of theirs."""
    if len(args.artifact) == 1:
        code, document, lines = run(args.artifact[0])
        if args.json:
            _json(document)
        for line in [] if args.json else lines:
            _say(line)
        return code
    worst, documents, printed = OK, [], False
    for path in args.artifact:
        try:
            code, document, lines = run(path)
        except HatchPycError as exc:
            _error(exc)
            code, document, lines = UNUSABLE, {"file": path, "error": exc.message}, []
        worst = max(worst, code)
        documents.append(document)
        if lines and not args.json:
            if printed:
                _say("")
            for line in lines:
                _say(line)
            printed = True
    if args.json:
        _json(documents)
    return worst


def _inspect(args: argparse.Namespace) -> int:
    from hatch_pyc.check.checker import inspect_artifact

    def run(path: str) -> Outcome:
        inspection = inspect_artifact(path)
        return OK, inspection.as_dict(), _describe(inspection)

    return _each_artifact(args, run)


def _check(args: argparse.Namespace) -> int:
    found = find_soon(args.python)  # its probe runs while the checker is imported
    from hatch_pyc.check.checker import check_for

    cache = _cache(args) if args.verify_code else None

    def run(path: str) -> Outcome:
        result = check_for(path, found(), verify_code=args.verify_code, jobs=args.jobs, cache=cache)
        target = result.target
        name = os.path.basename(path)
        if not result.ok:
            return MISMATCH, result.as_dict(), [f"{name}: {problem}" for problem in result.problems]
        if args.quiet:
            return OK, result.as_dict(), []
        lines = [
            f"ok: {name} fits {target.implementation} {target.version} "
            f"({target.python_tag}, magic {target.magic_number})",
            *(f"note: {note}" for note in result.notes),
            *(f"start-up code: {code}" for code in result.startup),
        ]
        return OK, result.as_dict(), lines

    return _each_artifact(args, run)


def _install(args: argparse.Namespace) -> int:
    from hatch_pyc.install import InstallRefused, find_environment, install_wheel

    python = args.python or find_environment(os.environ, os.getcwd())
    document: dict[str, Any] = {"wheel": args.wheel, "python": python, "site_packages": None, "ok": False}
    cache = None if args.no_verify_code else _cache(args)
    try:
        installed = install_wheel(
            args.wheel,
            python=python,
            verify_code=not args.no_verify_code,
            allow_startup_code=args.allow_startup_code,
            jobs=args.jobs,
            reinstall=args.reinstall,
            cache=cache,
        )
    except InstallRefused as exc:
        if args.json:
            _json({**document, "problems": exc.problems, "files": 0, "dependencies": []})
        for problem in [] if args.json else exc.problems:
            _say(f"{os.path.basename(args.wheel)}: {problem}")
        _say("hatch-pyc: not installed; nothing was written", sys.stderr)
        return MISMATCH
    if args.json:
        _json(
            {
                **document,
                "python": installed.executable,
                "site_packages": installed.root,
                "ok": True,
                "problems": [],
                "files": _installed_files(args.wheel, installed.root),
                "dependencies": installed.dependencies,
            }
        )
    else:
        _say(f"installed {os.path.basename(args.wheel)} into {installed.root} for {installed.executable}")
    if cache is not None and cache.write_error is not None:
        _warn(
            f"cannot write the compile cache in {cache.directory} ({cache.write_error}): installing these pycs "
            f"again compares them again; set --cache-dir or {config.CACHE_DIR.env}, or pass --no-cache"
        )
    if installed.dependencies:
        _say(
            f"hatch-pyc: installs no dependencies; install these with pip or uv: {', '.join(installed.dependencies)}",
            sys.stderr,
        )
    return OK


def _installed_files(wheel: str, root: str) -> int | None:
    """How many files the install wrote: the rows of the RECORD it wrote (RECORD's own too);
    None if that cannot be read now (the install is done: no reason for exit status 2)."""
    from hatch_pyc.wheel import records
    from hatch_pyc.wheel.artifact import open_artifact

    with open_artifact(wheel) as artifact:
        dist_info = artifact.dist_info
    path = os.path.join(root, dist_info, "RECORD")
    try:
        with open(path, encoding="utf-8") as f:
            return len(records.parse(path, f.read()))
    except (OSError, UnicodeDecodeError, HatchPycError):
        return None


def _convert(args: argparse.Namespace) -> int:
    from hatch_pyc.check.checker import inspect_artifact
    from hatch_pyc.convert import convert_wheel

    output = args.output or os.path.dirname(os.path.abspath(args.wheel))
    written = convert_wheel(args.wheel, output, _option_values(args, "convert"), session=_session(args))
    if not args.json:
        _say(written)
        return OK
    inspection = inspect_artifact(written)
    _json(
        {
            "input": args.wheel,
            "output": written,
            "layout": inspection.layout,
            "interpreters": inspection.interpreters,
        }
    )
    return OK


def _bundle(args: argparse.Namespace) -> int:
    from hatch_pyc.bundle.make import bundle_wheel
    from hatch_pyc.check.checker import inspect_artifact

    written = bundle_wheel(args.wheel, args.output, _option_values(args, "bundle"), session=_session(args))
    if not args.json:
        _say(written)
        return OK
    inspection = inspect_artifact(written)
    _json(
        {
            "wheel": args.wheel,
            "output": written,
            "entry_point": _entry_point(written),
            "interpreter": inspection.interpreters[0] if inspection.interpreters else None,
            "size": inspection.size,
        }
    )
    return OK


def _entry_point(bundle: str) -> str | None:
    """The ``module:function`` the bundle's ``__main__.py`` runs, read by name, never run."""
    import ast

    from hatch_pyc.build import bootstrap
    from hatch_pyc.core.limits import MAX_BOOTSTRAP_SIZE
    from hatch_pyc.wheel.artifact import open_artifact

    with open_artifact(bundle) as artifact:
        if "__main__.py" not in artifact.names:
            return None
        values = bootstrap.read(ast.parse(artifact.read("__main__.py", MAX_BOOTSTRAP_SIZE)))
    return values.entry if values is not None else None


def _warn(line: str) -> None:
    _say(f"hatch-pyc: warning: {line}", sys.stderr)


def _session(args: argparse.Namespace) -> Session:
    """Progress and information lines on stderr (none with ``-q``, more with ``-v``); warnings always."""
    from hatch_pyc.build.pipeline import Session

    progress = None if args.quiet else (lambda line: _say(line, sys.stderr))
    return Session(progress=progress, warn=_warn, every_second=args.verbose)


def _cache(args: argparse.Namespace) -> CompileCache | None:
    """The compile cache ``check --verify-code`` and ``install`` take verified pycs from."""
    from hatch_pyc.build.cache import open_cache
    from hatch_pyc.caches import compile_cache_dir

    return None if args.no_cache else open_cache(compile_cache_dir(os.environ, args.cache_dir), _warn)


def _verify(args: argparse.Namespace) -> int:
    from hatch_pyc.check.verify import verify_artifact

    result = verify_artifact(args.artifact, args.source, python=args.python, jobs=args.jobs)
    compilers = sorted(result.interpreters, key=version_order)
    if args.json:
        _json(
            {
                "artifact": args.artifact,
                "source": args.source,
                "ok": result.ok,
                "pycs": result.pycs,
                "sources": result.sources,
                "interpreters": compilers,
                "problems": result.problems,
            }
        )
        return OK if result.ok else MISMATCH
    name = os.path.basename(args.artifact)
    if result.ok:
        if args.quiet:
            return OK
        sources = ", ".join(os.path.basename(os.path.normpath(source)) for source in args.source)
        _say(f"ok: the {result.pycs} pycs of {name} are what {', '.join(compilers)} compiles from {sources}")
        return OK
    for problem in result.problems:
        _say(f"{name}: {problem}")
    return MISMATCH


def _cache_list(args: argparse.Namespace) -> int:
    from hatch_pyc import caches

    listing = caches.list_caches(cache_dir=args.cache_dir)
    if args.json:
        _json(listing.as_dict())
        return OK
    entries = _count(listing.entries, "entry", "entries")
    _say(f"compile cache: {listing.compile_cache}: {entries}, {_size(listing.entries_size)}")
    total = sum(each.size for each in listing.extractions)
    directories = _count(len(listing.extractions), "directory", "directories")
    _say(f"bundle extraction root: {listing.bundle_root}: {directories}, {_size(total)}")
    for each in listing.extractions:
        used = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(each.last_used))
        _say(f"  {os.path.basename(each.path)}: {each.files} files, {_size(each.size)}, last used {used}")
    return OK


def _cache_prune(args: argparse.Namespace) -> int:
    from hatch_pyc import caches

    pruned = caches.prune(everything=args.all, older_than=args.older_than, cache_dir=args.cache_dir)
    if args.json:
        _json(pruned.as_dict())
        return OK
    if args.all:
        _say(
            f"removed {_count(pruned.entries, 'compile cache entry', 'compile cache entries')} "
            f"({_size(pruned.entries_size)}) from {pruned.compile_cache}"
        )
    _say(
        f"removed {_count(len(pruned.extractions), 'bundle extraction directory', 'bundle extraction directories')} "
        f"({_size(pruned.extractions_size)}) from {pruned.bundle_root}"
    )
    return OK


def _count(number: int, one: str, several: str) -> str:
    return f"{number} {one if number == 1 else several}"


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not 0 <= days < 1e6:
        raise argparse.ArgumentTypeError(f"must be a number of days, 0 or more, not {text!r}")
    return days


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, example: str
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="hatch-pyc",
        description="Inspect, check, install, convert, bundle and verify wheels, and .pyz bundles, with compiled "
        "bytecode.",
        epilog="Exit status: 0 all is well, 1 the artifact does not fit (one line per problem), 2 anything else.",
    )
    main.add_argument("--version", action="version", version=f"hatch-pyc {__version__}")
    commands = main.add_subparsers(dest="command", required=True)

    inspect = _command(
        commands,
        "inspect",
        "describe a wheel or .pyz",
        "hatch-pyc inspect dist/app-1.0-cp312-none-any.whl\n  hatch-pyc inspect --json dist/app-1.0-cp312.pyz",
    )
    inspect.add_argument("artifact", nargs="+", help="one or more wheels or .pyz bundles")
    inspect.add_argument("--json", action="store_true", help="print JSON (for several artifacts, a list)")
    inspect.set_defaults(run=_inspect)

    check = _command(
        commands,
        "check",
        "verify a wheel or .pyz and that it fits an interpreter",
        "hatch-pyc check dist/app-1.0-cp312-none-any.whl --python 3.12\n  hatch-pyc check --verify-code dist/*.whl",
    )
    check.add_argument("artifact", nargs="+", help="one or more wheels or .pyz bundles")
    check.add_argument("--python", help="target interpreter: a path, a command or a version (default: this one)")
    check.add_argument("--json", action="store_true", help="print JSON (for several artifacts, a list)")
    _quiet(check, "print nothing when it fits, only the problems")
    check.add_argument(
        "--verify-code",
        action="store_true",
        help="also compile each shipped source with the target and compare it with its pyc (as install does)",
    )
    check.add_argument("--jobs", type=int, help="worker processes comparing code (default: the CPU count)")
    _verdict_cache_flags(check)
    check.set_defaults(run=_check)

    install = _command(
        commands,
        "install",
        "check a wheel, then install it with pypa/installer, all or nothing (no dependencies)",
        "hatch-pyc install dist/app-1.0-cp312-none-any.whl --python .venv/bin/python",
    )
    install.add_argument("wheel")
    install.add_argument(
        "--python",
        help="interpreter whose environment to install into (default: an activated VIRTUAL_ENV, else .venv in the "
        "working directory or one above it)",
    )
    install.add_argument(
        "--no-verify-code",
        action="store_true",
        help="unsafe: do not compare each pyc with what its shipped source compiles to",
    )
    install.add_argument(
        "--allow-startup-code",
        action="store_true",
        help="install a wheel with code that runs at every start of Python (.pth import lines, .start files, "
        "sitecustomize), which is refused by default",
    )
    install.add_argument("--jobs", type=int, help="worker processes comparing code (default: the CPU count)")
    install.add_argument(
        "--reinstall",
        action="store_true",
        help="replace an installed version of the project (whoever installed it), all or nothing",
    )
    _verdict_cache_flags(install)
    _json_flag(install)
    install.set_defaults(run=_install)

    convert = _command(
        commands,
        "convert",
        "compile a wheel built by another backend",
        "hatch-pyc convert six-1.17.0-py2.py3-none-any.whl --layout sourceless -o dist/",
    )
    convert.add_argument("wheel")
    convert.add_argument("-o", "--output", help="directory to write the new wheel to (default: beside the input)")
    _option_flags(convert, "convert")
    _json_flag(convert)
    _quiet(convert, _PROGRESS_QUIET, _PROGRESS_VERBOSE)
    convert.set_defaults(run=_convert)

    bundle = _command(
        commands,
        "bundle",
        "make a .pyz bundle (a zipapp) of a wheel built by any backend",
        f"hatch-pyc bundle dist/app-1.0-py3-none-any.whl {config.INCLUDE_DEPENDENCIES.flag} -o app.pyz",
    )
    bundle.add_argument("wheel")
    bundle.add_argument(
        "-o", "--output", help="the bundle's path (ending in .pyz) or a directory for it (default: beside the wheel)"
    )
    _option_flags(bundle, "bundle")
    _json_flag(bundle)
    _quiet(bundle, _PROGRESS_QUIET, _PROGRESS_VERBOSE)
    bundle.set_defaults(run=_bundle)

    verify = _command(
        commands,
        "verify",
        "compile an artifact's sources again and compare every pyc with them, byte for byte",
        "hatch-pyc verify dist/app-1.0-cp312-none-any.whl --source dist/app-1.0.tar.gz",
    )
    verify.add_argument("artifact", help="a wheel or .pyz hatch-pyc built")
    verify.add_argument(
        "--source",
        action="append",
        required=True,
        help="an sdist (.tar.gz) or a directory holding the sources; again for a bundle's dependencies",
    )
    verify.add_argument(
        "--python",
        action="append",
        default=[],
        help="interpreter to compile with (default: one of each recorded version found here); repeatable",
    )
    verify.add_argument("--jobs", type=int, help="worker processes (default: the CPU count)")
    _json_flag(verify)
    _quiet(verify, "print nothing when every pyc matches, only the problems")
    verify.set_defaults(run=_verify)

    cache = _command(
        commands,
        "cache",
        "list or prune the compile cache and the directories bundles extract into",
        "hatch-pyc cache list\n  hatch-pyc cache prune --older-than 30",
    )
    actions = cache.add_subparsers(dest="action", required=True)
    listing = _command(
        actions,
        "list",
        "show the compile cache's and each bundle extraction directory's files and size",
        "hatch-pyc cache list --json",
    )
    listing.set_defaults(run=_cache_list)
    prune = _command(
        actions,
        "prune",
        "remove compile cache entries and bundle extraction directories (only hatch-pyc's own, no link followed)",
        "hatch-pyc cache prune --older-than 30\n  hatch-pyc cache prune --all",
    )
    which = prune.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--all", action="store_true", help="every compile cache entry and every bundle extraction directory"
    )
    which.add_argument(
        "--older-than",
        type=_days,
        metavar="DAYS",
        help="the bundle extraction directories no bundle used for DAYS days",
    )
    prune.set_defaults(run=_cache_prune)
    for each in (listing, prune):
        each.add_argument("--json", action="store_true", help="print JSON")
        each.add_argument(
            "--cache-dir",
            help=f"the compile cache's directory (default: {config.CACHE_DIR.env}, else the user cache directory)",
        )
    return main


_PROGRESS_QUIET = "print no progress or information lines, only the result, warnings and errors"
_PROGRESS_VERBOSE = "print a progress line every second while compiling"


def _verdict_cache_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-cache",
        action="store_true",
        help="compare every pyc with its source, also those the compile cache holds as compiled or compared before",
    )
    command.add_argument(
        "--cache-dir",
        help=f"the compile cache's directory (default: {config.CACHE_DIR.env}, else the user cache directory)",
    )


def _json_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--json", action="store_true", help="print the result as one JSON object")


def _quiet(command: argparse.ArgumentParser, quiet: str, verbose: str | None = None) -> None:
    """``-q`` (and ``verbose``: ``-v``) for ``command``, each saying what it changes there."""
    if verbose is None:
        command.add_argument("-q", "--quiet", action="store_true", help=quiet)
        return
    either = command.add_mutually_exclusive_group()
    either.add_argument("-q", "--quiet", action="store_true", help=quiet)
    either.add_argument("-v", "--verbose", action="store_true", help=verbose)


def _option_flags(command: argparse.ArgumentParser, name: str) -> None:
    """The hook's options that command ``name`` takes, as flags: made from the option table,
    so they have the hook's names and are checked by the same code."""
    for option in config.command_options(name):
        several = name in option.repeated
        text = option.help + ("; again for several" if several else "")
        if option.kind == "switch":
            command.add_argument(option.flag, dest=option.attribute, action="store_true", help=text)
        elif option.kind == "off":
            command.add_argument(option.flag, dest=option.attribute, action="store_false", help=text)
        elif option.kind == "either":
            command.add_argument(option.flag, dest=option.attribute, action=argparse.BooleanOptionalAction, help=text)
        else:
            kind = int if option.kind == "int" else str
            action = "append" if several else "store"
            command.add_argument(option.flag, dest=option.attribute, type=kind, action=action, help=text)


def _option_values(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The flags of command ``name`` as the options they set, by TOML key; None where not given."""
    return {option.key: getattr(args, option.attribute) for option in config.command_options(name)}


def _json(document: object) -> None:
    """``document`` on stdout, as every command's ``--json`` prints it."""
    print(json.dumps(document, indent=2, sort_keys=True))


def _say(text: str, file: TextIO | None = None) -> None:
    """Print ``text`` as one line, whatever it holds: its control characters escaped."""
    print(printable(text), file=file or sys.stdout)


def _error(exc: HatchPycError) -> None:
    """``exc`` on stderr: a message's own line breaks (one problem per line) are kept; names in
    it are escaped."""
    for line in str(exc).split("\n"):
        _say(line, sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except HatchPycError as exc:
        _error(exc)
        return UNUSABLE
    except BrokenPipeError:
        # `hatch-pyc inspect ... | head`: the reader is gone; say nothing more to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours is still one line and exit 2
        _say(
            f"hatch-pyc: internal error, please report it with the input that caused it: {type(exc).__name__}: {exc}",
            sys.stderr,
        )
        return UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
