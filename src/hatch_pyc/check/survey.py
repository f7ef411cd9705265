"""What an install of an artifact puts where the import system finds it: every member,
nested archives that a ``.pth`` file puts on ``sys.path`` included, audited by
:mod:`hatch_pyc.check.landing`. ``check`` and ``verify`` both start from this survey.
"""

from __future__ import annotations

from dataclasses import dataclass

from hatch_pyc.check import landing
from hatch_pyc.check.landing import Audit
from hatch_pyc.core.limits import MAX_METADATA_SIZE
from hatch_pyc.core.naming import distribution_id
from hatch_pyc.wheel.artifact import Artifact


@dataclass(frozen=True)
class Member:
    """A file of the artifact, or of an archive inside it that a ``.pth`` file puts on ``sys.path``."""

    container: Artifact
    #: Its name in ``container``.
    entry: str
    #: Its name in messages: ``archive.zip/pkg/mod.pyc`` inside a nested archive.
    display: str


@dataclass
class Survey:
    """Every file the install puts where the import system finds it, and what it makes of them."""

    members: list[Member]
    #: The source each pyc is checked against: ``{(id(container), pyc entry): source entry}``.
    sources: dict[tuple[int, str], str]
    audit: Audit


def survey_artifact(artifact: Artifact, layout: str | None, in_site: dict[str, list[str]] | None = None) -> Survey:
    """Audit where each file lands (:mod:`hatch_pyc.check.landing`), opening every archive a ``.pth``
    file puts on ``sys.path``, whatever the bytecode metadata says."""
    members = [Member(artifact, name, name) for name in artifact.names]
    if artifact.kind != "wheel":
        audit = landing.audit_archive(artifact.names, label="", declared=layout == "zipapp")
        return Survey(members, {(id(artifact), pyc): src for pyc, src in audit.sources.items()}, audit)

    def read_text(entry: str) -> str:
        return artifact.read(entry, MAX_METADATA_SIZE).decode("utf-8-sig", errors="replace")

    audit = landing.audit_wheel(
        artifact.names,
        data_dir=artifact.data_dir,
        layout=layout,
        archive_name=f"{distribution_id(artifact.name)}.zip",
        read_text=read_text,
        in_site=in_site,
    )
    sources = {(id(artifact), pyc): src for pyc, src in audit.sources.items()}
    for name, declared in sorted(audit.archives.items()):
        nested = artifact.open_nested(name)
        members.extend(Member(nested, inner, f"{name}/{inner}") for inner in nested.names)
        inner_audit = landing.audit_archive(nested.names, label=name, declared=declared)
        sources.update({(id(nested), pyc): src for pyc, src in inner_audit.sources.items()})
        audit.problems += inner_audit.problems
        audit.unverifiable += inner_audit.unverifiable
    return Survey(members, sources, audit)
