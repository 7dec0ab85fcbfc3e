"""Audit views (role ``auditor`` or admin, read-only): search, history, verification, exports."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from . import routes  # noqa: E402,F401
