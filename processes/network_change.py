"""What SEK 08-04-28 (network_os_update) and 08-04-29 (network_config_update) share.

Both are network changes with the same life after their start form (approval by
``bpmn/network_change.approval.dmn``, maintenance window, backup, apply, verify,
rollback), so they share their task forms (``bpmn/network_change.*.json``) and the
maintenance window's form rule below. Each process's ``validate.py`` registers it for
its start form and its ``reschedule_window`` task.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from engine.errors import Problem
from engine.workdays import ZONE

from .rules import problem

# A window longer than a night's work is two changes; one planned further ahead than a
# semester is a plan, not a change (it goes to 08-04-30 Altyapı Projelendirme).
WINDOW_MAX = timedelta(hours=12)
PLANNED_MAX = timedelta(days=180)
_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?([+-][0-9]{2}:[0-9]{2}|Z)?$")


def read_moment(value) -> datetime | None:
    """A date and time the form sent (``2026-11-05T22:00``; a time without a zone is
    Istanbul's, as the form's field is), or None if it is not one."""
    if not isinstance(value, str) or not _MOMENT.match(value):
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found.replace(tzinfo=ZONE) if found.tzinfo is None else found


def window_rule(key: str) -> Callable[[dict, datetime], list[Problem]]:
    """The maintenance window's rule for process ``key``: it starts in the future (at
    most :data:`PLANNED_MAX` ahead), ends after it starts and lasts at most :data:`WINDOW_MAX`."""

    def check_window(data: dict, now: datetime) -> list[Problem]:
        found = []
        opens, closes = read_moment(data.get("window_start")), read_moment(data.get("window_end"))
        if "window_start" in data and opens is None:
            found.append(problem(key, "window_start", "Geçerli bir tarih ve saat yazın."))
        if "window_end" in data and closes is None:
            found.append(problem(key, "window_end", "Geçerli bir tarih ve saat yazın."))
        if opens is not None and opens <= now:
            found.append(problem(key, "window_start", "Bakım penceresi ileri bir zamanda başlamalıdır."))
        elif opens is not None and opens > now + PLANNED_MAX:
            found.append(problem(key, "window_start", "Bakım penceresi en fazla 180 gün sonrası için "
                                                      "planlanabilir."))
        if opens is not None and closes is not None:
            if closes <= opens:
                found.append(problem(key, "window_end", "Bakım penceresinin bitişi başlangıcından sonra "
                                                        "olmalıdır."))
            elif closes - opens > WINDOW_MAX:
                found.append(problem(key, "window_end", "Bakım penceresi en fazla 12 saat sürebilir."))
        return found

    return check_window
