"""The maintenance report's date rule: a deadline the fix is tied to cannot have passed."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import problem, read_date, today

KEY = "software_maintenance"


def check_deadline(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("deadline"))
    if day is not None and day < today(now):
        return [problem(KEY, "deadline", "Son tarih geçmiş bir gün olamaz.")]
    return []


RULES = {"start": [check_deadline]}
