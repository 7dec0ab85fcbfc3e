"""Which data fields are personal (KVKK): the one list retention and the audit trail share.

``PROCESS_KEYS`` are the workflow data fields that name or describe the requester, or hold
their own free text; :mod:`engine.retention` replaces them in the stored workflow state.
``AUDIT_KEYS`` adds the keys under which audit events carry the same things: a message's
``body`` (staff answers too: they greet the requester by name), a rating's ``comment``, a
reply link's ``recipient`` and an ``email``. Their values are hashed in a redactable way by
:mod:`engine.audit`, wherever they appear in an event's data (nested too), so that
retention can later blank them without breaking the hash chain.
"""

from __future__ import annotations

PROCESS_KEYS = frozenset({
    "requester", "requester_email", "phone", "message", "national_id", "student_number", "mac_address",
    "responsible_person", "last_reply", "reopen_reason", "requester_reply", "reopen_request", "room",
})
AUDIT_KEYS = PROCESS_KEYS | frozenset({"body", "comment", "recipient", "email"})
# Actors of the form ``requester:<e-mail>`` (portal requesters) are personal too.
REQUESTER_ACTOR = "requester:"
