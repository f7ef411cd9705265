"""hatch-pyc: ship compiled bytecode in the wheels hatchling builds.

The Python API, which the ``hatch-pyc`` command uses too and which imports no hatchling:

- :func:`check_wheel` checks a wheel or ``.pyz`` against an interpreter and returns a
  :class:`CheckResult` listing every problem;
- :func:`inspect_artifact` describes one (:class:`Inspection`);
- :func:`install_wheel` checks, then installs with pypa/installer;
- :func:`convert_wheel` compiles a wheel another backend built;
- :func:`bundle_wheel` makes a ``.pyz`` bundle of a wheel any backend built;
- :func:`verify_artifact` compiles a wheel's or bundle's sources again from its sdist and
  compares every pyc with them (:class:`VerifyResult`).

Every error is a :class:`HatchPycError`: :class:`BadArtifact` for a file they cannot use,
:class:`TargetError` for an interpreter they cannot find, :class:`InstallRefused` for a wheel
that does not fit, :class:`BundleError` for a bundle that cannot be made.

The names are imported when first used, so that a build, which imports this package for
its hook, loads none of the modules (and none of pypa/installer) that only the commands need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Defined before anything else is imported: hatch_pyc.build.bytecode_metadata reads it.
__version__ = "0.4.0"

if TYPE_CHECKING:
    from hatch_pyc.bundle.make import bundle_wheel
    from hatch_pyc.check.checker import CheckResult, Inspection, check_wheel, inspect_artifact
    from hatch_pyc.check.verify import VerifyResult, verify_artifact
    from hatch_pyc.convert import convert_wheel
    from hatch_pyc.core.errors import BadArtifact, BundleError, HatchPycError, VerifyError
    from hatch_pyc.core.interpreters import TargetError
    from hatch_pyc.install import InstallRefused, install_wheel

#: Where each public name lives.
_EXPORTS = {
    "BadArtifact": "hatch_pyc.core.errors",
    "BundleError": "hatch_pyc.core.errors",
    "CheckResult": "hatch_pyc.check.checker",
    "HatchPycError": "hatch_pyc.core.errors",
    "Inspection": "hatch_pyc.check.checker",
    "InstallRefused": "hatch_pyc.install",
    "TargetError": "hatch_pyc.core.interpreters",
    "bundle_wheel": "hatch_pyc.bundle.make",
    "check_wheel": "hatch_pyc.check.checker",
    "convert_wheel": "hatch_pyc.convert",
    "inspect_artifact": "hatch_pyc.check.checker",
    "install_wheel": "hatch_pyc.install",
    "VerifyError": "hatch_pyc.core.errors",
    "VerifyResult": "hatch_pyc.check.verify",
    "verify_artifact": "hatch_pyc.check.verify",
}

__all__ = [
    "BadArtifact",
    "BundleError",
    "CheckResult",
    "HatchPycError",
    "Inspection",
    "InstallRefused",
    "TargetError",
    "VerifyError",
    "VerifyResult",
    "__version__",
    "bundle_wheel",
    "check_wheel",
    "convert_wheel",
    "inspect_artifact",
    "install_wheel",
    "verify_artifact",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hatch_pyc' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
