"""The software request's date rules: the wished opening date is not in the past, and a
deferral's reconsideration date lies after today."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import problem, read_date, today

KEY = "software_request"


def check_desired_date(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("desired_date"))
    if day is not None and day < today(now):
        return [problem(KEY, "desired_date", "İstenen tarih geçmiş bir gün olamaz.")]
    return []


def check_reconsider_date(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("reconsider_date"))
    if data.get("decision") == "erteleme" and day is not None and day <= today(now):
        return [problem(KEY, "reconsider_date", "Yeniden değerlendirme tarihi bugünden sonra olmalıdır.")]
    return []


RULES = {"start": [check_desired_date], "decide": [check_reconsider_date]}
