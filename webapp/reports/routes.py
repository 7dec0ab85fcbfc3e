"""Report pages: the year with its months and charts, CSV downloads, the printable month.

Read-only views over :mod:`engine.reports` (never the workflows); managers and
admins only.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Response, render_template, request
from flask_babel import gettext as _

from engine import reports
from engine.workdays import ZONE

from ..auth import require_role
from ..extensions import db
from ..templating import category_title, month_name, process_title, team_title
from . import bp

ROLE = "manager"
MONTHLY_COLUMNS = ("month", "received", "resolved", "open", "reopened", "sla_met_ratio", "satisfaction_mean",
                   "ratings", "calls_answered", "calls_lost", "calls_called_back", "lost_call_rate")


def _this_year() -> int:
    return datetime.now(ZONE).year


def _flat(month, figures: dict) -> dict:
    """One CSV/table row of the common figures."""
    calls = figures["calls"]
    return {
        "month": month, "received": figures["received"], "resolved": figures["resolved"], "open": figures["open"],
        "reopened": figures["reopened"], "sla_met_ratio": figures["sla_met_ratio"],
        "satisfaction_mean": figures["satisfaction"]["mean"], "ratings": figures["satisfaction"]["count"],
        "calls_answered": calls["answered"], "calls_lost": calls["lost"], "calls_called_back": calls["called_back"],
        "lost_call_rate": reports.lost_rate(calls),
    }


def _cell(value) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is neutralized."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[list], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


WHOLE = {"beginAtZero": True, "ticks": {"precision": 0}}   # counts: no 0.2 steps


def _charts(year_figures: dict, months: list[dict]) -> dict:
    """What reports.js draws: Chart.js configurations, handed over in data-* attributes."""
    labels = [month_name(m["month"]) for m in months]
    return {
        "monthly": {"type": "bar", "options": {"scales": {"y": WHOLE}}, "data": {"labels": labels, "datasets": [
            {"label": _("Received"), "data": [m["received"] for m in months]},
            {"label": _("Resolved"), "data": [m["resolved"] for m in months]},
        ]}},
        "category": {"type": "bar", "options": {"indexAxis": "y", "scales": {"x": WHOLE}}, "data": {
            "labels": [category_title(name) for name in year_figures["by_category"]],
            "datasets": [{"label": _("Requests"), "data": list(year_figures["by_category"].values())}]}},
        "team": {"type": "bar", "options": {"scales": {"y": WHOLE}}, "data": {
            "labels": [team_title(name) for name in year_figures["by_team"]],
            "datasets": [{"label": _("Requests"), "data": list(year_figures["by_team"].values())}]}},
    }


def _years(year: int) -> list[int]:
    """The year picker: the last fifteen years, and the one shown."""
    this = _this_year()
    return sorted({*range(this - 14, this + 1), year}, reverse=True)


@bp.get("")
@require_role(ROLE)
def index():
    year, _month = reports.check_period(request.args.get("year") or _this_year())
    return _year_page(year)


@bp.get("/<int:year>")
@require_role(ROLE)
def year_page(year: int):
    """The same yearly page at an address of its own (``/reports/2023``)."""
    if not reports.FIRST_YEAR <= year <= reports.LAST_YEAR:
        message = _("There is no report for %(year)s: reports cover the years %(first)s to %(last)s.",
                    year=year, first=reports.FIRST_YEAR, last=reports.LAST_YEAR)
        return render_template("errors/error.html", status=404, title=_("Not found"), message=message), 404
    return _year_page(year)


def _year_page(year: int):
    figures = reports.summary(db.session, year)
    months = reports.monthly(db.session, year)
    return render_template("reports/index.html", year=year, figures=figures, months=months,
                           rows=[_flat(m["month"], m) for m in months], total=_flat(_("Year"), figures),
                           charts=_charts(figures, months), lost_rate=reports.lost_rate(figures["calls"]),
                           years=_years(year), process_title=process_title)


@bp.get("/<int:year>.csv")
@require_role(ROLE)
def year_csv(year: int):
    year, _month = reports.check_period(year)
    figures = reports.summary(db.session, year)
    rows = [_flat(m["month"], m) for m in reports.monthly(db.session, year)] + [_flat("total", figures)]
    return _csv([list(MONTHLY_COLUMNS)] + [[row[c] for c in MONTHLY_COLUMNS] for row in rows],
                 f"sek-report-{year}.csv")


def _month_rows(figures: dict) -> list[list]:
    """A month's figures as ``section, key, value`` rows."""
    rows = [["section", "key", "value"]]
    rows += [["total", key, figures[key]] for key in ("received", "resolved", "open", "reopened", "sla_met_ratio")]
    for section in ("first_answer_hours", "resolution_hours", "satisfaction", "calls"):
        rows += [[section, key, value] for key, value in figures[section].items()]
    rows.append(["calls", "lost_call_rate", reports.lost_rate(figures["calls"])])
    for section in ("by_category", "by_team", "by_process"):
        rows += [[section, key, value] for key, value in figures[section].items()]
    return rows


@bp.get("/<int:year>/<int:month>.csv")
@require_role(ROLE)
def month_csv(year: int, month: int):
    year, month = reports.check_period(year, month)
    return _csv(_month_rows(reports.summary(db.session, year, month)), f"sek-report-{year}-{month:02d}.csv")


@bp.get("/<int:year>/<int:month>")
@require_role(ROLE)
def month(year: int, month: int):
    year, month = reports.check_period(year, month)
    figures = reports.summary(db.session, year, month)
    return render_template("reports/month.html", year=year, month=month, figures=figures,
                           lost_rate=reports.lost_rate(figures["calls"]), process_title=process_title,
                           generated=datetime.now(ZONE))
