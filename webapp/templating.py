"""Template helpers: safe Markdown, dates in the user's zone and language, numbers and
process content in the reader's language, the nav."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from flask import Flask, g, request
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale, get_timezone
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine.models import utcnow
from processes import catalog, i18n
from processes import groups as process_groups

from . import personal_data
from .extensions import db

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


def reader_language() -> str:
    """The reader's language (``tr`` or ``en``): the one process content is shown in."""
    return _language()


def shown_form(process_key: str | None, schema: dict | None, ui_schema: dict | None) -> tuple:
    """A form's schema and UI schema as the reader sees them (labels, help, enum labels
    translated); the original schema still validates what is posted."""
    lang = _language()
    return i18n.translate_schema(process_key, schema, lang), i18n.translate_ui(process_key, ui_schema, lang)


def process_title(key: str) -> str:
    """A process's catalog title in the UI language, or its key when it is not in the catalog."""
    try:
        item = catalog.entry(key)
    except LookupError:
        return key
    return item.title_en if _language() == "en" else item.title_tr


def ptext(source: str | None, process_key: str | None) -> str:
    """Process content (a task name, an instruction, an enum value) in the reader's language:
    ``{{ task.name | ptext(task.process_key) }}`` (see :func:`processes.i18n.text`)."""
    return i18n.text(process_key, source or "", _language())


def category_title(category: str | None) -> str:
    """A help-desk category (user_support's start form) in the reader's language."""
    return i18n.text("user_support", category or "", _language())


def team_title(slug: str | None) -> str:
    """A team's name (the catalog's team headings) in the reader's language; any other
    group (a unit's heads) as :func:`group_title` names it."""
    for team, title_tr, title_en in catalog.TEAMS:
        if team == slug:
            return title_en if _language() == "en" else title_tr
    return group_title(slug)


def group_title(slug: str | None) -> str:
    """A group's name for people in the reader's language (:func:`processes.groups.group_title`);
    the group directory is read once a request."""
    groups = g.get("sek_groups")
    if groups is None:
        groups = g.sek_groups = process_groups.directory(db.session)
    return process_groups.group_title(slug, _language(), groups)


def number(value, decimals: int = 1) -> str:
    """A number as the reader writes it: ``3.481`` and ``5,2`` in Turkish, ``3,481`` and
    ``5.2`` in English; at most ``decimals`` decimals; "—" for none."""
    if value is None or value == "":
        return "—"
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern)


def percent(ratio, decimals: int = 1) -> str:
    """A ratio (0.867) as a percentage in the reader's way: ``%86,7`` in Turkish, ``86.7%``
    in English; "—" for none."""
    if ratio is None:
        return "—"
    locale = get_locale() or Locale.parse(i18n.DEFAULT_LOCALE)
    pattern = locale.percent_formats[None].pattern
    if decimals:
        pattern = pattern.replace("#,##0", "#,##0." + "0" * decimals, 1)
    return format_percent(ratio, format=pattern)


def day(value: date | datetime | None) -> str:
    """A calendar day in words: ``7 Aralık 2026``, ``7 December 2026`` ("–" for none)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        zone = g.get("sek_zone") or get_timezone()
        value = value.astimezone(zone).date() if value.tzinfo else value.date()
    return format_date(value, "d MMMM y")


# A moment with its weekday, in words: "4 Ocak 2027 Pazartesi 09:00", "Monday 4 January 2027, 09:00".
_DAY_TIME = {"tr": "d MMMM y EEEE HH:mm", "en": "EEEE d MMMM y, HH:mm"}


def day_time(value: datetime | None) -> str:
    """A moment in words with its weekday, in the user's time zone and language ("–" for none)."""
    if value is None:
        return "–"
    return format_datetime(value, _DAY_TIME.get(_language(), _DAY_TIME["en"]))


def month_name(month: int) -> str:
    """A month's name in the reader's language (1 -> ``Ocak`` / ``January``)."""
    if not isinstance(month, int) or not 1 <= month <= 12:
        return str(month)
    return format_date(date(2000, month, 1), "LLLL")


def linked_requests(instance) -> dict:
    """The request's parent ("Üst talep") and children ("Bağlı talepler", engine.linked), only
    those the signed-in user may see (engine.instances.can_view)."""
    from engine import instances, linked

    session, user = db.session, current_user
    parent = linked.parent_of(session, instance.id)
    children = linked.children_of(session, instance.id)
    return {"parent": parent.instance if parent and instances.can_view(session, user, parent.instance) else None,
            "children": [c.instance for c in children if instances.can_view(session, user, c.instance)]}


def init_templating(app: Flask) -> None:
    app.add_template_filter(markdown, "markdown")
    app.add_template_filter(when, "when")
    # the requester as the current user may see them (webapp/personal_data.py decides)
    app.add_template_filter(personal_data.masked, "masked")
    app.add_template_filter(personal_data.person, "person")
    app.add_template_global(process_title)
    app.add_template_global(team_title)
    app.add_template_global(group_title)
    app.add_template_global(category_title)
    app.add_template_global(linked_requests)
    app.add_template_filter(ptext, "ptext")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(day, "day")
    app.add_template_filter(day_time, "day_time")
    app.add_template_filter(month_name, "month_name")

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
