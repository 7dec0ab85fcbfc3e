"""The front door (the public portal's "Yeni talep" page, for everyone) and the health check."""

from __future__ import annotations

from flask import Blueprint

from .portal.routes import index as portal_index

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    # Staff see the same page (their nav leads to the inbox): "/" is where requesters start.
    return portal_index()


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
