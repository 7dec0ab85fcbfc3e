"""The public reply page: a university unit answers a routed request through a signed link."""

from flask import Blueprint

bp = Blueprint("reply", __name__)

from . import routes  # noqa: E402,F401
