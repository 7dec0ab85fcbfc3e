"""The restore form's date rule: only a past (or today's) state can be restored."""

from __future__ import annotations

from datetime import datetime

from engine.errors import Problem

from ..rules import problem, read_date, today

KEY = "backup_restore"


def check_restore_date(data: dict, now: datetime) -> list[Problem]:
    day = read_date(data.get("restore_date"))
    if day is not None and day > today(now):
        return [problem(KEY, "restore_date", "Geri yüklenecek tarih ileride olamaz: yedekler yalnızca geçmişi "
                                             "tutar.")]
    return []


RULES = {"start": [check_restore_date]}
