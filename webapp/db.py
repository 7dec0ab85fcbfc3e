"""The one helper that commits a web request's change (DESIGN.md: one request, one
transaction, committed at the edge)."""

from __future__ import annotations

from flask import request

from engine.db import READ_ONLY, committing

from .extensions import db


def command():
    """Run a state change in the request's session: commit at the end, roll back on error.

    A lost optimistic-locking race surfaces as :class:`ConflictError`.
    """
    return committing(db.session)


def mark_page_views_read_only() -> None:
    """Before a GET page view: its transactions only read (on SQLite they then neither wait
    for nor block the writers). API GETs may record token use, so they keep the default.
    A GET page must never change anything; state changes are POSTs through :func:`command`.
    """
    if request.method in ("GET", "HEAD") and not request.path.startswith("/api/"):
        session = db.session()
        session.execution_options = session.execution_options.union({READ_ONLY: True})
