"""Form rules of SEK 08-04-03: the contractor's promised repair time is not in the past."""

from __future__ import annotations

import re
from datetime import datetime

from engine.errors import Problem
from engine.workdays import ZONE

from ..rules import problem, read_date, today

KEY = "infrastructure_maintenance"
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def check_promise(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("vendor_promised_date"))
    if day is None:
        return []
    if day < today(now):
        return [problem(KEY, "vendor_promised_date", "Firmanın söz verdiği tarih geçmiş bir gün olamaz.")]
    time_text = str(data.get("vendor_promised_time") or "")
    if day == today(now) and _TIME.match(time_text) and time_text < now.astimezone(ZONE).strftime("%H:%M"):
        return [problem(KEY, "vendor_promised_time", "Firmanın söz verdiği saat geçmiş olamaz.")]
    return []


RULES = {"vendor_call": [check_promise]}
