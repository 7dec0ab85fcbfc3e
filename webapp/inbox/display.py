"""How the inbox words what it lists: relative dates, priority badges, the filters' choices."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_timedelta
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import bp

PRIORITY_LABELS = {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")}
# Bootstrap badge classes; the label is always written out, colour only adds to it.
PRIORITY_BADGES = {"urgent": "text-bg-danger", "high": "text-bg-warning", "normal": "text-bg-light border",
                   "low": "text-bg-light border"}
DUE_LABELS = {"24h": _l("Due within 24 hours"), "3d": _l("Due within 3 days"), "7d": _l("Due within 7 days"),
              "none": _l("No due date")}
AGE_LABELS = {"1d": _l("Waiting over a day"), "3d": _l("Waiting over 3 days"), "7d": _l("Waiting over a week")}
SORT_LABELS = {
    "priority": _l("Priority (urgent first)"), "-priority": _l("Priority (low first)"),
    "due": _l("Due date (soonest first)"), "-due": _l("Due date (latest first)"),
    "created": _l("Newest first"), "-created": _l("Oldest first"),
    "subject": _l("Subject (A–Z)"), "-subject": _l("Subject (Z–A)"),
    "requester": _l("Requester (A–Z)"), "-requester": _l("Requester (Z–A)"),
    "category": _l("Category (A–Z)"), "-category": _l("Category (Z–A)"),
    "process": _l("Process (A–Z)"), "-process": _l("Process (Z–A)"),
    "step": _l("Step (A–Z)"), "-step": _l("Step (Z–A)"),
}

_STEPS = ((timedelta(days=1).total_seconds(), "day"), (3600, "hour"), (60, "minute"))
_relative_cache: dict[tuple, str] = {}


def relative(value: datetime | None, now: datetime) -> str:
    """``value`` as "3 gün önce" / "2 saat sonra" ("3 days ago" / "in 2 hours"), "–" for none.

    Rounded to whole minutes, hours or days (weeks, months beyond), and cached: a list
    shows dozens of these, from a handful of distinct values.
    """
    if value is None:
        return "–"
    seconds = (value - now).total_seconds()
    size, unit = next(((size, unit) for size, unit in _STEPS if abs(seconds) >= size), (60, "minute"))
    count = max(1, round(abs(seconds) / size))
    locale = str(get_locale() or "tr")
    key = (count, unit, seconds < 0, locale)
    text = _relative_cache.get(key)
    if text is None:
        delta = timedelta(seconds=count * size * (-1 if seconds < 0 else 1))
        text = _relative_cache[key] = format_timedelta(delta, threshold=1, add_direction=True, locale=locale)
    return text


bp.add_app_template_filter(relative, "relative")


def choices() -> dict[str, dict]:
    """The filter form's choices, labelled in the reader's language."""
    return {"priority": PRIORITY_LABELS, "due": DUE_LABELS, "age": AGE_LABELS, "sort": SORT_LABELS,
            "badge": PRIORITY_BADGES}
