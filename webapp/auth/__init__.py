"""Sign-in, sign-out, the language switch, and who the current user is."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
from .identity import init_login, require_role  # noqa: E402,F401
