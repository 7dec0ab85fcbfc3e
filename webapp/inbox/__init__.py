"""The staff inbox: task lists, task pages with their forms, claim/unclaim/complete."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from . import filters, listing, routes  # noqa: E402,F401
