"""The requester's personal data on staff pages: the one place that says who sees what.

The rule is the confidentiality article of the call centre directive (seed 004, MADDE 9:
"kayıt altına alınan her türlü bilgi veya belgenin gizliliği esastır"; staff share what
they learn through their duty with no one) and KVKK's data minimisation:

* by default everyone sees the requester's name, and the e-mail, phone and TC Kimlik No
  masked (``a***@example.edu.tr``, ``0532 *** ** 00``, ``123******50``);
* the "show personal data" button records ``personal_data.viewed`` (actor, fields) in the
  instance's audit chain, then shows the data once;
* what it shows depends on the role: staff working the request get the e-mail and phone
  (they must answer); the TC Kimlik No only admins and auditors, who check identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, session
from flask_login import current_user, login_required

from engine import audit, conversation, instances

from .db import command
from .extensions import db

bp = Blueprint("personal_data", __name__)

ACTION = "personal_data.viewed"
STAFF_FIELDS = ("email", "phone")
FULL_FIELDS = ("email", "phone", "national_id")
FULL_ROLES = ("admin", "auditor")   # User.has_role: admins have every role
_SESSION_KEY = "personal_data_shown"


def fields_for(user) -> tuple[str, ...]:
    """The contact fields ``user`` may see after asking (and the event records)."""
    return FULL_FIELDS if any(user.has_role(role) for role in FULL_ROLES) else STAFF_FIELDS


def mask_email(value: str | None) -> str:
    if not value:
        return ""
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(value: str | None) -> str:
    """``0532 123 45 00`` -> ``0532 *** ** 00``; a short internal number is masked whole."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) >= 7:
        return f"{digits[:4]} *** ** {digits[-2:]}"
    return "*" * len(digits) if digits else ("***" if value else "")


def mask_national_id(value: str | None) -> str:
    """``12345678950`` -> ``123******50``: enough to tell two people apart on the phone."""
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 5) + value[-2:] if len(value) > 5 else "*" * len(value)


# How the contact fields among engine.personal's keys are masked where they turn up in
# process or event data (the portal copies e-mail and phone there for the process's mails).
PERSONAL_KEYS = {"requester_email": mask_email, "email": mask_email, "phone": mask_phone,
                 "national_id": mask_national_id}


def masked(data):
    """Process or event data with the requester's personal fields masked, however deep: the
    clear values are only behind the recorded "show personal data" button."""
    if isinstance(data, dict):
        return {key: PERSONAL_KEYS[key](value) if key in PERSONAL_KEYS and isinstance(value, str) else masked(value)
                for key, value in data.items()}
    if isinstance(data, list):
        return [masked(value) for value in data]
    return data


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
    """The contact with what the user may not see masked; clear only right after the button
    (the flag set by :func:`reveal` is used once)."""
    if contact is None:
        return None
    shown = session.get(_SESSION_KEY) or []
    revealed = fields_for(current_user) if instance_id in shown else ()
    if instance_id in shown:
        session[_SESSION_KEY] = [i for i in shown if i != instance_id]
    values = {"email": contact.email or "", "phone": contact.phone or "", "national_id": contact.national_id or ""}
    masks = {"email": mask_email, "phone": mask_phone, "national_id": mask_national_id}
    view = {k: v if k in revealed else masks[k](v) for k, v in values.items()}
    hidden = any(values[k] and k not in revealed for k in fields_for(current_user))
    return ContactView(contact.name, view["email"], view["phone"], view["national_id"], contact.unit or "",
                       tuple(k for k in revealed if values[k]), hidden)


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
