"""Staff search: find the requests one may see by code, subject, conversation, requester,
category, status and received date (engine/search.py)."""

from flask import Blueprint

bp = Blueprint("search", __name__, url_prefix="/search")

from . import routes  # noqa: E402,F401
