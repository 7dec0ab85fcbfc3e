"""Submitting a request: category, the form, attachments, anti-spam; the tracking code."""

from . import bp  # noqa: F401
