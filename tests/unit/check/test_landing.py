"""The model of an install: where wheel files land (real paths, links resolved) and what the
target's import system can execute from there, on entry names and paths alone."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hatch_pyc.check.landing import Audit, Places, audit_archive, audit_wheel, destinations, fold
from hatch_pyc.core import layouts

DATA = "demo_pkg-0.1.0.data"
INFO = "demo_pkg-0.1.0.dist-info"
PYC = "cpython-311"
SITE = "/v/lib/python3.11/site-packages"
#: A venv: its lib64 is a link to lib.
VENV = Places(
    schemes={"purelib": SITE, "platlib": SITE, "data": "/v", "scripts": "/v/bin", "headers": "/v/include/demo"},
    path=["/py/lib/python311.zip", "/py/lib/python3.11", "/py/lib/python3.11/lib-dynload"],
    stdlib=frozenset({"json", "os", "sys"}),
    suffixes=(".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"),
)
#: An interpreter that is not a venv: its data scheme is the prefix that holds the standard library.
SYSTEM = Places(
    schemes={"purelib": "/usr/lib/python3.11/site-packages", "platlib": "/usr/lib/python3.11/site-packages"}
    | {"data": "/usr", "scripts": "/usr/bin", "headers": "/usr/include/python3.11/demo"},
    path=["/usr/lib/python311.zip", "/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload"],
    stdlib=frozenset({"json", "os", "sys"}),
)


def resolve(path: str) -> str:
    return path.replace("/v/lib64/", "/v/lib/")


def audit(
    *entries: str,
    layout: str | None = "alongside",
    texts: Mapping[str, str] | None = None,
    places: Places = VENV,
) -> Audit:
    return audit_wheel(
        [*entries, f"{INFO}/RECORD"],
        data_dir=DATA,
        dist_info=INFO,
        layout=None if layout is None else layouts.layout(layout),
        archive_name="demo_pkg.zip",
        read_text=lambda entry: (texts or {})[entry],
        places=places,
        resolve=resolve,
    )


def test_fold_compares_names_as_the_strictest_file_system() -> None:
    assert fold("demo/__PYCACHE__/Core.py") == "demo/__pycache__/core.py"
    assert fold("demo/__pycache__./x") == fold("demo/__pycache__ /x") == "demo/__pycache__/x"
    assert fold("caf\u00e9.py") == fold("cafe\u0301.py")
    assert fold("STRASSE") == fold("straße")


def test_every_entry_lands_on_a_real_path() -> None:
    entries = [
        "demo/core.py",
        f"{DATA}/purelib/demo/a.py",
        f"{DATA}/platlib/demo/b.py",
        f"{DATA}/data/lib64/python3.11/site-packages/evil.pth",
        f"{DATA}/data/LIB/python3.11/site-packages/c.py",
        f"{DATA}/scripts/demo",
        f"{DATA}/nowhere/x",
    ]
    landed = destinations(entries, data_dir=DATA, root_scheme="purelib", places=VENV, resolve=resolve)
    assert landed == {
        "demo/core.py": f"{SITE}/demo/core.py",
        f"{DATA}/purelib/demo/a.py": f"{SITE}/demo/a.py",
        f"{DATA}/platlib/demo/b.py": f"{SITE}/demo/b.py",
        # Through the venv's lib64 link: site-packages itself.
        f"{DATA}/data/lib64/python3.11/site-packages/evil.pth": f"{SITE}/evil.pth",
        # Not site-packages where names keep their case.
        f"{DATA}/data/LIB/python3.11/site-packages/c.py": "/v/LIB/python3.11/site-packages/c.py",
        f"{DATA}/scripts/demo": "/v/bin/demo",
    }


@pytest.mark.parametrize("source", ["demo/core.py", f"{DATA}/purelib/demo/core.py", f"{DATA}/platlib/demo/core.py"])
def test_a_pycache_pyc_is_checked_against_the_source_that_lands_beside_it(source: str) -> None:
    pyc = f"demo/__pycache__/core.{PYC}.pyc"
    result = audit(pyc, source)
    assert result.sources == {pyc: source}
    assert not result.problems


def test_a_pycache_pyc_through_the_lib64_link_is_checked_against_the_source_beside_it() -> None:
    pyc = f"{DATA}/data/lib64/python3.11/site-packages/demo/__pycache__/core.{PYC}.opt-1.pyc"
    assert audit(pyc, "demo/core.py").sources == {pyc: "demo/core.py"}


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([f"victim/__pycache__/core.{PYC}.pyc"], "no source beside it from this wheel (/v/lib/python3.11/site"),
        ([f"demo/__pycache__/core.{PYC}.pyc", "demo/other.py"], "no source beside it"),
        ([f"demo/__PYCACHE__/core.{PYC}.pyc", "demo/core.py"], "spelled '__PYCACHE__'"),
        ([f"demo/__pycache__./core.{PYC}.pyc", "demo/core.py"], "spelled '__pycache__.'"),
        ([f"demo/__pycache__ /core.{PYC}.pyc", "demo/core.py"], "spelled '__pycache__ '"),
        ([f"demo/__pycache__/CORE.{PYC}.pyc", "demo/core.py"], "named unlike its source demo/core.py"),
        (["demo/core.py", "demo/CORE.py"], "land on one file"),
        (["demo/café.py", "demo/cafe\u0301.py"], "land on one file"),
        (["demo/core.py", f"{DATA}/purelib/demo/core.py"], "land on one file"),
        (["demo/core.py", f"{DATA}/data/lib64/python3.11/site-packages/demo/core.py"], "land on one file"),
        (["demo/core.py", "Demo/core.py/x.py"], "needs a directory where demo/core.py lands as a file"),
        (["demo/hidden.pyc"], "bytecode with no source beside it"),
        # A package directory wins over the module of that name: its __init__ runs, unverified.
        ([f"{DATA}/data/lib64/python3.11/site-packages/demo/core/__init__.pyc", "demo/core.py"], "no source beside"),
        ([f"{DATA}/data/lib/python3.11/site-packages/demo/__pycache__/x.{PYC}.pyc"], "no source beside it"),
        # The scripts directory is sys.path[0] of every console script.
        ([f"{DATA}/scripts/demo.pyc"], "lands in the scripts directory"),
        ([f"{DATA}/data/bin/pip.pyc"], "lands in the scripts directory"),
        ([f"{DATA}/scripts/json.py"], "in place of the standard library's module"),
        ([f"{DATA}/scripts/core.cpython-311-x86_64-linux-gnu.so"], "lands in the scripts directory"),
        ([f"{DATA}/purelib/other-1.0.dist-info/RECORD"], "the metadata of another distribution"),
        # A package in the scripts directory, named like a module of the wheel's own.
        (["demo/__init__.py", f"{DATA}/scripts/demo/__init__.py"], "imports demo runs it"),
        # What the interpreter reads beside its executable to find its paths, before any import.
        ([f"{DATA}/scripts/python._pth"], "a file Python reads to find its paths at start-up"),
        ([f"{DATA}/data/bin/python3.11._pth"], "a file Python reads to find its paths at start-up"),
        ([f"{DATA}/scripts/pyvenv.cfg"], "a file Python reads to find its paths at start-up"),
        # pkgutil.extend_path reads <package>.pkg in every directory of sys.path.
        (["legacyns.pkg"], "pkgutil.extend_path adds each line of it to package legacyns's __path__"),
    ],
)
def test_what_the_import_system_would_load_unverified_is_a_problem(entries: list[str], says: str) -> None:
    result = audit(*entries)
    assert any(says in problem for problem in result.problems), result.problems


def test_a_script_that_is_no_module_name_is_fine_in_the_scripts_directory() -> None:
    assert audit(f"{DATA}/scripts/demo-script", f"{DATA}/scripts/tool.sh", f"{DATA}/scripts/x-y.py").problems == []


def test_names_that_only_look_like_pycache_are_ordinary_directories() -> None:
    result = audit(f"demo/x__pycache__/core.{PYC}.pyc", "demo/x__pycache__/core.py")
    (problem,) = result.problems
    assert problem.startswith(f"demo/x__pycache__/core.{PYC}.pyc: bytecode with no source beside it")


def test_bytecode_without_source_passes_only_where_the_recorded_layout_puts_it() -> None:
    assert audit("demo/core.pyc", layout="sourceless").problems == []
    assert audit("demo/core.pyc", layout="sourceless").unverifiable == 1
    assert audit("demo/core.pyc", "demo/core.py", layout=None).problems == []
    assert audit("demo/core.pyc", layout=None).problems
    assert audit("demo/core.pyc", layout="alongside").problems
    # The zip layout ships a package that reads files beside __file__ beside its archive, sourceless.
    assert audit("demo/core.pyc", layout="zip").problems == []
    # Beside its source, which is what runs: never what hatch-pyc writes.
    assert (
        "the source beside it (demo/core.py) is what runs"
        in audit("demo/core.pyc", "demo/core.py", layout="sourceless").problems[0]
    )
    # Only in site-packages: not in the standard library's directories, not in the scripts directory.
    outside = audit(f"{DATA}/data/lib/python3.11/json.pyc", layout="sourceless", places=SYSTEM)
    assert "in the standard library's directories" in outside.problems[0]


def test_site_packages_inside_the_standard_library_is_searched_as_site_packages() -> None:
    assert audit("demo/core.pyc", layout="sourceless", places=SYSTEM).problems == []


def test_archives_on_sys_path_are_found_from_pth_files_not_from_the_metadata() -> None:
    texts = {"demo_pkg.pth": "demo_pkg.zip\n", "extra.pth": "# comment\n\nextra.zip/lib\n"}
    result = audit("demo_pkg.pth", "demo_pkg.zip", "extra.pth", "extra.zip", "plain.zip", layout="zip", texts=texts)
    assert result.archives == {
        "demo_pkg.zip": (True, "demo_pkg.pth line 1"),
        "extra.zip": (False, "extra.pth line 3"),
    }
    assert not result.startup
    alongside = audit("demo_pkg.pth", "demo_pkg.zip", layout="alongside", texts=texts)
    assert alongside.archives == {"demo_pkg.zip": (False, "demo_pkg.pth line 1")}
    # Through the data scheme, an archive outside site-packages that a .pth line names.
    far = audit(f"{DATA}/data/h1.zip", "x.pth", texts={"x.pth": "../../../h1.zip\n"})
    assert far.archives == {f"{DATA}/data/h1.zip": (False, "x.pth line 1")}
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
        "quiet.pth line 1 puts /opt/elsewhere on sys.path, which this wheel does not install: whatever is there "
        "is imported as if installed",
        "quiet.pth line 2 puts ../outside on sys.path, which this wheel does not install: whatever is there "
        "is imported as if installed",
        "sitecustomize.py: the site module imports it as sitecustomize at every start of Python",
        "usercustomize/__init__.py: the site module imports it as usercustomize at every start of Python",
    ]
    assert result.notes == []


@pytest.mark.parametrize(
    ("entries", "texts"),
    [
        # Through the venv's lib64 link: site-packages.
        (
            [f"{DATA}/data/lib64/python3.11/site-packages/zz.pth"],
            {f"{DATA}/data/lib64/python3.11/site-packages/zz.pth": "import os\n"},
        ),
        # Below a directory a .pth line adds.
        (["extra.pth", "h1extra/sitecustomize.py"], {"extra.pth": "h1extra\n"}),
        (["extra.pth", "demo/_site/sitecustomize.pyc", "demo/__init__.py"], {"extra.pth": "demo/_site\n"}),
        # A .pth line to the scripts directory, which the wheel fills, or to a directory above
        # the wheel's files: they hold files of others too.
        (["extra.pth", f"{DATA}/scripts/sitecustomize.pyc"], {"extra.pth": "../../../bin\n"}),
        (["extra.pth", f"{DATA}/scripts/demo-cli"], {"extra.pth": "../../../bin\n"}),
        (["extra.pth", "demo/__init__.py"], {"extra.pth": "../../../..\n"}),
        (["extra.pth", "demo/__init__.py"], {"extra.pth": ".\n"}),
        # In the standard library's directory, outside a venv.
        ([f"{DATA}/data/lib/python3.11/sitecustomize.py"], {}),
    ],
)
def test_start_up_code_is_found_wherever_it_is_on_sys_path(entries: list[str], texts: dict[str, str]) -> None:
    places = SYSTEM if any("data/lib/python3.11/sitecustomize" in entry for entry in entries) else VENV
    assert audit(*entries, texts=texts, places=places).startup


def test_sitecustomize_in_an_archive_on_sys_path_is_start_up_code() -> None:
    assert audit_archive(["sitecustomize.py"], label="x.zip", declared=True).startup
    assert audit_archive(["sitecustomize/__init__.pyc"], label="x.zip", declared=True).startup
    assert not audit_archive(["demo/sitecustomize.py"], label="x.zip", declared=True).startup


def test_native_code_is_counted() -> None:
    result = audit("demo/_speedups.cpython-311-x86_64-linux-gnu.so", "demo/__init__.py")
    assert result.native == 1
    assert not result.problems


def test_a_pth_file_past_the_line_limit_is_refused() -> None:
    from hatch_pyc.core.limits import MAX_PTH_LINES, LimitExceeded

    texts = {"many.pth": "demo\n" * (MAX_PTH_LINES + 1)}
    with pytest.raises(LimitExceeded, match="more than 10000 lines that site acts on"):
        audit("many.pth", "demo/__init__.py", texts=texts)
    # Below it, one root per directory however often it is named.
    result = audit("many.pth", "demo/__init__.py", texts={"many.pth": "demo\n" * 500})
    assert [root.kind for root in result.roots].count("pth") == 1


def test_a_file_landing_on_a_directory_of_sys_path_is_a_problem() -> None:
    """Outside a venv the data scheme reaches the standard library's zip, which need not exist."""
    result = audit(f"{DATA}/data/lib/python311.zip", places=SYSTEM)
    assert any("which is on sys.path at every start" in problem for problem in result.problems), result.problems


def test_without_a_target_every_interpreters_site_packages_is_site_packages() -> None:
    """verify and inspect read a wheel for a venv of any interpreter: a ``.pth`` file or a pyc
    under ``.data/data/lib/python3.X/site-packages`` (or ``lib64``) lands in its site-packages."""
    generic = Places.generic()
    for lib in ("lib/python3.11", "lib64/python3.13", "lib/pypy3.11"):
        landed = audit(f"{DATA}/data/{lib}/site-packages/demo/core.pyc", layout="alongside", places=generic)
        assert any("bytecode with no source beside it" in problem for problem in landed.problems), lib
        assert not any("site-packages:" in problem and "after" in problem for problem in landed.problems)
    archived = audit(
        f"{DATA}/data/lib/python3.12/site-packages/x.pth",
        "x.zip",
        layout="zip",
        places=generic,
        texts={f"{DATA}/data/lib/python3.12/site-packages/x.pth": "x.zip\n"},
    )
    assert archived.archives == {"x.zip": (False, f"{DATA}/data/lib/python3.12/site-packages/x.pth line 1")}
