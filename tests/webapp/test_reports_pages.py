"""Report pages, CSV and the summary API: who may see them and what they show."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from engine import runtime
from engine.workdays import ZONE

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CALLER = {"requester": "Mert Aydın", "phone": "0532 000 00 00",
          "topic": "Yatay geçiş", "call_summary": "Son tarih soruluyor."}
YEAR = datetime.now(ZONE).year
MONTH = datetime.now(ZONE).month


@pytest.fixture
def calls(db, deploy, make_user):
    """Three calls this month: two answered, one lost; a manager, a staff member, an admin."""
    deploy(*sorted(BPMN.glob("call_record.*")))
    make_user("mudur", groups=(), roles=("manager",))
    make_user("ayse", groups=("callcenter",), roles=("staff",))
    make_user("yonetici", groups=(), roles=("admin",))
    with db.tx() as session:
        for outcome in ("solved", "not_our_remit", "lost"):
            runtime.start_instance(session, "call_record", data={**CALLER, "outcome": outcome}, actor="ayse")
    return db


def test_staff_are_refused_and_see_no_link(client, auth, calls):
    auth.login("ayse")
    assert 'data-testid="nav-reports"' not in client.get("/inbox").get_data(as_text=True)
    for path in ("/reports", f"/reports/{YEAR}.csv", f"/reports/{YEAR}/{MONTH}", f"/reports/{YEAR}/{MONTH}.csv",
                 f"/api/v1/reports/summary?year={YEAR}"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("username", ["mudur", "yonetici"])
def test_a_manager_or_admin_sees_the_year(client, auth, calls, username):
    auth.login(username)
    assert 'data-testid="nav-reports"' in client.get("/inbox").get_data(as_text=True)
    page = client.get(f"/reports?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-figure="received">3<' in html and 'data-figure="answered">2<' in html
    assert 'data-figure="lost">1<' in html and 'data-figure="lost_rate">%33,3<' in html   # Turkish: %33,3
    assert "chart.umd.min.js" in html and "reports.js" in html and "<script>" not in html
    assert 'data-chart="{&#34;' in html                      # the chart's JSON, escaped into the attribute


def test_figures_and_names_are_in_the_readers_language(client, auth, calls):
    """Turkish (the default) writes %33,3 and Ocak; English 33.3% and January."""
    auth.login("mudur")
    html = client.get(f"/reports?year={YEAR}").get_data(as_text=True)
    assert 'data-figure="lost_rate">%33,3<' in html and "<td>Ocak</td>" in html
    assert "Çağrı ve İletişim Merkezi" in html           # the team's name, not its slug
    client.post("/lang", data={"lang": "en", "csrf_token": auth.csrf("/inbox")})
    html = client.get(f"/reports?year={YEAR}").get_data(as_text=True)
    assert 'data-figure="lost_rate">33.3%<' in html and "<td>January</td>" in html
    assert "Call and Contact Centre" in html and "Call Centre Call Record" in html


def test_the_printable_month(client, auth, calls):
    auth.login("mudur")
    page = client.get(f"/reports/{YEAR}/{MONTH}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "reports.css" in html and "data-print" in html
    assert 'data-figure="called_back">0<' in html and "Çağrı merkezi" in html
    assert client.get(f"/reports/{YEAR}/13").status_code == 422


def test_csv_parses_back(client, auth, calls):
    auth.login("mudur")
    answer = client.get(f"/reports/{YEAR}.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert f"sek-report-{YEAR}.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["month"] for row in rows] == [str(m) for m in range(1, 13)] + ["total"]
    this_month, total = rows[MONTH - 1], rows[-1]
    assert (this_month["received"], this_month["calls_answered"], this_month["calls_lost"]) == ("3", "2", "1")
    assert (total["received"], total["lost_call_rate"]) == ("3", "0.3333")

    month = client.get(f"/reports/{YEAR}/{MONTH}.csv")
    figures = {(r["section"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(month.get_data(as_text=True)))}
    assert figures[("total", "received")] == "3" and figures[("by_process", "call_record")] == "3"
    assert figures[("calls", "lost")] == "1" and figures[("by_team", "callcenter")] == "1"


def test_api_summary_shape_and_refusals(client, auth, calls):
    auth.login("mudur")
    answer = client.get(f"/api/v1/reports/summary?year={YEAR}&month={MONTH}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"received", "resolved", "open", "by_category", "by_team", "by_process",
                         "first_answer_hours", "resolution_hours", "sla_met_ratio", "reopened",
                         "satisfaction", "calls"}
    assert (body["received"], body["resolved"], body["open"]) == (3, 2, 1)
    assert body["calls"] == {"answered": 2, "lost": 1, "called_back": 0}
    assert body["first_answer_hours"] == {"median": None, "p90": None}
    assert body["resolution_hours"]["median"] is not None
    assert body["satisfaction"] == {"mean": None, "count": 0}

    bad = client.get("/api/v1/reports/summary?year=abc&month=13")
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"year", "month"}
    assert client.get("/api/v1/reports/summary").status_code == 422

    document = client.get("/api/v1/openapi.json").get_json()
    assert "get" in document["paths"]["/api/v1/reports/summary"]
