"""Registers the ``pyc`` build hook with hatchling (entry-point group ``hatch``)."""

from hatchling.plugin import hookimpl

from hatch_pyc.hook import PycBuildHook


@hookimpl
def hatch_register_build_hook() -> type[PycBuildHook]:
    return PycBuildHook
