"""Deploying definitions: validate, version by content, store files and spec once.

Parsed specs are cached in memory by (key, version, content hash); the cache is only
a cache, every process rebuilds it from the database on first use.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, owners, recurring, spiff, start_events, start_forms, validation
from .errors import NotFoundError, ValidationError
from .models import OPEN_STATUSES, DefinitionFile, InstanceStatus, ProcessDefinition, ProcessInstance, User


@dataclass(frozen=True)
class DeployResult:
    key: str
    version: int
    created: bool
    definition_id: int

    def __str__(self) -> str:
        verb = "deployed" if self.created else "unchanged"
        return f"{self.key} version {self.version} ({verb})"


def content_hash(files: dict[str, bytes]) -> str:
    """A hash over the names and contents of a set of files, order-independent."""
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(name.encode("utf-8") + b"\0" + hashlib.sha256(files[name]).digest())
    return outer.hexdigest()


def deploy(
    session: Session,
    files: dict[str, bytes],
    *,
    actor: User | str | None = None,
    note: str = "",
    known_operators: set[str] | None = None,
) -> list[DeployResult]:
    """Deploy every executable process found in ``files``.

    Each process is stored with exactly the files it needs. Content identical to an
    existing version creates no new version. Nothing is deployed if any file has a
    problem, or if a user deploys a process they may not change. Diagrams not marked
    executable (documentation, drawings not yet ready to run) are checked and skipped.

    :param actor: a :class:`User` deploys only the processes :func:`engine.owners.may_change`
        lets them change (every door acting for a person passes the user); a name or
        ``None`` is the operator or the system itself (``sek deploy`` without ``--as``,
        the demo loader), who may deploy anything
    :raises ValidationError: with one problem per ``file:element_id``
    :raises PermissionDeniedError: naming each process the user may not change
    """
    plan = validation.plan_deployment(files, known_operators=known_operators)   # what `sek validate` reports
    if plan.problems:
        raise ValidationError("the definition files have problems; nothing was deployed", plan.problems)
    if isinstance(actor, User):
        owners.require_change(actor, plan.process_ids)
        actor = actor.username
    return [_deploy_one(session, files, key, actor, note) for key in plan.process_ids]


def _deploy_one(session: Session, files, key: str, actor, note) -> DeployResult:
    needed = {name: files[name] for name in sorted(validation.referenced_files(files, key))}
    digest = content_hash(needed)
    existing = session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.content_hash == digest)
    )
    if existing is not None:
        return DeployResult(key, existing.version, False, existing.id)
    spec, subprocess_specs = validation.parse_specs(needed, key)
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
    definition = ProcessDefinition(
        key=key,
        version=(latest or 0) + 1,
        name=spec.description or key,
        content_hash=digest,
        serialized_spec=spiff.specs_to_dict(spec, subprocess_specs),
        note=note,
        deployed_by=actor,
        files=[
            DefinitionFile(name=name, sha256=hashlib.sha256(content).hexdigest(), content=content)
            for name, content in needed.items()
        ],
    )
    session.add(definition)
    session.flush()
    recurring.schedule_definition(session, definition, spec)
    audit.record(session, "definition.deployed", actor=actor, data={
        "key": key, "version": definition.version, "content_hash": digest,
        "files": sorted(needed), "note": note,
    })
    return DeployResult(key, definition.version, True, definition.id)


def get_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    """The given version of a process, or its latest."""
    query = select(ProcessDefinition).where(ProcessDefinition.key == key)
    if version is None:
        query = query.order_by(ProcessDefinition.version.desc()).limit(1)
    else:
        query = query.where(ProcessDefinition.version == version)
    definition = session.scalar(query)
    if definition is None:
        what = f"{key} version {version}" if version is not None else key
        raise NotFoundError(f"no deployed process {what}")
    return definition


@dataclass
class LoadedDefinition:
    """A definition version made ready to run: restored spec and parsed forms."""

    spec: object
    subprocess_specs: dict
    forms: dict[str, dict] = field(default_factory=dict)

    @property
    def start_form(self) -> dict | None:
        """The JSON Schema of the start event's form (what a request is started with), if any."""
        name, _ui = start_events.form_files(self.spec)
        return self.forms.get(name) if name else None

    @property
    def start_ui(self) -> dict | None:
        """The start form's UI schema (field order, widgets, help), if any."""
        _name, ui = start_events.form_files(self.spec)
        return self.forms.get(ui) if ui else None


def definition_file(session: Session, key: str, name: str) -> bytes:
    """A file of the latest deployed version of a process (its BPMN, a form, a DMN).

    :raises NotFoundError: the process is not deployed or has no such file
    """
    definition = get_definition(session, key)
    for item in definition.files:
        if item.name == name:
            return item.content
    raise NotFoundError(f"{key} version {definition.version} has no file {name}")


def start_schema(session: Session, key: str) -> tuple[dict | None, dict | None]:
    """The complete start schema and UI schema of a process's latest version: its start
    form, completed as every start is checked (:mod:`engine.start_forms`); the caller's
    own copies, to change at will. ``None``: the process takes any data.

    :raises NotFoundError: no such process is deployed
    """
    loaded = load_by_id(session, get_definition(session, key).id)
    return start_forms.complete(key, copy.deepcopy(loaded.start_form), copy.deepcopy(loaded.start_ui))


@dataclass(frozen=True)
class ProcessStats:
    """What the catalog page shows of a deployed process."""

    version: int
    name: str
    running: int = 0
    completed: int = 0


def process_stats(session: Session, *, key: str | None = None) -> dict[str, ProcessStats]:
    """Per deployed process (or only ``key``): its latest version and name, and how many
    instances run or ended."""
    latest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
    counted = select(ProcessInstance.process_key, ProcessInstance.status, func.count())
    if key is not None:
        latest = latest.where(ProcessDefinition.key == key)
        counted = counted.where(ProcessInstance.process_key == key)
    latest = latest.group_by(ProcessDefinition.key).subquery()
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name).join(
        latest, (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.version)))
    stats = {key: ProcessStats(version, name) for key, version, name in rows}
    counts = session.execute(counted.group_by(ProcessInstance.process_key, ProcessInstance.status))
    for key, status, count in counts:
        if key not in stats:
            continue
        if status in OPEN_STATUSES:
            stats[key] = replace(stats[key], running=stats[key].running + count)
        elif status == InstanceStatus.COMPLETED:
            stats[key] = replace(stats[key], completed=stats[key].completed + count)
    return stats


_CACHE_SIZE = 256
_cache: OrderedDict[tuple, LoadedDefinition] = OrderedDict()
_cache_lock = threading.Lock()


def load_by_id(session: Session, definition_id: int) -> LoadedDefinition:
    """The restored spec and forms of a definition version, from the in-memory cache.

    The cache key is the process key and content hash, which fix the spec whatever
    database or id the row has: an id can be reused (a rolled-back deploy on SQLite,
    a reset database), so (database, id) is not safe. The serialized spec is only
    read on a miss.
    """
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFoundError(f"no definition {definition_id}")
    cache_key = (definition.key, definition.content_hash)
    with _cache_lock:
        loaded = _cache.get(cache_key)
        if loaded is not None:
            _cache.move_to_end(cache_key)
            return loaded
    if "sek_documentation" in definition.serialized_spec:   # see engine/documentation.py
        raise ValidationError(f"{definition.key} version {definition.version} is a drawing kept as "
                              "documentation: it cannot run", [])
    spec, subprocess_specs = spiff.specs_from_dict(definition.serialized_spec)
    forms = {f.name: json.loads(f.content) for f in definition.files if f.name.endswith(".json")}
    loaded = LoadedDefinition(spec, subprocess_specs, forms)
    with _cache_lock:
        _cache[cache_key] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded
