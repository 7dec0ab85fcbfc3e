"""Form rules of the processes: the checks a JSON Schema cannot make (an end date after the
start date, a date not in the past), as plain functions from data to problems.

Each process keeps its rules in ``processes/<key>/validate.py`` as ``RULES = {step:
[function, ...]}`` (step: ``"start"`` or a user task's BPMN id); :func:`install`
registers them with the engine (:mod:`engine.form_rules`), which checks them on every
door. A rule's message is process content: written in Turkish, with ``%(name)s``
placeholders, its English in the process's ``translations/en.po``. The problem's
``message`` is the English (what the API and the CLI print); pages word it in the
reader's language with :func:`worded`.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from engine import form_rules
from engine.errors import Problem
from engine.workdays import ZONE

from .i18n import text

CODE = "rule"
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def problem(process_key: str, field: str, source: str, **values) -> Problem:
    """A refusal of ``field``: ``source`` is the Turkish message (``%(name)s`` placeholders
    filled from ``values``)."""
    return Problem(field, text(process_key, source, "en") % values, CODE,
                   {"process": process_key, "text": source, "values": values})


def worded(found: Problem, locale: str | None) -> str:
    """A rule's problem in ``locale`` (Turkish when the process has no English for it)."""
    params = found.params or {}
    source = params.get("text")
    if not source:
        return found.message
    return text(params.get("process"), source, locale) % (params.get("values") or {})


def read_date(value) -> date | None:
    """An ISO date (``2026-11-02``) the form sent, or None if it is not one."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def today(now: datetime) -> date:
    """The day ``now`` falls on in Istanbul (the university's day, whatever the server's zone)."""
    return now.astimezone(ZONE).date()


def date_not_past(process_key: str, field: str, source: str):
    """A rule: ``field``'s date, when the form gives one, is not before today (else ``source``,
    the Turkish refusal)."""
    def rule(data: dict, now: datetime) -> list[Problem]:
        day = read_date(data.get(field))
        return [problem(process_key, field, source)] if day is not None and day < today(now) else []
    return rule


def date_not_ahead(process_key: str, field: str, source: str):
    """A rule: ``field``'s date, when the form gives one, is not after today (what was done is
    dated when it was done; else ``source``, the Turkish refusal)."""
    def rule(data: dict, now: datetime) -> list[Problem]:
        day = read_date(data.get(field))
        return [problem(process_key, field, source)] if day is not None and day > today(now) else []
    return rule


def shown(day: date) -> str:
    """A date as the Turkish forms write it (``02.11.2026``)."""
    return day.strftime("%d.%m.%Y")


def one_year_after(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year + 1, 2, 28)
    return date(day.year + 1, day.month, day.day)


def install() -> None:
    """Register the ``RULES`` of every ``processes.<name>.validate`` that exists."""
    from . import process_modules

    for name, module in process_modules("validate"):
        for step, rules in getattr(module, "RULES", {}).items():
            for rule in rules:
                form_rules.register_rule(name, step, rule)
