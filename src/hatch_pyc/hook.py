"""The ``pyc`` build hook: the one module that knows hatchling."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.builders.utils import get_reproducible_timestamp, normalize_inclusion_map
from hatchling.builders.wheel import WheelBuilderConfig
from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag

from hatch_pyc import __version__
from hatch_pyc.build import assembly, bytecode_metadata, pipeline, scripts
from hatch_pyc.core import config, interpreters, naming
from hatch_pyc.core.config import ZIPAPP, Options, parse_options
from hatch_pyc.core.discovery import Module, read_source
from hatch_pyc.core.errors import HatchPycError
from hatch_pyc.core.interpreters import Interpreter, Target, TargetError


def _hatchling_attribute(owner: object, name: str) -> Any:
    """``owner.name``, or an error naming the hatchling version that lacks it."""
    try:
        return getattr(owner, name)
    except AttributeError:
        raise HatchPycError(
            f"hatchling {importlib.metadata.version('hatchling')} has no {type(owner).__name__}.{name}, which "
            f"hatch-pyc {__version__} changes for the build; use a hatchling this hatch-pyc supports (>=1.26)"
        ) from None


class HatchlingState:
    """Every change the hook makes to hatchling's objects that outlive one build.

    Hatchling's build config and core metadata are cached on objects that another build in
    the same process (an editable wheel after the wheel, say) uses again, and it has no hook
    API for what the hook changes there. Each change is made here and recorded, and
    :meth:`undo` puts everything back: the hook calls it when its own work fails, in
    ``finalize()``, and when the hook object goes (hatchling skips ``finalize()`` when the
    build fails after the hook). Build data, which hatchling makes afresh for each build,
    is not recorded.
    """

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def clear_shared_scripts(self, build_config: Any) -> None:
        """Take the configured ``shared-scripts`` away: the hook re-makes them in build data."""
        scripts = _hatchling_attribute(build_config, "shared_scripts")
        saved = dict(scripts)
        scripts.clear()
        self._undo.append(lambda: scripts.update(saved))

    def drop_force_include(self, build_config: Any, source: str) -> None:
        """Take one configured ``force-include`` entry away."""
        force_include = _hatchling_attribute(build_config, "force_include")
        target = force_include.pop(source)
        self._undo.append(functools.partial(force_include.__setitem__, source, target))

    def set_requires_python(self, core: Any, requires_python: str) -> None:
        """Make the METADATA hatchling writes say ``Requires-Python: requires_python``.

        The core metadata caches the value in these two private attributes, which the
        METADATA writer reads later.
        """
        saved = (_hatchling_attribute(core, "_requires_python"), _hatchling_attribute(core, "_python_constraint"))
        core._requires_python, core._python_constraint = requires_python, SpecifierSet(requires_python)

        def restore() -> None:
            core._requires_python, core._python_constraint = saved

        self._undo.append(restore)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


class PycBuildHook(BuildHookInterface[WheelBuilderConfig]):
    PLUGIN_NAME = "pyc"

    def dependencies(self) -> list[str]:
        """uv, for a ``zipapp`` table that bundles the project's dependencies: it installs them
        for the target, in a build environment that has neither uv nor pip on PATH."""
        zipapp = self.config.get(ZIPAPP.key)
        bundles = isinstance(zipapp, dict) and zipapp.get(config.INCLUDE_DEPENDENCIES.key) is True
        return ["uv"] if bundles else []

    def _table(self) -> str:
        """The TOML path of the table the options came from, for error messages."""
        target_hooks = self.build_config.target_config.get("hooks", {})
        if self.PLUGIN_NAME in target_hooks:
            return f"tool.hatch.build.targets.{self.target_name}.hooks.{self.PLUGIN_NAME}"
        return f"tool.hatch.build.hooks.{self.PLUGIN_NAME}"

    def _shipped_files(self, build_data: dict[str, Any]) -> list[Module]:
        """Every file the wheel will ship, as hatchling decides it.

        Hatchling applies artifacts and force-include from hooks that ran before this one
        only while it builds; apply them here too so those files are compiled as well.
        """
        with self.build_config.set_build_data(build_data):
            return [
                Module(
                    source=included.path,
                    path=included.distribution_path.replace("\\", "/"),
                    display=included.relative_path or included.path,
                )
                for included in self.build_config.builder.recurse_included_files()
            ]

    def _mtimes(self, modules: Sequence[Module]) -> list[int]:
        # Hatchling stamps reproducible wheel entries with SOURCE_DATE_EPOCH; timestamp pycs
        # record the same time so that an unzip which keeps entry times finds them fresh.
        if self.build_config.reproducible:
            return [get_reproducible_timestamp()] * len(modules)
        return [int(os.stat(module.source).st_mtime) for module in modules]

    def _compiled_scripts(self, build_data: dict[str, Any], out_dir: str) -> list[Module]:
        """Replace every Python script with a launcher; return the modules holding their code.

        Hatchling writes ``shared-scripts`` from its config and from build data; the whole
        map is re-made in build data, one entry per file, so that only the Python scripts
        change.
        """
        config_scripts = self.build_config.shared_scripts
        all_scripts = {**config_scripts, **normalize_inclusion_map(build_data["shared_scripts"], self.root)}
        files = list(self.build_config.builder.recurse_explicit_files(all_scripts))
        distribution = naming.distribution_id(self.metadata.core.name)
        replacements: dict[str, str] = {}
        modules: list[Module] = []
        for included in files:
            display = included.relative_path or included.path
            compiled = scripts.compile_script(
                read_source(included.path, display),
                distribution=distribution,
                script=included.distribution_path,
                display=display,
                out_dir=out_dir,
            )
            if compiled is None:
                replacements[included.path] = included.distribution_path
                continue
            module, launcher = compiled
            launcher_file = os.path.join(out_dir, "launchers", included.distribution_path)
            os.makedirs(os.path.dirname(launcher_file), exist_ok=True)
            with open(launcher_file, "wb") as f:
                f.write(launcher)
            # Hatchling gives force-included files their mode on disk: the script's.
            for file in (module.source, launcher_file):
                shutil.copymode(included.path, file)
            replacements[launcher_file] = included.distribution_path
            modules.append(module)
        if modules:
            self._state.clear_shared_scripts(self.build_config)
            build_data["shared_scripts"] = replacements
        return modules

    def _drop(self, build_data: dict[str, Any], files: list[tuple[str, str]]) -> None:
        """Keep ``files`` (``(file on disk, path in the wheel)``) out of the wheel.

        Hatchling has no build-data key to drop a file (hatch issue #1787). A reserved path is
        skipped wherever hatchling walks (project files, artifacts, force-included
        directories); hatchling clears the set after the build. Files force-included one by
        one are never checked against it, so their entries are taken out of the map.
        """
        self.build_config.build_reserved_paths.update(path for _, path in files)
        sources = {source for source, _ in files}
        config_force = self.build_config.force_include
        for source in sources & set(config_force):
            self._state.drop_force_include(self.build_config, source)
        data_force = build_data["force_include"]
        for key in list(data_force):
            if next(iter(normalize_inclusion_map({key: data_force[key]}, self.root))) in sources:
                del data_force[key]

    def _set_tag(self, build_data: dict[str, Any], compiled_for: Sequence[Interpreter], tag: str) -> None:
        """Tag the wheel for the interpreters that can load its bytecode."""
        wanted = {interpreter.python_tag for interpreter in compiled_for}
        if "tag" in build_data:
            found = {tag.interpreter for tag in parse_tag(build_data["tag"])}
            origin = f"the wheel tag {build_data['tag']!r} that another build hook set"
        elif build_data["infer_tag"]:
            found = {interpreters.running().interpreter.python_tag}
            origin = "the platform tag that another build hook asked hatchling to infer from the build interpreter"
        else:
            build_data["tag"] = tag
            return
        if found != wanted:
            raise TargetError(
                f"{origin} is for {', '.join(sorted(found, key=interpreters.version_order))}, but the sourceless "
                f"bytecode is for {', '.join(sorted(wanted, key=interpreters.version_order))}; "
                "build with that interpreter or compile for the build's own"
            )

    def _check_entry_point(self, options: Options, modules: Sequence[Module]) -> None:
        """Refuse a bundle's unclear or missing entry point before the wheel is built."""
        from hatch_pyc.bundle import plan as bundle_plan

        assert options.zipapp is not None
        key = options.where(config.ENTRY_POINT)
        entry = bundle_plan.entry_point(options.zipapp.entry_point, self.metadata.core.scripts, key)
        own = {m.path.split("/")[0].removesuffix(".py") for m in modules}
        if not options.zipapp.include_dependencies or entry.partition(":")[0].split(".")[0] in own:
            bundle_plan.check_entry_point(entry, modules, key)

    def _bundle(self, wheel: str) -> None:
        """Write one ``.pyz`` per target beside the wheel; on failure, neither stays."""
        from hatch_pyc.bundle import make as bundle

        written: list[str] = []
        try:
            for target in self._zipapp_targets:
                path = bundle.make_bundle(
                    wheel,
                    self._options,
                    output=os.path.dirname(wheel),
                    target=target,
                    cache=self._cache,
                    progress=self._session.reporter(),
                    warn=self._session.warn,
                    inform=self._session.progress,
                )
                written.append(path)
                self.app.display_info(f"hatch-pyc: wrote {path}")
        except BaseException:
            for path in [*written, wheel]:
                if os.path.exists(path):
                    os.unlink(path)
            raise

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # Editable wheels point at the sources and sdists ship sources: both stay untouched.
        if self.target_name != "wheel" or version != "standard":
            return
        options = parse_options(self.config, self._table(), root=self.root)
        self._session = pipeline.Session(
            progress=self.app.display_info, warn=lambda line: self.app.display_warning(f"hatch-pyc: {line}")
        )
        self._cache = self._session.open_cache(options)
        if options.invalidation_mode == "timestamp":
            self.app.display_warning(
                "hatch-pyc: invalidation-mode 'timestamp' records source times, which installers do "
                "not keep: the shipped pycs will be stale, and recompiled, after any install"
            )
        if options.layout.legacy and len(options.optimize) > 1:
            self.app.display_info(
                f"hatch-pyc: {options.layout.name} modules ship one pyc each, which Python loads at every -O level: "
                f"compiled at optimize {min(options.optimize)}, the lowest of {list(options.optimize)}"
            )
        included = self._shipped_files(build_data)
        selection = pipeline.select(options, included, self.metadata.core.requires_python)
        shipped = [(file.source, file.path) for file in included]

        out_dir = tempfile.mkdtemp(prefix="hatch-pyc-")
        self._state = HatchlingState()
        self._options = options
        self._zipapp_targets: list[Target | None] = []
        # Undone and removed in finalize(); also when the build fails before it gets there.
        self._state_undo = weakref.finalize(self, self._state.undo)
        self._cleanup = weakref.finalize(self, shutil.rmtree, out_dir, ignore_errors=True)
        try:
            if selection.requires_python is not None:
                assert selection.tag is not None
                self._set_tag(build_data, selection.interpreters, selection.tag)
                self._state.set_requires_python(self.metadata.core, selection.requires_python)
            script_modules = self._compiled_scripts(build_data, out_dir) if options.compiles_scripts else []
            result = pipeline.build(
                options,
                selection,
                distribution=self.metadata.core.name,
                version=self.metadata.version,
                shipped=included,
                scripts=script_modules,
                out_dir=out_dir,
                cache=self._cache,
                progress=self._session.reporter(),
                mtimes=self._mtimes,
            )
            for note in result.notes:
                self.app.display_warning(f"hatch-pyc: {note}")
            if options.zipapp is not None:
                self._check_entry_point(options, selection.modules)
                self._zipapp_targets = list(selection.targets) or [None]
            self._drop(build_data, [pair for pair in shipped if pair[1] in result.dropped])
            build_data["force_include"].update(assembly.on_disk(result.added, out_dir))
            metadata_file = os.path.join(out_dir, bytecode_metadata.FILENAME)
            with open(metadata_file, "w", encoding="utf-8") as f:
                f.write(result.metadata)
            build_data["extra_metadata"][metadata_file] = bytecode_metadata.FILENAME
        except BaseException:
            self.finalize(version, build_data, "")
            raise

        compilations = result.compilations
        modules = result.modules
        names = ", ".join(
            f"{i.implementation} {i.version}"
            for i in interpreters.in_version_order(c.interpreter for c in compilations)
        )
        summary = (
            f"hatch-pyc: compiled {len(modules)} modules ({len(script_modules)} from scripts) "
            f"for {names}, layout {options.layout.name}"
        )
        if self._cache is not None:
            cached = sum(compilation.from_cache for compilation in compilations)
            summary += f"; {cached} of {len(modules) * len(compilations)} from the cache"
        self.app.display_info(summary)
        if self._cache is not None and self._cache.write_error is not None:
            self.app.display_warning(
                f"hatch-pyc: cannot write the compile cache in {self._cache.directory} "
                f"({self._cache.write_error}); set {config.CACHE_DIR.key} or {config.CACHE_DIR.env}, "
                f"or {config.CACHE.key} = false"
            )

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        state_undo = getattr(self, "_state_undo", None)
        if state_undo is not None:
            state_undo()
        try:
            if artifact_path and getattr(self, "_zipapp_targets", None):
                # Made from the wheel just built, as `hatch-pyc bundle` makes one from any wheel.
                self._bundle(artifact_path)
        finally:
            cleanup = getattr(self, "_cleanup", None)
            if cleanup is not None:
                cleanup()
