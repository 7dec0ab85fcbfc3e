"""The staff inbox: task lists, task pages with their forms, claim/unclaim/complete."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from . import filters, listing, routes, triage  # noqa: E402,F401
