"""One date rule, every door: the portal, the task page, the API (start and complete) and
the CLI refuse what processes/<key>/validate.py refuses, naming the field; and a refused
portal form keeps its files (webapp/portal/pending.py)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock, runtime, tasks, users
from engine.models import Attachment, HumanTask, ProcessInstance
from engine.workdays import ZONE
from processes.portal import ensure_units

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SEK = Path(sys.executable).parent / "sek"
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
QUESTION = re.compile(r'data-testid="captcha-question">([^<]+)<')
TOKEN = re.compile(r'name="captcha_token" value="([^"]+)"')
PENDING = re.compile(r'name="pending_uploads" value="([^"]+)"')
REMOVE = re.compile(r'name="remove_pending" value="([0-9a-f]+)"')
NUMBERS = {"sıfır": 0, "bir": 1, "iki": 2, "üç": 3, "dört": 4, "beş": 5, "altı": 6, "yedi": 7, "sekiz": 8,
           "dokuz": 9}
END_BEFORE_START = "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."
VPN = {"requester": "Elif Şahin", "requester_email": "elif.sahin@example.edu.tr", "unit": "Kimya Bölümü",
       "subject": "VPN erişimi", "purpose": "Evden laboratuvar sunucusunun yönetimi", "target_systems": ["10.12.4.20"],
       "start_date": "2026-11-05", "end_date": "2026-11-03"}


@pytest.fixture
def pinned(app):
    clock.pin(MONDAY)   # after the app, which sets the clock from its configuration
    yield
    clock.set_shift(timedelta(0))


@pytest.fixture
def vpn(pinned, db, deploy):
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    with db.tx() as session:
        ensure_units(session, ["Kimya Bölümü"])


def _count(db, model) -> int:
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(model))


def _field_error(page: str, name: str) -> str | None:
    match = re.search(rf'data-testid="error-{name}">(.*?)</div>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else None


def _solve(question: str) -> int:
    words = html.unescape(question).lower().replace("?", "").split()
    a, b = (NUMBERS[w] for w in words if w in NUMBERS)
    return a + b if "artı" in words else a - b


def _send(client, page: str, files=(), **fields):
    data = {"requester": "Elif Şahin", "requester_email": "elif.sahin@example.edu.tr", "national_id": "10000000146",
            "unit": "Kimya Bölümü", "subject": "VPN erişimi", "message": "Evden sunucuya erişmem gerekiyor.",
            "purpose": "Evden laboratuvar sunucusunun yönetimi", "target_systems": "10.12.4.20",
            "start_date": "2026-11-05", "end_date": "2026-11-03", "website": "",
            "csrf_token": CSRF.search(page).group(1), "captcha_token": TOKEN.search(page).group(1),
            "captcha_answer": str(_solve(QUESTION.search(page).group(1)))}
    if found := PENDING.search(page):
        data["pending_uploads"] = html.unescape(found.group(1))
    data.update(fields)
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/talep/vpn_request", data=data, content_type="multipart/form-data")


def test_the_portal_refuses_the_date_under_its_field_and_keeps_the_files(vpn, app, client, db):
    page = client.get("/talep/vpn_request").get_data(as_text=True)
    refused = _send(client, page, files=[("plan.txt", b"erisim plani"), ("not.txt", b"ikinci dosya")])
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert _field_error(page, "end_date") == END_BEFORE_START
    assert re.findall(r'data-testid="pending-file">([^<]*)<', page) == ["plan.txt", "not.txt"]
    assert 'data-testid="files-again"' not in page
    assert _count(db, ProcessInstance) == 0
    pending = Path(app.config["SEK_DATA_DIR"]) / "pending"
    assert len(list(pending.iterdir())) == 2

    # Corrected, with one kept file removed and nothing chosen again: the other goes with the request.
    second = REMOVE.findall(page)[1]
    sent = _send(client, page, end_date="2026-11-12", remove_pending=second)
    assert sent.status_code == 302, _field_error(sent.get_data(as_text=True), "end_date")
    with db.tx() as session:
        assert list(session.scalars(select(Attachment.filename))) == ["plan.txt"]
    assert list(pending.iterdir()) == []


def test_a_forged_pending_token_keeps_nothing(vpn, client, db):
    page = client.get("/talep/vpn_request").get_data(as_text=True)
    sent = _send(client, page, end_date="2026-11-12", pending_uploads="forged.token")
    assert sent.status_code == 302
    assert _count(db, Attachment) == 0


def test_the_api_start_is_422_naming_the_field(vpn, client, db, make_user):
    make_user("ayse", groups=("network",))
    with db.tx() as session:
        headers = {"Authorization": f"Bearer {users.create_token(session, 'ayse')}"}
    response = client.post("/api/v1/processes/vpn_request/instances", headers=headers, json={"data": VPN})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"end_date": ["The end date must be after the start date."]}
    assert _count(db, ProcessInstance) == 0


def test_the_cli_start_refuses_with_one_line(vpn, db, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, PYTHONUTF8="1", SEK_CLOCK_AT=MONDAY.isoformat())
    proc = subprocess.run([str(SEK), "start", "vpn_request", "--data", json.dumps(VPN)], env=env,
                          capture_output=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 1, proc
    [line] = proc.stderr.strip().splitlines()
    assert "end_date: The end date must be after the start date." in line
    assert _count(db, ProcessInstance) == 0


@pytest.fixture
def deciding(pinned, db, deploy, make_user):
    """A software request waiting for the department head's decision."""
    make_user("baskan", groups=("management",))
    make_user("yazilimci", groups=("software",))
    deploy(*sorted(BPMN.glob("software_request.*")), *sorted(BPMN.glob("software_development.*")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "software_request", actor="portal", data={
            "requester": "Aylin Kara", "requester_email": "aylin.kara@example.edu.tr", "subject": "Anket",
            "software_name": "Mezuniyet anketi", "need_description": "Mezunlara çevrim içi anket.",
            "user_group": "öğrenci", "user_count": 4000, "desired_date": "2027-03-01",
            "existing_system_could_serve": False})
        evaluate = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        tasks.complete_task(session, evaluate.id, users.acting_user(session, "yazilimci"), {
            "effort_days": 12.5, "priority": "orta", "technical_note": "BYS'den liste.", "recommendation": "onay"})
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.bpmn_id == "decide"))


TODAY_DEFERRAL = {"decision": "erteleme", "reconsider_date": "2026-11-02"}


def test_the_api_complete_is_422_naming_the_field(deciding, client, db):
    with db.tx() as session:
        headers = {"Authorization": f"Bearer {users.create_token(session, 'baskan')}"}
    response = client.post(f"/api/v1/tasks/{deciding}/complete", headers=headers, json={"data": TODAY_DEFERRAL})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "reconsider_date": ["The reconsideration date must be after today."]}


def test_the_task_page_shows_the_rule_under_the_field(deciding, client, auth, db):
    auth.login("baskan")
    page = client.get(f"/tasks/{deciding}").get_data(as_text=True)
    response = client.post(f"/tasks/{deciding}/complete", data={
        "csrf_token": CSRF.search(page).group(1), **TODAY_DEFERRAL})
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "reconsider_date") == (
        "Yeniden değerlendirme tarihi bugünden sonra olmalıdır.")
    with db.tx() as session:
        assert session.get(HumanTask, deciding).state in ("ready", "claimed")
