"""The public portal: requesters (no account) submit a request and follow it by tracking code."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from . import routes, tracking  # noqa: E402,F401  (the views register themselves on bp)
