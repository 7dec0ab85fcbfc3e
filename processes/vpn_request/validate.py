"""The VPN request form's date rules: the period starts today or later, ends after it
starts, and lasts at most a year (access ends at 17:00 on the end date)."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import one_year_after, problem, read_date, shown, today

KEY = "vpn_request"


def check_period(data: dict, now: datetime) -> list[Problem]:
    first, last = read_date(data.get("start_date")), read_date(data.get("end_date"))
    found = []
    if first is not None and first < today(now):
        found.append(problem(KEY, "start_date", "Başlangıç tarihi geçmiş bir gün olamaz."))
    if first is not None and last is not None:
        if last <= first:
            found.append(problem(KEY, "end_date", "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."))
        elif last > one_year_after(first):
            found.append(problem(KEY, "end_date", "VPN erişimi en fazla bir yıl için verilir: bitiş tarihi en geç "
                                                  "%(date)s olabilir.", date=shown(one_year_after(first))))
    return found


RULES = {"start": [check_period]}
