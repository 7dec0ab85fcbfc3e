"""Template helpers: the fast date formatting says exactly what Babel would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import format_datetime, refresh

from webapp.templating import day, month_name, number, percent, when


@pytest.mark.parametrize("locale", ["tr", "en"])
def test_short_dates_match_babel(app, locale):
    moments = [datetime(2026, 11, 23, 3, 7, tzinfo=UTC), datetime(2026, 1, 5, 15, 45, tzinfo=UTC),
               datetime(2026, 7, 31, 21, 0, tzinfo=UTC), datetime(2027, 3, 1, 0, 30, tzinfo=UTC)]
    with app.test_request_context("/inbox"):
        from flask import session

        session["lang"] = locale
        refresh()
        for moment in moments:
            assert when(moment) == format_datetime(moment, "short")
        assert when(None) == "–"
        assert when(moments[0]) == {"tr": "23.11.2026 06:07", "en": "11/23/26, 6:07\u202fAM"}[locale]
        assert when(moments[0], "medium") == format_datetime(moments[0], "medium")


@pytest.mark.parametrize(("locale", "expected"), [
    ("tr", ("3.481", "5,2", "—", "%86,7", "%100,0", "7 Aralık 2026", "7 Aralık 2026", "Aralık")),
    ("en", ("3,481", "5.2", "—", "86.7%", "100.0%", "7 December 2026", "7 December 2026", "December")),
])
def test_numbers_percentages_and_days_as_the_reader_writes_them(app, locale, expected):
    with app.test_request_context("/reports"):
        from flask import session

        session["lang"] = locale
        refresh()
        assert (number(3481), number(5.2), number(None), percent(0.867), percent(1), day(datetime(2026, 12, 7, 9)),
                day("2026-12-07"), month_name(12)) == expected
