"""What the diagrams show: where an instance is, and where a process's work piles up.

:func:`instance_marks` reads an instance's task tree (finished elements, current
tokens, the sequence flows taken between them); :func:`task_heat` counts the open
user tasks per BPMN element and the median time spent there. Both answer with plain
BPMN ids, for the pages to mark on the diagram.
"""

from __future__ import annotations

import statistics
from datetime import UTC

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import runtime, validation
from .errors import NotFoundError
from .models import OPEN_TASK_STATES, HumanTask, ProcessDefinition, ProcessInstance, TaskState
from .xmlsafe import parse_xml

ACTIVE_STATES = SpiffState.READY | SpiffState.WAITING | SpiffState.STARTED | SpiffState.ERROR
# Durations are read from the newest finished tasks only, so a busy process costs one bounded query.
HEAT_SAMPLE = 5000


def process_bpmn(session: Session, definition_id: int, key: str) -> tuple[str, bytes]:
    """The name and content of the BPMN file of a version that defines process ``key``.

    :raises NotFoundError: no file of that version defines it
    """
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFoundError(f"no definition {definition_id}")
    bpmn_files = [f for f in definition.files if f.name.lower().endswith(".bpmn")]
    for item in bpmn_files:
        if _defines(item.name, item.content, key):
            return item.name, item.content
    if bpmn_files:   # a drawing kept as documentation under its catalog key
        return bpmn_files[0].name, bpmn_files[0].content
    raise NotFoundError(f"{key} version {definition.version} has no BPMN file")


def _defines(name: str, content: bytes, key: str) -> bool:
    root = parse_xml(content, name)
    return any(p.get("id") == key for p in root.iterfind(".//bpmn:process", validation.NS))


def instance_marks(session: Session, instance_id: int) -> dict[str, list[str]]:
    """Where an instance stands, as BPMN ids of its version's diagram.

    :returns: ``{"completed": [...], "active": [...], "flows": [...]}``: the elements
        finished at least once, those holding a token now (ready, waiting, running or
        failed), and the sequence flows taken from a finished element to an element
        reached after it
    :raises NotFoundError: no such instance
    """
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"no instance {instance_id}")
    completed, active, steps = set(), set(), set()
    with runtime.reading(session, instance_id) as loaded:
        workflow = loaded.workflow
        for wf in (workflow, *workflow.subprocesses.values()):
            for task in wf.tasks.values():
                bpmn_id = getattr(task.task_spec, "bpmn_id", None)
                if not bpmn_id:
                    continue
                reached = False
                if task.has_state(SpiffState.COMPLETED):
                    completed.add(bpmn_id)
                    reached = True
                elif task.has_state(ACTIVE_STATES):
                    active.add(bpmn_id)
                    reached = True
                before = _previous_element(task)
                if reached and before is not None:
                    steps.add((before, bpmn_id))
    name, content = process_bpmn(session, instance.definition_id, instance.process_key)
    root = parse_xml(content, name)
    flows = sorted(flow.get("id") for flow in root.iterfind(".//bpmn:sequenceFlow", validation.NS)
                   if (flow.get("sourceRef"), flow.get("targetRef")) in steps)
    return {"completed": sorted(completed), "active": sorted(active), "flows": flows}


def _previous_element(task) -> str | None:
    """The BPMN id of the nearest finished ancestor that is a diagram element (Spiff puts
    internal steps without an id, e.g. boundary event splits, between elements)."""
    parent = task.parent
    while parent is not None:
        bpmn_id = getattr(parent.task_spec, "bpmn_id", None)
        if bpmn_id and parent.has_state(SpiffState.COMPLETED):
            return bpmn_id
        if bpmn_id:
            return None
        parent = parent.parent
    return None


def task_heat(session: Session, key: str, version: int | None = None) -> dict:
    """Where work piles up in a process: per user task (BPMN id), the open tasks now and
    the median time from a task's creation to its completion.

    :param version: only the instances of this version (default: every version)
    :returns: ``{"tasks": {bpmn_id: {"waiting": n, "median_seconds": s or None, "finished": n}},
        "max_waiting": n}``; ``finished`` counts the tasks the median was taken over
    """
    scope = select(ProcessInstance.id).where(ProcessInstance.process_key == key)
    if version is not None:
        scope = scope.join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
            ProcessDefinition.version == version)
    in_scope = HumanTask.instance_id.in_(scope)
    heat: dict[str, dict] = {}
    waiting = session.execute(select(HumanTask.bpmn_id, func.count()).where(
        in_scope, HumanTask.state.in_([str(s) for s in OPEN_TASK_STATES])).group_by(HumanTask.bpmn_id))
    for bpmn_id, count in waiting:
        heat[bpmn_id] = {"waiting": count, "median_seconds": None, "finished": 0}
    durations: dict[str, list[float]] = {}
    finished = session.execute(select(HumanTask.bpmn_id, HumanTask.created_at, HumanTask.completed_at).where(
        in_scope, HumanTask.state == str(TaskState.COMPLETED), HumanTask.completed_at.is_not(None))
        .order_by(HumanTask.completed_at.desc()).limit(HEAT_SAMPLE))
    for bpmn_id, created, done in finished:
        durations.setdefault(bpmn_id, []).append(max((_aware(done) - _aware(created)).total_seconds(), 0.0))
    for bpmn_id, seconds in durations.items():
        entry = heat.setdefault(bpmn_id, {"waiting": 0, "median_seconds": None, "finished": 0})
        entry["median_seconds"] = round(statistics.median(seconds), 1)
        entry["finished"] = len(seconds)
    return {"tasks": heat, "max_waiting": max((e["waiting"] for e in heat.values()), default=0)}


def _aware(moment):
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
