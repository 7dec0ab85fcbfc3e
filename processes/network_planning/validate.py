"""The project forms' date rules: the date needed by is not past, a survey is not dated ahead."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import problem, read_date, today

KEY = "network_planning"


def check_desired_date(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("desired_date"))
    if day is not None and day < today(now):
        return [problem(KEY, "desired_date", "Bu tarih geçmiş bir gün olamaz.")]
    return []


def check_survey_date(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("survey_date"))
    if day is not None and day > today(now):
        return [problem(KEY, "survey_date", "Keşif tarihi ileride olamaz: keşif yapıldıktan sonra yazılır.")]
    return []


RULES = {"start": [check_desired_date], "survey": [check_survey_date]}
