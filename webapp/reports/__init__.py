"""Reports for managers (and admins): yearly and monthly figures, charts, CSV, print."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import routes  # noqa: E402,F401
