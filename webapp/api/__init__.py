"""The JSON API under /api/v1 (contract in DESIGN.md), documented at /api/v1/openapi.json."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import assets, hooks, routes  # noqa: E402,F401
