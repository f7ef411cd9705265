"""Which compile cache directories are trusted: the rules, on real directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatch_pyc.build.cache import open_cache, untrusted

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no owners and modes on this system")


def test_a_private_cache_is_trusted_and_made_private(tmp_path: Path) -> None:
    warnings: list[str] = []
    assert open_cache(str(tmp_path / "new" / "cache"), warnings.append) is not None
    assert warnings == []
    assert (tmp_path / "new" / "cache" / "v1").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda d: d.chmod(0o707), "is writable by group or others (mode 707)"),
        (lambda d: (d / "v1" / "ab").mkdir(mode=0o777) or (d / "v1" / "ab").chmod(0o777), "v1/ab is writable"),
        (lambda d: (d / "v1").rmdir() or (d / "v1").symlink_to(d.parent), "v1 is a symbolic link"),
        (lambda d: d.parent.chmod(0o777), "above it, is writable by group or others (mode 777)"),
    ],
)
def test_a_cache_another_user_could_write_is_refused_in_one_line(tmp_path: Path, spoil: object, says: str) -> None:
    directory = tmp_path / "parent" / "cache"
    (directory / "v1").mkdir(parents=True, mode=0o700)
    directory.chmod(0o700)
    spoil(directory)  # type: ignore[operator]
    assert says in (untrusted(str(directory)) or "")
    warnings: list[str] = []
    assert open_cache(str(directory), warnings.append) is None
    assert len(warnings) == 1
    assert warnings[0].startswith("not using the compile cache: ")


def test_a_sticky_world_writable_parent_like_tmp_is_fine(tmp_path: Path) -> None:
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert untrusted(str(sticky / "cache")) is None


def test_a_group_may_write_only_where_it_is_the_users_own(tmp_path: Path) -> None:
    """User private groups (umask 002) leave directories group-writable: the group is the user's alone."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o770)
    directory.chmod(0o770)
    if os.geteuid() == 0:
        os.chown(directory, os.getuid(), os.getgid())  # the group of a user private group
    elif os.stat(directory).st_gid != os.getgid():
        pytest.skip("the directory's group is not the user's own here (a set-group-ID parent)")
    assert untrusted(str(directory)) is None
    if os.geteuid() == 0:
        os.chown(directory, 0, 4242)  # a group of other users
        assert "is writable by group or others (mode 770)" in (untrusted(str(directory)) or "")


def test_a_group_is_shared_when_another_user_has_it_as_primary_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's own users (``users`` on openSUSE) are not listed among its members."""
    import pwd

    directory = tmp_path / "cache"
    directory.mkdir(mode=0o770)
    directory.chmod(0o770)
    gid = os.stat(directory).st_gid
    if gid != os.getgid():
        pytest.skip("the directory's group is not the user's own here (a set-group-ID parent)")
    me = pwd.getpwuid(os.getuid())
    other = pwd.struct_passwd(("other", "x", os.getuid() + 4242, gid, "", "/nonexistent", "/bin/false"))
    monkeypatch.setattr(pwd, "getpwall", lambda: [me])
    assert untrusted(str(directory)) is None
    monkeypatch.setattr(pwd, "getpwall", lambda: [me, other])
    assert "is writable by group or others (mode 770)" in (untrusted(str(directory)) or "")
