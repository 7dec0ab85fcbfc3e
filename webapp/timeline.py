"""Audit events worded for people (the instance and task pages' timelines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from engine.models import AuditEvent, ProcessInstance
from processes.data_panel import Row

from . import data_panel
from .templating import group_title, ptext

LABELS = {
    "instance.started": _l("Request started"),
    "instance.cancelled": _l("Request cancelled"),
    "instance.migrated": _l("Request moved to a newer version of its process"),
    "personal_data.viewed": _l("Requester's contact shown"),
    "task.claimed": _l("Task claimed"),
    "task.unclaimed": _l("Task given back to its group"),
    "task.completed": _l("Task completed"),
    "task.reassigned": _l("Task reassigned"),
    "timer.fired": _l("Timer fired"),
    "schedule.fired": _l("Recurring start"),
    "message.delivered": _l("Message received"),
    "service.completed": _l("Service task completed"),
    "job.failed": _l("Background job failed"),
    "job.retried": _l("Background job queued again"),
    "link.created": _l("Reply link mailed"),
    "link.used": _l("Answered through a reply link"),
    "request.message": _l("Public message"),
    "request.note": _l("Internal note"),
    "request.rated": _l("Requester rated the service"),
    "request.priority": _l("Priority changed"),
    "request.duplicate_linked": _l("Marked as a duplicate"),
    "request.duplicate_added": _l("A duplicate was linked to this request"),
    "request.duplicate_unlinked": _l("Duplicate link removed"),
    "request.duplicate_removed": _l("A duplicate was unlinked from this request"),
    "task.returned": _l("Task went back to who worked it last"),
    "linked.started": _l("Linked request started"),
    "linked.started_by": _l("Started by another request"),
    "linked.not_started": _l("Linked request not started: its process is not in use"),
    "linked.delivery_failed": _l("The end of a linked request could not be passed on"),
    "asset.registered": _l("Asset registered"),
    "asset.updated": _l("Asset changed"),
}
# What the triage events say, after their label (webapp.triage.PRIORITY_LABELS names the priorities).
PRIORITY_WORDS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}


def _triage_detail(action: str, data: dict, label: str, detail: dict) -> tuple[str, dict]:
    """Priority and duplicate events in words: "Priority changed: Normal → Urgent", "... #12"."""
    if action == "request.priority":
        before, after = (str(PRIORITY_WORDS.get(data.get(k), data.get(k))) for k in ("before", "after"))
        return f"{label}: {before} → {after}", {}
    other = data.get("main_id") or data.get("duplicate_id")
    if action.startswith("request.duplicate_") and other:
        return f"{label}: #{other}", {}
    if action.startswith("linked.") and data.get("tracking_code"):
        return f"{label}: {data['tracking_code']}", {}
    if action.startswith("asset.") and data.get("inventory_no"):   # engine/assets.py: the asset's number
        return f"{label}: {data['inventory_no']}", {}
    if action == "task.returned" and data.get("assignee"):
        return f"{label} ({data['assignee']})", {}
    return label, detail


# Why a unit head's task went to every unit head (engine.assignment.Fallback).
FALLBACK_REASONS = {
    "no_unit": _l("%(task)s went to every unit head (group %(group)s): the request names no unit."),
    "unknown_unit": _l("%(task)s went to every unit head (group %(group)s): the unit %(unit)s is not in the "
                       "units list."),
    "no_head_group": _l("%(task)s went to every unit head (group %(group)s): the unit %(unit)s has no head group."),
}


def _fallback_label(data: dict, process_key: str | None) -> str:
    reason = FALLBACK_REASONS.get(data.get("reason"), FALLBACK_REASONS["no_head_group"])
    task = ptext(data.get("name"), process_key) if data.get("name") else data.get("bpmn_id") or ""
    return str(reason) % {"task": task, "group": group_title(data.get("group")), "unit": data.get("unit") or ""}


# The words of the events' own details (not a form's data): why a request was cancelled, its rating.
DETAIL_LABELS = {"reason": _l("Reason"), "score": _l("Score"), "comment": _l("Comment")}


def _own_rows(detail: dict) -> list[Row]:
    return [Row(key, str(DETAIL_LABELS[key]), value,
                "number" if isinstance(value, int | float) else "long" if "\n" in str(value) else "text")
            for key, value in detail.items()]


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    action: str
    actor: str | None
    at: datetime
    detail: list[Row]


def describe_events(events: list[AuditEvent], task_names: dict[int, str] | None = None,
                    process_key: str | None = None, *, instance: ProcessInstance | None = None,
                    schemas: list[dict] | None = None) -> list[TimelineEntry]:
    """Each event with a label in the user's language and the data it carried, as the data
    panel shows data: the process's declared fields under their titles, values formatted,
    the requester's contact masked, the process's own bookkeeping left out.

    :param task_names: task id -> task name (in the reader's language), to name the task an event is about
    :param process_key: the events' process, whose catalog words the names events carry themselves
    :param instance: the events' request, whose forms (``schemas``) title the data
    """
    task_names = task_names or {}
    entries = []
    for event in events:
        data = dict(event.data or {})
        detail = data.get("data") if isinstance(data.get("data"), dict) else {}
        label = str(LABELS.get(event.action, event.action))
        if event.action == "task.unit_head_fallback":
            label = _fallback_label(data, process_key)
        elif event.action.startswith("task."):
            name = task_names.get(data.get("task_id")) or data.get("bpmn_id")
            label = f"{label}: {name}" if name else label
        label, detail = _triage_detail(event.action, data, label, detail)
        if event.action == "instance.cancelled" and data.get("reason"):
            rows = _own_rows({"reason": data["reason"]})
        elif event.action == "request.rated":   # the score and comment are the event's own data
            rows = _own_rows({key: data[key] for key in ("score", "comment") if data.get(key) not in (None, "")})
        elif detail and instance is not None:
            rows = data_panel.rows(instance, schemas or [], detail)
        else:
            rows = []
        entries.append(TimelineEntry(label, event.action, event.actor, event.created_at, rows))
    return entries
