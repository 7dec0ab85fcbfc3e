"""The lab request form's date rules: course software is asked for at least ten working
days before the day it is needed (it goes into the lab image and is tested there), and a
redeploy for tomorrow or later (the labs are in use today)."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.errors import Problem
from engine.workdays import ZONE, add_working_days

from ..rules import problem, read_date, shown, today

KEY = "lab_support"
SOFTWARE_LEAD_DAYS = 10


def earliest(now: datetime, working_days: int):
    """The first day a request made at ``now`` may ask for, ``working_days`` working days on."""
    return add_working_days(now, working_days).astimezone(ZONE).date()


def check_dates(data: dict, now: datetime) -> list[Problem]:
    kind = data.get("kind")
    if kind == "course_software":
        needed = read_date(data.get("needed_by"))
        first = earliest(now, SOFTWARE_LEAD_DAYS)
        if needed is not None and needed < first:
            return [problem(KEY, "needed_by", "Ders yazılımı en az 10 iş günü önceden istenmelidir: en erken "
                                              "%(date)s seçilebilir.", date=shown(first))]
    if kind == "image_redeploy":
        wanted = read_date(data.get("redeploy_date"))
        if wanted is not None and wanted <= today(now):
            return [problem(KEY, "redeploy_date", "İmaj yükleme en erken yarın (%(date)s) için istenebilir.",
                            date=shown(today(now) + timedelta(days=1)))]
    return []


RULES = {"start": [check_dates]}
