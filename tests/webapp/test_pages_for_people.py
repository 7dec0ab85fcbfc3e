"""Staff pages name things as people know them, in the reader's language: groups by their
names (never a slug), steps and categories translated, the request's data and its history
under the forms' titles with formatted values and no internal key."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from engine import runtime, users
from engine.models import HumanTask
from processes.portal import add_unit, set_unit_head_group

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _switch(client, auth, lang="en"):
    client.post("/lang", data={"lang": lang, "csrf_token": auth.csrf("/account"), "next": "/inbox"})


def _support_request(db, deploy) -> tuple[int, int]:
    """A user_support request for the network team: (instance id, its task id)."""
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "VPN Bağlantısı", "subject": "VPN bağlanmıyor", "requester": "Ali Veli",
            "requester_email": "ali@example.edu.tr", "message": "Evden bağlanamıyorum."})
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    return instance.id, task_id


def test_groups_are_named_not_slugged_in_both_languages(client, auth, db, make_user):
    make_user("amir", groups=("unithead-muh",))
    with db.tx() as session:
        users.ensure_group(session, "helpdesk", "Destek Masası")
        users.add_user(session, "destek", groups=("helpdesk",), roles=("staff",), password="parola123")
        unit = add_unit(session, "Mühendislik Fakültesi", actor="admin")
        set_unit_head_group(session, unit.id, "unithead-muh", actor="admin")
    auth.login("amir")
    for path in ("/inbox", "/account"):
        page = client.get(path).get_data(as_text=True)
        assert "Mühendislik Fakültesi birim amirleri" in page, path
        assert ">unithead-muh<" not in page and "unithead-muh," not in page
    _switch(client, auth)
    assert "Heads of Mühendislik Fakültesi" in client.get("/inbox").get_data(as_text=True)

    auth.logout()
    auth.login("destek")
    _switch(client, auth, "tr")
    assert "Destek Masası" in client.get("/account").get_data(as_text=True)   # the admin's title in Turkish
    _switch(client, auth)
    assert "Help Desk and 24/7 Hotline" in client.get("/account").get_data(as_text=True)   # the catalog's English


def test_task_and_request_pages_name_the_group_and_translate_the_step_filter(client, auth, db, deploy, make_user):
    instance_id, task_id = _support_request(db, deploy)
    make_user("ag", groups=("network",))
    auth.login("ag")
    task_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<strong>Ağ Hizmetleri Planlama Destek Grubu</strong>" in task_page
    request_page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "<td>Ağ Hizmetleri Planlama Destek Grubu</td>" in request_page and "<td>network</td>" not in request_page
    inbox = client.get("/inbox?section=group").get_data(as_text=True)
    assert '<option value="Talebi çöz" >Talebi çöz</option>' in inbox
    _switch(client, auth)
    inbox = client.get("/inbox?section=group").get_data(as_text=True)
    assert '<option value="Talebi çöz" >Resolve the request</option>' in inbox   # the value stays the filter's
    assert "<strong>Network Services Planning and Support</strong>" in client.get(f"/tasks/{task_id}").get_data(
        as_text=True)


def test_the_request_page_and_its_history_show_titles_and_formatted_values(client, auth, db, deploy, make_user):
    instance_id, task_id = _support_request(db, deploy)
    make_user("ag", groups=("network",))
    auth.login("ag")
    client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf(f"/tasks/{task_id}")})
    done = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": auth.csrf(f"/tasks/{task_id}"), "action": "answer", "answer": "İstemciyi güncelleyin."})
    assert done.status_code == 302

    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="data-table"' not in page and 'data-testid="data-panel"' in page
    assert '<h2 class="h5" data-testid="request-subject">VPN bağlanmıyor</h2>' in page
    history = page[page.index('data-testid="timeline"'):]
    assert "Yanıt (talep sahibine gönderilir)" in history and 'data-key="answer"' in history
    assert "İşlem" in history and "Yanıtla: talep çözüldü" in history   # the choice by its title, not "answer"
    for internal in ("due_at", "lead_email", "due_days", ">answer<", ">action<", ">category<"):
        assert internal not in page, internal
    assert not ISO_TIMESTAMP.search(page)

    _switch(client, auth)
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    panel = page[page.index('data-testid="data-panel"'):]
    assert "Topic (category)" in panel[:panel.index("</dl>")] and "VPN connection" in panel[:panel.index("</dl>")]
    history = page[page.index('data-testid="timeline"'):]
    assert "Answer (sent to the requester)" in history and "Answer: the request is resolved" in history


def test_a_cancel_reason_is_shown_under_its_word(client, auth, db, deploy, make_user):
    instance_id, _task_id = _support_request(db, deploy)
    make_user("root", groups=(), roles=("admin",))
    with db.tx() as session:
        runtime.cancel_instance(session, instance_id, actor="root", reason="Yanlışlıkla açıldı")
    auth.login("root")
    history = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    history = history[history.index('data-testid="timeline"'):]
    assert re.search(r"<dt[^>]*>Gerekçe</dt>\s*<dd[^>]*data-key=\"reason\">Yanlışlıkla açıldı</dd>", history)


def test_a_call_back_task_shows_the_callers_phone_and_no_data_key(client, auth, db, deploy, make_user):
    """A call has no contact card (no e-mail): the panel keeps the phone, masked as ever."""
    deploy(BPMN / "call_record.bpmn", *sorted(BPMN.glob("call_record.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "call_record", actor="portal", data={
            "requester": "Arayan", "phone": "0532 111 22 33", "subject": "Kayıt yenileme",
            "topic": "Kayıt yenileme ücreti", "outcome": "lost"})
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    make_user("cagri", groups=("callcenter",))
    auth.login("cagri")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    panel = page[page.index('data-testid="data-panel"'):]
    assert re.search(r'data-key="phone">\s*0532 \*\*\* \*\* 33', panel)
    assert '<span data-testid="request-requester">Arayan</span>' in page
    assert "(requester, phone)" not in page and "adı ve telefonu talep bilgilerinde" in page
