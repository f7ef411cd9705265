"""hatch-pyc: ship compiled bytecode in the wheels hatchling builds.

The Python API, which the ``hatch-pyc`` command uses too and which imports no hatchling:

- :func:`check_wheel` checks a wheel or ``.pyz`` against an interpreter and returns a
  :class:`CheckResult` listing every problem;
- :func:`inspect_artifact` describes one (:class:`Inspection`);
- :func:`install_wheel` checks, then installs with pypa/installer;
- :func:`convert_wheel` compiles a wheel another backend built.

Every error is a :class:`HatchPycError`: :class:`BadArtifact` for a file they cannot use,
:class:`TargetError` for an interpreter they cannot find, :class:`InstallRefused` for a wheel
that does not fit.
"""

# Defined before the imports below: hatch_pyc.metadata reads it.
__version__ = "0.3.0"

from hatch_pyc.artifact import BadArtifact
from hatch_pyc.check import CheckResult, Inspection, check_wheel, inspect_artifact
from hatch_pyc.convert import convert_wheel
from hatch_pyc.errors import HatchPycError
from hatch_pyc.installing import InstallRefused, install_wheel
from hatch_pyc.interpreters import TargetError

__all__ = [
    "BadArtifact",
    "CheckResult",
    "HatchPycError",
    "Inspection",
    "InstallRefused",
    "TargetError",
    "__version__",
    "check_wheel",
    "convert_wheel",
    "inspect_artifact",
    "install_wheel",
]
