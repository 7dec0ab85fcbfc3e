"""KVKK retention: anonymize the personal data of requests closed long ago.

``sek retention apply --years N`` calls :func:`apply`. A request closed (completed or
cancelled) more than ``N`` years ago keeps its shape, its numbers and its history, but
no longer says who asked or what they wrote:

- ``request_contact``: name, e-mail (and its look-up key), TC Kimlik No and phone become
  placeholders (``anonim-<id>@anonim.invalid``); the unit stays (it is not a person, and
  the reports may count by unit);
- ``request_message``: the requester's own messages become ``[anonimleştirildi]``; staff
  messages keep their text with the requester's name and e-mail blanked out of it;
- attachments: the files are deleted; the rows keep size and type (the file name, the
  uploader's e-mail and the content hash go);
- ``service_rating``: the score stays (satisfaction figures), the free-text comment goes;
- the stored workflow state: the requester's fields (``PERSONAL_KEYS``) in the workflow
  data and every task's data and delta are replaced; the row's revision and state token
  change, so no cached copy of the old state is ever used again;
- ``mail_message`` to the requester: recipient and body replaced;
- ``process_instance.started_by`` of portal requests (``requester:<e-mail>``).

``request_fact`` holds no personal data and is not touched, so every report gives the
same figures before and after. The audit events are not rewritten: they are hash-chained
and rewriting them would make ``sek audit verify`` fail, which is exactly what the chain
is for; their personal data is masked where they are shown, and their own retention is a
separate decision (they are the legal record). One ``retention.applied`` event (system
chain) records each run with its counts, and one ``request.anonymized`` event goes on
each request's own chain.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import (
    Attachment,
    AuditEvent,
    AuthorKind,
    InstanceStatus,
    MailMessage,
    ProcessInstance,
    RequestContact,
    RequestMessage,
    ServiceRating,
    utcnow,
)

PLACEHOLDER = "[anonimleştirildi]"
ANON_DOMAIN = "anonim.invalid"
# Process data fields that name or describe the requester, or hold their own free text.
PERSONAL_KEYS = frozenset({
    "requester", "requester_email", "phone", "message", "national_id", "student_number", "mac_address",
    "responsible_person", "last_reply", "reopen_reason", "requester_reply", "reopen_request", "room",
})
ANONYMIZED = "request.anonymized"
CLOSED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


@dataclass(frozen=True)
class RetentionResult:
    requests: int
    messages: int
    files: int
    mails: int
    dry_run: bool
    paths: tuple[Path, ...] = ()   # attachment files to delete after the commit (delete_files)

    def __str__(self) -> str:
        verb = "would be anonymized" if self.dry_run else "anonymized"
        return (f"{self.requests} request(s) {verb} ({self.messages} message(s), {self.files} file(s), "
                f"{self.mails} mail(s))")


def anonymous_email(instance_id: int) -> str:
    return f"anonim-{instance_id}@{ANON_DOMAIN}"


def due_instances(session: Session, years: int, *, now: datetime | None = None) -> list[int]:
    """Ids of requests closed more than ``years`` years ago and not anonymized yet."""
    if years < 0:
        raise ValueError("years must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=round(365.25 * years))
    done = select(AuditEvent.id).where(AuditEvent.instance_id == ProcessInstance.id,
                                       AuditEvent.action == ANONYMIZED)
    return list(session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.status.in_(CLOSED), ProcessInstance.completed_at < cutoff, ~done.exists())
        .order_by(ProcessInstance.id)))


def apply(session: Session, years: int, *, attachments_dir: str | Path | None = None, dry_run: bool = False,
          actor: str | None = None, now: datetime | None = None) -> RetentionResult:
    """Anonymize every request closed more than ``years`` years ago (flush, never commit).

    :param attachments_dir: where attachment files live (``<data dir>/attachments``)
    :param dry_run: count only; nothing is changed and no event is written
    :returns: the counts, and the files :func:`delete_files` removes after the commit
    """
    ids = due_instances(session, years, now=now)
    messages = files = mails = 0
    deleted_files: list[Path] = []
    for instance_id in ids:
        m, f, mail, paths = _anonymize(session, instance_id, attachments_dir, dry_run)
        messages, files, mails = messages + m, files + f, mails + mail
        deleted_files += paths
        if not dry_run:
            audit.record(session, ANONYMIZED, actor=actor, instance_id=instance_id,
                         data={"years": years, "messages": m, "files": f, "mails": mail})
    result = RetentionResult(len(ids), messages, files, mails, dry_run, tuple(deleted_files))
    if not dry_run:
        audit.record(session, "retention.applied", actor=actor, data={
            "years": years, "requests": result.requests, "messages": messages, "files": files, "mails": mails})
        session.flush()
    return result


def delete_files(result: RetentionResult) -> int:
    """Delete the anonymized requests' attachment files; call it once the transaction committed
    (a rolled-back run must not leave rows pointing at deleted files)."""
    for path in result.paths:
        path.unlink(missing_ok=True)
    return len(result.paths)


def _anonymize(session: Session, instance_id: int, attachments_dir, dry: bool) -> tuple[int, int, int, list[Path]]:
    instance = session.get(ProcessInstance, instance_id)
    contact = session.get(RequestContact, instance_id)
    anon = anonymous_email(instance_id)
    known = [v for v in ((contact.name, contact.email) if contact else ()) if v and len(v) > 2]
    rows = list(session.scalars(select(RequestMessage).where(RequestMessage.instance_id == instance_id)))
    files = list(session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)))
    mails = list(session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)))
    to_requester = [m for m in mails if contact and contact.email_key in (m.recipients or "").lower()]
    paths = [Path(attachments_dir) / a.stored_name for a in files] if attachments_dir else []
    if dry:
        return len(rows), len(files), len(to_requester), []
    if contact is not None:
        contact.name, contact.email, contact.email_key = "Anonim", anon, anon
        contact.national_id = contact.phone = None
    for row in rows:
        if row.author_kind == AuthorKind.REQUESTER:
            row.body, row.author = PLACEHOLDER, anon
        else:
            row.body = _blank(row.body, known)
    for row in files:
        row.filename, row.sha256 = PLACEHOLDER, ""
        if row.uploaded_by and "@" in row.uploaded_by:
            row.uploaded_by = anon
    for mail in to_requester:
        mail.recipients, mail.body = anon, PLACEHOLDER
        mail.subject = _blank(mail.subject, known)
    rating = session.get(ServiceRating, instance_id)
    if rating is not None and rating.comment:
        rating.comment = PLACEHOLDER
    if (instance.started_by or "").startswith("requester:"):
        instance.started_by = f"requester:{anon}"
    # A deep copy: the ORM must see a different value to write it.
    state = copy.deepcopy(instance.state or {})
    if _scrub_state(state, dry=False):
        instance.state = state
        # A new token: the in-process workflow cache never serves the old state again.
        instance.state_token = uuid.uuid4().hex
    session.flush()
    return len(rows), len(files), len(to_requester), paths


def _blank(text: str, known: list[str]) -> str:
    for value in known:
        text = text.replace(value, PLACEHOLDER)
    return text


def _scrub_state(state: dict, *, dry: bool) -> int:
    """Replace the personal fields of a serialized workflow's data dicts; returns how many."""
    count = 0

    def scrub(data) -> None:
        nonlocal count
        if not isinstance(data, dict):
            return
        for key in list(data):
            if key in PERSONAL_KEYS and data[key] not in (None, "", PLACEHOLDER):
                count += 1
                if not dry:
                    data[key] = PLACEHOLDER

    def workflow(wf: dict) -> None:
        scrub(wf.get("data"))
        for task in (wf.get("tasks") or {}).values():
            scrub(task.get("data"))
            scrub((task.get("delta") or {}).get("updates"))
        for sub in (wf.get("subprocesses") or {}).values():
            workflow(sub)

    workflow(state)
    return count
