"""Administration: accounts, activation, group membership, the portal's units, webhooks."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import groups, hooks, outbox, routes, units  # noqa: E402,F401
