"""The tracking page tells the truth: the status the process declared, since when, the
history of statuses, and what the requester was mailed (the VPN user name and the
instructions, a refusal's reason), in the requester's language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, links, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.models import HumanTask
from engine.workdays import ZONE
from engine.worker import run_due_jobs

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
EMAIL = "elif.sahin@example.edu.tr"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)


@pytest.fixture
def vpn(app, db, deploy, make_user):
    clock.pin(MONDAY)   # after the app, which sets the clock from its configuration
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    make_user("vpn.amir", groups=("unitheads",), roles=("staff", "admin"))
    make_user("vpn.ag", groups=("network",))

    def start(locale: str = "tr") -> tuple[int, str]:
        with db.tx() as session:
            instance = runtime.start_instance(session, "vpn_request", actor="portal", data={
                "requester": "Elif Şahin", "requester_email": EMAIL, "unit": "Kimya Bölümü", "subject": "VPN erişimi",
                "purpose": "Evden laboratuvar sunucusunun yönetimi", "target_systems": ["10.12.4.20"],
                "start_date": "2026-11-02", "end_date": "2026-11-12"})
            conversation.record_contact(session, instance.id, name="Elif Şahin", email=EMAIL, locale=locale)
            return instance.id, instance.tracking_code
    yield start
    clock.set_shift(timedelta(0))


def _complete(db, instance_id: int, bpmn_id: str, username: str, data: dict, at: datetime) -> None:
    clock.pin(at)
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))
        tasks.complete_task(session, row.id, users.acting_user(session, username), data)
    run_due_jobs(db.factory, FAST)


def _page(client, code: str) -> str:
    links.configure("test-secret-key", "http://localhost")
    assert client.get(f"/takip/{code}?k={links.tracking_key(code, EMAIL)}").status_code == 302
    response = client.get(f"/takip/{code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _status(html: str) -> str:
    block = re.search(r'data-testid="track-status">(.*?)</div>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


def _history(html: str) -> list[str]:
    block = re.search(r'data-testid="status-history">(.*?)</ol>', html, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li.*?</li>", block, re.S)]


def test_the_requester_sees_each_status_with_its_date_and_the_vpn_instructions(vpn, db, client):
    instance_id, code = vpn()
    html = _page(client, code)
    assert _status(html) == "Durum: Birim amirinizin onayında (2.11.2026 10:00 tarihinden beri)"

    _complete(db, instance_id, "approve_request", "vpn.amir", {"approval": "approve"},
              datetime(2026, 11, 3, 9, 30, tzinfo=ZONE))
    assert _status(_page(client, code)) == "Durum: Ağ ekibi kurulum yapıyor (3.11.2026 09:30 tarihinden beri)"

    _complete(db, instance_id, "set_up_vpn", "vpn.ag", {
        "vpn_username": "elif.sahin-vpn", "setup_notes": "FortiClient ile vpn.example.edu.tr adresine bağlanın."},
        datetime(2026, 11, 3, 14, 0, tzinfo=ZONE))
    html = _page(client, code)
    assert _status(html) == ("Durum: Kuruldu: VPN erişiminiz bitiş tarihine kadar açık "
                             "(3.11.2026 14:00 tarihinden beri)")
    assert _history(html) == [
        "2.11.2026 10:00 · Birim amirinizin onayında",
        "3.11.2026 09:30 · Ağ ekibi kurulum yapıyor",
        "3.11.2026 14:00 · Kuruldu: VPN erişiminiz bitiş tarihine kadar açık VPN kullanıcı adı elif.sahin-vpn "
        "Bağlantı talimatları FortiClient ile vpn.example.edu.tr adresine bağlanın. "
        "Geçerlilik 02.11.2026 - 12.11.2026",
    ]


def test_a_refusal_shows_its_reason_in_english_for_an_english_requester(vpn, db, client):
    instance_id, code = vpn(locale="en")
    _complete(db, instance_id, "approve_request", "vpn.amir",
              {"approval": "reject", "rejection_reason": "Your work does not need VPN access."},
              datetime(2026, 11, 2, 15, 0, tzinfo=ZONE))
    html = _page(client, code)
    assert _status(html) == "Status: Refused (closed on 11/2/26, 3:00 PM)"
    assert _history(html)[-1] == "11/2/26, 3:00 PM · Refused Reason for rejection Your work does not need VPN access."

