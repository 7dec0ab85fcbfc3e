"""Submitting a request: category, the form, attachments, anti-spam; the tracking code.

``/`` lists what can be asked for (see :mod:`webapp.home`), ``/talep/<key>`` is the
form (``/talep/user_support?kategori=...`` for a help-desk category), and after a
successful submission ``/talep/gonderildi`` shows the tracking code (post, redirect,
get: a reload sends nothing twice). A refused submission shows the form again with
everything typed and each problem next to its field; the files stay attached
(:mod:`.pending`) unless a file itself was refused.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from engine import attachments, conversation, form_rules, links, runtime, throttle
from engine.errors import NotFoundError, ValidationError
from engine.models import AuthorKind
from processes import portal
from processes.notifications import notify_requester

from ..config import upload_limits
from ..db import command
from ..errors import json_error, wants_json
from ..extensions import db
from . import bp, captcha, pending
from .forms import (
    HONEYPOT,
    PortalForm,
    attach_general,
    attachment_text,
    build_form,
    captcha_text,
    read_form,
    uploads_of,
)

DONE = "portal_submitted"   # session key: the tracking code and e-mail of the last submission
WINDOW = timedelta(hours=1)


def _locale() -> str:
    return str(get_locale() or "tr")


def index():
    """The "Yeni talep" page: the choices, grouped, with a line of help each (served at ``/``)."""
    return render_template("portal/index.html", groups=portal.startable_groups(db.session),
                           support=portal.SUPPORT)


def _choice_or_404(key: str) -> portal.Choice:
    category = request.args.get("kategori") or None
    choice = portal.choice_for(key, category)
    if choice is None or key not in portal.startable_keys(db.session):
        abort(404)
    return choice


def _render(form: PortalForm, status: int = 200):
    challenge = captcha.new_challenge(_locale())
    return render_template("portal/form.html", form=form, challenge=challenge, honeypot=HONEYPOT,
                           limits=upload_limits(current_app.config), max_files=attachments.MAX_FILES), status


def _form_or_404(choice: portal.Choice) -> PortalForm:
    try:
        return build_form(db.session, choice)
    except NotFoundError:
        abort(404)


@bp.get("/talep/<key>")
def new_request(key: str):
    return _render(_form_or_404(_choice_or_404(key)))


def _rate_keys(email: str) -> list[tuple[str, int]]:
    # Per address *and* e-mail: a whole campus behind one NAT shares an address, but
    # not an e-mail; one e-mail is also limited from everywhere.
    config = current_app.config
    pair = f"{request.remote_addr or ''}|{email}"
    return [(throttle.key("submit", "ip-email", pair), int(config["SEK_PORTAL_SUBMITS_PER_IP"] or 10)),
            (throttle.key("submit", "email", email), int(config["SEK_PORTAL_SUBMITS_PER_EMAIL"] or 5))]


def _rate_limited(email: str) -> str | None:
    if email and throttle.exceeded(db.session, _rate_keys(email), WINDOW):
        return _("Too many requests were sent for this e-mail address in the last hour. Please try again "
                 "later; what you typed is kept below.")
    return None


@bp.post("/talep/<key>")
def submit(key: str):
    form = _form_or_404(_choice_or_404(key))
    data, national_id = read_form(form, request.form)
    # The process's date rules too, so every refusal shows at once (the engine checks them again on start).
    attach_general(form, form_rules.problems(key, form_rules.START, data))
    # Files kept from a refused try (minus those removed), then the newly chosen ones.
    kept, uploads = pending.read(request.form.get(pending.FIELD), request.form.getlist(pending.REMOVE))
    chosen = uploads_of(request.files)
    uploads += chosen
    form.files_chosen = len(chosen)
    limits = upload_limits(current_app.config)
    try:
        attachments.check_uploads(uploads, limits)
    except ValidationError as exc:
        form.attachment_errors = [attachment_text(p) for p in exc.problems]
    problem, nonce = captcha.check(db.session, request.form.get("captcha_token"), request.form.get("captcha_answer"))
    if problem:
        form.captcha_errors.append(captcha_text(problem))
    if request.form.get(HONEYPOT):
        form.errors.append(_("The request was not accepted: a field meant to stay empty was filled in (some "
                             "browsers fill in forms on their own). Please check the form and send it again."))
    email = str(data.get("requester_email") or "")
    limited = None if form.has_errors else _rate_limited(email)
    if form.has_errors or limited:
        _keep_files(form, kept, chosen)
        return _refuse(form, nonce, limited)
    try:
        with command() as db_session:
            captcha.spend(db_session, nonce)
            instance = _start(db_session, key, data, national_id, uploads, limits)
            code = instance.tracking_code
    except ValidationError as exc:
        attach_general(form, exc.problems)
        _keep_files(form, kept, chosen)
        return _refuse(form, nonce, None)
    pending.discard(kept)
    session[DONE] = {"code": code, "email": email}
    return redirect(url_for("portal.submitted"))


def _keep_files(form: PortalForm, kept: list[pending.Pending], chosen: list) -> None:
    """Keep the files of a refused form for the next try: those kept before, and the newly
    chosen ones unless a file was refused (then those must be chosen again)."""
    form.pending, form.pending_token = pending.keep(kept, [] if form.attachment_errors else chosen)


def _refuse(form: PortalForm, nonce: str | None, limited: str | None):
    """Show the form again; the CAPTCHA token is spent anyway (one try per question)."""
    with command() as db_session:
        captcha.spend(db_session, nonce)
    if limited:
        form.errors.append(limited)
    elif not form.errors:
        form.errors.append(_("The request was not sent yet: please correct the marked fields."))
    return _render(form, 429 if limited else 422)


def _start(db_session, key: str, data: dict, national_id: str, uploads, limits):
    """Everything a submission does, in one transaction: the instance, its requester, the
    first message with the files, the rate-limit count and the "received" mail."""
    email = data["requester_email"]
    actor = f"requester:{email.strip().lower()}"
    instance = runtime.start_instance(db_session, key, data=data, actor=actor)
    conversation.record_contact(db_session, instance.id, name=data["requester"], email=email,
                                national_id=national_id, unit=data.get("unit"), phone=data.get("phone"),
                                locale=_locale())
    message = conversation.add_message(db_session, instance.id, data["message"], author_kind=AuthorKind.REQUESTER,
                                       author=email, public=True, actor=actor)
    if uploads:
        folder = Path(current_app.config["SEK_DATA_DIR"]) / "attachments"
        attachments.store(db_session, folder, instance.id, uploads, limits=limits, uploaded_by=email,
                          message_id=message.id)
    throttle.record(db_session, [event_key for event_key, _limit in _rate_keys(email)])
    notify_requester(db_session, instance.id, "received")
    return instance


@bp.get("/talep/gonderildi")
def submitted():
    done = session.get(DONE)
    if not isinstance(done, dict) or not done.get("code"):
        return redirect(url_for("home.index"))
    code, email = done["code"], done.get("email", "")
    track_url = f"{links.TRACKING_PATH}{code}?k={links.tracking_key(code, email)}"
    return render_template("portal/submitted.html", code=code, email=email, track_url=track_url)


@bp.app_errorhandler(413)
def too_large(exc):
    """A body over MAX_CONTENT_LENGTH cannot even be read: say what the limit is."""
    db.session.rollback()
    limits = upload_limits(current_app.config)
    if wants_json():
        return json_error(413, "too_large", f"the request is larger than {limits.request_bytes // attachments.MB} MB")
    return render_template("portal/too_large.html", request_mb=limits.request_bytes // attachments.MB,
                           file_mb=limits.file_bytes // attachments.MB, back=request.full_path.rstrip("?")), 413

