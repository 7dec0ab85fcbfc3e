"""Attached files: accepted by what they contain, not by their names; kept on disk under
random names, their metadata in the ``attachment`` table.

Allowed: PDF, PNG, JPEG, plain text, DOCX, XLSX, ODT and ZIP. An HTML or SVG file, an
executable with a harmless name, or anything else unknown is refused. Files are only
ever served back as downloads (the web app's job), never shown inline.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import NotFoundError, Problem, ValidationError
from .models import Attachment

MAX_FILES = 3
MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the sender gave and its bytes."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Limits:
    max_files: int = MAX_FILES
    file_bytes: int = 10 * MB
    request_bytes: int = 10 * MB


_OOXML = {"word/document.xml": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
          "xl/workbook.xml": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}
_ODT = b"application/vnd.oasis.opendocument.text"
# Text that a browser would take for markup or script: refused even in a .txt.
_MARKUP = re.compile(rb"^\s*(<\?xml|<!doctype|<html|<svg|<script|<head|<body|<iframe|<object)", re.IGNORECASE)


def detect_type(content: bytes) -> tuple[str, str] | None:
    """``(content_type, extension)`` of an allowed file, judged by its bytes; None if not allowed."""
    if content.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if content.startswith(b"PK\x03\x04") or content.startswith(b"PK\x05\x06"):
        return _zip_type(content)
    return _text_type(content)


def _zip_type(content: bytes) -> tuple[str, str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            for member, found in _OOXML.items():
                if member in names and "[Content_Types].xml" in names:
                    return found
            if "mimetype" in names and archive.read("mimetype").strip() == _ODT:
                return _ODT.decode(), "odt"
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return "application/zip", "zip"


def _text_type(content: bytes) -> tuple[str, str] | None:
    if b"\x00" in content or _MARKUP.match(content[:1024]):
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain; charset=utf-8", "txt"


def clean_filename(name: str, extension: str) -> str:
    """A safe display and download name: no folders, no control characters, the detected
    type's extension."""
    name = unicodedata.normalize("NFC", Path((name or "").replace("\\", "/")).name)
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?').strip(" .") or "dosya"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:200]}.{extension}"


def check_uploads(uploads: list[Upload], limits: Limits = Limits(), *, field: str = "attachments",
                  already: int = 0) -> list[tuple[Upload, str, str]]:
    """Check files before anything is stored: count, sizes and types.

    :param already: files the request already has (a reply adds to them)
    :returns: each upload with its detected content type and extension
    :raises ValidationError: every problem, located at ``field``
    """
    uploads = [u for u in uploads if u.filename or u.content]
    problems, accepted = [], []
    if len(uploads) + already > limits.max_files:
        problems.append(Problem(field, f"at most {limits.max_files} files", "max_files",
                                {"limit": limits.max_files}))
    total = 0
    for upload in uploads:
        size = len(upload.content)
        total += size
        found = detect_type(upload.content) if size else None
        if not size:
            problems.append(Problem(field, f"{upload.filename}: the file is empty", "empty",
                                    {"name": upload.filename}))
        elif size > limits.file_bytes:
            problems.append(Problem(field, f"{upload.filename}: larger than {limits.file_bytes // MB} MB",
                                    "file_size", {"name": upload.filename, "limit": limits.file_bytes // MB}))
        elif found is None:
            problems.append(Problem(field, f"{upload.filename}: this type of file is not accepted",
                                    "file_type", {"name": upload.filename}))
        else:
            accepted.append((upload, *found))
    if total > limits.request_bytes:
        problems.append(Problem(field, f"files together larger than {limits.request_bytes // MB} MB",
                                "request_size", {"limit": limits.request_bytes // MB}))
    if problems:
        raise ValidationError("attachments refused", problems)
    return accepted


def store(session: Session, folder: str | Path, instance_id: int, uploads: list[Upload], *,
          limits: Limits = Limits(), uploaded_by: str = "", message_id: int | None = None,
          field: str = "attachments") -> list[Attachment]:
    """Check and store files for an instance; returns the new rows (flushed).

    The bytes are written before the rows; if the transaction later rolls back, an
    orphan file may stay on disk but no row ever points at a missing file.

    :param folder: where attachments live (``<data dir>/attachments``)
    :raises ValidationError: a file is refused; nothing is stored then
    """
    already = len(list_for(session, instance_id))
    checked = check_uploads(uploads, limits, field=field, already=already)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for upload, content_type, extension in checked:
        stored_name = secrets.token_hex(16)
        (folder / stored_name).write_bytes(upload.content)
        row = Attachment(instance_id=instance_id, message_id=message_id,
                         filename=clean_filename(upload.filename, extension), stored_name=stored_name,
                         content_type=content_type, size=len(upload.content),
                         sha256=hashlib.sha256(upload.content).hexdigest(), uploaded_by=uploaded_by)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def list_for(session: Session, instance_id: int) -> list[Attachment]:
    """An instance's attachments, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                                .order_by(Attachment.id)))


def path_of(folder: str | Path, attachment_id: int, session: Session) -> tuple[Attachment, Path]:
    """The row and the file on disk of one attachment.

    :raises NotFoundError: no such attachment, or its file is missing
    """
    row = session.get(Attachment, attachment_id)
    path = Path(folder) / row.stored_name if row is not None else None
    if row is None or not path.is_file():
        raise NotFoundError(f"no attachment {attachment_id}")
    return row, path
