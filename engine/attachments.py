"""Attached files: accepted by what they contain, not by their names; kept on disk under
random names, their metadata in the ``attachment`` table.

Allowed: PDF, PNG, JPEG, plain text, DOCX, XLSX, ODT and ZIP. An HTML or SVG file, an
executable with a harmless name, or anything else unknown is refused. Files are only
ever served back as downloads (the web app's job), never shown inline.

Archives (ZIP, and DOCX, XLSX and ODT, which are ZIPs) are judged by their central
directory alone, and nothing in them is ever inflated: the names tell DOCX and XLSX, and
an ODT's ``mimetype`` member, stored uncompressed as the ODF standard requires, is read
for its first :data:`_PEEK` bytes. Archives inside archives are not opened. The limits
below spare whoever unpacks a file later (a staff member's unzip, a virus scanner) from
a zip bomb the portal would pass on; each is far beyond any document or folder a
requester sends.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import struct
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


# Members of one archive (an Office document has tens; a folder of a thousand files is
# not something to attach).
ZIP_MAX_MEMBERS = 1000
# What all members together declare they unpack to (their ZipInfo.file_size).
ZIP_MAX_INFLATED = 100 * MB
# How many times larger than packed one member may declare to be: text and XML pack 5-20
# times, a zip bomb 1 000 times ...
ZIP_MAX_RATIO = 100
# ... once it unpacks to more than this (a small file may pack as well as it likes).
ZIP_RATIO_FLOOR = 1 * MB
# The central directory is read only up to this size (1 000 entries with long names fit).
ZIP_MAX_DIRECTORY = 1 * MB
# Bytes of an ODT's stored ``mimetype`` member that are read.
_PEEK = 64
_END = b"PK\x05\x06"            # end of central directory record (22 bytes, then a comment)
_END64_LOCATOR = b"PK\x06\x07"  # the 20 bytes just before it in a ZIP64 archive
_ENTRY = b"PK\x01\x02"          # each central directory entry starts so


class _Refused(Exception):
    """An archive over a limit: ``code`` and ``limit`` say which, for the refusal."""

    def __init__(self, code: str, message: str, limit: int | None = None):
        super().__init__(message)
        self.code, self.message, self.limit = code, message, limit


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
    """``(content_type, extension)`` of an allowed file, judged by its bytes; None if not
    allowed (an archive over the limits included; :func:`check_uploads` says which)."""
    try:
        return _detect(content)
    except _Refused:
        return None


def _detect(content: bytes) -> tuple[str, str] | None:
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
    """Tell DOCX, XLSX, ODT and ZIP apart without inflating anything.

    :raises _Refused: the archive is over a limit, or its directory does not add up
    """
    if not _directory_bounded(content):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            _check_members(members, len(content))
            names = {member.filename for member in members}
            for member, found in _OOXML.items():
                if member in names and "[Content_Types].xml" in names:
                    return found
            mimetype = archive.NameToInfo.get("mimetype")
            if mimetype is not None and mimetype.compress_type == zipfile.ZIP_STORED:
                with archive.open(mimetype) as stream:
                    if stream.read(_PEEK).strip() == _ODT:
                        return _ODT.decode(), "odt"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError, EOFError, RuntimeError,
            NotImplementedError, struct.error):   # RuntimeError: encrypted; NotImplementedError: unknown method
        return None
    return "application/zip", "zip"


def _directory_bounded(content: bytes) -> bool:
    """Whether the central directory is small enough to parse (False: not a readable ZIP).

    Read from the end record before :mod:`zipfile` parses it, which it would do whole,
    whatever its size, one object per entry.

    :raises _Refused: more entries than :data:`ZIP_MAX_MEMBERS`, or a ZIP64 archive
    """
    end = content.rfind(_END, max(0, len(content) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(content):
        return False
    if content[max(0, end - 20):end].startswith(_END64_LOCATOR):
        # ZIP64 is for archives over 4 GB or 65 535 members; its records could say otherwise
        # than the plain end record read here.
        raise _Refused("archive_broken", "ZIP64 archives are not accepted")
    entries, size = struct.unpack_from("<HI", content, end + 10)
    if size > ZIP_MAX_DIRECTORY or size > end:
        raise _Refused("archive_broken", "the archive's table of contents is too large or broken")
    # zipfile reads entries by the directory's size, not by the count the end record gives.
    if max(entries, content.count(_ENTRY, end - size, end)) > ZIP_MAX_MEMBERS:
        raise _Refused("archive_members", f"more than {ZIP_MAX_MEMBERS} files in the archive", ZIP_MAX_MEMBERS)
    return True


def _check_members(members: list[zipfile.ZipInfo], archive_size: int) -> None:
    """Judge an archive by what its central directory declares.

    :raises _Refused: over a limit, or sizes that no honest archive declares
    """
    if len(members) > ZIP_MAX_MEMBERS:
        raise _Refused("archive_members", f"more than {ZIP_MAX_MEMBERS} files in the archive", ZIP_MAX_MEMBERS)
    if sum(member.compress_size for member in members) > archive_size:
        # Entries that share their packed data (overlapping zip bombs) or invent it.
        raise _Refused("archive_broken", "the archive's table of contents claims more data than the file holds")
    if sum(member.file_size for member in members) > ZIP_MAX_INFLATED:
        raise _Refused("archive_size", f"the archive unpacks to more than {ZIP_MAX_INFLATED // MB} MB",
                       ZIP_MAX_INFLATED // MB)
    for member in members:
        packed, unpacked = member.compress_size, member.file_size
        if unpacked > ZIP_RATIO_FLOOR and unpacked > ZIP_MAX_RATIO * packed:
            raise _Refused("archive_ratio", f"{member.filename} unpacks to more than {ZIP_MAX_RATIO} times its "
                           "packed size", ZIP_MAX_RATIO)
        # No compression method grows data by more than a few bytes a block (encryption adds
        # a header): a member declaring less than that hides what it really unpacks to.
        if packed > unpacked + unpacked // 64 + 1024 or (member.compress_type == zipfile.ZIP_STORED
                                                         and packed != unpacked and not member.flag_bits & 1):
            raise _Refused("archive_broken", f"{member.filename}: its declared sizes do not match")


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
        if not size:
            problems.append(Problem(field, f"{upload.filename}: the file is empty", "empty",
                                    {"name": upload.filename}))
            continue
        if size > limits.file_bytes:
            problems.append(Problem(field, f"{upload.filename}: larger than {limits.file_bytes // MB} MB",
                                    "file_size", {"name": upload.filename, "limit": limits.file_bytes // MB}))
            continue
        try:
            found = _detect(upload.content)
        except _Refused as why:
            problems.append(Problem(field, f"{upload.filename}: {why.message}", why.code,
                                    {"name": upload.filename, "limit": why.limit}))
            continue
        if found is None:
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
