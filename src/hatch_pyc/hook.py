"""The ``pyc`` build hook: the one module that knows hatchling."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.builders.utils import get_reproducible_timestamp

from hatch_pyc import layout, metadata
from hatch_pyc.compilation import compile_modules
from hatch_pyc.config import Options, parse_options
from hatch_pyc.discovery import Module, select_modules


class PycBuildHook(BuildHookInterface):
    PLUGIN_NAME = "pyc"

    def _table(self) -> str:
        """The TOML path of the table the options came from, for error messages."""
        target_hooks = self.build_config.target_config.get("hooks", {})
        if self.PLUGIN_NAME in target_hooks:
            return f"tool.hatch.build.targets.{self.target_name}.hooks.{self.PLUGIN_NAME}"
        return f"tool.hatch.build.hooks.{self.PLUGIN_NAME}"

    def _shipped_files(self, build_data: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Every file the wheel will ship, as hatchling decides it.

        Hatchling applies artifacts and force-include from hooks that ran before this one
        only while it builds; apply them here too so those files are compiled as well.
        """
        with self.build_config.set_build_data(build_data):
            return [
                (included.path, included.distribution_path, included.relative_path or included.path)
                for included in self.build_config.builder.recurse_included_files()
            ]

    def _mtimes(self, modules: list[Module]) -> list[int]:
        # Hatchling stamps reproducible wheel entries with SOURCE_DATE_EPOCH; timestamp pycs
        # record the same time so that an unzip which keeps entry times finds them fresh.
        if self.build_config.reproducible:
            return [get_reproducible_timestamp()] * len(modules)
        return [int(os.stat(module.source).st_mtime) for module in modules]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # Editable wheels point at the sources and sdists ship sources: both stay untouched.
        if self.target_name != "wheel" or version != "standard":
            return
        options: Options = parse_options(self.config, self._table())
        if options.invalidation_mode == "timestamp":
            self.app.display_warning(
                "hatch-pyc: invalidation-mode 'timestamp' records source times, which installers do "
                "not keep: the shipped pycs will be stale, and recompiled, after any install"
            )
        modules = select_modules(self._shipped_files(build_data), options.exclude)

        out_dir = tempfile.mkdtemp(prefix="hatch-pyc-")
        # Removed in finalize(); also when the build fails before it gets there.
        self._cleanup = weakref.finalize(self, shutil.rmtree, out_dir, ignore_errors=True)
        try:
            compilation = compile_modules(
                modules,
                out_dir,
                optimize=options.optimize,
                invalidation_mode=options.invalidation_mode,
                mtimes=self._mtimes(modules) if options.invalidation_mode == "timestamp" else None,
                jobs=options.jobs,
            )
        except BaseException:
            self._cleanup()
            raise

        build_data["force_include"].update(layout.alongside(compilation, out_dir))
        metadata_file = os.path.join(out_dir, metadata.FILENAME)
        with open(metadata_file, "w", encoding="utf-8") as f:
            f.write(
                metadata.render(
                    interpreters=[compilation.interpreter],
                    layout=options.layout,
                    optimize=options.optimize,
                    invalidation_mode=options.invalidation_mode,
                    modules=len(compilation.modules),
                )
            )
        build_data["extra_metadata"][metadata_file] = metadata.FILENAME
        self.app.display_info(
            f"hatch-pyc: compiled {len(compilation.modules)} modules for "
            f"{compilation.interpreter.implementation} {compilation.interpreter.version}"
        )

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup()
