"""Instance pages: the requests a user may see, each with data, tasks and timeline."""

from flask import Blueprint

bp = Blueprint("instances", __name__, url_prefix="/instances")

from . import routes, triage  # noqa: E402,F401
