"""Where wheel files land and what the import system makes of them: the rules ``check`` and
``install`` apply, on entry names alone (a case-insensitive file system simulated by name)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hatch_pyc.check.landing import audit_archive, audit_wheel, fold, land, site_prefixes

DATA = "demo_pkg-0.1.0.data"
INFO = "demo_pkg-0.1.0.dist-info"
PYC = "cpython-311"


def audit(*entries: str, layout: str | None = "alongside", texts: Mapping[str, str] | None = None) -> object:
    return audit_wheel(
        [*entries, f"{INFO}/RECORD"],
        data_dir=DATA,
        layout=layout,
        archive_name="demo_pkg.zip",
        read_text=lambda entry: (texts or {})[entry],
        in_site={"data": ["lib/python3.11/site-packages"]},
    )


def test_fold_compares_names_as_the_strictest_file_system() -> None:
    assert fold("demo/__PYCACHE__/Core.py") == "demo/__pycache__/core.py"
    assert fold("demo/__pycache__./x") == fold("demo/__pycache__ /x") == "demo/__pycache__/x"
    assert fold("caf\u00e9.py") == fold("cafe\u0301.py")
    assert fold("STRASSE") == fold("straße")


def test_every_scheme_that_reaches_site_packages_lands_there() -> None:
    prefixes = site_prefixes(
        {"purelib": "/v/lib/python3.11/site-packages", "platlib": "/v/lib64/python3.11/site-packages", "data": "/v"}
        | {"scripts": "/v/bin", "headers": "/v/include/site/python3.11/demo"}
    )
    assert prefixes == {"data": ["lib/python3.11/site-packages", "lib64/python3.11/site-packages"]}
    assert land("demo/core.py", DATA, prefixes).scheme == "site"
    assert land(f"{DATA}/purelib/demo/core.py", DATA, prefixes).path == "demo/core.py"
    assert land(f"{DATA}/platlib/demo/core.py", DATA, prefixes).scheme == "site"
    assert land(f"{DATA}/data/LIB/python3.11/site-packages/evil.pth", DATA, prefixes).path == "evil.pth"
    assert land(f"{DATA}/data/share/demo.txt", DATA, prefixes).scheme == "data"
    assert land(f"{DATA}/scripts/demo", DATA, prefixes).scheme == "scripts"


@pytest.mark.parametrize("source", ["demo/core.py", f"{DATA}/purelib/demo/core.py", f"{DATA}/platlib/demo/core.py"])
def test_a_pycache_pyc_is_checked_against_the_source_that_lands_beside_it(source: str) -> None:
    pyc = f"demo/__pycache__/core.{PYC}.pyc"
    result = audit(pyc, source)
    assert result.sources == {pyc: source}
    assert not result.problems


def test_a_pycache_pyc_from_data_is_checked_against_a_root_source() -> None:
    pyc = f"{DATA}/purelib/demo/__pycache__/core.{PYC}.opt-1.pyc"
    assert audit(pyc, "demo/core.py").sources == {pyc: "demo/core.py"}


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([f"victim/__pycache__/core.{PYC}.pyc"], "no source beside it (victim/core.py)"),
        ([f"demo/__pycache__/core.{PYC}.pyc", "demo/other.py"], "no source beside it"),
        ([f"demo/__PYCACHE__/core.{PYC}.pyc", "demo/core.py"], "spelled '__PYCACHE__'"),
        ([f"demo/__pycache__./core.{PYC}.pyc", "demo/core.py"], "spelled '__pycache__.'"),
        ([f"demo/__pycache__ /core.{PYC}.pyc", "demo/core.py"], "spelled '__pycache__ '"),
        ([f"demo/__pycache__/CORE.{PYC}.pyc", "demo/core.py"], "named unlike its source demo/core.py"),
        (["demo/core.py", "demo/CORE.py"], "land on one file"),
        (["demo/café.py", "demo/cafe\u0301.py"], "land on one file"),
        (["demo/core.py", f"{DATA}/purelib/demo/core.py"], "land on one file"),
        (["demo/core.py", "Demo/core.py/x.py"], "needs a directory where demo/core.py lands as a file"),
        (["demo/hidden.pyc"], "bytecode with no source beside it"),
        ([f"{DATA}/data/lib/python3.11/site-packages/demo/__pycache__/x.{PYC}.pyc"], "no source beside it"),
    ],
)
def test_what_the_import_system_would_load_unverified_is_a_problem(entries: list[str], says: str) -> None:
    result = audit(*entries)
    assert any(says in problem for problem in result.problems), result.problems


def test_names_that_only_look_like_pycache_are_ordinary_directories() -> None:
    result = audit(f"demo/x__pycache__/core.{PYC}.pyc", "demo/x__pycache__/core.py")
    (problem,) = result.problems
    assert problem.startswith(f"demo/x__pycache__/core.{PYC}.pyc: bytecode with no source beside it")


def test_bytecode_without_source_passes_only_where_the_recorded_layout_puts_it() -> None:
    assert audit("demo/core.pyc", layout="sourceless").problems == []
    assert audit("demo/core.pyc", layout="sourceless").unverifiable == 1
    assert audit("demo/core.pyc", "demo/core.py", layout=None).problems == []
    assert audit("demo/core.pyc", layout=None).problems
    assert audit("demo/core.pyc", layout="zip").problems


def test_archives_on_sys_path_are_found_from_pth_files_not_from_the_metadata() -> None:
    texts = {"demo_pkg.pth": "demo_pkg.zip\n", "extra.pth": "# comment\n\nextra.zip/lib\n"}
    result = audit("demo_pkg.pth", "demo_pkg.zip", "extra.pth", "extra.zip", "plain.zip", layout="zip", texts=texts)
    assert result.archives == {"demo_pkg.zip": True, "extra.zip": False}
    alongside = audit("demo_pkg.pth", "demo_pkg.zip", layout="alongside", texts=texts)
    assert alongside.archives == {"demo_pkg.zip": False}
    assert audit_archive(["pkg/mod.pyc"], label="extra.zip", declared=False).problems == [
        "extra.zip/pkg/mod.pyc: bytecode with no source beside it in an archive on sys.path that the bytecode "
        "metadata does not declare: nothing can verify it"
    ]
    inside = audit_archive(["pkg/mod.pyc", "pkg/mod.py", "pkg/__pycache__/x.pyc"], label="a.zip", declared=False)
    assert inside.sources == {"pkg/mod.pyc": "pkg/mod.py"}
    assert not inside.problems


def test_code_that_runs_at_every_start_is_named() -> None:
    texts = {
        "evil.pth": "demo\nimport os; os.system('x')\nimport\tsys\n",
        "quiet.pth": "/opt/elsewhere\n../outside\n",
    }
    result = audit(
        "evil.pth",
        "quiet.pth",
        "demo/__init__.py",
        "demo.start",
        "sitecustomize.py",
        "usercustomize/__init__.py",
        ".hidden.pth",
        texts=texts,
    )
    assert sorted(result.startup) == [
        "demo.start: its entry points run at every start of Python 3.15+ (PEP 829)",
        "evil.pth line 2 runs code at every start of Python: import os; os.system('x')",
        "evil.pth line 3 runs code at every start of Python: import\\tsys",
        "sitecustomize.py: the site module imports it at every start of Python",
        "usercustomize: the site module imports it at every start of Python",
    ]
    assert len(result.notes) == 2
    assert all("not in this wheel" in note for note in result.notes)
