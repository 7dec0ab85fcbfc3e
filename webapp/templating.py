"""Template helpers: safe Markdown, dates in the user's zone and language, the nav."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, g, request
from flask_babel import format_datetime, get_locale, get_timezone
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine.models import utcnow
from processes import catalog

from . import personal_data

# "js-default": raw HTML in the source is escaped and only safe link schemes are kept.
_markdown = MarkdownIt("js-default", {"linkify": False, "typographer": False})


def markdown(text: str | None) -> Markup:
    """Render instructions written by process owners; HTML in them is shown as text."""
    return Markup(_markdown.render(text or ""))


# The "short" style of each UI language as strftime patterns (what Babel's CLDR data
# gives): lists show dozens of dates, and Babel's general formatter costs ~0.1 ms each.
_SHORT = {"tr": "%-d.%m.%Y %H:%M", "en": "%-m/%-d/%y, %-I:%M\u202f%p"}


def when(value: datetime | None, style: str = "short") -> str:
    """A timestamp in the user's time zone and language ("–" for none)."""
    if value is None:
        return "–"
    pattern = _SHORT.get(_language()) if style == "short" else None
    if pattern is None:
        return format_datetime(value, style)
    zone = g.get("sek_zone")
    if zone is None:
        zone = g.sek_zone = get_timezone()
    return value.astimezone(zone).strftime(pattern)


def _language() -> str:
    """The request's UI language, looked up once per request."""
    language = g.get("sek_language")
    if language is None:
        language = g.sek_language = str(get_locale() or "tr")
    return language


def process_title(key: str) -> str:
    """A process's catalog title in the UI language, or its key when it is not in the catalog."""
    try:
        item = catalog.entry(key)
    except LookupError:
        return key
    return item.title_en if _language() == "en" else item.title_tr


def init_templating(app: Flask) -> None:
    app.add_template_filter(markdown, "markdown")
    app.add_template_filter(when, "when")
    # the requester as the current user may see them (webapp/personal_data.py decides)
    app.add_template_filter(personal_data.masked, "masked")
    app.add_template_filter(personal_data.person, "person")
    app.add_template_global(process_title)

    @app.context_processor
    def nav():
        user = current_user
        signed_in = bool(getattr(user, "is_authenticated", False))
        return {
            "now": utcnow(),
            "locale": _language(),
            "signed_in": signed_in,
            "is_admin": signed_in and user.has_role("admin"),
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
