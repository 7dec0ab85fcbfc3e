"""The search page: the form, then the results a page at a time (no total: a search costs
the same however many requests there are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import personal, search
from engine.errors import Problem, ValidationError
from engine.models import InstanceStatus
from processes.user_support.recategorize import CATEGORIES

from .. import personal_data
from ..extensions import db
from ..inbox.forms import problem_text
from . import bp

PER_PAGE = 20
PAGE_MAX = 500
DATE_FIELDS = ("received_from", "received_to")


@dataclass(frozen=True)
class Row:
    """A hit as the page shows it: the requester's e-mail masked as personal_data.py says."""

    hit: search.Hit
    requester: str

    @property
    def status(self) -> str:   # instances/_status.html reads ``i.status``
        return self.hit.status


def read_query(args) -> tuple[search.Query, int, list[Problem]]:
    """The search, the page number and the problems of the query string, by field name."""
    problems: list[Problem] = []
    days: dict[str, date | None] = {}
    for name in DATE_FIELDS:
        value = (args.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            days[name] = None
            problems.append(Problem(name, "not a date (YYYY-MM-DD)", "format", {"limit": "date"}))
    try:
        page = int(args.get("page") or 1)
    except ValueError:
        page = 0
    if not 1 <= page <= PAGE_MAX:
        problems.append(Problem("page", f"a page from 1 to {PAGE_MAX}", "maximum", {"limit": PAGE_MAX}))
        page = 1
    if days["received_from"] and days["received_to"] and days["received_to"] < days["received_from"]:
        # the engine finds nothing for it; the page says why
        problems.append(Problem("received_to", "the end of the range is before its start", "range"))
    query = search.Query(args.get("q") or "", (args.get("category") or "").strip() or None,
                         args.get("status") or None, days["received_from"], days["received_to"])
    return query, page, problems


@bp.get("")
@login_required
def index():
    query, page, problems = read_query(request.args)
    rows: list[Row] = []
    has_more = False
    searched = bool(query.text.strip() or query.category or query.status or query.received_from
                    or query.received_to)
    try:
        query = search.check(query)
    except ValidationError as exc:
        problems += exc.problems
    if searched and not problems:
        hits = search.search(db.session, current_user, query, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
        has_more = len(hits) > PER_PAGE
        rows = [Row(hit, _requester(hit)) for hit in hits[:PER_PAGE]]
    errors = {p.location: _wording(p) for p in problems}
    return render_template(
        "search/index.html", query=query, page=page, rows=rows, has_more=has_more, searched=searched,
        errors=errors, categories=CATEGORIES, statuses=list(InstanceStatus), query_max=search.QUERY_MAX,
    ), 422 if errors else 200


def _requester(hit: search.Hit) -> str:
    if not hit.requester_name and not hit.requester_email:
        return ""
    email = personal.mask_value(personal.EMAIL, hit.requester_email,
                                personal_data.clear_fields(hit.instance_id))
    return f"{hit.requester_name} <{email}>" if hit.requester_email else hit.requester_name


def _wording(problem: Problem) -> str:
    if problem.code == "range":
        return _("The end date is before the start date.")
    return problem_text(problem)
