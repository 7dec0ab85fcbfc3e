"""Audit events worded for people (the instance and task pages' timelines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from engine.models import AuditEvent

from .templating import ptext

LABELS = {
    "instance.started": _l("Request started"),
    "instance.cancelled": _l("Request cancelled"),
    "task.claimed": _l("Task claimed"),
    "task.unclaimed": _l("Task given back to its group"),
    "task.completed": _l("Task completed"),
    "task.reassigned": _l("Task reassigned"),
    "timer.fired": _l("Timer fired"),
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
    return str(reason) % {"task": task, "group": data.get("group") or "", "unit": data.get("unit") or ""}


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    action: str
    actor: str | None
    at: datetime
    detail: dict


def describe_events(events: list[AuditEvent], task_names: dict[int, str] | None = None,
                    process_key: str | None = None) -> list[TimelineEntry]:
    """Each event with a label in the user's language and the data it carried.

    :param task_names: task id -> task name (in the reader's language), to name the task an event is about
    :param process_key: the events' process, whose catalog words the names events carry themselves
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
        if event.action == "instance.cancelled" and data.get("reason"):
            detail = {"reason": data["reason"]}
        label, detail = _triage_detail(event.action, data, label, detail)
        if event.action == "request.rated":   # the score and comment are the event's own data
            detail = {key: data[key] for key in ("score", "comment") if data.get(key) not in (None, "")}
        entries.append(TimelineEntry(label, event.action, event.actor, event.created_at, detail))
    return entries
