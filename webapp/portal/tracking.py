"""Following a request: tracking code + e-mail, the conversation, reply, reopen, rate.

The requester has no account. Proving a request is theirs (its tracking code with
its e-mail address, or the key of the mailed link) puts the instance's id in the
signed session cookie; nothing secret is kept there. A wrong code and a wrong
e-mail get the same answer, and failed look-ups are counted per address in the
database (:mod:`engine.throttle`), so guessing is blocked for a while.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from engine import conversation, links, textinput, throttle
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.models import ProcessInstance
from processes.notifications import mail_open_requests

from ..db import command
from ..extensions import db
from . import bp
from .forms import uploads_of
from .track_page import check_reply, problem_texts, render_track, store_reply_files

TRACKED = "tracked"          # session key: ids of the instances this browser proved
MAX_TRACKED = 20
CODE = re.compile(r"^[A-Za-z0-9]{4,32}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# "Forgot my code" mails per e-mail and per address within an hour: enough for a
# person, useless for flooding a mailbox.
FORGOT_PER_EMAIL, FORGOT_PER_IP, FORGOT_WINDOW = 3, 10, timedelta(hours=1)


# -- who may see what -------------------------------------------------------------------------


def _limits() -> tuple[int, timedelta]:
    config = current_app.config
    return (int(config.get("SEK_TRACK_MAX_FAILURES") or 10),
            timedelta(minutes=float(config.get("SEK_TRACK_WINDOW_MINUTES") or 15)))


def _failure_key() -> str:
    return throttle.key("track", "ip", request.remote_addr or "")


def _blocked() -> bool:
    limit, window = _limits()
    return throttle.exceeded(db.session, [(_failure_key(), limit)], window)


def _blocked_message() -> str:
    minutes = int(_limits()[1].total_seconds() // 60)
    return _("Too many unsuccessful attempts from your connection. Please wait %(minutes)d minutes and try "
             "again.", minutes=minutes)


def _remember(instance_id: int) -> None:
    ids = [i for i in session.get(TRACKED, []) if isinstance(i, int) and i != instance_id]
    session[TRACKED] = [*ids, instance_id][-MAX_TRACKED:]


def _by_code(code: str) -> ProcessInstance | None:
    if not CODE.match(code or ""):
        return None
    return db.session.scalar(select(ProcessInstance).where(ProcessInstance.tracking_code == code.upper()))


def _tracked(code: str) -> ProcessInstance | None:
    """The request of ``code`` if this browser proved it is the requester's."""
    instance = _by_code(code)
    if instance is None or instance.id not in session.get(TRACKED, []):
        return None
    return instance


def _to_login(code: str = ""):
    """Where an unknown, unproved or foreign request sends the browser: the look-up form."""
    code = code.upper() if CODE.match(code or "") else ""
    return redirect(url_for("portal.track_login", kod=code) if code else url_for("portal.track_login"))


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


# -- look-up --------------------------------------------------------------------------------


@bp.route("/takip", methods=["GET", "POST"])
def track_login():
    if request.method == "GET":
        return _page("portal/track_login.html", values={"code": request.args.get("kod", "").strip()[:32],
                                                          "email": ""}, errors={})
    values = {"code": request.form.get("code", "").strip().upper()[:64],
              "email": request.form.get("email", "").strip()[:320]}
    errors = {}
    if not values["code"]:
        errors["code"] = _("Please enter your tracking code.")
    if not values["email"]:
        errors["email"] = _("Please enter your e-mail address.")
    if errors:
        return _page("portal/track_login.html", 422, values=values, errors=errors)
    error, status, found = None, 200, None
    with command():
        if _blocked():
            error, status = _blocked_message(), 429
        else:
            found = conversation.find_request(db.session, values["code"], values["email"])
            if found is None:
                # Counted and committed although the answer is an error: that is the point.
                # Never cleared by a success, or one real request would reset a guesser's count.
                throttle.record(db.session, [_failure_key()])
                error, status = _("No request matches this tracking code and e-mail address. Please check both."), 404
    if found is None:
        return _page("portal/track_login.html", status, values=values, errors={}, error=error)
    _remember(found.id)
    return redirect(url_for("portal.track", code=found.tracking_code))


@bp.get("/takip/<code>")
def track(code: str):
    key = request.args.get("k")
    if key is not None:
        return _open_with_key(code, key)
    instance = _tracked(code)
    if instance is None:
        return _to_login(code)
    return render_track(instance)


def _open_with_key(code: str, key: str):
    """The mailed link: its key proves the code and the e-mail together."""
    with command():
        if _blocked():
            return _page("portal/track_login.html", 429, values={"code": code.upper()[:32], "email": ""},
                         errors={}, error=_blocked_message())
        instance = _by_code(code)
        contact = conversation.contact_of(db.session, instance.id) if instance is not None else None
        if contact is None or not links.tracking_key_ok(instance.tracking_code, contact.email, key):
            throttle.record(db.session, [_failure_key()])
            instance = None
    if instance is None:
        return _to_login(code)
    _remember(instance.id)
    if session.get("lang") not in ("tr", "en"):
        # The mailed link opens the page in the language the requester wrote in.
        session["lang"] = contact.locale
    # Without the key in the address bar (it would stay in the history and bookmarks).
    return redirect(url_for("portal.track", code=instance.tracking_code))


# -- what the requester does ----------------------------------------------------------------------


def _act(code: str, work, values: dict, success: str, rename: dict | None = None):
    """Run ``work(instance, email)`` in one transaction; field errors re-show the page with
    what was typed, a request that moved on meanwhile gets a message."""
    instance = _tracked(code)
    if instance is None:
        return _to_login(code)
    email = conversation.contact_of(db.session, instance.id).email
    try:
        with command():
            work(instance, email)
    except ValidationError as exc:
        instance = db.session.get(ProcessInstance, instance.id)
        shown = {name: textinput.cleaned(value) for name, value in values.items()}
        return render_track(instance, values=shown, errors=problem_texts(exc, rename), status=422)
    except (ConflictError, NotFoundError):
        flash(_("This is no longer possible: the request has changed meanwhile. Please look at it again."), "error")
        return redirect(url_for("portal.track", code=instance.tracking_code))
    flash(success, "success")
    return redirect(url_for("portal.track", code=instance.tracking_code))


@bp.post("/takip/<code>/yanit")
def reply(code: str):
    values = {"message": request.form.get("message", "")}
    uploads = uploads_of(request.files)

    def work(instance, email):
        check_reply(values["message"], uploads)
        message = conversation.requester_reply(db.session, instance, values["message"], email=email)
        store_reply_files(instance, message, uploads, email)

    return _act(code, work, values, _("Your message has been sent."))


@bp.post("/takip/<code>/yeniden-ac")
def reopen(code: str):
    values = {"reason": request.form.get("reason", "")}
    return _act(code, lambda instance, email: conversation.reopen(db.session, instance, values["reason"],
                                                                  email=email),
                values, _("The request has been reopened; the team will look at it again."), {"message": "reason"})


@bp.post("/takip/<code>/puan")
def rate(code: str):
    values = {"score": request.form.get("score", ""), "comment": request.form.get("comment", "")}
    score = int(values["score"]) if values["score"].isdigit() else 0
    return _act(code, lambda instance, email: conversation.rate(db.session, instance, score, values["comment"],
                                                                email=email),
                values, _("Thank you for your rating."))


@bp.post("/takip/<code>/onay")
def confirm(code: str):
    ok = request.form.get("ok") == "yes"
    values = {"note": request.form.get("note", "")}
    tracked = _tracked(code)
    # An accepted fix (software_maintenance) still goes to its release; a confirmed restore is closed.
    accepting = tracked is not None and (conversation.confirmation_awaited(db.session, tracked.id)
                                         == conversation.ACCEPTANCE_CONFIRMED)
    if not ok:
        success = _("Thank you; the team will look at it again.")
    elif accepting:
        success = _("Thank you for confirming; the change will now be released.")
    else:
        success = _("Thank you for confirming; the request is closed.")
    return _act(code, lambda instance, email: conversation.confirm_restore(db.session, instance, ok, values["note"],
                                                                           email=email),
                values, success, {"message": "note"})


# -- forgot my code ---------------------------------------------------------------------------------


@bp.route("/takip/unuttum", methods=["GET", "POST"])
def track_forgot():
    if request.method == "GET":
        return _page("portal/track_forgot.html", values={"email": ""}, errors={})
    email = request.form.get("email", "").strip()[:320]
    if not EMAIL.match(email):
        return _page("portal/track_forgot.html", 422, values={"email": email},
                     errors={"email": _("Please enter a valid e-mail address.")})
    ip_key = throttle.key("forgot", "ip", request.remote_addr or "")
    email_key = throttle.key("forgot", "email", email)
    with command():
        if throttle.exceeded(db.session, [(ip_key, FORGOT_PER_IP)], FORGOT_WINDOW):
            blocked = True
        else:
            blocked = False
            # Past the e-mail's limit the answer stays the same; only no more mail goes out.
            if not throttle.exceeded(db.session, [(email_key, FORGOT_PER_EMAIL)], FORGOT_WINDOW):
                mail_open_requests(db.session, email, str(get_locale() or "tr"))
            throttle.record(db.session, [ip_key, email_key])
    if blocked:
        return _page("portal/track_forgot.html", 429, values={"email": email}, errors={},
                     error=_("Too many requests from your connection. Please try again in an hour."))
    return _page("portal/track_forgot.html", values={"email": ""}, errors={}, sent=True)
