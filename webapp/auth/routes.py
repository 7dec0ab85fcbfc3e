"""Sign-in (failures slow down per name and address: engine.throttle), sign-out and the language switch."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engine import throttle, user_sessions, users

from ..db import command
from ..home import landing_endpoint
from ..urls import safe_next
from . import bp
from .identity import SIGN_IN_KEY


def _login_limits() -> tuple[int, timedelta]:
    config = current_app.config
    return (int(config.get("SEK_LOGIN_MAX_FAILURES") or 5),
            timedelta(minutes=float(config.get("SEK_LOGIN_WINDOW_MINUTES") or 15)))


def _wait_message(wait: throttle.SignInWait) -> str:
    if wait.locked:
        return _("Too many failed sign-ins for this account from your address. Please wait %(minutes)d minutes "
                 "and try again.", minutes=max(1, math.ceil(wait.wait.total_seconds() / 60)))
    return _("This account has had many failed sign-ins. Please wait %(seconds)d seconds and try again.",
             seconds=max(1, math.ceil(wait.wait.total_seconds())))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next"), landing_endpoint(current_user)))
    username = (request.form.get("username") or "").strip()
    error = None
    status = 200
    headers = {}
    if request.method == "POST":
        password = request.form.get("password") or ""
        limit, window = _login_limits()
        address = request.remote_addr or ""
        with command() as db_session:
            wait = throttle.sign_in_wait(db_session, username, address, limit=limit, window=window)
            if wait is not None:
                error, status = _wait_message(wait), 429
                headers["Retry-After"] = str(max(1, math.ceil(wait.wait.total_seconds())))
            else:
                user = users.authenticate(db_session, username, password)
                if user is None:
                    throttle.record_sign_in_failure(db_session, username, address)
                    error = _("Wrong username or password, or the account is not active.")
                    status = 401
                else:
                    throttle.clear_sign_in_failures(db_session, username, address)
                    # A fresh session against fixation, keeping the language chosen on the way in;
                    # a sign-in this browser still had ends (a copy of its cookie must not outlive it).
                    previous = session.get(SIGN_IN_KEY)
                    if isinstance(previous, str):
                        user_sessions.end(db_session, previous)
                    lang = session.get("lang")
                    session.clear()
                    if lang in users.LOCALES:
                        session["lang"] = lang
                    session.permanent = True
                    session[SIGN_IN_KEY] = user_sessions.start(db_session, user,
                                                               current_app.permanent_session_lifetime)
                    login_user(user)
        if error is None:
            return redirect(safe_next(request.args.get("next"), landing_endpoint(user)))
    return render_template("auth/login.html", username=username, error=error), status, headers


@bp.post("/logout")
def logout():
    """End this browser's sign-in on the server too: a copy of its cookie no longer works.
    The user's other browsers stay signed in (the account page signs out everywhere)."""
    key = session.pop(SIGN_IN_KEY, None)
    if isinstance(key, str):
        with command() as db_session:
            user_sessions.end(db_session, key)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in users.LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated:
            with command() as db_session:
                users.set_locale(db_session, current_user, lang)
    return redirect(safe_next(request.form.get("next")))
