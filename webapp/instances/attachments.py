"""Staff download a request's attached files: only as downloads, never shown inline.

A requester's upload may be anything that passed the content check; the browser gets
it with ``Content-Disposition: attachment``, ``nosniff`` and a sandboxing CSP, so even a
file that slipped through cannot run as a page of this site.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_file
from flask_login import current_user, login_required

from engine import attachments, instances

from ..extensions import db

bp = Blueprint("attachments", __name__)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    session = db.session
    folder = Path(current_app.config["SEK_DATA_DIR"]) / "attachments"
    row, path = attachments.path_of(folder, attachment_id, session)
    instances.get_visible(session, current_user, row.instance_id)   # 403 for staff who may not see it
    response = send_file(path, as_attachment=True, download_name=row.filename, mimetype=row.content_type,
                         max_age=0, etag=False, conditional=False)
    response.headers["Content-Type"] = row.content_type   # as detected, charset included (not added twice)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response
