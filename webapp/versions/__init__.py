"""Versions of a process: who deployed what and when, diffs, moving running requests on."""

from flask import Blueprint

bp = Blueprint("versions", __name__, url_prefix="/processes")

from . import routes  # noqa: E402,F401
