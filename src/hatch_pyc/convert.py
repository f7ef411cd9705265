"""Converting a wheel that another backend built (setuptools, flit, poetry, maturin's pure part).

The same compilation, layouts, tags, metadata and reproducibility as the hook, applied to
the files of an existing wheel. The input is never changed; the output is a new wheel whose
RECORD, WHEEL and METADATA are rewritten to match what it holds.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.tags import parse_tag

from hatch_pyc.build import assembly, bytecode_metadata, pipeline, scripts
from hatch_pyc.build.pipeline import Session
from hatch_pyc.core import config, naming
from hatch_pyc.core.config import Options
from hatch_pyc.core.discovery import Module
from hatch_pyc.core.errors import BadArtifact, HatchPycError
from hatch_pyc.core.interpreters import Interpreter, in_version_order, version_order
from hatch_pyc.core.layouts import Layout
from hatch_pyc.wheel import wheelfile
from hatch_pyc.wheel.artifact import Artifact, extract, install_path, intact_wheel
from hatch_pyc.wheel.wheelfile import Entry


def _file_attr(external_attr: int) -> int:
    """An input entry's zip attributes as the output keeps them: its permission bits on a
    regular file; never a link, FIFO or device type, nor setuid, setgid or sticky bits."""
    mode = external_attr >> 16
    if not mode:
        return external_attr  # no Unix mode recorded (a wheel made on Windows, say)
    return (stat.S_IFREG | (mode & 0o777)) << 16 | (external_attr & 0xFFFF & ~0x10)


def _tags(artifact: Artifact, layout: Layout, interpreter: Interpreter, tag: str | None) -> list[str]:
    """The converted wheel's tags: unchanged for alongside; else the target's python tag,
    keeping the ABI and platform of a platform wheel built for that same interpreter."""
    if not layout.interpreter_tag:
        return sorted((str(tag) for tag in artifact.tags), key=version_order)
    wanted = interpreter.python_tag
    specific = {tag for tag in artifact.tags if tag.abi != "none" or tag.platform != "any"}
    if not specific:
        assert tag is not None  # a sourceless layout's, from the pipeline
        return sorted((str(each) for each in parse_tag(tag)), key=version_order)
    others = sorted({tag.interpreter for tag in specific} - {wanted}, key=version_order)
    if others:
        raise BadArtifact(
            f"{artifact.path}: its tags name {', '.join(others)} but the bytecode would be for {wanted}; "
            "convert it for that interpreter (--python)"
        )
    return sorted((str(tag) for tag in specific), key=version_order)


def _file_name(artifact: Artifact, tags: Sequence[str]) -> str:
    """The input's file name (build tag included) with the tag part made from ``tags``."""
    stem = os.path.basename(artifact.path)[: -len(".whl")].split("-")
    parsed = [tag for text in tags for tag in parse_tag(text)]
    parts = [
        sorted({getattr(tag, field) for tag in parsed}, key=version_order)
        for field in ("interpreter", "abi", "platform")
    ]
    if {str(tag) for tag in artifact.tags} == set(tags):
        return "-".join(stem) + ".whl"
    return "-".join([*stem[:-3], *(".".join(part) for part in parts)]) + ".whl"


def _script_modules(
    artifact: Artifact,
    files: dict[str, str],
    entries: dict[str, Entry],
    infos: dict[str, zipfile.ZipInfo],
    out_dir: str,
) -> list[Module]:
    """Compile ``.data/scripts/`` files with a Python shebang: a module each, a launcher in place."""
    distribution = naming.distribution_id(artifact.name)
    scripts_dir = artifact.data_dir + "/scripts/"
    modules = []
    for name in artifact.names:
        if not name.startswith(scripts_dir) or "/" in name[len(scripts_dir) :]:
            continue
        with open(files[name], "rb") as f:
            data = f.read()
        script = name[len(scripts_dir) :]
        compiled = scripts.compile_script(data, distribution=distribution, script=script, display=name, out_dir=out_dir)
        if compiled is not None:
            module, launcher = compiled
            modules.append(module)
            entries[name] = Entry(launcher, _file_attr(infos[name].external_attr))
    return modules


def convert_wheel(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: Options | Mapping[str, Any] | None = None,
    *,
    session: Session | None = None,
) -> str:
    """Write a converted copy of the wheel at ``path`` into ``out_dir``; return its path.

    ``options`` are :class:`~hatch_pyc.core.config.Options`, or the hook's options by their TOML
    keys (``{"layout": "sourceless"}``), validated the same way and named as the ``convert``
    command's flags in errors;
    ``session`` says where progress lines and warnings go. Raises :class:`BadArtifact` for a
    wheel it cannot use (one that does not match its own RECORD, say),
    :class:`~hatch_pyc.core.config.ConfigError` for invalid options, and
    :class:`~hatch_pyc.core.interpreters.TargetError` for a target it cannot find, or that the
    wheel's ``Requires-Python`` excludes.
    """
    parsed = options if isinstance(options, Options) else config.flag_options(options or {})
    path, out_dir = os.fspath(path), os.fspath(out_dir)
    try:
        return _convert(path, out_dir, parsed, session or Session())
    except OSError as exc:  # the scratch directory: a full disk, say
        raise HatchPycError(f"{path}: converting failed: {exc.strerror or exc}") from None


def _convert(path: str, out_dir: str, options: Options, session: Session) -> str:
    with intact_wheel(path, "converting") as artifact, tempfile.TemporaryDirectory(prefix="hatch-pyc-convert-") as work:
        converted = bytecode_metadata.read(artifact)
        if converted is not None:
            built = ", ".join(f"{i.implementation} {i.version}" for i in in_version_order(converted.interpreters))
            raise BadArtifact(
                f"{path}: is a hatch-pyc wheel already (layout {converted.layout.name}, bytecode for {built}); "
                "convert the wheel its project's backend built, or build it again with the options you want"
            )
        infos = {info.filename: info for info in artifact.archive.infolist() if not info.is_dir()}
        files = {}
        for name in artifact.names:
            files[name] = os.path.join(work, "in", *name.split("/"))
            extract(artifact, name, files[name])
        entries = {name: Entry(files[name], _file_attr(infos[name].external_attr)) for name in artifact.names}

        installed = {name: install_path(artifact, name) for name in artifact.names}
        if options.layout.archive:
            elsewhere = [name for name, at in installed.items() if at not in (None, name) and name.endswith(".py")]
            if elsewhere:
                raise BadArtifact(
                    f"{path}: the {options.layout.name} layout takes the wheel's root only, not {elsewhere[0]}"
                )
        shipped = [
            Module(source=files[name], path=name, display=name, filename=None if at == name else at)
            for name, at in installed.items()
            if at is not None and (at == name or not options.layout.archive)
        ]
        metadata_name = f"{artifact.dist_info}/METADATA"
        headers = wheelfile.metadata_headers(artifact.text(metadata_name))
        selection = pipeline.select(options, shipped, headers.get("Requires-Python", ""))
        script_modules = (
            _script_modules(artifact, files, entries, infos, os.path.join(work, "scripts"))
            if options.compiles_scripts
            else []
        )
        result = pipeline.build(
            options,
            selection,
            distribution=artifact.name,
            version=artifact.version,
            shipped=shipped,
            scripts=script_modules,
            out_dir=os.path.join(work, "compiled"),
            cache=session.open_cache(options),
            progress=session.reporter(),
        )
        for note in result.notes:
            if session.warn is not None:
                session.warn(note)
        for name in result.dropped:
            del entries[name]
        added = assembly.on_disk(result.added, work)
        entries.update({name: Entry(disk) for disk, name in added.items()})

        dist_info = artifact.dist_info
        tags = _tags(artifact, options.layout, selection.interpreters[0], selection.tag)
        entries[f"{dist_info}/WHEEL"] = Entry(
            wheelfile.wheel_with_tags(artifact.text(f"{dist_info}/WHEEL"), tags).encode()
        )
        if selection.requires_python is not None:
            text = wheelfile.with_requires_python(artifact.text(metadata_name), selection.requires_python)
            entries[metadata_name] = Entry(text.encode())
        entries[f"{dist_info}/{bytecode_metadata.METADATA_PATH}"] = Entry(result.metadata.encode())
        entries.pop(f"{dist_info}/RECORD")

        output = os.path.join(out_dir, _file_name(artifact, tags))
        if os.path.exists(output) and os.path.samefile(output, path):
            raise BadArtifact(f"{path}: the converted wheel would replace it; give another directory with -o")
        # New entries get the newest time the input has: the output is a function of the input.
        date_time = max(info.date_time for info in infos.values())
        made = not os.path.isdir(out_dir)
        try:
            os.makedirs(out_dir, exist_ok=True)
            wheelfile.write_wheel(output, entries, dist_info, date_time)
        except OSError as exc:
            if made:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise HatchPycError(f"cannot write the converted wheel to {out_dir}: {exc.strerror or exc}") from None
        return output
