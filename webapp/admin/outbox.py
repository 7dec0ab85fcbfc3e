"""The outbox for admins: every mail SEK wrote, its state, its text, and a retry for
the ones that could not be sent (with no SMTP server configured, mail stays here)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from engine import jobs
from engine.errors import ConflictError, NotFoundError
from engine.models import Job, JobKind, JobState, MailMessage, MailState

from ..auth import require_role
from ..db import command
from ..extensions import db
from . import bp

PAGE = 100
STATE_LABELS = {
    MailState.QUEUED: _l("queued"),
    MailState.SENT: _l("sent"),
    MailState.OUTBOX: _l("in the outbox"),
    MailState.FAILED: _l("failed"),
}


def _mail_job(session, mail_id: int) -> Job | None:
    """The job that sends a mail: its payload names the mail, and it was written right
    after the mail, so it is among the first mail jobs from then on."""
    written = select(MailMessage.created_at).where(MailMessage.id == mail_id).scalar_subquery()
    for job in session.scalars(select(Job).where(Job.kind == JobKind.MAIL, Job.created_at >= written)
                               .order_by(Job.id).limit(200)):
        if (job.payload or {}).get("mail_id") == mail_id:
            return job
    return None


@bp.get("/outbox")
@require_role("admin")
def outbox():
    state = request.args.get("state") or ""
    if state and state not in STATE_LABELS:
        state = ""
    query = select(MailMessage).order_by(MailMessage.id.desc()).limit(PAGE)
    if state:
        query = query.where(MailMessage.state == state)
    mails = db.session.scalars(query).all()
    counts = dict(db.session.execute(select(MailMessage.state, func.count()).group_by(MailMessage.state)).all())
    return render_template("admin/outbox.html", mails=mails, state=state, states=STATE_LABELS, counts=counts,
                           page=PAGE, mail=None, job=None)


@bp.get("/outbox/<int:mail_id>")
@require_role("admin")
def outbox_mail(mail_id: int):
    mail = db.session.get(MailMessage, mail_id)
    if mail is None:
        abort(404)
    return render_template("admin/outbox.html", mail=mail, job=_mail_job(db.session, mail.id), states=STATE_LABELS,
                           mails=[], state="", counts={}, page=PAGE)


@bp.post("/outbox/<int:mail_id>/retry")
@require_role("admin")
def outbox_retry(mail_id: int):
    try:
        with command() as session:
            job = _mail_job(session, mail_id)
            if job is None or job.state != JobState.FAILED:
                raise ConflictError("this mail is not waiting for a retry")
            jobs.retry_job(session, job.id, actor=current_user.username)
    except (ConflictError, NotFoundError):
        flash(_("This mail is not waiting for a retry."), "error")
        return redirect(url_for("admin.outbox_mail", mail_id=mail_id))
    flash(_("The mail is queued again; the worker sends it shortly."), "success")
    return redirect(url_for("admin.outbox_mail", mail_id=mail_id))
