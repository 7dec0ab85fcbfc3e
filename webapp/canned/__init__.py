"""Canned answers: the help desk keeps the ready texts staff start their replies from."""

from flask import Blueprint

bp = Blueprint("canned", __name__, url_prefix="/canned")

from . import routes  # noqa: E402,F401
