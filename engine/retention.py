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
- ``requester_status``: the values shown to the requester keep their text with the
  requester's name and e-mail blanked out, as staff messages do;
- ``service_rating``: the score stays (satisfaction figures), the free-text comment goes;
- the stored workflow state: the requester's fields (``PERSONAL_KEYS``) in the workflow
  data and every task's data and delta are replaced; the row's revision and state token
  change, so no cached copy of the old state is ever used again;
- ``mail_message`` to the requester: recipient and body replaced;
- ``process_instance.started_by`` of portal requests (``requester:<e-mail>``);
- the audit events of the request's chain: :func:`engine.audit.redact` replaces their
  personal values (``engine.personal.AUDIT_KEYS``) and a ``requester:<e-mail>`` actor by
  markers holding the digests their hashes were computed over, so ``sek audit verify``
  stays green. Events recorded before redactable hashing existed (no ``_salt`` in their
  data) cannot be changed without breaking the chain and keep their data; their
  personal data is masked where they are shown.

``request_fact`` holds no personal data and is not touched, so every report gives the
same figures before and after. One ``retention.applied`` event (system chain) records
each run with its counts and the ids of the requests it anonymized; no event goes on each
request's own chain (``audit.record`` appends one event at a time, which made a year of
requests take a minute instead of seconds).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from . import audit, search
from .models import (
    Attachment,
    AuthorKind,
    InstanceStatus,
    MailMessage,
    ProcessInstance,
    RequestContact,
    RequesterStatus,
    RequestMessage,
    ServiceRating,
    utcnow,
)
from .personal import PROCESS_KEYS

PLACEHOLDER = "[anonimleştirildi]"
ANON_DOMAIN = "anonim.invalid"
# Process data fields that name or describe the requester (the list lives in engine.personal).
PERSONAL_KEYS = PROCESS_KEYS
CHUNK = 500
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
    """Ids of requests closed more than ``years`` years ago whose requester is not anonymized yet
    (those without a contact row are looked at again each run: their state may hold personal data)."""
    if years < 0:
        raise ValueError("years must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=round(365.25 * years))
    return list(session.scalars(
        select(ProcessInstance.id)
        .outerjoin(RequestContact, RequestContact.instance_id == ProcessInstance.id)
        .where(ProcessInstance.status.in_(CLOSED), ProcessInstance.completed_at < cutoff,
               RequestContact.instance_id.is_(None) | ~RequestContact.email_key.like(f"%@{ANON_DOMAIN}"))
        .order_by(ProcessInstance.id)))


def apply(session: Session, years: int, *, attachments_dir: str | Path | None = None, dry_run: bool = False,
          actor: str | None = None, now: datetime | None = None) -> RetentionResult:
    """Anonymize every request closed more than ``years`` years ago (flush, never commit).

    Works in chunks of rows loaded together, so a year of requests takes seconds.

    :param attachments_dir: where attachment files live (``<data dir>/attachments``)
    :param dry_run: count only; nothing is changed and no event is written
    :returns: the counts, and the files :func:`delete_files` removes after the commit
    """
    ids = due_instances(session, years, now=now)
    done: list[int] = []
    messages = files = mails = 0
    paths: list[Path] = []
    for offset in range(0, len(ids), CHUNK):
        chunk: list[int] = []
        with session.no_autoflush:
            for instance_id, counts in _chunk(session, ids[offset:offset + CHUNK], attachments_dir, dry_run):
                chunk.append(instance_id)
                messages, files, mails = messages + counts[0], files + counts[1], mails + counts[2]
                paths += counts[3]
        session.flush()
        done += chunk
        if not dry_run:
            audit.redact_many(session, chunk)
            search.refresh_many(session, chunk)   # the index must not keep what was anonymized
    result = RetentionResult(len(done), messages, files, mails, dry_run, () if dry_run else tuple(paths))
    if not dry_run and done:
        audit.record(session, "retention.applied", actor=actor, data={
            "years": years, "requests": len(done), "messages": messages, "files": files, "mails": mails,
            "instance_ids": done})
    return result


def delete_files(result: RetentionResult) -> int:
    """Delete the anonymized requests' attachment files; call it once the transaction committed
    (a rolled-back run must not leave rows pointing at deleted files)."""
    for path in result.paths:
        path.unlink(missing_ok=True)
    return len(result.paths)


def _by_instance(session: Session, model, ids: list[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in session.scalars(select(model).where(model.instance_id.in_(ids)).order_by(model.id)):
        found.setdefault(row.instance_id, []).append(row)
    return found


def _chunk(session: Session, ids: list[int], attachments_dir, dry: bool):
    """``(instance id, (messages, files, mails, paths))`` for each request of ``ids`` that had personal data."""
    instances = session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids))
                                .options(undefer(ProcessInstance.state)))
    contacts = {c.instance_id: c for c in session.scalars(select(RequestContact)
                                                          .where(RequestContact.instance_id.in_(ids)))}
    ratings = {r.instance_id: r for r in session.scalars(select(ServiceRating)
                                                         .where(ServiceRating.instance_id.in_(ids)))}
    messages = _by_instance(session, RequestMessage, ids)
    files = _by_instance(session, Attachment, ids)
    mails = _by_instance(session, MailMessage, ids)
    statuses = _by_instance(session, RequesterStatus, ids)
    for instance in sorted(instances, key=lambda i: i.id):
        i = instance.id
        counts = _anonymize(instance, contacts.get(i), messages.get(i, []), files.get(i, []), mails.get(i, []),
                            ratings.get(i), attachments_dir, dry, statuses.get(i, []))
        if counts is not None:
            yield i, counts


def _anonymize(instance, contact, rows, files, mails, rating, attachments_dir, dry: bool, statuses=()):
    """Anonymize one request's rows (or only count, ``dry``); None if nothing personal was left."""
    anon = anonymous_email(instance.id)
    known = [v for v in ((contact.name, contact.email) if contact else ()) if v and len(v) > 2]
    to_requester = [m for m in mails if contact and contact.email_key in (m.recipients or "").lower()]
    paths = [Path(attachments_dir) / a.stored_name for a in files] if attachments_dir else []
    in_state = _scrub_state(instance.state or {}, dry=True)
    portal = (instance.started_by or "").startswith("requester:") and instance.started_by != f"requester:{anon}"
    if contact is None and not (in_state or portal or rows or files):
        return None
    if not dry:
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
            mail.recipients, mail.body, mail.subject = anon, PLACEHOLDER, _blank(mail.subject, known)
        if rating is not None and rating.comment:
            rating.comment = PLACEHOLDER
        for status in statuses:   # what the requester was shown, like a staff message: names blanked
            if status.shown:
                status.shown = [{**item, "value": _blank(str(item.get("value", "")), known)} for item in status.shown]
        if portal:
            instance.started_by = f"requester:{anon}"
        if in_state:
            state = copy.deepcopy(instance.state)   # a copy: the ORM must see a new value to write it
            _scrub_state(state, dry=False)
            instance.state = state
            # A new token: the in-process workflow cache never serves the old state again.
            instance.state_token = uuid.uuid4().hex
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
