"""Files of a refused portal form, kept until the form is sent again.

A requester whose form was refused (a field left empty, a date rule) should not have to
choose their files again. Files that passed the upload checks are written under
``<data dir>/pending/`` with random names; the form carries a signed token listing them
(name, size, stored name), good for :data:`MAX_AGE`. Sending the form again reads them
back (minus those the requester removed) before the new ones; a successful start
stores them as the request's attachments and deletes the pending copies. Pending files
older than :data:`MAX_AGE` are deleted whenever new ones are written, so nothing stays
behind; the count and sizes are those of the form's own limits.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.attachments import Upload

SALT = "sek.portal.pending"
MAX_AGE = timedelta(hours=1)
FIELD = "pending_uploads"      # the hidden input holding the token
REMOVE = "remove_pending"      # checkboxes: the stored names the requester removed
_STORED = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Pending:
    """A kept file: the name the requester gave, its size, where it waits on disk."""

    filename: str
    size: int
    stored: str


def _folder() -> Path:
    return Path(current_app.config["SEK_DATA_DIR"]) / "pending"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def read(token: str | None, removed: list[str]) -> tuple[list[Pending], list[Upload]]:
    """The kept files a token lists that still wait on disk and were not removed, with
    their bytes; removed ones are deleted at once. A forged or expired token keeps nothing."""
    if not token:
        return [], []
    try:
        items = _serializer().loads(token, max_age=int(MAX_AGE.total_seconds()))
    except BadSignature:
        return [], []
    kept, uploads = [], []
    for item in items if isinstance(items, list) else []:
        try:
            entry = Pending(str(item["f"]), int(item["s"]), str(item["n"]))
        except (KeyError, TypeError, ValueError):
            continue
        if not _STORED.match(entry.stored):
            continue
        path = _folder() / entry.stored
        if entry.stored in removed:
            path.unlink(missing_ok=True)
            continue
        try:
            content = path.read_bytes()
        except OSError:
            continue   # cleaned up meanwhile: it is simply no longer attached
        kept.append(entry)
        uploads.append(Upload(entry.filename, content))
    return kept, uploads


def keep(kept: list[Pending], new: list[Upload]) -> tuple[list[Pending], str]:
    """Write ``new`` (already checked) beside ``kept``; the full list and its token."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _clean(folder)
    entries = list(kept)
    for upload in new:
        stored = secrets.token_hex(16)
        (folder / stored).write_bytes(upload.content)
        entries.append(Pending(upload.filename, len(upload.content), stored))
    token = _serializer().dumps([{"f": e.filename, "s": e.size, "n": e.stored} for e in entries])
    return entries, token


def discard(kept: list[Pending]) -> None:
    """Delete the pending copies once the request holds the files."""
    for entry in kept:
        (_folder() / entry.stored).unlink(missing_ok=True)


def _clean(folder: Path) -> None:
    """Delete pending files older than :data:`MAX_AGE` (their tokens have expired)."""
    cutoff = time.time() - MAX_AGE.total_seconds()
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue
