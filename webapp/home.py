"""The front door (sign-in or the inbox) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    return redirect(url_for("inbox.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
