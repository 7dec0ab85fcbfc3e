"""The versions of a process and what changed between two of them, element by element.

Tasks are compared on the serialized specs stored with each version (so nothing is
parsed again); sequence flows, which the specs fold into their tasks, are read from
the stored BPMN files. Migrating running instances is in :mod:`engine.instance_migration`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from . import xmlsafe
from .errors import NotFoundError
from .models import OPEN_STATUSES, ProcessDefinition, ProcessInstance

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Attributes of a serialized task spec that are structure (compared as flows) or noise.
_STRUCTURE = {
    "name", "description", "manual", "lookahead", "inputs", "outputs", "bpmn_id", "typename",
    "bpmn_name", "lane", "extensions", "script", "event_definition", "cond_task_specs",
    "default_task_spec", "choice", "split_task", "documentation",
}


@dataclass(frozen=True)
class VersionInfo:
    """One deployed version as the versions page lists it."""

    definition_id: int
    version: int
    name: str
    deployed_by: str | None
    deployed_at: datetime
    note: str
    content_hash: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def open_instances(self) -> int:
        return sum(n for status, n in self.counts.items() if status in OPEN_STATUSES)

    @property
    def total_instances(self) -> int:
        return sum(self.counts.values())


def list_versions(session: Session, key: str) -> list[VersionInfo]:
    """Every deployed version of a process, newest first, with its instances per status.

    :raises NotFoundError: the process was never deployed
    """
    rows = session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())
    ).all()
    if not rows:
        raise NotFoundError(f"no deployed process {key}")
    counts: dict[int, dict[str, int]] = {}
    query = (select(ProcessInstance.definition_id, ProcessInstance.status, func.count())
             .where(ProcessInstance.process_key == key)
             .group_by(ProcessInstance.definition_id, ProcessInstance.status))
    for definition_id, status, count in session.execute(query):
        counts.setdefault(definition_id, {})[str(status)] = count
    return [VersionInfo(d.id, d.version, d.name, d.deployed_by, d.deployed_at, d.note or "", d.content_hash,
                        counts.get(d.id, {})) for d in rows]


@dataclass(frozen=True)
class Change:
    """One attribute of an element or flow, before and after."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Element:
    """A BPMN element (task, event, gateway) of one version."""

    id: str
    name: str
    type: str
    lane: str
    fields: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ElementChange:
    element: Element
    changes: list[Change]


@dataclass(frozen=True)
class Flow:
    """A sequence flow: from, to and its condition."""

    id: str
    name: str
    source: str
    target: str
    condition: str


@dataclass(frozen=True)
class FlowChange:
    flow: Flow
    changes: list[Change]


@dataclass
class VersionDiff:
    """What changed from one version of a process to another."""

    key: str
    from_version: int
    to_version: int
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    flows_added: list[Flow] = field(default_factory=list)
    flows_removed: list[Flow] = field(default_factory=list)
    flows_changed: list[FlowChange] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.added, self.removed, self.changed, self.flows_added, self.flows_removed,
                        self.flows_changed, self.files_added, self.files_removed, self.files_changed))


def diff(session: Session, key: str, from_version: int, to_version: int) -> VersionDiff:
    """The element-level difference between two versions of a process.

    :raises NotFoundError: either version does not exist
    """
    old = definition_for_key(session, key, from_version)
    new = definition_for_key(session, key, to_version)
    result = VersionDiff(key, from_version, to_version)
    before, after = elements(old), elements(new)
    result.added = [after[i] for i in sorted(after.keys() - before.keys())]
    result.removed = [before[i] for i in sorted(before.keys() - after.keys())]
    for element_id in sorted(before.keys() & after.keys()):
        changes = _changes(before[element_id].fields, after[element_id].fields)
        if changes:
            result.changed.append(ElementChange(after[element_id], changes))
    old_flows, new_flows = flows(old), flows(new)
    result.flows_added = [new_flows[i] for i in sorted(new_flows.keys() - old_flows.keys())]
    result.flows_removed = [old_flows[i] for i in sorted(old_flows.keys() - new_flows.keys())]
    for flow_id in sorted(old_flows.keys() & new_flows.keys()):
        a, b = old_flows[flow_id], new_flows[flow_id]
        changes = [Change(name, getattr(a, name), getattr(b, name))
                   for name in ("name", "source", "target", "condition") if getattr(a, name) != getattr(b, name)]
        if changes:
            result.flows_changed.append(FlowChange(b, changes))
    old_files = {f.name: f.sha256 for f in old.files}
    new_files = {f.name: f.sha256 for f in new.files}
    result.files_added = sorted(new_files.keys() - old_files.keys())
    result.files_removed = sorted(old_files.keys() - new_files.keys())
    result.files_changed = sorted(n for n in old_files.keys() & new_files.keys() if old_files[n] != new_files[n])
    return result


def elements(definition: ProcessDefinition) -> dict[str, Element]:
    """The BPMN elements of a version (its process and subprocesses), by BPMN id."""
    found: dict[str, Element] = {}
    serialized = definition.serialized_spec or {}
    specs = [serialized.get("spec") or {}, *(serialized.get("subprocess_specs") or {}).values()]
    for spec in specs:
        for task in (spec.get("task_specs") or {}).values():
            if not task.get("bpmn_id"):
                continue   # Spiff's own Start/End/EndJoin, not drawn in the diagram
            fields = _fields(task)
            found[task["bpmn_id"]] = Element(task["bpmn_id"], task.get("bpmn_name") or "",
                                             task.get("typename") or "", task.get("lane") or "", fields)
    return found


def _text(value) -> str:
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _fields(task: dict) -> dict[str, str]:
    """The attributes of a task spec a process owner edits, as comparable text."""
    extensions = dict(task.get("extensions") or {})
    properties = dict(extensions.pop("properties", None) or {})
    fields = {
        "name": task.get("bpmn_name"),
        "type": task.get("typename"),
        "lane": task.get("lane"),
        "group": properties.pop("candidateGroups", None),
        "form": extensions.pop("formJsonSchemaFilename", None),
        "ui_form": extensions.pop("formUiSchemaFilename", None),
        "instructions": extensions.pop("instructionsForEndUser", None),
        "script": task.get("script"),
        "properties": properties,
        "event": task.get("event_definition"),
        "documentation": task.get("documentation"),
        "extensions": extensions,
    }
    fields.update({k: v for k, v in task.items() if k not in _STRUCTURE})
    return {k: _text(v) for k, v in fields.items()}


def _changes(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    return [Change(name, before.get(name, ""), after.get(name, ""))
            for name in sorted(before.keys() | after.keys(), key=_field_order)
            if before.get(name, "") != after.get(name, "")]


_ORDER = ("name", "type", "lane", "group", "form", "ui_form", "instructions", "script", "event", "properties")


def _field_order(name: str):
    return (_ORDER.index(name), name) if name in _ORDER else (len(_ORDER), name)


def flows(definition: ProcessDefinition) -> dict[str, Flow]:
    """The sequence flows of a version's BPMN files, by id, with element names resolved."""
    found: dict[str, Flow] = {}
    for item in definition.files:
        if not item.name.lower().endswith(".bpmn"):
            continue
        root = xmlsafe.parse_xml(item.content, item.name)
        names = {el.get("id"): el.get("name") or el.get("id") for el in root.iter() if el.get("id")}
        for el in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            condition = el.find(f"{{{BPMN_NS}}}conditionExpression")
            found[el.get("id")] = Flow(
                el.get("id"), el.get("name") or "",
                names.get(el.get("sourceRef"), el.get("sourceRef") or ""),
                names.get(el.get("targetRef"), el.get("targetRef") or ""),
                (condition.text or "").strip() if condition is not None else "",
            )
    return found


def definition_for_key(session: Session, key: str, version: int) -> ProcessDefinition:
    """A version with its serialized spec loaded (for diffs and previews)."""
    definition = session.scalar(
        select(ProcessDefinition).options(undefer(ProcessDefinition.serialized_spec))
        .where(ProcessDefinition.key == key, ProcessDefinition.version == version))
    if definition is None:
        raise NotFoundError(f"no deployed process {key} version {version}")
    return definition
