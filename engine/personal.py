"""Which data is personal (KVKK), and how a personal value reads when it is masked.

``PROCESS_KEYS`` are the workflow data fields that name or describe the requester, or hold
their own free text; :mod:`engine.retention` replaces them in the stored workflow state.
``AUDIT_KEYS`` adds the keys under which audit events carry the same things: a message's
``body`` (staff answers too: they greet the requester by name), a rating's ``comment``, a
reply link's ``recipient`` and an ``email``. Their values are hashed in a redactable way by
:mod:`engine.audit`, wherever they appear in an event's data (nested too), so that
retention can later blank them without breaking the hash chain.

``CONTACT_KEYS`` are the requester's contact values among them (e-mail, phone, TC Kimlik
No): the ones staff pages and the API show masked until a recorded view. Who may see
which of them in clear is the web app's decision (``webapp/personal_data.py``); this
module only says which values they are and how they read masked, so every page, the API
and the CLI mask alike.
"""

from __future__ import annotations

import re

PROCESS_KEYS = frozenset({
    "requester", "requester_email", "phone", "message", "national_id", "student_number", "mac_address",
    "responsible_person", "last_reply", "reopen_reason", "requester_reply", "reopen_request", "room",
})
AUDIT_KEYS = PROCESS_KEYS | frozenset({"body", "comment", "recipient", "email"})
# Actors of the form ``requester:<e-mail>`` (portal requesters) are personal too.
REQUESTER_ACTOR = "requester:"

EMAIL, PHONE, NATIONAL_ID = "email", "phone", "national_id"
CONTACT_FIELDS = (EMAIL, PHONE, NATIONAL_ID)
# Data key -> which contact field its value is (the portal copies e-mail and phone into the
# process data for the process's own mails, so they turn up in data and events too).
CONTACT_KEYS = {"requester_email": EMAIL, "email": EMAIL, "phone": PHONE, "national_id": NATIONAL_ID}


def mask_email(value: str | None) -> str:
    """``ayse@example.edu.tr`` -> ``a***@example.edu.tr``: the domain tells staff where to look."""
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


MASKS = {EMAIL: mask_email, PHONE: mask_phone, NATIONAL_ID: mask_national_id}


def mask_value(field: str, value: str | None, clear=()) -> str:
    """One contact value as shown: clear if ``field`` is in ``clear``, else masked.

    :param field: ``email``, ``phone`` or ``national_id``
    """
    return (value or "") if field in clear else MASKS[field](value)


def mask_data(data, clear=()):
    """Process or event data with the contact values (:data:`CONTACT_KEYS`, however deep)
    masked, except the fields in ``clear``; everything else as it is."""
    if isinstance(data, dict):
        return {key: mask_value(CONTACT_KEYS[key], value, clear)
                if key in CONTACT_KEYS and isinstance(value, str) else mask_data(value, clear)
                for key, value in data.items()}
    if isinstance(data, list):
        return [mask_data(value, clear) for value in data]
    return data


def requester_address(who: str | None) -> str | None:
    """The requester's e-mail address when ``who`` names a requester, else None.

    ``who`` is how a record names a person: an audit event's actor, an instance's
    ``started_by``, a message's author, an attachment's uploader. Requesters have no
    account, so records name them by address: ``requester:<e-mail>``, or the bare address
    the portal stores as author and uploader. Usernames, the engine (None) and a unit's
    answer (``Name <unit address>``: the unit's own address, not the requester's) are not.
    """
    if not who:
        return None
    if who.startswith(REQUESTER_ACTOR):
        return who[len(REQUESTER_ACTOR):]
    if "@" in who and not re.search(r"[\s<>]", who):
        return who
    return None


def mask_who(who: str | None, clear=()) -> str | None:
    """``who`` as shown: a requester's address masked unless ``email`` is in ``clear``
    (``requester:a***@example.edu.tr``); anyone else as recorded."""
    address = requester_address(who)
    if address is None or EMAIL in clear:
        return who
    return who[:len(who) - len(address)] + mask_email(address)
