"""Administration: accounts, activation, group membership, the portal's units."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import groups, outbox, routes, units  # noqa: E402,F401
