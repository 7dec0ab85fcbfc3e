"""Sign-in (rate-limited), sign-out and the language switch."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engine import users

from ..db import command
from ..urls import safe_next
from . import bp


def _login_limits() -> tuple[int, timedelta]:
    config = current_app.config
    return (int(config.get("SEK_LOGIN_MAX_FAILURES") or 5),
            timedelta(minutes=float(config.get("SEK_LOGIN_WINDOW_MINUTES") or 15)))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    username = (request.form.get("username") or "").strip()
    error = None
    status = 200
    if request.method == "POST":
        password = request.form.get("password") or ""
        limit, window = _login_limits()
        keys = [f"user:{username.lower()}", f"ip:{request.remote_addr}"]
        with command() as db_session:
            if users.login_blocked(db_session, keys, limit=limit, window=window):
                error = _("Too many failed sign-ins. Please wait %(minutes)d minutes and try again.",
                          minutes=int(window.total_seconds() // 60))
                status = 429
            else:
                user = users.authenticate(db_session, username, password)
                if user is None:
                    users.record_login_failure(db_session, keys, window=window)
                    error = _("Wrong username or password, or the account is not active.")
                    status = 401
                else:
                    users.clear_login_failures(db_session, keys[0])
                    # A fresh session against fixation, keeping the language chosen on the way in.
                    lang = session.get("lang")
                    session.clear()
                    if lang in users.LOCALES:
                        session["lang"] = lang
                    session.permanent = True
                    login_user(user)
        if error is None:
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", username=username, error=error), status


@bp.post("/logout")
def logout():
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
