"""Report figures against hand-counted requests, built through the real engine.

The year is 2027, in Istanbul time (UTC+3); the engine's clock is moved to each
moment. Hand count (hours after receipt):

user_support (Personel E-posta -> systems 2 wd, VPN -> network 2 wd, Staj -> software 3 wd, Diğer -> helpdesk)
  A  Mon 1 Feb 09:00  Personel E-posta  answered 11:00 (2 h)                 SLA met   rated 5
  B  Mon 1 Feb 10:00  Personel E-posta  staff message 14:00 (first 4 h),
                      answered Thu 4 Feb 10:00 (past Wed's due), reopened Fri 10:00,
                      answered again Fri 16:00 (resolution 102 h)            SLA missed rated 2
  C  Tue 2 Feb 09:00  VPN Bağlantısı    never answered                       open
  H  Wed 3 Feb 09:00  Diğer             cancelled 10:00                      neither
  D  Mon 7 Jun 09:00  Staj Yönetim      answered 15:00 (6 h)                 SLA met
call_record
  E  Tue 2 Feb 10:00  solved            (resolved at once, no first answer, no due)
  F  Tue 2 Feb 11:00  lost, called back and reached 13:00 (2 h)              SLA met
  G  Tue 2 Feb 12:00  dropped, not yet called back                           open
  I  Fri 31 Dec 23:30 solved            (2027 in Istanbul, 20:30 UTC)
  J  Sat 1 Jan 2028 00:30 solved        (2028 in Istanbul, 31 Dec 21:30 UTC)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, links, reports, runtime, tasks, users
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.models import HumanTask, ProcessInstance, RequestFact
from engine.workdays import ZONE
from engine.worker import run_due_jobs

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
EMAIL = "elif.demir@ktu.edu.tr"
ANSWER = {"action": "answer", "answer": "Sorununuz çözüldü."}
CALLER = {"requester": "Mert Aydın", "phone": "0532 000 00 00",
          "topic": "Yatay geçiş", "call_summary": "Son tarih soruluyor."}


@pytest.fixture(autouse=True)
def _real_clock():
    yield
    clock.set_shift(timedelta(0))


def _at(db, year, month, day, hour, minute=0):
    """Move the engine's clock to a local (Istanbul) time and run what is due then."""
    when = datetime(year, month, day, hour, minute, tzinfo=ZONE)
    clock.set_shift(timedelta(0))
    clock.set_shift(when - clock.now())
    run_due_jobs(db.factory, FAST)


def _start(db, key, data, actor="portal"):
    with db.tx() as session:
        instance_id = runtime.start_instance(session, key, data=data, actor=actor).id
    run_due_jobs(db.factory, FAST)
    return instance_id


def _support(db, category):
    return _start(db, "user_support", {"requester": "Elif Demir", "requester_email": EMAIL, "category": category,
                                       "subject": "Yardım", "message": "Bir sorunum var."})


def _call(db, outcome):
    return _start(db, "call_record", {**CALLER, "outcome": outcome}, actor="cagri")


def _complete(db, instance_id, username, data):
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state.in_(("ready", "claimed"))))
        tasks.complete_task(session, row.id, users.acting_user(session, username), data)
    run_due_jobs(db.factory, FAST)


def _on_request(db, instance_id, action, *args, **kwargs):
    with db.tx() as session:
        action(session, session.get(ProcessInstance, instance_id), *args, **kwargs)
    run_due_jobs(db.factory, FAST)


@pytest.fixture
def year_2027(db, deploy, make_user):
    links.configure("reports-secret", "http://sek.test")
    for name, group in [("selin", "systems"), ("mert", "network"), ("can", "software"),
                        ("hakan", "helpdesk"), ("cagri", "callcenter")]:
        make_user(name, groups=(group,))
    deploy(*sorted(BPMN.glob("user_support.*")), *sorted(BPMN.glob("call_record.*")))

    _at(db, 2027, 2, 1, 9)
    a = _support(db, "Personel E-posta")
    _at(db, 2027, 2, 1, 10)
    b = _support(db, "Personel E-posta")
    _at(db, 2027, 2, 1, 11)
    _complete(db, a, "selin", ANSWER)
    _on_request(db, a, conversation.rate, 5, email=EMAIL)
    _at(db, 2027, 2, 1, 14)
    with db.tx() as session:
        conversation.add_message(session, b, "Bakıyoruz.", author_kind="staff", author="selin")
        conversation.add_message(session, b, "İç not", author_kind="staff", author="selin", public=False)
    _at(db, 2027, 2, 2, 9)
    _support(db, "VPN Bağlantısı")
    _at(db, 2027, 2, 2, 10)
    _call(db, "solved")
    _at(db, 2027, 2, 2, 11)
    f = _call(db, "lost")
    _at(db, 2027, 2, 2, 12)
    _call(db, "dropped")
    _at(db, 2027, 2, 2, 13)
    _complete(db, f, "cagri", {"callback_result": "reached"})
    _at(db, 2027, 2, 3, 9)
    h = _support(db, "Diğer")
    _at(db, 2027, 2, 3, 10)
    with db.tx() as session:
        runtime.cancel_instance(session, h, actor="hakan", reason="mükerrer")
    _at(db, 2027, 2, 4, 10)
    _complete(db, b, "selin", ANSWER)
    _at(db, 2027, 2, 5, 10)
    _on_request(db, b, conversation.reopen, "Hâlâ olmuyor.", email=EMAIL)
    _at(db, 2027, 2, 5, 16)
    _complete(db, b, "selin", ANSWER)
    _on_request(db, b, conversation.rate, 2, email=EMAIL)
    _at(db, 2027, 6, 7, 9)
    d = _support(db, "Staj Yönetim Sistemi")
    _at(db, 2027, 6, 7, 15)
    _complete(db, d, "can", ANSWER)
    _at(db, 2027, 12, 31, 23, 30)
    _call(db, "solved")
    _at(db, 2028, 1, 1, 0, 30)
    _call(db, "solved")
    return db


def test_the_year_as_hand_counted(year_2027):
    with year_2027.tx() as session:
        figures = reports.summary(session, 2027)
    assert figures == {
        "received": 9, "resolved": 6, "open": 2,
        "by_category": {"Personel E-posta": 2, "Diğer": 1, "Staj Yönetim Sistemi": 1, "VPN Bağlantısı": 1},
        "by_team": {"callcenter": 2, "systems": 2, "helpdesk": 1, "network": 1, "software": 1},
        "by_process": {"user_support": 5, "call_record": 4},
        "first_answer_hours": {"median": 3.0, "p90": 5.4},       # 2, 2, 4, 6
        "resolution_hours": {"median": 2.0, "p90": 54.0},        # 0, 0, 2, 2, 6, 102
        "sla_met_ratio": 0.75,                                   # A, D, F met; B missed
        "reopened": 1,
        "satisfaction": {"mean": 3.5, "count": 2},
        "calls": {"answered": 2, "lost": 2, "called_back": 1},
    }
    assert reports.lost_rate(figures["calls"]) == 0.5


def test_a_month_and_the_next_year(year_2027):
    with year_2027.tx() as session:
        february = reports.summary(session, 2027, 2)
        june = reports.summary(session, "2027", "6")
        next_year = reports.summary(session, 2028)
        march = reports.summary(session, 2027, 3)
    assert (february["received"], february["resolved"], february["open"]) == (7, 4, 2)
    assert february["first_answer_hours"] == {"median": 2.0, "p90": 3.6}      # 2, 2, 4
    assert february["resolution_hours"] == {"median": 2.0, "p90": 72.0}       # 0, 2, 2, 102
    assert february["calls"] == {"answered": 1, "lost": 2, "called_back": 1}
    assert (june["received"], june["resolved"], june["by_team"], june["sla_met_ratio"]) == (1, 1, {"software": 1}, 1.0)
    assert june["resolution_hours"] == {"median": 6.0, "p90": 6.0}
    assert (next_year["received"], next_year["by_process"]) == (1, {"call_record": 1})
    assert march["received"] == 0 and march["first_answer_hours"] == {"median": None, "p90": None}
    assert march["sla_met_ratio"] is None and march["satisfaction"] == {"mean": None, "count": 0}


def test_monthly_series(year_2027):
    with year_2027.tx() as session:
        rows = reports.monthly(session, 2027)
    assert [row["month"] for row in rows] == list(range(1, 13))
    assert [row["received"] for row in rows] == [0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert [row["resolved"] for row in rows] == [0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    february = rows[1]
    assert (february["open"], february["reopened"], february["sla_met_ratio"]) == (2, 1, round(2 / 3, 4))
    assert february["satisfaction"] == {"mean": 3.5, "count": 2}


def test_the_rows_behind_the_figures(year_2027):
    """What a reopened, rated request's fact row says."""
    with year_2027.tx() as session:
        b = session.scalars(select(RequestFact).where(RequestFact.category == "Personel E-posta")
                            .order_by(RequestFact.received_at)).all()[1]
        assert (b.team, b.reopened, b.rating, b.sla_met) == ("systems", 1, 2, False)
        assert abs(b.first_answer_seconds - 4 * 3600) < 60 and abs(b.resolution_seconds - 102 * 3600) < 60
        assert abs(b.due_at - datetime(2027, 2, 3, 10, tzinfo=ZONE)) < timedelta(minutes=1)   # 2 working days


@pytest.mark.parametrize(("year", "month", "fields"), [
    ("abc", None, ["year"]), (1999, None, ["year"]), (2027, 13, ["month"]), (2027, "x", ["month"]),
    ("", 0, ["year", "month"]),
])
def test_a_bad_period_is_refused_by_field(db, year, month, fields):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        reports.summary(session, year, month)
    assert [p.location for p in caught.value.problems] == fields
