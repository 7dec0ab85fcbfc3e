"""The data panel of the task page: the rows :mod:`processes.data_panel` declares, worded
for the reader (dates, times and durations in the UI language, "Evet"/"Hayır")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import g
from flask_babel import format_date, format_datetime, format_decimal, format_timedelta, get_locale
from flask_babel import gettext as _

from engine.models import ProcessInstance
from processes import data_panel

from . import personal_data

# "7 Aralık 2026 11:07": a day and a time, as people write them
_DAY_TIME = {"tr": "d MMMM y HH:mm", "en": "MMMM d, y, HH:mm"}


def rows(instance: ProcessInstance, schemas: list[dict], data: dict, *, skip=(),
         has_contact: bool = True) -> list[data_panel.Row]:
    """The panel of ``data`` (the requester's contact values masked as the reader may see them).

    :param has_contact: the page shows the requester's contact card; without one (a request
        started by the API or the CLI, a phone call) the page names the requester with the
        request and the rest of the contact (the address, the phone, the unit) is the panel's
    """
    language = str(get_locale() or "tr")
    shown_elsewhere = (data_panel.SHOWN_ELSEWHERE if has_contact
                       else data_panel.SHOWN_WITH_THE_REQUEST | {"requester"})
    return data_panel.rows(instance.process_key, schemas, personal_data.masked(data, instance.id), language,
                           skip=shown_elsewhere | set(skip))


def shown(row: data_panel.Row):
    """A row's value as text (a list stays a list, of texts)."""
    value = row.value
    if row.kind == "list":
        return [str(v) for v in value]
    if row.kind == "bool":
        return _("Yes") if value else _("No")
    if row.kind == "number":
        return format_decimal(value)
    if row.kind == "datetime" and isinstance(value, datetime):
        language = g.get("sek_language") or str(get_locale() or "tr")
        pattern = _DAY_TIME.get(language, _DAY_TIME["en"])
        return format_datetime(value, pattern, rebase=value.tzinfo is not None)
    if row.kind == "date" and isinstance(value, date):
        return format_date(value, "long")
    if row.kind == "duration" and isinstance(value, timedelta):
        return format_timedelta(value, threshold=1.5)
    return str(value)
