"""``sek demo --year 2023``: the yearly report shows seed 000's figures exactly, once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine import reports
from engine.models import HumanTask, ProcessInstance, RequestContact, ServiceRating
from processes import demo_year
from processes.user_support.recategorize import CATEGORIES
from tests.conftest import BPMN


def test_the_2023_report_shows_the_seed_totals_and_a_second_run_changes_nothing(db, deploy):
    deploy(BPMN)
    with db.tx() as session:
        line = demo_year.load_year(session, 2023)
    assert line == "demo year 2023: 3481 requests loaded, 3464 resolved, 17 open"

    with db.tx() as session:
        report = reports.summary(session, 2023)
    assert (report["received"], report["resolved"], report["open"]) == (3481, 3464, 17)
    ranked = sorted(report["by_category"].items(), key=lambda item: -item[1])
    assert ranked[0] == ("Personel E-posta", 1311)
    assert ranked[1][0] == "Staj Yönetim Sistemi" and 302 < ranked[1][1] < 1311
    assert ranked[2] == ("VPN Bağlantısı", 302)
    assert set(report["by_category"]) == set(CATEGORIES)
    assert sum(report["by_category"].values()) == 3481

    with db.tx() as session:
        again = demo_year.load_year(session, 2023)
        assert again == "demo year 2023: already loaded (3481 requests), nothing changed"
        assert reports.summary(session, 2023)["received"] == 3481
        # Every request has its requester; the open ones wait in their team's inbox.
        assert session.scalar(select(func.count()).select_from(RequestContact)) == 3481
        open_groups = session.scalars(select(HumanTask.group_name).where(HumanTask.state == "ready")).all()
        assert len(open_groups) == 17 and set(open_groups) <= {"helpdesk", "network", "systems", "software"}
        assert session.scalar(select(func.count()).select_from(ServiceRating)) > 500
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 3481


def test_requests_arrive_like_a_real_year():
    """Quiet August and Bayram, busy term starts, working hours; first answers differ by team."""
    requests = demo_year.generate(2023)
    by_month = [sum(1 for r in requests if r["received_at"].month == m) for m in range(1, 13)]
    assert by_month[7] == min(by_month)                    # August
    assert by_month[9] > by_month[8] and by_month[1] > by_month[0]   # October, February term starts
    kurban = sum(1 for r in requests if date(2023, 6, 27) <= r["received_at"].date() <= date(2023, 7, 1))
    assert kurban < 3481 / 365 * 5 / 4
    assert all(8 <= r["received_at"].hour <= 17 for r in requests)
    assert all(r["first_answer_at"] > r["received_at"] for r in requests if r["first_answer_at"])
    assert all(r["received_at"].year == r["resolved_at"].year == 2023 for r in requests if r["resolved_at"])
    assert sum(1 for r in requests if r["reopened"]) > 50
    assert demo_year.generate(2023) == requests           # deterministic

    def median_wait(team):
        waits = sorted(r["first_answer_at"] - r["received_at"] for r in requests
                       if r["team"] == team and r["first_answer_at"])
        return waits[len(waits) // 2]

    assert median_wait("software") > median_wait("systems") > median_wait("helpdesk")
