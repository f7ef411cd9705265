"""The compile cache: hits, misses, a miss for every key, damaged entries, concurrent builds."""

from __future__ import annotations

import marshal
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest
import wheels
from helpers import Venv, hatchling_build, only_wheel, python_or_skip, set_hook_options

from hatch_pyc import cli
from hatch_pyc._shipped import worker
from hatch_pyc.build import cache as cache_module
from hatch_pyc.build.cache import CompileCache
from hatch_pyc.build.compilation import Compilation, Progress, ProgressReporter, compile_modules
from hatch_pyc.build.placement import Placement
from hatch_pyc.core import interpreters
from hatch_pyc.core.discovery import Module


def _modules(demo: Path) -> list[Module]:
    root = demo / "src"
    return [Module(str(p), p.relative_to(root).as_posix(), str(p)) for p in sorted(root.rglob("*.py"))]


def _compile(
    modules: list[Module],
    out: Path,
    cache: CompileCache | None,
    *,
    optimize: Sequence[int] = (0,),
    legacy: Collection[str] = (),
    target: interpreters.Target | None = None,
    **options: object,
) -> Compilation:
    """Compile as a layout with the ``legacy`` modules places them."""
    settings: dict = {"invalidation_mode": "checked-hash", **options}
    tag = (target or interpreters.running()).interpreter.cache_tag
    requests = Placement(legacy=frozenset(legacy), sourceless=frozenset()).requests(modules, optimize, tag)
    return compile_modules(requests, str(out), cache=cache, target=target, **settings)


def _contents(compilation: Compilation) -> dict[str, bytes]:
    return {path: Path(file).read_bytes() for m in compilation.modules for _, path, file in m.pycs}


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_rebuild_takes_every_pyc_from_the_cache_and_the_wheel_is_the_same(demo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "my-cache"
    set_hook_options(demo, f'layout = "sourceless"\ncache-dir = "{cache_dir}"')
    no_override = {"HATCH_PYC_CACHE_DIR": ""}
    first = hatchling_build(demo, tmp_path / "one", env=no_override)
    assert "0 of 13 from the cache" in first.stderr + first.stdout
    # and hatch-pyc's own three: the selector's code, the stub and the selector's __init__ compiled
    assert len(_entries(cache_dir)) == 16
    second = hatchling_build(demo, tmp_path / "two", env=no_override)
    assert "13 of 13 from the cache" in second.stderr + second.stdout
    set_hook_options(demo, 'layout = "sourceless"\ncache = false')
    uncached = hatchling_build(demo, tmp_path / "three")
    assert "from the cache" not in uncached.stderr + uncached.stdout
    wheels_built = [only_wheel(tmp_path / name).read_bytes() for name in ("one", "two", "three")]
    assert wheels_built[0] == wheels_built[1] == wheels_built[2]


def test_environment_variable_sets_the_directory_and_cache_false_writes_nothing(
    demo: Path, tmp_path: Path, compile_cache: Path
) -> None:
    hatchling_build(demo, tmp_path / "one")
    assert len(_entries(compile_cache)) == 12  # HATCH_PYC_CACHE_DIR, set for every test
    other = tmp_path / "other"
    set_hook_options(demo, "cache = false")
    hatchling_build(demo, tmp_path / "two", env={"HATCH_PYC_CACHE_DIR": str(other)})
    assert not other.exists()


def test_a_changed_source_is_compiled_again_and_only_it(demo: Path, tmp_path: Path) -> None:
    modules = _modules(demo)
    cache = CompileCache(str(tmp_path / "cache"))
    _compile(modules, tmp_path / "a", cache)
    core = demo / "src/demo/core.py"
    core.write_text(core.read_text() + "\nADDED = 'after the first build'\n")
    cache = CompileCache(str(tmp_path / "cache"))
    again = _compile(modules, tmp_path / "b", cache)
    assert (again.from_cache, cache.misses) == (len(modules) - 1, 1)
    assert _contents(again) == _contents(_compile(modules, tmp_path / "c", None))
    pyc = next(file for m in again.modules for _, path, file in m.pycs if path.startswith("demo/__pycache__/core."))
    assert "after the first build" in wheels.load_pyc(Path(pyc).read_bytes()).co_consts


@pytest.mark.parametrize(
    "change",
    [
        "optimize",
        "invalidation-mode",
        "timestamp",
        "path in the wheel",
        "file name in the code",
        "legacy pyc",
        "hatch-pyc version",
        "compiler code",
        "interpreter",
    ],
)
def test_every_key_part_makes_a_miss_and_the_pycs_of_a_clean_compile(
    change: str, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = _modules(demo)
    cache_dir = str(tmp_path / "cache")
    options: dict = {"mtimes": [1] * len(modules)}
    if change == "timestamp":
        options["invalidation_mode"] = "timestamp"
    first = _compile(modules, tmp_path / "first", CompileCache(cache_dir), **options)
    assert first.from_cache == 0
    hit = _compile(modules, tmp_path / "hit", CompileCache(cache_dir), **options)
    assert hit.from_cache == len(modules)
    assert _contents(hit) == _contents(first)

    if change == "optimize":
        options["optimize"] = [2]
    elif change == "invalidation-mode":
        options["invalidation_mode"] = "unchecked-hash"
    elif change == "timestamp":
        options["mtimes"] = [2] * len(modules)
    elif change == "path in the wheel":
        modules = [Module(m.source, "lib/" + m.path, m.display) for m in modules]
    elif change == "file name in the code":
        modules = [Module(m.source, m.path, m.display, filename="renamed/" + m.path) for m in modules]
    elif change == "legacy pyc":
        options["legacy"] = {m.path for m in modules}
    elif change == "hatch-pyc version":
        monkeypatch.setattr(cache_module, "__version__", "99.0")
    elif change == "compiler code":
        monkeypatch.setattr(cache_module, "_compiler_digest", lambda: "another worker.py")
    elif change == "interpreter":
        other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
        python_or_skip(other)
        options["target"] = interpreters.find(other)
    changed = _compile(modules, tmp_path / "changed", CompileCache(cache_dir), **options)
    assert changed.from_cache == 0
    assert _contents(changed) == _contents(_compile(modules, tmp_path / "clean", None, **options))
    if change not in ("hatch-pyc version", "compiler code"):  # these change no byte of today's pycs
        assert _contents(changed) != _contents(first)


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty", "not a pyc"])
def test_a_damaged_entry_is_a_miss_and_is_written_again(damage: str, demo: Path, tmp_path: Path) -> None:
    modules = _modules(demo)
    cache_dir = tmp_path / "cache"
    clean = _contents(_compile(modules, tmp_path / "clean", CompileCache(str(cache_dir))))
    entry = _entries(cache_dir)[0]
    good = entry.read_bytes()
    broken = {
        "truncated": good[: len(good) // 2],
        "flipped byte": good[:20] + bytes([good[20] ^ 0xFF]) + good[21:],
        "empty": b"",
        "not a pyc": b"garbage",
    }[damage]
    entry.write_bytes(broken)
    cache = CompileCache(str(cache_dir))
    again = _compile(modules, tmp_path / "again", cache)
    assert (again.from_cache, cache.misses) == (len(modules) - 1, 1)
    assert _contents(again) == clean
    assert entry.read_bytes() == good
    assert _compile(modules, tmp_path / "third", CompileCache(str(cache_dir))).from_cache == len(modules)


def test_an_unwritable_cache_warns_and_the_build_goes_on(demo: Path, tmp_path: Path) -> None:
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    result = hatchling_build(demo, tmp_path / "out", env={"HATCH_PYC_CACHE_DIR": str(not_a_directory)})
    assert f"hatch-pyc: not using the compile cache: {not_a_directory} cannot be used: " in result.stderr
    set_hook_options(demo, "cache = false")
    hatchling_build(demo, tmp_path / "plain")
    assert only_wheel(tmp_path / "out").read_bytes() == only_wheel(tmp_path / "plain").read_bytes()


@pytest.mark.parametrize("how", ["writable by others", "a shard of another user"])
def test_a_cache_another_user_could_write_is_not_used(demo: Path, tmp_path: Path, how: str) -> None:
    """Whoever can write the cache can plant an entry under any key: such a cache is refused."""
    cache_dir = tmp_path / "shared-cache"
    env = {"HATCH_PYC_CACHE_DIR": str(cache_dir)}
    hatchling_build(demo, tmp_path / "first", env=env)
    entry = _entries(cache_dir)[0]
    if how == "writable by others":
        cache_dir.chmod(0o777)
        says = f"{cache_dir} is writable by group or others (mode 777)"
    else:
        if os.geteuid() != 0:
            pytest.skip("changing a directory's owner takes root")
        os.chown(entry.parent, 4242, 4242)
        says = f"{entry.parent} belongs to user 4242, not to you (0)"
    # The planted entry: another module's pyc under this key, with a name that matches it.
    entry.write_bytes(_entries(cache_dir)[-1].read_bytes())
    result = hatchling_build(demo, tmp_path / "second", env=env)
    assert f"hatch-pyc: not using the compile cache: {says}; compiling every module" in result.stderr
    assert only_wheel(tmp_path / "second").read_bytes() == only_wheel(tmp_path / "first").read_bytes()


def test_two_builds_at_once_share_the_cache(demo: Path, tmp_path: Path, compile_cache: Path) -> None:
    """Both write every entry at the same time; both wheels equal one built without a cache."""
    package = demo / "src/demo"
    for number in range(150):
        constants = "\n".join(f"VALUE_{i} = {'{'}'key {number} {i}': ({i}, 'v {i}'){'}'}" for i in range(60))
        (package / f"generated_{number}.py").write_text(f'"""Module {number}."""\n{constants}\n')
    set_hook_options(demo, "jobs = 2")  # both builds use HATCH_PYC_CACHE_DIR
    command = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d"]
    builds = [
        subprocess.Popen([*command, str(tmp_path / f"out-{n}")], cwd=demo, stderr=subprocess.PIPE) for n in range(2)
    ]
    for build in builds:
        assert build.wait() == 0, build.stderr.read() if build.stderr else ""
        if build.stderr:
            build.stderr.close()
    set_hook_options(demo, "cache = false")
    hatchling_build(demo, tmp_path / "reference")
    reference = only_wheel(tmp_path / "reference").read_bytes()
    assert only_wheel(tmp_path / "out-0").read_bytes() == reference
    assert only_wheel(tmp_path / "out-1").read_bytes() == reference
    entries = _entries(compile_cache)
    assert len(entries) == 162
    assert not [entry for entry in entries if entry.name.startswith(".")]


def test_progress_line_waits_then_comes_at_most_every_interval() -> None:
    lines: list[str] = []
    reporter = ProgressReporter(lines.append, delay=2.0, interval=10.0)
    for done, seconds in ((10, 0.5), (200, 2.1), (300, 5.0), (900, 12.2), (1000, 13.0), (1532, 30.0)):
        reporter(Progress(done=done, cached=7, total=1532, seconds=seconds))
    assert lines == [
        "hatch-pyc: 200 of 1532 modules compiled (7 from the cache) in 2 s",
        "hatch-pyc: 900 of 1532 modules compiled (7 from the cache) in 12 s",
    ]


def test_a_source_edited_during_the_build_cannot_reach_the_cache(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = _modules(demo)
    core = demo / "src/demo/core.py"
    original = core.read_text()
    compile_job = worker.compile_job

    def edit_then_compile(job: dict, source: bytes, out_dir: str) -> dict:
        # The file changes after the build read it: as an editor saving mid-build.
        if job["path"] == "demo/core.py":
            core.write_text(original + "\nEDITED = 'during the build'\n")
        return compile_job(job, source, out_dir)

    monkeypatch.setattr(worker, "compile_job", edit_then_compile)
    cache_dir = str(tmp_path / "cache")
    first = _compile(modules, tmp_path / "a", CompileCache(cache_dir))
    monkeypatch.undo()
    core.write_text(original)
    again = _compile(modules, tmp_path / "b", CompileCache(cache_dir))
    assert again.from_cache == len(modules)
    assert _contents(again) == _contents(first) == _contents(_compile(modules, tmp_path / "c", None))
    assert not any(b"during the build" in data for data in _contents(again).values())


@pytest.mark.parametrize("kind", ["fifo", "symlink to /dev/zero", "directory", "oversized", "renamed"])
def test_an_entry_that_is_not_a_plausible_pyc_of_its_key_is_a_miss(kind: str, demo: Path, tmp_path: Path) -> None:
    modules = _modules(demo)
    cache_dir = tmp_path / "cache"
    clean = _contents(_compile(modules, tmp_path / "clean", CompileCache(str(cache_dir))))
    entries = _entries(cache_dir)
    entry = entries[0]
    good = entry.read_bytes()
    entry.unlink()
    if kind == "fifo":
        os.mkfifo(entry)
    elif kind == "symlink to /dev/zero":
        entry.symlink_to("/dev/zero")
    elif kind == "directory":
        entry.mkdir()
    elif kind == "oversized":
        with open(entry, "wb") as f:
            f.truncate(64 * 1024 * 1024)  # sparse: a reader that read it whole would take 64 MB
    elif kind == "renamed":
        # Another module's entry, in place of this one: its contents match its old name.
        shutil.copyfile(entries[1], entry)
    signal.alarm(60)  # a reader that blocks on the FIFO fails the test instead of hanging it
    try:
        cache = CompileCache(str(cache_dir))
        again = _compile(modules, tmp_path / "again", cache)
    finally:
        signal.alarm(0)
    assert (again.from_cache, cache.misses) == (len(modules) - 1, 1)
    assert _contents(again) == clean
    if kind != "directory":  # a directory in the way is not replaced: that pyc is not cached
        assert good in [path.read_bytes() for path in _entries(cache_dir) if path.is_file() and not path.is_symlink()]


def _verify(wheel: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hatch_pyc", "check", "--verify-code", *flags, wheel], capture_output=True, text=True
    )


def test_check_and_install_take_only_the_pycs_compiled_or_compared_here_from_the_cache(
    demo: Path, tmp_path: Path, build_wheel: Callable[..., Path], make_venv: Callable[..., Venv]
) -> None:
    wheel = build_wheel(demo)  # its pycs land in this test's compile cache
    pycs = [name for name in wheels.names(wheel) if name.endswith(".pyc")]
    assert pycs
    ran = _verify(wheel)
    assert ran.returncode == 0, ran
    assert f"note: {len(pycs)} pycs are in the compile cache, byte for byte" in ran.stdout, ran
    assert "in the compile cache" not in _verify(wheel, "--no-cache").stdout

    # Another code under the source's own hash, or another source under the pyc: never a hit.
    core = next(name for name in pycs if "/core." in name)
    source = core.replace("__pycache__/", "").split(".")[0] + ".py"
    header = wheels.read(wheel, core)[:16]
    forged = header + marshal.dumps(compile("open('marker', 'w')", "core.py", "exec"))
    for number, changes in enumerate(({core: forged}, {source: wheels.read(wheel, source) + b"\nimport os\n"})):
        tampered = wheels.rewrite(wheel, tmp_path / f"tampered-{number}" / wheel.name, changes)
        ran = _verify(tampered)
        assert ran.returncode == 1, ran
        assert "its code is not what its source compiles to" in ran.stdout or "hash of another source" in ran.stdout

    # An empty cache: a check stores nothing; an install stores what it compared, and the
    # next install compiles nothing.
    other = tmp_path / "other-cache"
    env = {**os.environ, "HATCH_PYC_CACHE_DIR": str(other)}
    first = subprocess.run(
        [sys.executable, "-m", "hatch_pyc", "check", "--verify-code", wheel], capture_output=True, text=True, env=env
    )
    assert first.returncode == 0, first
    assert "in the compile cache" not in first.stdout
    assert not list(other.rglob("*.pyc"))
    for venv in (make_venv(), make_venv()):
        installed = subprocess.run(
            [sys.executable, "-m", "hatch_pyc", "install", wheel, "--python", venv.python],
            capture_output=True,
            text=True,
            env=env,
        )
        assert installed.returncode == 0, installed
        assert subprocess.run([venv.python, "-c", "import demo.core"], check=False).returncode == 0
        # Each entry is a second name of a pyc the first install wrote: the cache holds no copy
        # (unless the umask lets the group or others write the installed files).
        linked = os.umask(os.umask(0o022)) & 0o022 == 0o022
        entries = list(other.rglob("*.link" if linked else "*.pyc"))
        assert len(entries) == len(pycs)
        assert all(entry.stat().st_nlink == 1 + linked for entry in entries)
    again = subprocess.run(
        [sys.executable, "-m", "hatch_pyc", "check", "--verify-code", wheel], capture_output=True, text=True, env=env
    )
    assert f"note: {len(pycs)} pycs are in the compile cache, byte for byte" in again.stdout, again


def test_an_install_that_cannot_fill_the_cache_says_so_and_installs(
    demo: Path,
    tmp_path: Path,
    build_wheel: Callable[..., Path],
    make_venv: Callable[..., Venv],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wheel = build_wheel(demo)

    def full(cache_dir: str, key: str, data: bytes) -> str:
        raise OSError(28, "No space left on device", cache_dir)

    def no_link(source: str, target: str, **options: object) -> None:
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr(worker, "store_entry", full)
    monkeypatch.setattr(os, "link", no_link)
    venv = make_venv()
    cache_dir = tmp_path / "full-cache"
    assert cli.main(["install", str(wheel), "--python", str(venv.python), "--cache-dir", str(cache_dir)]) == 0
    err = capsys.readouterr().err
    assert (
        f"hatch-pyc: warning: cannot write the compile cache in {cache_dir / 'v1'} "
        f"({cache_dir / 'v1'}: No space left on device): installing these pycs again compares them again; "
        "set --cache-dir or HATCH_PYC_CACHE_DIR, or pass --no-cache"
    ) in err
    assert subprocess.run([venv.python, "-c", "import demo.core"], check=False).returncode == 0
