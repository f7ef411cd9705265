"""Converting a wheel that another backend built (setuptools, flit, poetry, maturin's pure part).

The same compilation, layouts, tags, metadata and reproducibility as the hook, applied to
the files of an existing wheel. The input is never changed; the output is a new wheel whose
RECORD, WHEEL and METADATA are rewritten to match what it holds.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.tags import parse_tag

from hatch_pyc import archive, interpreters, layout, metadata, scripts
from hatch_pyc.artifact import Artifact, BadArtifact, extract, open_artifact, record_hash
from hatch_pyc.check import record_problems
from hatch_pyc.compilation import compile_modules
from hatch_pyc.discovery import Module
from hatch_pyc.errors import HatchPycError
from hatch_pyc.interpreters import Interpreter

#: ``.data`` subdirectories that install where the wheel's root does.
IMPORTABLE_DATA = ("purelib", "platlib")
FILE_ATTR = 0o100644 << 16


@dataclass
class _Entry:
    """One file of the output wheel: its content (a file on disk, or bytes) and zip attributes."""

    content: str | bytes
    external_attr: int = FILE_ATTR


def _install_path(artifact: Artifact, name: str) -> str | None:
    """Where the wheel entry ``name`` lands relative to site-packages, or None (metadata, scripts, data)."""
    top = name.split("/")[0]
    if top == artifact.dist_info:
        return None
    if top.endswith(".data"):
        parts = name.split("/", 2)
        return parts[2] if len(parts) == 3 and parts[1] in IMPORTABLE_DATA else None
    return name


def narrow_metadata(text: str, interpreter: Interpreter) -> str:
    """METADATA with ``Requires-Python`` narrowed to the interpreter's minor version."""
    head, separator, body = text.partition("\n\n")
    lines = head.rstrip("\n").split("\n")
    current = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Python:")), "")
    lines = [line for line in lines if not line.startswith("Requires-Python:")]
    lines.append(f"Requires-Python: {interpreters.narrowed_requires_python(current, interpreter)}")
    return "\n".join(lines) + (separator + body if separator else "\n")


def _tags(artifact: Artifact, layout_name: str, interpreter: Interpreter) -> list[str]:
    """The converted wheel's tags: unchanged for alongside; else the target's python tag,
    keeping the ABI and platform of a platform wheel built for that same interpreter."""
    if layout_name == "alongside":
        return sorted(str(tag) for tag in artifact.tags)
    wanted = interpreter.python_tag
    specific = {tag for tag in artifact.tags if tag.abi != "none" or tag.platform != "any"}
    if not specific:
        return [f"{wanted}-none-any"]
    others = sorted({tag.interpreter for tag in specific} - {wanted})
    if others:
        raise BadArtifact(
            f"{artifact.path}: its tags name {', '.join(others)} but the bytecode would be for {wanted}; "
            "convert it for that interpreter (--python)"
        )
    return sorted(str(tag) for tag in specific)


def _file_name(artifact: Artifact, tags: Sequence[str]) -> str:
    """The input's file name (build tag included) with the tag part made from ``tags``."""
    stem = os.path.basename(artifact.path)[: -len(".whl")].split("-")
    parsed = [tag for text in tags for tag in parse_tag(text)]
    parts = [sorted({getattr(tag, field) for tag in parsed}) for field in ("interpreter", "abi", "platform")]
    if {str(tag) for tag in artifact.tags} == set(tags):
        return "-".join(stem) + ".whl"
    return "-".join([*stem[:-3], *(".".join(part) for part in parts)]) + ".whl"


def _wheel_file(text: str, tags: Sequence[str]) -> str:
    lines = [line for line in text.rstrip("\n").split("\n") if not line.startswith("Tag:")]
    return "\n".join([*lines, *(f"Tag: {tag}" for tag in tags)]) + "\n"


def _script_modules(
    artifact: Artifact, files: dict[str, str], entries: dict[str, _Entry], infos: dict[str, zipfile.ZipInfo]
) -> list[Module]:
    """Compile ``.data/scripts/`` files with a Python shebang: a module each, a launcher in place."""
    distribution = layout.distribution_id(artifact.name)
    scripts_dir = artifact.dist_info[: -len(".dist-info")] + ".data/scripts/"
    modules = []
    for name in artifact.names:
        if not name.startswith(scripts_dir) or "/" in name[len(scripts_dir) :]:
            continue
        with open(files[name], "rb") as f:
            shebang = scripts.python_shebang(f.read())
        if shebang is None:
            continue
        script = name[len(scripts_dir) :]
        module = scripts.module_name(distribution, script)
        modules.append(Module(source=files[name], path=scripts.module_path(module), display=name, filename=script))
        entries[name] = _Entry(scripts.launcher(shebang, module), infos[name].external_attr)
    return modules


def _write_wheel(target: str, entries: dict[str, _Entry], dist_info: str, date_time: tuple[int, ...]) -> None:
    """Write ``entries`` and a fresh RECORD; the ``.dist-info`` comes last, RECORD at its end."""
    record_name = f"{dist_info}/RECORD"
    order = sorted(entries, key=lambda name: (name.startswith(f"{dist_info}/"), name))
    record = io.StringIO()
    rows = csv.writer(record, lineterminator="\n")
    with archive.replacing(target) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for name in order:
            entry = entries[name]
            data = entry.content
            if isinstance(data, str):
                with open(data, "rb") as f:
                    data = f.read()
            info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
            info.external_attr = entry.external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
            rows.writerow((name, f"sha256={record_hash(data, 'sha256')}", len(data)))
        rows.writerow((record_name, "", ""))
        info = zipfile.ZipInfo(record_name, date_time=date_time)  # type: ignore[arg-type]
        info.external_attr = FILE_ATTR
        info.compress_type = zipfile.ZIP_DEFLATED
        out.writestr(info, record.getvalue())


def convert_wheel(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    layout_name: str = "alongside",
    python: str | None = None,
    compile_scripts: bool = False,
    optimize: Sequence[int] = (0,),
    invalidation_mode: str = "checked-hash",
    jobs: int = os.cpu_count() or 1,
) -> str:
    """Write a converted copy of the wheel at ``path`` into ``out_dir``; return its path.

    Raises :class:`BadArtifact` for a wheel it cannot use (one that does not match its own
    RECORD, say) and :class:`~hatch_pyc.interpreters.TargetError` for a target it cannot
    find, or that the wheel's ``Requires-Python`` excludes.
    """
    path, out_dir = os.fspath(path), os.fspath(out_dir)
    target = interpreters.find(python) if python else None
    interpreter = target.interpreter if target else interpreters.running().interpreter
    try:
        return _convert(
            path, out_dir, layout_name, target, interpreter, compile_scripts, optimize, invalidation_mode, jobs
        )
    except OSError as exc:  # the scratch directory: a full disk, say
        raise HatchPycError(f"{path}: converting failed: {exc.strerror or exc}") from None


def _convert(
    path: str,
    out_dir: str,
    layout_name: str,
    target: interpreters.Target | None,
    interpreter: Interpreter,
    compile_scripts: bool,
    optimize: Sequence[int],
    invalidation_mode: str,
    jobs: int,
) -> str:
    with open_artifact(path) as artifact, tempfile.TemporaryDirectory(prefix="hatch-pyc-convert-") as work:
        if artifact.kind != "wheel":
            raise BadArtifact(f"{path}: only wheels can be converted")
        damage = record_problems(artifact)
        if damage:
            raise BadArtifact(f"{path}: does not match its RECORD ({damage[0]}); not converting a damaged wheel")
        infos = {info.filename: info for info in artifact.archive.infolist() if not info.is_dir()}
        files = {}
        for name in artifact.names:
            files[name] = os.path.join(work, "in", *name.split("/"))
            os.makedirs(os.path.dirname(files[name]), exist_ok=True)
            extract(artifact, name, files[name])
        entries = {name: _Entry(files[name], infos[name].external_attr) for name in artifact.names}

        modules = [
            Module(source=files[name], path=name, display=name, filename=_install_path(artifact, name))
            for name in artifact.names
            if name.endswith(".py") and _install_path(artifact, name) is not None
        ]
        root = [name for name in artifact.names if _install_path(artifact, name) == name]
        if layout_name == "zip":
            elsewhere = [m.path for m in modules if m.path not in root]
            if elsewhere:
                raise BadArtifact(f"{path}: the zip layout takes the wheel's root only, not {elsewhere[0]}")
            layout.refuse_extension_modules(root, layout_name)
        script_modules = _script_modules(artifact, files, entries, infos) if compile_scripts else []
        modules += script_modules

        placement = layout.place(layout_name, modules, ())
        compiled_dir = os.path.join(work, "compiled")
        compilation = compile_modules(
            modules,
            compiled_dir,
            optimize=optimize,
            invalidation_mode=invalidation_mode,
            jobs=jobs,
            target=target,
            legacy=placement.legacy,
            kept=placement.kept,
        )
        if layout_name == "zip":
            for name in root:
                del entries[name]
            shipped = [(files[name], name) for name in root]
            zip_files = layout.zip_layout_files(artifact.name, shipped, compilation, compiled_dir, placement.sourceless)
            entries.update({name: _Entry(disk) for disk, name in zip_files.items()})
        else:
            for name in placement.sourceless:
                entries.pop(name, None)
            entries.update({name: _Entry(disk) for disk, name in layout.pyc_files([compilation]).items()})
            entries.update({m.path: _Entry(m.source) for m in script_modules if m.path not in placement.sourceless})

        dist_info = artifact.dist_info
        tags = _tags(artifact, layout_name, interpreter)
        entries[f"{dist_info}/WHEEL"] = _Entry(_wheel_file(artifact.read(f"{dist_info}/WHEEL").decode(), tags).encode())
        if layout_name != "alongside":
            text = artifact.read(f"{dist_info}/METADATA").decode()
            entries[f"{dist_info}/METADATA"] = _Entry(narrow_metadata(text, interpreter).encode())
        entries[f"{dist_info}/{metadata.METADATA_PATH}"] = _Entry(
            metadata.render(
                interpreters=[compilation.interpreter],
                layout=layout_name,
                optimize=list(optimize),
                invalidation_mode=invalidation_mode,
                modules=len(compilation.modules),
            ).encode()
        )
        entries.pop(f"{dist_info}/RECORD")

        output = os.path.join(out_dir, _file_name(artifact, tags))
        if os.path.exists(output) and os.path.samefile(output, path):
            raise BadArtifact(f"{path}: the converted wheel would replace it; give another directory with -o")
        # New entries get the newest time the input has: the output is a function of the input.
        date_time = max(info.date_time for info in infos.values())
        made = not os.path.isdir(out_dir)
        try:
            os.makedirs(out_dir, exist_ok=True)
            _write_wheel(output, entries, dist_info, date_time)
        except OSError as exc:
            if made:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise HatchPycError(f"cannot write the converted wheel to {out_dir}: {exc.strerror or exc}") from None
        return output
