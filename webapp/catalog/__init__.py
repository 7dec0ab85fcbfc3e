"""The process catalog: every SEK process by team, its diagram, and a staff start form."""

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/processes")

from . import routes, uploads  # noqa: E402,F401
