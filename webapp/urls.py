"""Where to send people after a form: only paths on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "inbox.index") -> str:
    """``target`` if it is a path on this site, else ``default_endpoint``: never an open redirect."""
    if not target:
        return url_for(default_endpoint)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for(default_endpoint)
    return target
