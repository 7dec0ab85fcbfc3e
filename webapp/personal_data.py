"""The requester's personal data on staff pages and in the API: the one place that says
who sees what.

The rule is the confidentiality article of the call centre directive (seed 004, MADDE 9:
"kayıt altına alınan her türlü bilgi veya belgenin gizliliği esastır"; staff share what
they learn through their duty with no one) and KVKK's data minimisation:

* by default everyone sees the requester's name, and the e-mail, phone and TC Kimlik No
  masked (``a***@example.edu.tr``, ``0532 *** ** 00``, ``123******50``) wherever they turn
  up: the contact panel, the process data, the history (``requester:a***@...`` as actor),
  message authors, attachment uploaders, ``/api/v1/instances/<id>`` and its events;
* the "show personal data" button records ``personal_data.viewed`` (actor, fields) in the
  instance's audit chain, then the next response about that request shows them once;
* what it shows depends on the role: staff working the request get the e-mail and phone
  (they must answer); the TC Kimlik No only admins and auditors, who check identity;
* the audit trail pages (``/audit``, auditors only) show the trail as recorded, as their
  exports do: checking it is the auditor's duty. The outbox (admins only) is the mail log
  as sent, to diagnose delivery; it is not routed through here.

Which values are personal and how they read masked is a data rule, in
:mod:`engine.personal`; templates call the ``person`` and ``masked`` filters and the API
schemas call :func:`person` and :func:`masked`, which all ask :func:`clear_fields`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, has_request_context, redirect, request, session
from flask_login import current_user, login_required

from engine import audit, conversation, instances, personal

from .db import command
from .extensions import db

bp = Blueprint("personal_data", __name__)

ACTION = "personal_data.viewed"
STAFF_FIELDS = (personal.EMAIL, personal.PHONE)
FULL_FIELDS = personal.CONTACT_FIELDS
FULL_ROLES = ("admin", "auditor")   # User.has_role: admins have every role
AUDIT_BLUEPRINT = "audit"
_SESSION_KEY = "personal_data_shown"


def fields_for(user) -> tuple[str, ...]:
    """The contact fields ``user`` may see after asking (and the event records)."""
    return FULL_FIELDS if any(user.has_role(role) for role in FULL_ROLES) else STAFF_FIELDS


def clear_fields(instance_id: int | None) -> frozenset[str]:
    """The contact fields of request ``instance_id``'s requester that the current response
    shows in clear: none, except right after the recorded view (:func:`reveal`), and the
    audit trail pages for auditors.

    The flag the view set is used by one response, however many places on it name the
    requester (the answer is kept for the rest of the request).
    """
    if instance_id is None or not has_request_context():
        return frozenset()
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if request.blueprint == AUDIT_BLUEPRINT and user.has_role("auditor"):
        return frozenset(FULL_FIELDS)
    known = g.setdefault("sek_personal_clear", {})
    if instance_id not in known:
        shown = session.get(_SESSION_KEY) or []
        known[instance_id] = frozenset(fields_for(user)) if instance_id in shown else frozenset()
        if instance_id in shown:
            session[_SESSION_KEY] = [i for i in shown if i != instance_id]
    return known[instance_id]


def person(who: str | None, instance_id: int | None = None) -> str | None:
    """How the current user sees ``who`` (an actor, author or uploader) on request
    ``instance_id``: a requester's address masked unless shown in clear (never without
    ``instance_id``); staff as they are."""
    return personal.mask_who(who, clear_fields(instance_id))


def masked(data, instance_id: int | None = None):
    """Process or event data of request ``instance_id`` with the requester's contact values
    masked, however deep, unless shown in clear (never without ``instance_id``)."""
    return personal.mask_data(data, clear_fields(instance_id))


@dataclass(frozen=True)
class ContactView:
    """The contact as the current user sees it now."""

    name: str
    email: str
    phone: str
    national_id: str
    unit: str
    revealed: tuple[str, ...]   # the fields shown in clear
    hidden: bool                # something is still masked that the button would show


def contact_view(contact, instance_id: int) -> ContactView | None:
    """The contact with what the user may not see masked; clear only right after the button."""
    if contact is None:
        return None
    clear = clear_fields(instance_id)
    values = {"email": contact.email or "", "phone": contact.phone or "", "national_id": contact.national_id or ""}
    view = {field: personal.mask_value(field, value, clear) for field, value in values.items()}
    hidden = any(values[f] and f not in clear for f in fields_for(current_user))
    return ContactView(contact.name, view["email"], view["phone"], view["national_id"], contact.unit or "",
                       tuple(f for f in FULL_FIELDS if f in clear and values[f]), hidden)


def _back(instance_id: int) -> str:
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    # only a path of this site: never an open redirect
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return f"/instances/{instance_id}"


@bp.post("/instances/<int:instance_id>/personal-data")
@login_required
def reveal(instance_id: int):
    """Record that the current user views the requester's personal data, then show it once."""
    instance = instances.get_visible(db.session, current_user, instance_id)
    contact = conversation.contact_of(db.session, instance.id)
    if contact is None:
        abort(404)
    fields = [f for f in fields_for(current_user) if getattr(contact, f)]
    with command() as db_session:
        audit.record(db_session, ACTION, actor=current_user.username, instance_id=instance.id,
                     data={"fields": fields})
    shown = [i for i in session.get(_SESSION_KEY) or [] if i != instance_id][-20:]
    session[_SESSION_KEY] = [*shown, instance_id]
    return redirect(_back(instance_id) + "#conversation")
