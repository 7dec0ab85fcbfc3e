"""Triage of a request by staff: its priority, its category and its duplicate link.

Who may: the help desk and admins on any request they can see, and the members of a
group that has an open task of the request (the team working it). Moving a request to
another category stays the help desk's (the request page's rule, seed 000). The task
page's panel (``inbox/_triage.html``) and the request page call the same actions here;
each is one command (:func:`webapp.db.command`) and answers with a flashed message.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine import conversation, instances, priority
from engine import duplicates as engine_duplicates
from engine.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from engine.models import OPEN_STATUSES, OPEN_TASK_STATES, PRIORITIES, RequestFact
from processes import duplicates
from processes.user_support.recategorize import CATEGORIES, recategorize

from .db import command
from .extensions import db

HELPDESK = "helpdesk"
SUPPORT = "user_support"
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
CODE_MAX = 40
NOTE_MAX = 4000


def _is_desk(user) -> bool:
    return user.has_role("admin") or HELPDESK in user.group_slugs


def can_triage(user, instance, task_rows) -> bool:
    """Set the priority or a duplicate link: the help desk, admins, or the team working it."""
    if instance.status not in OPEN_STATUSES:
        return False
    open_groups = {t.group_name for t in task_rows if t.state in OPEN_TASK_STATES}
    return _is_desk(user) or bool(open_groups & user.group_slugs)


def can_recategorize(user, instance, task_rows) -> bool:
    """The help desk moves a user_support request while it waits in a team's queue (seed 000)."""
    return (instance.process_key == SUPPORT and _is_desk(user)
            and any(t.bpmn_id == "resolve" and t.state in OPEN_TASK_STATES for t in task_rows))


def panel(instance, task=None) -> dict | None:
    """What ``inbox/_triage.html`` shows for ``instance`` (from its ``task``'s page, if
    given), or None when the current user may not triage it."""
    session = db.session
    task_rows = instances.tasks_of(session, instance.id)
    if not can_triage(current_user, instance, task_rows):
        return None
    fact = session.get(RequestFact, instance.id)
    if fact is None:
        return None
    main = engine_duplicates.main_of(session, instance.id)
    return {
        "instance": instance, "task": task, "priority": fact.priority or priority.DEFAULT,
        "priorities": [(p, PRIORITY_LABELS[p]) for p in PRIORITIES],
        "categories": CATEGORIES if task is not None and can_recategorize(current_user, instance, task_rows) else (),
        "category": fact.category,
        "duplicates": instance.process_key == SUPPORT,
        "main": main,
        # Unlinking works only while the duplicate still waits for its main request's answer.
        "can_unlink": main is not None
        and engine_duplicates.MAIN_ANSWERED in conversation.waiting_for(session, instance.id),
        "linked": engine_duplicates.duplicates_of(session, instance.id),
    }


def visible(instance_id: int):
    """The instance, if the current user may see it (else NotFound / PermissionDenied)."""
    return instances.get_visible(db.session, current_user, instance_id)


def _allowed(instance) -> None:
    if not can_triage(current_user, instance, instances.tasks_of(db.session, instance.id)):
        raise PermissionDeniedError("only the help desk or the team working a request triages it")


def set_priority(instance, value: str) -> bool:
    """Give the request priority ``value``; flashes the outcome."""
    _allowed(instance)
    if value not in PRIORITIES:
        flash(_("Choose a priority."), "error")
        return False
    try:
        with command() as session:
            priority.set_priority(session, instance.id, value, actor=current_user.username)
    except ConflictError:
        flash(_("The priority was not changed: %(reason)s",
                reason=_("the request is closed, or it changed meanwhile; reload the page.")), "error")
        return False
    flash(_("Priority set to %(priority)s; the due dates of its open tasks follow.",
            priority=PRIORITY_LABELS[value]), "success")
    return True


def move(instance, category: str, note: str) -> bool:
    """Move the request to ``category`` (the help desk's rule of the request page)."""
    if not can_recategorize(current_user, instance, instances.tasks_of(db.session, instance.id)):
        raise PermissionDeniedError("only the help desk moves a request waiting in a team's queue")
    try:
        with command() as session:
            recategorize(session, instance.id, category, by=current_user.username, note=note[:NOTE_MAX])
    except (ValidationError, NotFoundError) as exc:
        flash(_("The request was not moved: %(reason)s", reason=str(exc)), "error")
        return False
    flash(_("The request was moved to the category %(category)s.", category=category), "success")
    return True


def link(instance, main_code: str) -> bool:
    """Make the request a duplicate of the one with tracking code ``main_code``; the
    main one must be visible to the current user too."""
    _allowed(instance)
    code = (main_code or "").strip()[:CODE_MAX]
    if not code:
        flash(_("Enter the tracking code of the main request."), "error")
        return False
    try:
        main = engine_duplicates.by_tracking_code(db.session, code)
        instances.get_visible(db.session, current_user, main.id)
    except (NotFoundError, PermissionDeniedError):   # unknown and invisible look the same
        flash(_("No request you can see has the tracking code %(code)s.", code=code), "error")
        return False
    try:
        with command() as session:
            duplicates.link_request(session, instance.id, main.tracking_code, by=current_user.username)
    except ValidationError as exc:
        flash(_("The request was not linked: %(reason)s", reason=_refusal(exc)), "error")
        return False
    except NotFoundError:
        flash(_("The request was not linked: only a request waiting in a team's queue can become a duplicate."),
              "error")
        return False
    flash(_("Request #%(id)s is now a duplicate of #%(main)s: it will get that request's answer.",
            id=instance.id, main=main.id), "success")
    return True


def _refusal(exc: ValidationError) -> str:
    """A refused link (engine.duplicates' problem codes) in the reader's language."""
    problem = exc.problems[0] if exc.problems else None
    params = problem.params if problem else {}
    words = {
        "self": lambda: _("a request cannot be a duplicate of itself."),
        "already_duplicate": lambda: _("it is already a duplicate of #%(main)s.", main=params.get("main")),
        "chain": lambda: _("#%(main)s is itself a duplicate of #%(root)s; link to #%(root)s instead.",
                           main=params.get("main"), root=params.get("root")),
        "has_duplicates": lambda: _("other requests are duplicates of this one; it cannot become a duplicate."),
        "other_process": lambda: _("both requests must be of the same process."),
        "main_closed": lambda: _("#%(main)s is already answered or closed.", main=params.get("main")),
    }
    word = words.get(problem.code if problem else "")
    return word() if word else exc.message


def unlink(instance) -> bool:
    """Undo the request's duplicate link; it goes back to its team."""
    _allowed(instance)
    try:
        with command() as session:
            main_id = duplicates.unlink_request(session, instance.id, by=current_user.username)
    except ConflictError:
        flash(_("The link was not removed: %(reason)s",
                reason=_("the request already has the main request's answer, or it is not a duplicate.")), "error")
        return False
    flash(_("Request #%(id)s is no longer a duplicate of #%(main)s; it is back with its team.",
            id=instance.id, main=main_id), "success")
    return True
