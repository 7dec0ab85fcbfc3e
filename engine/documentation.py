"""Diagrams kept as documentation: BPMN drawn elsewhere (Camunda Modeler, Signavio, ...).

A drawing that cannot run is still worth keeping beside its process: it is stored as a
version of the process like a deployed one (same table, same files), but marked as
documentation in its ``serialized_spec``, so it can never be loaded to run
(:func:`engine.definitions.load_by_id` refuses it). The validator says which elements
keep it from running: the drawing is checked as if it were marked executable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, definitions, owners, validation
from .errors import ConflictError, Problem, ValidationError
from .models import DefinitionFile, ProcessDefinition, User
from .xmlsafe import parse_xml

DOC_MARK = "sek_documentation"
NOT_EXECUTABLE = 'the process is not marked executable (isExecutable="true" is missing)'


@dataclass
class UploadCheck:
    """What an uploaded BPMN file is: ``kind`` is ``executable`` (valid, can be deployed),
    ``broken`` (executable with problems: nothing is stored) or ``documentation``."""

    kind: str
    process_ids: list[str]
    problems: list[Problem] = field(default_factory=list)


def check_upload(name: str, content: bytes, *, known_operators: set[str] | None = None) -> UploadCheck:
    """Look at one uploaded file, whatever it holds.

    :raises ValidationError: the file is not safe XML, not BPMN or defines no process
        (one problem saying so; never a traceback)
    """
    root = parse_xml(content, name)
    if root.tag != f"{{{validation.BPMN_NS}}}definitions":
        raise ValidationError("not a BPMN file", [Problem(name, "not a BPMN file: the root element is "
                                                  f"'{etree.QName(root).localname}', expected BPMN 'definitions'")])
    processes = root.findall(".//bpmn:process", validation.NS)
    ids = [p.get("id") for p in processes if p.get("id")]
    if not ids:
        raise ValidationError("no process", [Problem(name, "the file defines no BPMN process (a collaboration "
                                                     "or choreography alone cannot be kept as a process)")])
    files = {name: content}
    if any(p.get("isExecutable") == "true" for p in processes):
        problems = validation.validate_files(files, require_executable=False, known_operators=known_operators)
        return UploadCheck("broken" if problems else "executable", ids, problems)
    for process in processes:
        process.set("isExecutable", "true")  # what would keep it from running, were it marked so
    as_executable = {name: etree.tostring(root, xml_declaration=True, encoding="UTF-8")}
    problems = [Problem(f"{name}:{pid}", NOT_EXECUTABLE) for pid in ids]
    problems += validation.validate_files(as_executable, known_operators=known_operators)
    return UploadCheck("documentation", ids, problems)


def is_documentation(definition: ProcessDefinition) -> bool:
    """True when the version is a drawing kept as documentation (it cannot run)."""
    spec = definition.serialized_spec
    return isinstance(spec, dict) and DOC_MARK in spec


def store(session: Session, key: str, name: str, content: bytes, problems: list[Problem], *,
          actor: User | str | None, note: str = "") -> definitions.DeployResult:
    """Keep a drawing as a documentation version of process ``key`` (identical content: none).

    :param actor: a :class:`User` documents only processes they may change (as in
        :func:`engine.definitions.deploy`); a name or ``None`` is the system
    :raises ConflictError: ``key`` runs from deployed versions (documentation there would
        hide which version new requests start)
    :raises PermissionDeniedError: the user may not change ``key``
    """
    if isinstance(actor, User):
        owners.require_change(actor, [key], "document")
        actor = actor.username
    runnable = [d for d in session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key))
                if not is_documentation(d)]
    if runnable:
        raise ConflictError(f"{key} already runs from deployed versions; change it in the modeler instead")
    stored = {f"{key}.bpmn": content}
    digest = definitions.content_hash(stored)
    existing = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.content_hash == digest))
    if existing is not None:
        return definitions.DeployResult(key, existing.version, False, existing.id)
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
    definition = ProcessDefinition(
        key=key, version=(latest or 0) + 1, name=key, content_hash=digest, note=note, deployed_by=actor,
        serialized_spec={DOC_MARK: {"uploaded_as": name, "problems": [str(p) for p in problems]}},
        files=[DefinitionFile(name=n, sha256=hashlib.sha256(c).hexdigest(), content=c) for n, c in stored.items()],
    )
    session.add(definition)
    session.flush()
    audit.record(session, "definition.documented", actor=actor, data={
        "key": key, "version": definition.version, "content_hash": digest, "uploaded_as": name, "note": note,
    })
    return definitions.DeployResult(key, definition.version, True, definition.id)


def latest_documentation(session: Session, key: str) -> tuple[ProcessDefinition, list[str]] | None:
    """The newest version of ``key`` when it is documentation, with what keeps it from running."""
    definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                .order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None or not is_documentation(definition):
        return None
    return definition, list(definition.serialized_spec[DOC_MARK].get("problems", []))
