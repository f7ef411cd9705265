"""Installing a checked wheel with pypa/installer into an interpreter's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme, get_launcher_kind

from hatch_pyc import interpreters
from hatch_pyc.artifact import BadArtifact, open_artifact
from hatch_pyc.check import CheckResult, check_wheel
from hatch_pyc.errors import HatchPycError

#: Printed by the target interpreter: its install scheme, as pypa/installer's own CLI builds it.
SCHEME = """
import json, sys, sysconfig
base = sysconfig.get_config_var("base")
print(json.dumps({
    "paths": sysconfig.get_paths(),
    "include": sysconfig.get_path("include", vars={"installed_base": base}),
    "executable": sys.executable,
}))
"""


class InstallRefused(HatchPycError):
    """The wheel does not fit the target, or is installed there already; nothing was written.

    ``problems`` has one line per reason.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("not installed: " + "; ".join(problems))
        self.problems = problems


@dataclass
class Installed:
    check: CheckResult
    executable: str
    #: The directory the wheel's root went to (purelib or platlib).
    root: str


class _Destination(SchemeDictionaryDestination):
    """Writes the wheel's ``__pycache__`` pycs too.

    pypa/installer skips them (a pyc nobody checked is a risk); ``check`` has just verified
    each against RECORD and its magic number against the target, so they are written and
    recorded like every other file.
    """

    def __init__(self, pycache: dict[str, bytes], root_scheme: Scheme, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pycache = pycache
        self.root_scheme = root_scheme

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        records = list(records)
        for path, data in sorted(self.pycache.items()):
            records.append((self.root_scheme, self.write_file(self.root_scheme, path, BytesIO(data), False)))
        super().finalize_installation(scheme, record_file_path, records)


def _scheme(executable: str) -> dict[str, str]:
    result = subprocess.run([executable, "-I", "-B", "-c", SCHEME], capture_output=True, text=True)
    if result.returncode != 0:
        raise interpreters.TargetError(f"{executable} did not report its install scheme: {result.stderr.strip()}")
    return json.loads(result.stdout)


def install_wheel(path: str | os.PathLike[str], python: str | None = None) -> Installed:
    """Check the wheel at ``path`` against ``python`` (the running interpreter by default),
    then install it into that interpreter's environment.

    Raises :class:`InstallRefused` (with the check's problems) before writing anything when
    the wheel does not fit or the distribution is installed there already.
    """
    path = os.fspath(path)
    result = check_wheel(path, python)
    if result.inspection.kind != "wheel":
        raise BadArtifact(f"{path}: only wheels can be installed")
    if not result.ok:
        raise InstallRefused(result.problems)
    executable = interpreters.find(python).executable if python else sys.executable
    scheme = _scheme(executable)
    with open_artifact(path) as artifact:
        root_scheme: Scheme = "purelib" if artifact.wheel.get("Root-Is-Purelib", ["true"])[0] == "true" else "platlib"
        pycache = {
            name: artifact.read(name)
            for name in artifact.names
            if "__pycache__" in name.split("/")[:-1] and ".data/" not in name
        }
        name = artifact.name
    root = scheme["paths"][root_scheme]
    prefix = name.replace("-", "_").lower()
    if os.path.isdir(root) and any(
        entry.lower().startswith(prefix + "-") and entry.endswith(".dist-info") for entry in os.listdir(root)
    ):
        raise InstallRefused([f"{name} is installed in {root} already; uninstall it first"])
    paths = dict(scheme["paths"])
    paths["headers"] = os.path.join(scheme["include"], name)
    destination = _Destination(
        pycache,
        root_scheme,
        scheme_dict=paths,
        interpreter=scheme["executable"],
        script_kind=get_launcher_kind(),
    )
    with WheelFile.open(path) as source, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*__pycache__.*", category=RuntimeWarning)
        install(source, destination, {"INSTALLER": b"hatch-pyc\n"})
    return Installed(check=result, executable=scheme["executable"], root=root)
