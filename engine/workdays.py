"""Working days: "within one working day" as the seeds mean it.

Weekends and Turkish public holidays are not working days. The fixed national holidays
are built in; the religious holidays (Ramazan and Kurban Bayramı) move every year, so
the years below are built in and more can be configured (``SEK_HOLIDAYS``: dates
``YYYY-MM-DD`` separated by commas, for a university's own closures too). The eves
(arife) are half days and count as working days.

Scripts and expressions use :func:`working_days` (a due date ``n`` working days ahead,
as an ISO string that timers and ``dueIn`` accept).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import clock

ZONE = ZoneInfo("Europe/Istanbul")
DAY_STARTS = time(8, 30)
DAY_ENDS = time(17, 30)   # working hours (add_working_hours): 08:30-17:30, nine hours a day

# Yılbaşı, Ulusal Egemenlik ve Çocuk Bayramı, Emek ve Dayanışma Günü, Atatürk'ü Anma
# Gençlik ve Spor Bayramı, Demokrasi ve Millî Birlik Günü, Zafer Bayramı, Cumhuriyet Bayramı
FIXED_HOLIDAYS = ((1, 1), (4, 23), (5, 1), (5, 19), (7, 15), (8, 30), (10, 29))

# Ramazan Bayramı (3 days) and Kurban Bayramı (4 days), as announced by the Diyanet.
MOVABLE_HOLIDAYS = {
    2025: ("2025-03-30", "2025-03-31", "2025-04-01", "2025-06-06", "2025-06-07", "2025-06-08", "2025-06-09"),
    2026: ("2026-03-20", "2026-03-21", "2026-03-22", "2026-05-27", "2026-05-28", "2026-05-29", "2026-05-30"),
    2027: ("2027-03-09", "2027-03-10", "2027-03-11", "2027-05-16", "2027-05-17", "2027-05-18", "2027-05-19"),
}


MAX_SCRIPT_DAYS = 2500  # about ten years of working days


class _Extra:
    dates: frozenset[date] = frozenset()


def configure(extra_holidays: str | None) -> None:
    """Add holidays from a ``YYYY-MM-DD,YYYY-MM-DD`` list (``SEK_HOLIDAYS``).

    :raises ValueError: an entry is not a date
    """
    dates = set()
    for item in (extra_holidays or "").split(","):
        if item.strip():
            try:
                dates.add(date.fromisoformat(item.strip()))
            except ValueError:
                raise ValueError(f"SEK_HOLIDAYS: {item.strip()!r} is not a date like 2026-12-31") from None
    _Extra.dates = frozenset(dates)


def extra_holidays() -> frozenset[date]:
    """The holidays :func:`configure` added (given to sandbox processes)."""
    return _Extra.dates


def is_holiday(day: date) -> bool:
    return ((day.month, day.day) in FIXED_HOLIDAYS or day.isoformat() in MOVABLE_HOLIDAYS.get(day.year, ())
            or day in _Extra.dates)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local time ``days`` working days after ``start``.

    A start on a weekend or holiday counts from the beginning (08:30) of the next
    working day, so a call lost on Saturday is due on Tuesday 08:30 for "one working
    day": one full working day (Monday) to call back.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(ZONE)
    if not is_working_day(local.date()):
        day = local.date()
        while not is_working_day(day):
            day += timedelta(days=1)
        local = datetime.combine(day, DAY_STARTS, ZONE)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), ZONE)


def add_working_hours(start: datetime, hours: int | float) -> datetime:
    """The moment ``hours`` working hours after ``start``, counting only 08:30-17:30 of
    working days (an urgent request's "four working hours").

    A start outside working hours counts from the next working day's 08:30 (or from
    08:30 the same day, before it); what does not fit in a day goes on the next one.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    local = start.astimezone(ZONE)
    left = timedelta(hours=hours)
    day = local.date()
    moment = local.timetz().replace(tzinfo=None)
    while True:
        if is_working_day(day) and moment < DAY_ENDS:
            begin = datetime.combine(day, max(moment, DAY_STARTS), ZONE)
            end = datetime.combine(day, DAY_ENDS, ZONE)
            if begin + left <= end:
                return begin + left
            left -= end - begin
        day += timedelta(days=1)
        moment = DAY_STARTS


def working_days(days: int | float) -> str:
    """Script helper: the moment ``days`` working days from now, as an ISO 8601 string.

    At most :data:`MAX_SCRIPT_DAYS`, so that its cost is bounded (it counts day by day).
    """
    if isinstance(days, bool) or not isinstance(days, int | float) or days != int(days):
        raise ValueError("working_days needs a whole number of days")
    if days > MAX_SCRIPT_DAYS:
        raise ValueError(f"working_days counts at most {MAX_SCRIPT_DAYS} days")
    return add_working_days(clock.now(), int(days)).isoformat()


def is_working_day_text(value: str) -> bool:
    """Script helper: whether a ``YYYY-MM-DD`` (or ISO datetime) string is a working day."""
    return is_working_day(date.fromisoformat(str(value)[:10]))


SCRIPT_HELPERS = {"working_days": working_days, "is_working_day": is_working_day_text}
