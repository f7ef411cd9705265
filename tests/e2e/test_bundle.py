"""``hatch-pyc bundle`` and bundles with native code: real wheels of several backends, real
dependencies from the package index, started as a user starts them."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import marshal
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import wheels
from helpers import MakeVenv, copy_project, hatchling_build, pypy_or_skip, python_or_skip, run, uv
from test_zip import other_python

from hatch_pyc._shipped import bundle_index, bundle_resources, bundle_runtime
from hatch_pyc._shipped.bundle_runtime import DONE
from hatch_pyc.build import bootstrap
from hatch_pyc.bundle import plan as bundle_plan

TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
HATCH_PYC = Path(sys.executable).parent / "hatch-pyc"


def bundle(*args: str | os.PathLike[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([HATCH_PYC, "bundle", *args], check=check)


@pytest.mark.parametrize(("backend", "version"), [("flitapp", "0.4.0"), ("setuptoolsapp", "0.5.0")])
def test_bundle_makes_a_pyz_of_another_backends_wheel(
    backend: str, version: str, tmp_path: Path, make_venv: MakeVenv
) -> None:
    project = copy_project(backend, tmp_path / "src")
    run([uv(), "build", "-q", "--wheel", "--out-dir", tmp_path / "dist", project])
    (wheel,) = (tmp_path / "dist").glob("*.whl")

    pyz = tmp_path / "app.pyz"
    made = bundle(wheel, "--with-dependencies", "-o", pyz)
    assert made.stdout == f"{pyz}\n"
    empty = make_venv()
    assert run([empty.python, pyz, "--version"]).stdout == f"app.pyz, version {version}\n"
    assert run([empty.python, pyz]).stdout.startswith(f"{backend} from ")
    assert run([HATCH_PYC, "check", pyz]).returncode == 0

    # Without its dependencies: one line at build time names them.
    alone = bundle(wheel, "-o", tmp_path / "alone")
    named = tmp_path / "alone" / f"{backend}-{version}-{TAG}.pyz"
    assert alone.stdout == f"{named}\n"
    assert alone.stderr.splitlines() == [
        f"hatch-pyc: warning: {backend} {version}'s bundle leaves out its dependencies (click>=8.1): "
        "they must be importable where it runs (--with-dependencies bundles them)"
    ]
    with zipfile.ZipFile(named) as archive:
        assert not [name for name in archive.namelist() if name.startswith("click")]


def test_bundle_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    project = copy_project("clickapp", tmp_path / "src")
    wheel = next(iter(_built(project, tmp_path / "out").glob("*.whl")))
    text = wheels.dist_info_text(wheel, "entry_points.txt")
    # An entry point is written into the bundle's __main__.py: only module:function passes.
    hostile = wheels.rewrite(
        wheel,
        tmp_path / "hostile" / wheel.name,
        {f"{wheels.dist_info(wheel)}/entry_points.txt": text.replace("clickapp.cli:main", "os;import this:x").encode()},
    )
    cases = {
        "injected": ([hostile], "console script 'clickapp' is 'os;import this:x', not 'module:function'"),
        "option": ([wheel, "--extension-modules", "maybe"], "--extension-modules: must be one of 'extract', 'refuse'"),
        "run from": ([wheel, "--run-from", "disk"], "--run-from: must be one of 'cache', 'archive', got 'disk'"),
        "entry point": ([wheel, "--entry-point", "clickapp.cli:nothere"], "defines no nothere at its top level"),
        "not a wheel": ([tmp_path / "nothing.whl"], "no such file"),
    }
    for label, (args, message) in cases.items():
        out = tmp_path / f"out-{label}"
        refused = bundle(*args, "-o", out, check=False)
        assert refused.returncode == 2, label
        assert "Traceback" not in refused.stderr, label
        assert message in refused.stderr, (label, refused.stderr)
        assert not out.exists(), label


def _built(project: Path, out: Path) -> Path:
    hatchling_build(project, out)
    return out


def _first_starts(pyz: Path, cache: Path, count: int) -> list[subprocess.CompletedProcess[str]]:
    """``count`` first starts of ``pyz`` at once, all with the same empty cache."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    processes = [
        subprocess.Popen(
            [sys.executable, pyz, f"run{n}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for n in range(count)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(), *p.communicate()) for p in processes]


def _cache_files(cache: Path) -> list[str]:
    """The files extracted under ``cache``, but the runtime's completion markers."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if not p.is_dir() and not p.name.startswith(DONE))


@pytest.mark.slow
def test_a_cli_with_native_dependencies_runs_from_its_bundle(tmp_path: Path, make_venv: MakeVenv) -> None:
    project = copy_project("nativeapp", tmp_path / "src")
    out = _built(project, tmp_path / "out")
    platform_tag = f"{TAG}-{TAG}-linux_x86_64" if sys.platform == "linux" and os.uname().machine == "x86_64" else None
    (pyz,) = out.glob("*.pyz")
    if platform_tag is not None:
        assert pyz.name == f"nativeapp-1.0.0-{platform_tag}.pyz"
    names = zipfile.ZipFile(pyz).namelist()
    native = sorted(name for name in names if name.endswith(".so"))
    assert [name.split("/")[0] for name in native] == ["markupsafe", "pydantic_core"]
    assert {"_hatch_pyc_runtime.pyc", "_hatch_pyc_index.pyc"} <= set(names)
    assert "pydantic/main.pyc" in names

    # The command makes the same bytes from the wheel, whatever the hash seed and job count.
    (wheel,) = out.glob("*.whl")
    again = tmp_path / "again.pyz"
    env_seed = {**os.environ, "PYTHONHASHSEED": "7"}
    run([HATCH_PYC, "bundle", wheel, "--with-dependencies", "--jobs", "1", "-o", again], env=env_seed)
    assert again.read_bytes() == pyz.read_bytes()

    # First start, empty cache: each package it imports is extracted, under the hash.
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    empty = make_venv()
    first = run([empty.python, pyz, "you"], env=env)
    extracted = _cache_files(cache)
    (digest,) = {Path(path).parts[2] for path in extracted}
    inside = [path.split("/", 3)[3] for path in extracted]
    assert set(native) <= set(inside)
    assert {"nativeapp/__init__.pyc", "pydantic/main.pyc"} <= set(inside)
    assert set(inside) <= set(names)
    root = cache / "hatch-pyc" / "pyz" / digest
    # Each group it extracted is marked done, after its files reached the disk.
    groups = {bundle_runtime.group_of(path) for path in inside}
    assert len([name for name in os.listdir(root) if name.startswith(DONE)]) == len(groups)
    assert first.stdout.splitlines() == [
        "hello you",
        "hello you",
        *(f"{name.split('/')[0]}.{Path(name).name.split('.')[0]}: {root / name}" for name in native),
    ]
    assert first.stderr == ""
    # Second start: the same files, nothing written.
    times = {path: path.stat().st_mtime_ns for path in root.rglob("*")}
    assert run([empty.python, pyz, "you"], env=env).stdout == first.stdout
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*")} == times

    # A damaged file (a disk full at the first start, say) is extracted again.
    damaged = root / native[1]
    damaged.write_bytes(damaged.read_bytes()[:1000])
    assert run([empty.python, pyz, "you"], env=env).stdout == first.stdout
    assert _cache_files(cache) == extracted

    # With run-from = "archive", only the packages with native code are extracted; the rest
    # loads from the archive.
    archived = tmp_path / "archived.pyz"
    run([HATCH_PYC, "bundle", wheel, "--with-dependencies", "--run-from", "archive", "-o", archived])
    alone = tmp_path / "alone"
    assert run([empty.python, archived, "you"], env={"XDG_CACHE_HOME": str(alone)}).stdout.startswith("hello you\n")
    packages = {name.split("/")[0] for name in native}
    assert {path.split("/", 3)[3].split("/")[0] for path in _cache_files(alone)} == packages

    # Four first starts at once: each runs, one directory stays, no partial one.
    racing = tmp_path / "racing"
    for n, ran in enumerate(_first_starts(pyz, racing, 4)):
        assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
        assert ran.stdout.startswith(f"hello run{n}\n")
    assert _cache_files(racing) == extracted
    assert os.listdir(racing / "hatch-pyc" / "pyz") == [digest]

    # A cache that cannot be written: a private directory, one warning line, removed at exit.
    # (Root writes to a read-only directory, so for root a file stands where the cache would be.)
    blocked = tmp_path / "blocked"
    if os.geteuid() == 0:
        blocked.write_text("")
    else:
        blocked.mkdir(mode=0o555)
    warned = run([empty.python, pyz, "you"], env={"XDG_CACHE_HOME": str(blocked)})
    (line,) = warned.stderr.splitlines()
    assert line.startswith(f"{pyz.name}: warning: cannot extract its extension modules to {blocked}/hatch-pyc/pyz/")
    private = Path(line.split("; extracted to ")[1].split(" for this run only")[0])
    assert warned.stdout.splitlines()[:2] == ["hello you", "hello you"]
    assert f": {private}/markupsafe/" in warned.stdout
    assert not private.exists()

    # Another interpreter: one line, exit 1, nothing extracted.
    other = other_python()
    elsewhere = tmp_path / "elsewhere"
    renamed = tmp_path / "renamed.pyz"
    shutil.copy(pyz, renamed)
    refused = run([other, renamed], env={"XDG_CACHE_HOME": str(elsewhere)}, check=False)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1
    # It names the file that was run, whatever the build named it.
    assert refused.stderr.startswith(f"{renamed} needs CPython ")
    assert not elsewhere.exists()

    # check runs the bootstrap's checks: intact, it fits; a native file changed, or another
    # interpreter's extension suffixes, and the first start would fail: check says so.
    assert run([HATCH_PYC, "check", pyz]).stdout.startswith(f"ok: {pyz.name} fits ")
    damaged = _rewritten(pyz, tmp_path / "damaged.pyz", {native[0]: lambda data: data[:-100] + b"x" * 100})
    found = run([HATCH_PYC, "check", damaged], check=False)
    assert found.returncode == 1
    group = native[0].split("/")[0]
    assert f"{group}: not the files __main__.py records (sizes and SHA-256): its first start would fail" in found.stdout
    # On another interpreter it stops at its start: one line for that cause, none per extension module.
    elsewhere_check = run([HATCH_PYC, "check", pyz, "--python", str(other)], check=False).stdout
    (line,) = elsewhere_check.splitlines()
    assert line.startswith(f"{pyz.name}: built for cpython {'.'.join(map(str, sys.version_info[:3]))} (magic ")
    assert "; the target is " in line


def _rewritten(pyz: Path, out: Path, changes: dict[str, Any]) -> Path:
    """A copy of the bundle with entries changed (a function of their bytes) or removed (None),
    and entries added (bytes)."""
    with zipfile.ZipFile(pyz) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            change = changes.get(info.filename, lambda data: data)
            if change is not None and not isinstance(change, bytes):
                target.writestr(info, change(source.read(info)))
        for name, data in changes.items():
            if isinstance(data, bytes):
                target.writestr(name, data)
    return out


def test_check_says_when_a_bundle_could_not_start(tmp_path: Path) -> None:
    project = copy_project("clickapp", tmp_path / "src")
    out = _built(project, tmp_path / "out")
    (pyz,) = out.glob("*.pyz")
    assert run([HATCH_PYC, "check", pyz]).returncode == 0
    stray = {"stray/_x.cpython-311-x86_64-linux-gnu.so": b"\x7fELF", "stray.libs/libz-1234.so.1": b"\x7fELF"}
    broken = _rewritten(pyz, tmp_path / "broken.pyz", {"clickapp/cli.pyc": None, **stray})
    found = run([HATCH_PYC, "check", broken], check=False)
    assert found.returncode == 1
    assert found.stdout.splitlines() == [
        "broken.pyz: __main__.py runs clickapp.cli, which the bundle does not hold",
        "broken.pyz: clickapp/cli.pyc: __main__.py extracts it at the first start, and the bundle lacks it",
        "broken.pyz: stray.libs/libz-1234.so.1: native code __main__.py does not extract: it cannot be loaded",
        "broken.pyz: stray/_x.cpython-311-x86_64-linux-gnu.so: native code __main__.py does not extract: "
        "it cannot be loaded",
    ]


def test_check_refuses_a_bundle_that_runs_more_than_hatch_pyc_wrote(tmp_path: Path) -> None:
    project = copy_project("clickapp", tmp_path / "src")
    out = _built(project, tmp_path / "out")
    (pyz,) = out.glob("*.pyz")
    assert run([HATCH_PYC, "check", pyz, "--verify-code"]).returncode == 0
    marker = tmp_path / "ran"
    line = f"open({str(marker)!r}, 'w').close()\n".encode()
    # One line added to __main__.py runs at every start; check names it, with or without
    # --verify-code, wherever it is (appended after sys.exit, it would not run: still not ours).
    edits = {
        "edited.pyz": lambda data: data.replace(b"import sys\n", b"import sys\n" + line, 1),
        "appended.pyz": lambda data: data + line,
    }
    for name, edit in edits.items():
        edited = _rewritten(pyz, tmp_path / name, {"__main__.py": edit})
        for flags in ([], ["--verify-code"]):
            found = run([HATCH_PYC, "check", edited, *flags], check=False)
            assert found.returncode == 1
            # The pyc beside it (which zipimport runs in its place) no longer fits it either.
            assert found.stdout.splitlines() == [
                f"{name}: __main__.pyc: its header holds the hash of another source than __main__.py",
                f"{name}: __main__.py: not what hatch-pyc writes for these values: it runs at every start",
            ]
    edited = tmp_path / "edited.pyz"
    run([sys.executable, edited], env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, check=False)
    assert marker.exists()  # what check refused does run
    # A module named as the standard library's, which the archive (sys.path[0]) would replace.
    shadowed = _rewritten(pyz, tmp_path / "shadowed.pyz", {"hashlib.py": line})
    found = run([HATCH_PYC, "check", shadowed], check=False)
    assert found.returncode == 1
    assert found.stdout.splitlines() == [
        "shadowed.pyz: hashlib.py: named as the standard library's hashlib, which it replaces: "
        "the bundle is first on sys.path"
    ]


@pytest.fixture(scope="module")
def clickapp_pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clickapp's bundle, which runs clickapp and click from the user cache."""
    work = tmp_path_factory.mktemp("clickapp")
    (pyz,) = _built(copy_project("clickapp", work / "src"), work / "out").glob("*.pyz")
    return pyz


def _start(pyz: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, pyz, *args], env={**os.environ, "XDG_CACHE_HOME": str(cache)}, check=False)


def _extraction_root(cache: Path) -> Path:
    (root,) = (cache / "hatch-pyc" / "pyz").iterdir()
    return root


def test_check_refuses_a_bundle_that_extracts_other_files_under_a_bundles_directory(
    clickapp_pyz: Path, tmp_path: Path
) -> None:
    """A copy with one group changed (its SHA-256 and sizes made to fit) that kept the
    directory name: it would share the genuine bundle's directory, and the genuine bundle
    would run its code there. check names it; the runtime writes nothing there."""
    pyz = clickapp_pyz
    with zipfile.ZipFile(pyz) as archive:
        values = _values(archive.read("__main__.py"))
        genuine = archive.read("clickapp/cli.pyc")
        code = marshal.loads(genuine[16:])
        source = (Path(__file__).parents[1] / "projects" / "clickapp" / "src" / "clickapp" / "cli.py").read_text()
        changed = genuine[:16] + marshal.dumps(compile(source.replace("hello", "CHANGED"), code.co_filename, "exec"))
        files = dict(bundle_runtime.parse_files(values.runtime.groups["clickapp"][1]))
        files["clickapp/cli.pyc"] = len(changed)
        hasher = hashlib.sha256()
        for path in sorted(files):
            data = changed if path == "clickapp/cli.pyc" else archive.read(path)
            bundle_runtime.group_hash(path, len(data), hasher)
            hasher.update(data)
    lines = "\n".join(f"{size} {path}" for path, size in sorted(files.items()))
    groups = {**values.runtime.groups, "clickapp": (hasher.hexdigest(), lines)}
    runtime = dataclasses.replace(values.runtime, groups=groups)  # the directory's name kept
    main = bootstrap.write(dataclasses.replace(values, runtime=runtime))
    edits = {"__main__.py": lambda _: main, "clickapp/cli.pyc": lambda _: changed}
    copy = _rewritten(pyz, tmp_path / "copy.pyz", edits)

    assert run([HATCH_PYC, "check", pyz, "--verify-code"]).returncode == 0
    found = run([HATCH_PYC, "check", copy, "--verify-code"], check=False)
    assert found.returncode == 1
    expected = bundle_runtime.extraction_digest(groups)
    assert found.stdout.splitlines() == [
        "copy.pyz: __main__.pyc: its header holds the hash of another source than __main__.py",
        f"copy.pyz: __main__.py extracts to the directory {values.runtime.digest}, not the hash of the groups it "
        f"records ({expected}): the bundles that extract other files there would run them",
    ]

    # Run, the copy runs its own code from the archive and writes nothing into the genuine
    # bundle's directory, before and after the genuine bundle's first start.
    cache = tmp_path / "cache"
    for bundle, says in [(copy, "CHANGED"), (pyz, "hello"), (copy, "CHANGED"), (pyz, "hello")]:
        started = _start(bundle, cache, "you")
        assert (started.returncode, started.stderr) == (0, "")
        assert started.stdout.startswith(f"{says} you from clickapp.cli")
    root = _extraction_root(cache)
    assert root.name == values.runtime.digest
    assert (root / "clickapp" / "cli.pyc").read_bytes() == genuine


def test_files_planted_in_the_extraction_directory_are_never_imported(clickapp_pyz: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _start(clickapp_pyz, cache, "you")
    assert (first.returncode, first.stderr) == (0, "")
    root = _extraction_root(cache)
    ran = tmp_path / "planted-code-ran"
    planted = f"open({str(ran)!r}, 'w').close()\n"
    # A source beside a pyc (the path finder prefers it), an __init__.py beside __init__.pyc,
    # a module the bundle does not hold, a package named as a top-level module.
    paths = ["clickapp/cli.py", "click/__init__.py", "click/_planted.py", "clickapp.py"]
    for path in paths:
        (root / path).write_text(planted)

    warm = _start(clickapp_pyz, cache, "you")
    assert warm.returncode == 0
    assert warm.stdout == first.stdout
    assert not ran.exists()
    (line,) = warm.stderr.splitlines()
    assert line.startswith(f"{clickapp_pyz.name}: warning: removed ")
    assert line.endswith(f" from {root}: not files it extracts")
    assert "Traceback" not in warm.stderr
    assert not [path for path in paths if (root / path).exists()]

    again = _start(clickapp_pyz, cache, "you")
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    assert not ran.exists()


def test_a_torn_extraction_is_extracted_again_once(clickapp_pyz: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _start(clickapp_pyz, cache, "you")
    assert (first.returncode, first.stderr) == (0, "")
    root = _extraction_root(cache)
    markers = sorted(name for name in os.listdir(root) if name.startswith(DONE))
    # A crash after the rename, before the files reached the disk: the right sizes, other
    # bytes, and no completion marker for the group.
    torn = root / "clickapp" / "cli.pyc"
    genuine = torn.read_bytes()
    torn.write_bytes(b"\0" * len(genuine))
    with zipfile.ZipFile(clickapp_pyz) as archive:
        values = _values(archive.read("__main__.py"))
    (root / (DONE + values.runtime.groups["clickapp"][0])).unlink()

    again = _start(clickapp_pyz, cache, "you")
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    assert torn.read_bytes() == genuine
    assert sorted(name for name in os.listdir(root) if name.startswith(DONE)) == markers
    written = {path: path.stat().st_mtime_ns for path in root.rglob("*")}
    assert _start(clickapp_pyz, cache, "you").stdout == first.stdout
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*")} == written  # once


def _values(main: bytes) -> Any:
    """The values of a bundle's bootstrap, read back as check reads them."""
    values = bootstrap.read(ast.parse(main))
    assert values is not None
    assert values.runtime is not None
    return values


def _finder(
    tmp_path: Path, files: dict[str, bytes], modules: dict[str, str] | None = None
) -> bundle_runtime.ExtractedFinder:
    """The runtime's finder for ``files`` (each an extension module unless ``modules`` says
    which are), as a bundle's bootstrap makes it."""
    import hashlib

    digests = {}
    for group in {bundle_runtime.group_of(name) for name in files}:
        hasher = hashlib.sha256()
        for name in sorted(files):
            if bundle_runtime.group_of(name) == group:
                bundle_runtime.group_hash(name, len(files[name]), hasher)
                hasher.update(files[name])
        digests[group] = hasher.hexdigest()
    groups = bundle_plan.extraction({name: len(data) for name, data in files.items()}, digests, None).groups
    if modules is None:
        modules = {name.split(".")[0].replace("/", "."): name for name in files}
    digest = bundle_runtime.extraction_digest(groups)
    return bundle_runtime.ExtractedFinder("app.pyz", files.__getitem__, str(tmp_path), digest, groups, modules)


def _shown(directory: str | os.PathLike[str]) -> list[str]:
    """The names in ``directory`` but the runtime's own (the completion markers start with a dot)."""
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))


def test_the_runtime_refuses_a_bundle_entry_that_does_not_match_its_hash(tmp_path: Path) -> None:
    finder = _finder(tmp_path, {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"})
    finder._groups = {name: ("0" * 64, listed) for name, (_, listed) in finder._groups.items()}  # not its entry
    finder._shared = str(tmp_path / bundle_runtime.extraction_digest(finder._groups))
    refusal = re.escape("app.pyz: pkg's files do not match the SHA-256 the bundle records")
    with pytest.raises(ImportError, match=refusal):
        finder.find_spec("pkg._ext")
    assert os.listdir(finder._shared) == []  # the partial directory is gone


def test_the_runtime_extracts_each_top_level_name_at_its_first_import(tmp_path: Path) -> None:
    files = {
        "a/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF a",
        "b/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF b",
        "b.libs/libz-1234.so.1": b"\x7fELF z",
        "c/__init__.py": b"",
        "c/data.txt": b"c's data",
    }
    modules = {"a._ext": "a/_ext.cpython-311-x86_64-linux-gnu.so", "b._ext": "b/_ext.cpython-311-x86_64-linux-gnu.so"}
    finder = _finder(tmp_path, files, modules)
    root = Path(finder._shared)
    assert finder.find_spec("c") is not None
    assert _shown(root) == ["c"]  # a package without native code: itself alone
    assert finder.find_spec("a._ext") is not None
    assert _shown(root) == ["a", "b.libs", "c"]  # native code: with the shared libraries
    assert _finder(tmp_path, files, modules).find_spec("b._ext") is not None
    assert _shown(root) == ["a", "b", "b.libs", "c"]
    assert (root / "c" / "data.txt").read_bytes() == b"c's data"


def test_the_runtime_extracts_a_top_level_module_as_a_group_of_its_own(tmp_path: Path) -> None:
    finder = _finder(tmp_path, {"six.pyc": b"six", "pkg/__init__.pyc": b"pkg"}, {})
    spec = finder.find_spec("six")
    assert spec is not None
    assert spec.origin == os.path.join(finder._shared, "six.pyc")
    assert _shown(finder._shared) == ["six.pyc"]
    assert finder.find_spec("pkg.sub") is None  # the package's own __path__ finds its modules


def test_the_runtime_leaves_pure_python_to_the_archive_where_the_cache_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("")  # a file where the cache would be: even root cannot write there
    native = "pkg/_ext.cpython-311-x86_64-linux-gnu.so"
    finder = _finder(
        blocked / "hatch-pyc" / "pyz", {"pure/__init__.pyc": b"pure", native: b"\x7fELF"}, {"pkg._ext": native}
    )
    assert finder.find_spec("pure") is None  # left to the bundle's zip importer, without a word
    assert capsys.readouterr().err == ""
    spec = finder.find_spec("pkg._ext")
    assert spec is not None
    assert spec.origin is not None
    assert not spec.origin.startswith(str(blocked))
    private = Path(spec.origin).parent.parent
    assert sorted(os.listdir(private)) == ["pkg"]  # the package with native code, not the pure one
    assert "cannot extract its extension modules to" in capsys.readouterr().err


def test_the_runtime_uses_no_directory_another_user_could_write(tmp_path: Path) -> None:
    finder = _finder(tmp_path, {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"})
    spec = finder.find_spec("pkg._ext")
    assert spec is not None
    root = Path(finder._shared)
    assert spec.origin == str(root / "pkg" / "_ext.cpython-311-x86_64-linux-gnu.so")
    root.chmod(0o777)
    assert _finder(tmp_path, {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"}).find_spec("pkg._ext") == spec
    assert root.stat().st_mode & 0o777 == 0o700
    assert finder.find_spec("pkg.other") is None


def test_the_runtime_loads_nothing_from_a_cache_another_user_could_swap(tmp_path: Path) -> None:
    """The directories above the extracted files decide as much as the files: where another
    user owns one, or anyone may write one, the files go to a private directory instead."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # a world-writable cache root without the sticky bit
    files = {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"}
    finder = _finder(shared / "hatch-pyc" / "pyz", files)
    spec = finder.find_spec("pkg._ext")
    assert spec is not None
    assert spec.origin is not None
    assert not spec.origin.startswith(str(shared))
    assert not Path(finder._shared).exists()
    if os.geteuid() == 0:
        shared.chmod(0o755)
        (shared / "hatch-pyc" / "pyz").mkdir(parents=True, exist_ok=True)
        os.chown(shared / "hatch-pyc" / "pyz", 4242, 4242)  # another user made it first
        other = _finder(shared / "hatch-pyc" / "pyz", files).find_spec("pkg._ext")
        assert other is not None
        assert other.origin is not None
        assert not other.origin.startswith(str(shared))


def test_the_runtime_follows_no_link_inside_its_directory(tmp_path: Path) -> None:
    files = {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"}
    cache = tmp_path / "hatch-pyc" / "pyz"
    finder = _finder(cache, files)
    first = finder.find_spec("pkg._ext")
    assert first is not None
    root = Path(finder._shared)
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "_ext.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")  # same size: other code
    shutil.rmtree(root / "pkg")
    (root / "pkg").symlink_to(planted)
    again = _finder(cache, files).find_spec("pkg._ext")
    assert again is not None
    assert again.origin == first.origin
    assert not (root / "pkg").is_symlink()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making another user's directory takes root"
)
def test_200_starts_load_nothing_from_a_directory_another_user_swaps(tmp_path: Path) -> None:
    """The attack on a shared cache root: another user made ``hatch-pyc/pyz`` first and swaps
    the extraction directory with her own, same-sized code, in a loop."""
    import threading

    ours = b"\x7fELF" + b"ours" * 100
    files = {"pkg/_ext.cpython-311-x86_64-linux-gnu.so": ours}
    cache = tmp_path / "shared" / "hatch-pyc" / "pyz"
    digest = os.path.basename(_finder(cache, files)._shared)
    for directory in (cache / digest / "pkg", cache / "hers" / "pkg"):
        directory.mkdir(parents=True)
    (cache / "hers" / "pkg" / "_ext.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF" + b"hers" * 100)
    (cache / digest / "pkg" / "_ext.cpython-311-x86_64-linux-gnu.so").write_bytes(ours)
    for path in [cache, *cache.rglob("*")]:
        os.chown(path, 4242, 4242)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                # Hers again wherever the start removed it, then swapped in for the checked one.
                (cache / "hers" / "pkg").mkdir(parents=True, exist_ok=True)
                (cache / "hers" / "pkg" / "_ext.cpython-311-x86_64-linux-gnu.so").write_bytes(
                    b"\x7fELF" + b"hers" * 100
                )
                os.rename(cache / digest, cache / "tmp")
                os.rename(cache / "hers", cache / digest)
                os.rename(cache / "tmp", cache / "hers")

    swapper = threading.Thread(target=swap)
    swapper.start()
    loaded = []
    try:
        for _ in range(200):
            spec = _finder(cache, files).find_spec("pkg._ext")
            assert spec is not None
            assert spec.origin is not None
            loaded.append(Path(spec.origin).read_bytes())
    finally:
        stop.set()
        swapper.join()
    assert loaded == [ours] * 200


RESOURCES = """\
import importlib.resources as resources
import sys

root = resources.files("pkg")
print(sorted(entry.name for entry in root.iterdir()))
data = root / "data"
print(data.is_dir(), data.is_file(), (data / "a.txt").is_file(), root.joinpath("data", "sub", "b.txt").read_text())
print(sorted(entry.name for entry in data.iterdir()), (data / "missing.txt").is_file())
print(root.joinpath("data/a.txt").read_bytes(), (data / "a.txt").open("rb").read())
with resources.as_file(data / "a.txt") as path:
    print(open(path).read())
inner = resources.files("pkg.inner")
print(inner.joinpath("c.txt").read_text(), type(inner).__name__ in ("PosixPath", "Entry"))  # no zipfile.Path
"""


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "pypy3.11"])
def test_importlib_resources_reads_a_bundle_as_an_installed_package(tmp_path: Path, version: str) -> None:
    python = pypy_or_skip("3.11") if version.startswith("pypy") else python_or_skip(version)
    files = {
        "pkg/__init__.py": "",
        "pkg/mod.py": "",
        "pkg/data/a.txt": "a's text",
        "pkg/data/sub/b.txt": "b's text",
        "pkg/inner/__init__.py": "",
        "pkg/inner/c.txt": "c's text",
    }
    installed = tmp_path / "site"
    for name, text in files.items():
        (installed / name).parent.mkdir(parents=True, exist_ok=True)
        (installed / name).write_text(text)
    expected = run([python, "-B", "-c", RESOURCES], env={"PYTHONPATH": str(installed)}).stdout
    bundle = tmp_path / "app.pyz"
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.write(bundle_index.__file__, "_hatch_pyc_index.py")
        archive.write(bundle_resources.__file__, "_hatch_pyc_resources.py")
        bootstrap = "import _hatch_pyc_index\n_hatch_pyc_index.serve([])\n"
        archive.writestr(
            "__main__.py", bootstrap + "import _hatch_pyc_resources\n_hatch_pyc_resources.serve()\n" + RESOURCES
        )
    served = run([python, bundle])
    assert (served.stdout, served.stderr) == (expected, "")
    assert "['__init__.py', 'data', 'inner', 'mod.py']" in expected
    assert "c's text True" in expected
