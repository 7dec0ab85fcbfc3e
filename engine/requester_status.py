"""What the requester is told a request is at, declared by the process itself.

A BPMN element a request can wait in (a user task, a receive task, an intermediate
catch event, a service task the worker has yet to run) declares the requester-facing status of that wait with the Spiff property
``requesterStatus`` ("Birim amirinizin onayında"); an end event declares the outcome
with ``requesterOutcome`` ("Kuruldu", "Reddedildi"). Either may add ``requesterShows``:
the data fields whose values the requester was mailed at that point (the VPN user name
and instructions, a refusal reason), as ``field: Label; field: Label``.

Every save (:func:`engine.sync.write_state`) calls :func:`changed`, which appends a
:class:`~engine.models.RequesterStatus` row when the declared status changed, with the
shown values as they stood. The tracking page reads those rows only: it never loads the
workflow. Texts are stored as declared (Turkish); the processes layer translates them.
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import RequesterStatus, StatusKind, utcnow

STATUS = "requesterStatus"
OUTCOME = "requesterOutcome"
SHOWS = "requesterShows"
TEXT_MAX = 300
SHOWN_MAX = 4000   # characters of one shown value
PREVIOUS_KEY = "requester_status"


def properties_of(spec) -> dict:
    """The Spiff ``properties`` of a task spec (empty when it has none)."""
    return ((getattr(spec, "extensions", None) or {}).get("properties") or {})


def shown_fields(value: str | None) -> list[tuple[str, str]]:
    """``(field, label)`` of a ``requesterShows`` value: ``field: Label`` items separated
    by ``;`` ("vpn_username: VPN kullanıcı adı; setup_notes: Bağlantı talimatları"). A
    missing label is the title a form of the process gives the field."""
    items = []
    for item in (value or "").split(";"):
        name, _sep, label = item.partition(":")
        if name.strip():
            items.append((name.strip(), label.strip()))
    return items


def _declared(workflow, ready: dict):
    """``(task, kind, text)`` of the status the workflow is in now, or None if no element
    it stands at declares one (a pass through a service task keeps the last status)."""
    if workflow.is_completed():
        best = None
        for wf in (workflow, *workflow.subprocesses.values()):
            for task in wf.tasks.values():
                text = properties_of(task.task_spec).get(OUTCOME)
                if text and task.state == SpiffState.COMPLETED and (
                        best is None or task.last_state_change > best.last_state_change):
                    best = task
        return (best, StatusKind.OUTCOME, properties_of(best.task_spec)[OUTCOME]) if best is not None else None
    waiting = [t for t in workflow.event_manager.tasks.values() if t.has_state(SpiffState.WAITING)]
    best = None
    for task in (*ready.values(), *waiting):
        if properties_of(task.task_spec).get(STATUS) and (
                best is None or task.last_state_change > best.last_state_change):
            best = task
    return (best, StatusKind.STATUS, properties_of(best.task_spec)[STATUS]) if best is not None else None


def _title(forms: dict, name: str) -> str:
    """The title a form of the definition gives field ``name`` (the label it is shown with)."""
    for schema in forms.values():
        prop = ((schema or {}).get("properties") or {}).get(name) if isinstance(schema, dict) else None
        if isinstance(prop, dict) and prop.get("title"):
            return str(prop["title"])
    return ""


def _lookup(data: dict, name: str):
    """``data[name]``; a dotted name reads into a dict (``mac_check.reason``)."""
    value = data
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _shown_value(value):
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value if item not in (None, ""))
    if value is None or isinstance(value, dict):
        return None
    text = str(value).strip()
    return text[:SHOWN_MAX] if text else None


def changed(active, ready: dict, previous: str | None) -> tuple[str | None, RequesterStatus | None]:
    """The instance's requester status, and a new row for it if it changed since ``previous``
    (the caller adds the row to the session).

    :param ready: the ready user and service tasks by uuid (as the save found them)
    :param previous: the key of the status recorded at the last save
    :returns: the key of the current status (kept with the state for the next save) and
        the new row, or None
    """
    found = _declared(active.workflow, ready)
    if found is None:
        return previous, None
    task, kind, text = found
    text = str(text).strip()[:TEXT_MAX]
    key = f"{kind}:{task.id}|{text}"
    if key == previous or (previous or "").partition(":")[0] == kind and (previous or "").partition("|")[2] == text:
        # The same step, or another one telling the same (a request moved to another
        # team is still "with the help desk"): nothing new to tell.
        return key, None
    shown = []
    for name, label in shown_fields(properties_of(task.task_spec).get(SHOWS)):
        value = _shown_value(_lookup(task.data, name))
        if value is not None:
            shown.append({"field": name, "label": label or _title(active.definition.forms, name.split(".")[-1]),
                          "value": value})
    return key, RequesterStatus(instance_id=active.instance.id, bpmn_id=task.task_spec.bpmn_id, kind=str(kind),
                                text=text, shown=shown, created_at=utcnow())


def history(session: Session, instance_id: int) -> list[RequesterStatus]:
    """The requester statuses of an instance, oldest first (the last one is current)."""
    return list(session.scalars(select(RequesterStatus).where(RequesterStatus.instance_id == instance_id)
                                .order_by(RequesterStatus.created_at, RequesterStatus.id)))
