"""The external access form's date rule: the access ends after today, within a year."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import one_year_after, problem, read_date, shown, today

KEY = "server_external_access"


def check_end_date(data: dict, now: datetime) -> list[Problem]:
    last, day = read_date(data.get("end_date")), today(now)
    if last is None:
        return []
    if last <= day:
        return [problem(KEY, "end_date", "Erişim bitiş tarihi bugünden sonra olmalıdır.")]
    if last > one_year_after(day):
        return [problem(KEY, "end_date", "Dışarıdan erişim en fazla bir yıl için açılır: bitiş tarihi en geç "
                                         "%(date)s olabilir.", date=shown(one_year_after(day)))]
    return []


RULES = {"start": [check_end_date]}
