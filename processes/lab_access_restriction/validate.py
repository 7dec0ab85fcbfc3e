"""The exam restriction's time rules: asked at least one working day ahead, ending after
it starts, lasting at most six hours (a long exam day is two requests)."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.errors import Problem
from engine.workdays import add_working_days

from ..rules import problem, read_date, shown, today

KEY = "lab_access_restriction"
LONGEST = timedelta(hours=6)


def _minutes(value) -> int | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        return None
    hours, minutes = int(value[:2]), int(value[3:])
    return hours * 60 + minutes if hours < 24 and minutes < 60 else None


def check_times(data: dict, now: datetime) -> list[Problem]:
    found = []
    day = read_date(data.get("exam_date"))
    earliest = today(add_working_days(now, 1))
    if day is not None and day < earliest:
        found.append(problem(KEY, "exam_date", "Kısıtlama en az bir iş günü önceden istenmelidir: sınav tarihi en "
                                               "erken %(date)s olabilir.", date=shown(earliest)))
    first, last = _minutes(data.get("start_time")), _minutes(data.get("end_time"))
    if first is not None and last is not None:
        if last <= first:
            found.append(problem(KEY, "end_time", "Bitiş saati başlangıç saatinden sonra olmalıdır."))
        elif timedelta(minutes=last - first) > LONGEST:
            found.append(problem(KEY, "end_time", "Bir kısıtlama en fazla 6 saat sürebilir."))
    return found


RULES = {"start": [check_times]}
