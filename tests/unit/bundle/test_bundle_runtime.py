"""The bundle runtime's extraction directory: its name, what a start trusts there and what it
checks, on real directories, with the finder a bundle's bootstrap makes."""

from __future__ import annotations

import hashlib
import os
import site
import sys
from pathlib import Path

import pytest

from hatch_pyc._shipped import bundle_runtime
from hatch_pyc._shipped.bundle_runtime import DONE, ExtractedFinder, extraction_digest, group_hash, group_of
from hatch_pyc.bundle import plan as bundle_plan

FILES = {
    "pkg/__init__.pyc": b"pkg init",
    "pkg/core.pyc": b"pkg core code",
    "pkg/sub/__init__.pyc": b"sub",
    "pkg/data.txt": b"data",
    "six.pyc": b"six code",
}


def _groups(files: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    digests = {}
    for group in {group_of(name) for name in files}:
        hasher = hashlib.sha256()
        for name in sorted(files):
            if group_of(name) == group:
                group_hash(name, len(files[name]), hasher)
                hasher.update(files[name])
        digests[group] = hasher.hexdigest()
    return bundle_plan.extraction({name: len(data) for name, data in files.items()}, digests, None).groups


def _finder(cache: Path, files: dict[str, bytes] = FILES, digest: str | None = None) -> ExtractedFinder:
    groups = _groups(files)
    named = extraction_digest(groups) if digest is None else digest
    return ExtractedFinder("app.pyz", files.__getitem__, str(cache), named, groups, {})


def _started(cache: Path, *names: str) -> ExtractedFinder:
    """A start that imports ``names``."""
    finder = _finder(cache)
    for name in names:
        assert finder.find_spec(name) is not None
    return finder


def test_one_hash_names_the_directory_for_bundle_runtime_and_check() -> None:
    groups = _groups(FILES)
    assert (
        extraction_digest(groups)
        == bundle_plan.extraction(
            {name: len(data) for name, data in reversed(FILES.items())},
            {group: digest for group, (digest, _) in groups.items()},
            None,
        ).digest
    )
    assert len(extraction_digest(groups)) == 32
    changed = _groups({**FILES, "pkg/core.pyc": b"other"})
    assert extraction_digest(changed) != extraction_digest(groups)


def test_a_start_writes_each_group_durably_and_marks_it_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    finder = _started(tmp_path, "pkg")
    root = Path(finder._shared)
    marker = DONE + finder._groups["pkg"][0]
    assert sorted(os.listdir(root)) == [marker, "pkg"]  # six is not imported: not extracted
    assert (root / marker).read_bytes() == b""
    # Each of the group's 4 files, its 3 directories (the partial one too), the top twice: after
    # the rename, and after the marker.
    assert len(synced) == 4 + 3 + 2


def test_a_warm_start_reads_one_listing_per_directory_and_hashes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _started(tmp_path, "pkg", "six")
    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        listed.append(os.path.relpath(path, tmp_path))
        return real_scandir(path)

    def hashed(self: object, group: str) -> bool:
        raise AssertionError("hashed at a warm start")

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(ExtractedFinder, "_hashed", hashed)
    monkeypatch.setattr(ExtractedFinder, "_write", hashed)
    finder = _started(tmp_path, "pkg", "six")
    digest = os.path.basename(finder._shared)
    assert listed == [digest, f"{digest}/pkg", f"{digest}/pkg/sub"]


@pytest.mark.parametrize(
    "planted",
    [
        "pkg/core.py",  # a source beside the pyc: the path finder prefers it
        "pkg/sub/__init__.py",
        "pkg/evil/__init__.pyc",  # a package the bundle does not hold
        "six.py",  # beside a top-level module
        "six/__init__.py",  # a package of its name: before the module
        "stray.pyc",  # a name no group of the bundle has
    ],
)
def test_a_file_planted_beside_the_extracted_ones_is_removed_before_any_import(
    tmp_path: Path, planted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    finder = _started(tmp_path, "pkg", "six")
    root = Path(finder._shared)
    (root / planted).parent.mkdir(parents=True, exist_ok=True)
    (root / planted).write_bytes(b"raise SystemExit('planted code ran')\n")
    markers = sorted(name for name in os.listdir(root) if name.startswith(DONE))
    capsys.readouterr()

    again = _started(tmp_path, "pkg", "six")
    assert not (root / planted).exists()
    (line,) = capsys.readouterr().err.splitlines()
    top = {"six/__init__.py": "six", "pkg/evil/__init__.pyc": "pkg/evil"}.get(planted, planted)
    assert line == f"app.pyz: warning: removed {top} from {again._shared}: not files it extracts"
    # The bundle's own files stay: nothing extracted again, the markers as they were.
    assert sorted(name for name in os.listdir(root) if name.startswith(DONE)) == markers
    assert (root / "pkg" / "core.pyc").read_bytes() == FILES["pkg/core.pyc"]
    spec = again.find_spec("six")
    assert spec is not None
    assert spec.origin == str(root / "six.pyc")


def test_pythons_own_bytecode_cache_and_dot_names_stay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"pkg/__init__.py": b"", "pkg/mod.py": b"x = 1\n"}
    finder = _finder(tmp_path, files)
    assert finder.find_spec("pkg") is not None
    root = Path(finder._shared)
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"Python's own")
    (root / "pkg" / ".DS_Store").write_bytes(b"")
    capsys.readouterr()
    assert _finder(tmp_path, files).find_spec("pkg") is not None
    assert capsys.readouterr().err == ""
    assert sorted(os.listdir(root / "pkg")) == [".DS_Store", "__init__.py", "__pycache__", "mod.py"]


def test_a_torn_extraction_is_extracted_again_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    finder = _started(tmp_path, "pkg")
    root = Path(finder._shared)
    marker = root / (DONE + finder._groups["pkg"][0])
    # A crash after the rename, before the files reached the disk: right sizes, other bytes.
    (root / "pkg" / "core.pyc").write_bytes(b"\0" * len(FILES["pkg/core.pyc"]))
    marker.unlink()

    _started(tmp_path, "pkg")
    assert (root / "pkg" / "core.pyc").read_bytes() == FILES["pkg/core.pyc"]
    assert marker.exists()
    assert capsys.readouterr().err == ""
    written = {path: path.stat().st_mtime_ns for path in root.rglob("*")}
    _started(tmp_path, "pkg")  # once: the next start finds it whole
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*")} == written


def test_a_whole_copy_without_its_marker_is_kept_and_marked(tmp_path: Path) -> None:
    """Another start renamed its copy in place and has not written the marker yet (or a crash
    came between): its files hash to the group's, so they stay."""
    finder = _started(tmp_path, "pkg")
    root = Path(finder._shared)
    marker = root / (DONE + finder._groups["pkg"][0])
    marker.unlink()
    inode = (root / "pkg").stat().st_ino
    _started(tmp_path, "pkg")
    assert marker.exists()
    assert (root / "pkg").stat().st_ino == inode


def test_a_bundle_whose_directory_is_named_for_other_files_writes_nothing_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine = _started(tmp_path, "pkg")
    root = Path(genuine._shared)
    before = sorted(str(path.relative_to(root)) for path in root.rglob("*"))
    # A copy with pkg changed that kept the genuine bundle's directory name.
    changed = {**FILES, "pkg/core.pyc": b"other code!!!"}
    copy = _finder(tmp_path, changed, digest=root.name)
    assert copy.find_spec("pkg") is None  # left to the archive: pure Python
    assert copy.find_spec("six") is None
    assert capsys.readouterr().err == ""
    assert sorted(str(path.relative_to(root)) for path in root.rglob("*")) == before
    assert (root / "pkg" / "core.pyc").read_bytes() == FILES["pkg/core.pyc"]
    assert isinstance(copy._failed, OSError)
    assert "another directory: the bundle was changed" in str(copy._failed)


def test_the_runtime_holds_its_checks_in_the_standard_library() -> None:
    source = Path(bundle_runtime.__file__).read_text()
    assert "import hatch_pyc" not in source
    assert "from hatch_pyc" not in source


def test_the_directory_on_sys_path_imports_only_the_bundles_names(tmp_path: Path) -> None:
    """The entry finder of the extraction directory, which sys.path holds: the bundle's own
    top-level names, checked or extracted first, and nothing else that is there."""
    finder = _finder(tmp_path)
    entry = finder.entry(finder._shared)
    assert finder.path_hook(finder._shared) is entry  # after sys.path_importer_cache.clear()
    with pytest.raises(ImportError):
        finder.path_hook(str(tmp_path))
    assert list(entry.iter_modules("top.")) == [("top.pkg", True), ("top.six", False)]

    spec = entry.find_spec("six")  # extracted at its first import, as through the finder
    assert spec is not None
    assert spec.origin == os.path.join(finder._shared, "six.pyc")
    for name in ("stray", "os"):
        (Path(finder._shared) / f"{name}.py").write_text("raise SystemExit('planted code ran')\n")
        assert entry.find_spec(name) is None
    assert entry.find_spec("pkg.core") is None  # a submodule is found through its package's __path__
    assert entry.find_spec("pkg") is not None
    entry.invalidate_caches()


def test_the_directory_goes_on_sys_path_after_the_standard_library_once_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdlib = os.path.dirname(os.__file__)
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path / "site")])
    monkeypatch.setattr(site, "ENABLE_USER_SITE", False)
    path = ["/bundle.pyz/", "/pythonpath", stdlib, str(tmp_path / "site"), "/from-a-pth"]
    monkeypatch.setattr("sys.path", path)
    monkeypatch.setattr("sys.path_importer_cache", {})
    _started(tmp_path, "six")
    root = Path(_finder(tmp_path)._shared)
    # What scans sys.path for files finds nothing at its top that the bundle does not record.
    (root / "six-1.0.dist-info").mkdir()
    (root / "pkg.dist-info").mkdir()
    (root / "pkg.egg-info").write_text("Name: pkg\n")
    capsys.readouterr()

    finder = _finder(tmp_path)
    finder.on_sys_path = True
    assert path == ["/bundle.pyz/", "/pythonpath", stdlib, str(tmp_path / "site"), "/from-a-pth"]
    assert finder.find_spec("six") is not None  # its top checked: on sys.path from here
    assert path == ["/bundle.pyz/", "/pythonpath", stdlib, str(root), str(tmp_path / "site"), "/from-a-pth"]
    assert sys.path_importer_cache[str(root)] is finder.entry(str(root))
    assert _shown(root) == ["six.pyc"]
    assert "warning: removed " in capsys.readouterr().err
    # A private directory, taken where the shared one cannot be used, goes after it: the
    # modules imported from the shared one are still found on sys.path.
    finder.on_path(str(tmp_path / "private"))
    assert path[3:5] == [str(root), str(tmp_path / "private")]
    monkeypatch.setattr("sys.path", ["/bundle.pyz/", stdlib])
    monkeypatch.setattr(site, "getsitepackages", list)  # python -S, or no site-packages
    _finder(tmp_path).on_path(str(root))
    assert sys.path == ["/bundle.pyz/", stdlib, str(root)]


def _shown(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))
