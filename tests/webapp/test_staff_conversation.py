"""Staff write on a request's conversation: internal notes stay inside, public messages
are mailed to the requester; the panel shows the requester, the conversation and files."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from engine import conversation, runtime
from engine.models import AuditEvent, HumanTask, MailMessage, RequestMessage

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _request(db, deploy, category="Kablosuz Ağ (eduroam)"):
    """A user_support request from the portal (category's team: network), with its requester."""
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": category, "subject": "eduroam bağlanmıyor", "requester": "Elif Şahin",
            "requester_email": "elif@ogr.example.edu.tr"})
        conversation.record_contact(session, instance.id, name="Elif Şahin", email="elif@ogr.example.edu.tr",
                                    national_id="12345678950", unit="Fen Fakültesi", phone="1234")
        conversation.add_message(session, instance.id, "Telefonum eduroam'a bağlanmıyor.", author_kind="requester",
                                 author="elif@ogr.example.edu.tr", actor="requester:elif@ogr.example.edu.tr")
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
        return instance.id, task_id


def _message_mails(db, instance_id):
    with db.tx() as session:
        return list(session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id,
                                                              MailMessage.template == "message")))


def _kinds(page: str) -> list[str]:
    return re.findall(r'data-testid="message" data-kind="(\w+)"', page)


def test_a_note_stays_inside_and_a_public_message_is_mailed(client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    instance_id, task_id = _request(db, deploy)
    auth.login("ag")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="conversation"' in page and "Elif Şahin" in page and "Fen Fakültesi" in page
    assert "123******50" in page and "12345678950" not in page   # staff see the TC number masked
    assert _kinds(page) == ["requester"]

    token = auth.csrf(f"/tasks/{task_id}")
    response = client.post(f"/tasks/{task_id}/messages", data={
        "csrf_token": token, "kind": "note", "message": "Sertifika sorunu olabilir, kontrol ediyorum."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}#conversation")
    assert _message_mails(db, instance_id) == []

    response = client.post(f"/tasks/{task_id}/messages", data={
        "csrf_token": token, "kind": "public", "message": "Profili yeniden yükleyip tekrar dener misiniz?"})
    assert response.status_code == 302
    mails = _message_mails(db, instance_id)
    assert [m.recipients for m in mails] == ["elif@ogr.example.edu.tr"]
    assert "Profili yeniden yükleyip" in mails[0].body

    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert _kinds(page) == ["requester", "note", "public"]
    with db.tx() as session:
        public = [m.body for m in conversation.messages_of(session, instance_id)]
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id))]
    assert public == ["Telefonum eduroam'a bağlanmıyor.", "Profili yeniden yükleyip tekrar dener misiniz?"]
    assert actions.count("request.note") == 1 and actions.count("request.message") == 2


def test_the_instance_page_has_the_panel_and_an_empty_message_keeps_the_choice(client, auth, make_user, db, deploy):
    make_user("destek", groups=("helpdesk",))   # the help desk watches every support request
    instance_id, _ = _request(db, deploy)
    auth.login("destek")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="conversation"' in page and "123******50" in page
    response = client.post(f"/instances/{instance_id}/messages", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "kind": "public", "message": "   "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="error-message"' in page
    assert re.search(r'id="kind-public" value="public"\s+checked', page)
    response = client.post(f"/instances/{instance_id}/messages", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "kind": "public", "message": "x" * 10001})
    assert response.status_code == 422 and "x" * 10001 in response.get_data(as_text=True)
    with db.tx() as session:
        assert session.scalar(select(RequestMessage).where(RequestMessage.author_kind == "staff")) is None
    assert _message_mails(db, instance_id) == []


def test_a_message_with_a_control_character_is_refused_and_shown_again_without_it(client, auth, make_user, db,
                                                                                 deploy):
    make_user("ag", groups=("network",))
    instance_id, task_id = _request(db, deploy)
    auth.login("ag")
    response = client.post(f"/tasks/{task_id}/messages", data={
        "csrf_token": auth.csrf(f"/tasks/{task_id}"), "kind": "public", "message": "Sertifikayı\x00 yeniledik."})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'data-testid="error-message"[^>]*>(.*?)<', page, re.S).group(1)
    assert "görünmez bir denetim karakteri (U+0000)" in error
    assert "Sertifikayı yeniledik.</textarea>" in page and "\x00" not in page
    with db.tx() as session:
        assert session.scalar(select(RequestMessage).where(RequestMessage.author_kind == "staff")) is None
    assert _message_mails(db, instance_id) == []


def test_admins_see_the_whole_national_id_after_a_recorded_view(client, auth, make_user, db, deploy):
    make_user("admin", groups=(), roles=("admin",))
    instance_id, _ = _request(db, deploy)
    auth.login("admin")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "123******50" in page and "12345678950" not in page   # masked by default (webapp/personal_data.py)
    client.post(f"/instances/{instance_id}/personal-data", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "next": f"/instances/{instance_id}"})
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "12345678950" in page


def test_staff_of_an_unrelated_group_may_not_write(client, auth, make_user, db, deploy):
    make_user("yazilim", groups=("software",))
    instance_id, task_id = _request(db, deploy)
    auth.login("yazilim")
    token = auth.csrf("/inbox")
    assert client.get(f"/tasks/{task_id}").status_code == 403
    assert client.get(f"/instances/{instance_id}").status_code == 403
    for path in (f"/tasks/{task_id}/messages", f"/instances/{instance_id}/messages"):
        response = client.post(path, data={"csrf_token": token, "kind": "note", "message": "görmemem gerek"})
        assert response.status_code == 403
    with db.tx() as session:
        assert len(conversation.messages_of(session, instance_id, public_only=False)) == 1


def test_a_post_without_csrf_token_is_refused(client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    instance_id, task_id = _request(db, deploy)
    auth.login("ag")
    response = client.post(f"/tasks/{task_id}/messages", data={"kind": "public", "message": "Merhaba"})
    assert response.status_code == 400
    with db.tx() as session:
        assert len(conversation.messages_of(session, instance_id, public_only=False)) == 1
    assert _message_mails(db, instance_id) == []


def test_markup_in_a_note_is_shown_as_text(client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    instance_id, task_id = _request(db, deploy)
    auth.login("ag")
    client.post(f"/tasks/{task_id}/messages", data={
        "csrf_token": auth.csrf(f"/tasks/{task_id}"), "kind": "note", "message": XSS})
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert XSS not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    with db.tx() as session:
        assert conversation.messages_of(session, instance_id, public_only=False)[-1].body == XSS
