"""Signed reply links: how a university unit without an account answers a routed request.

A link carries a random token, signed with the application's secret so that a
mistyped or forged link is refused before the database is asked. Only the token's
SHA-256 is stored (``reply_link``), so the table alone cannot be turned back into
working links. Using a link marks it used and delivers a BPMN message to the
instance that waits for the answer, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit, clock, runtime
from .errors import ConflictError, EngineError, NotFoundError, ValidationError
from .models import ReplyLink

SALT = "sek.reply-link"
PATH = "/yanit/"


class LinkExpiredError(ValidationError):
    """The link is genuine but its time is over (or a newer link replaced it)."""


class LinkUsedError(ConflictError):
    """The link has already been used to answer."""


@dataclass
class _Settings:
    secret: str | None = None
    base_url: str = "http://127.0.0.1:5000"


_settings = _Settings()


def configure(secret: str, base_url: str | None = None) -> None:
    """Set, process-wide, the secret links are signed with and the address they start with."""
    _settings.secret = secret
    if base_url:
        _settings.base_url = base_url.rstrip("/")


def _serializer() -> URLSafeSerializer:
    if not _settings.secret:
        raise EngineError("reply links are not configured: no secret key")
    return URLSafeSerializer(_settings.secret, salt=SALT)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_link(session: Session, instance_id: int, message_name: str, *, purpose: str, recipient: str,
                expires_in: timedelta = timedelta(days=14)) -> str:
    """Create a single-use reply link for ``instance_id`` and return its (secret) token.

    Earlier unused links of the same instance and message expire now: the newest
    mail is the one the unit should answer.

    :param purpose: the public part of the request the unit must answer (shown on the reply page)
    :param recipient: the unit's e-mail address
    """
    now = clock.now()
    session.execute(
        update(ReplyLink)
        .where(ReplyLink.instance_id == instance_id, ReplyLink.message_name == message_name,
               ReplyLink.used_at.is_(None), ReplyLink.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = secrets.token_urlsafe(32)
    link = ReplyLink(instance_id=instance_id, message_name=message_name, purpose=purpose, recipient=recipient,
                     token_hash=_hash(raw), created_at=now, expires_at=now + expires_in)
    session.add(link)
    session.flush()
    audit.record(session, "link.created", actor=None, instance_id=instance_id, data={
        "link_id": link.id, "message": message_name, "recipient": recipient,
        "expires_at": link.expires_at.isoformat(),
    })
    return _serializer().dumps(raw)


def link_url(token: str) -> str:
    """The full address of the reply page for ``token``."""
    return f"{_settings.base_url}{PATH}{token}"


def resolve(session: Session, token: str) -> ReplyLink:
    """The link a token stands for, if it may still be used.

    :raises NotFoundError: unknown token or a bad signature
    :raises LinkUsedError: already used
    :raises LinkExpiredError: too late
    """
    link = find(session, token)
    if link.used_at is not None:
        raise LinkUsedError("this link has already been used")
    if link.expires_at <= clock.now():
        raise LinkExpiredError("this link has expired")
    return link


def find(session: Session, token: str) -> ReplyLink:
    """The link of a genuine token, whatever its state.

    :raises NotFoundError: unknown token or a bad signature
    """
    try:
        raw = _serializer().loads(token)
    except BadSignature as exc:
        raise NotFoundError("no such link") from exc
    if not isinstance(raw, str):
        raise NotFoundError("no such link")
    link = session.scalar(select(ReplyLink).where(ReplyLink.token_hash == _hash(raw)))
    if link is None:
        raise NotFoundError("no such link")
    return link


def use(session: Session, token: str, payload: dict, *, actor_label: str) -> ReplyLink:
    """Answer through a link: mark it used and deliver its message with ``payload``.

    The link is claimed with ``UPDATE ... WHERE used_at IS NULL``: of two uses at
    the same time exactly one wins, the other gets :class:`LinkUsedError`.

    :param actor_label: who answered, for the audit trail (e.g. ``"Ayşe Kaya (birim)"``)
    :raises LinkUsedError: already used, or the request no longer waits for an answer
    """
    link = resolve(session, token)
    try:
        with session.begin_nested():   # a refused answer leaves the link unused
            claimed = session.execute(
                update(ReplyLink)
                .where(ReplyLink.id == link.id, ReplyLink.used_at.is_(None))
                .values(used_at=clock.now(), used_payload=audit.to_json_value(payload))
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                raise LinkUsedError("this link has already been used")
            runtime.deliver_message(session, link.message_name, payload, instance_id=link.instance_id,
                                    actor=actor_label)
    except NotFoundError as exc:
        raise LinkUsedError("the request no longer waits for this answer") from exc
    session.refresh(link)
    audit.record(session, "link.used", actor=actor_label, instance_id=link.instance_id,
                 data={"link_id": link.id, "message": link.message_name})
    return link


TRACKING_PATH = "/takip/"


def tracking_key(tracking_code: str, email: str) -> str:
    """A key that opens a request's tracking page without typing the e-mail (mailed to the
    requester only): an HMAC of the code and the address, so it proves knowing both."""
    if not _settings.secret:
        raise EngineError("tracking links are not configured: no secret key")
    message = f"{tracking_code.strip().upper()}\n{email.strip().lower()}".encode()
    return hmac.new(_settings.secret.encode(), b"sek.tracking\n" + message, hashlib.sha256).hexdigest()[:32]


def tracking_url(tracking_code: str, email: str) -> str:
    """The full address of a request's tracking page, with the key that opens it."""
    return f"{_settings.base_url}{TRACKING_PATH}{tracking_code}?k={tracking_key(tracking_code, email)}"


def tracking_key_ok(tracking_code: str, email: str, key: str) -> bool:
    return hmac.compare_digest(tracking_key(tracking_code, email), key or "")


def base_url() -> str:
    """The address links in mails start with (``SEK_BASE_URL``)."""
    return _settings.base_url
