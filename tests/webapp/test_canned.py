"""The help desk keeps canned answers; the task page offers those that fit the request."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from engine import canned, runtime
from engine.models import AuditEvent, CannedAnswer, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
ALLOWED = ("Personel E-posta", "Kablosuz Ağ (eduroam)", "user_support", "vpn_request")


def _answers(db):
    with db.tx() as session:
        return [(a.category, a.title, a.body) for a in canned.list_all(session)]


def _add(db, category, title, body):
    with db.tx() as session:
        return canned.save(session, category=category, title=title, body=body, by="destek",
                           allowed_categories=ALLOWED).id


def test_the_help_desk_adds_changes_and_deletes_canned_answers(client, auth, make_user, db):
    make_user("destek", groups=("helpdesk",))
    auth.login("destek")
    assert 'href="/canned"' in client.get("/inbox").get_data(as_text=True)   # in the nav
    response = client.post("/canned/new", data={
        "csrf_token": auth.csrf("/canned/new"), "category": "Kablosuz Ağ (eduroam)",
        "title": "eduroam kurulumu", "body": "1. eduroam CAT aracını indirin.\n2. Kurum olarak KTÜ'yü seçin."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/canned")
    page = client.get("/canned").get_data(as_text=True)
    assert "eduroam kurulumu" in page and "Kablosuz Ağ (eduroam)" in page
    answer_id = int(re.search(r'data-canned-id="(\d+)"', page).group(1))

    form = client.get(f"/canned/{answer_id}").get_data(as_text=True)
    assert "eduroam CAT aracını indirin." in form
    response = client.post(f"/canned/{answer_id}", data={
        "csrf_token": auth.csrf(f"/canned/{answer_id}"), "category": "", "title": "Genel eduroam yardımı",
        "body": "eduroam için kullanıcı adınız e-posta adresinizdir."})
    assert response.status_code == 302
    assert _answers(db) == [("", "Genel eduroam yardımı", "eduroam için kullanıcı adınız e-posta adresinizdir.")]

    response = client.post(f"/canned/{answer_id}/delete", data={"csrf_token": auth.csrf("/canned")})
    assert response.status_code == 302
    assert f'data-canned-id="{answer_id}"' not in client.get("/canned").get_data(as_text=True)
    assert _answers(db) == []
    with db.tx() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("canned.%")))]
    assert actions == ["canned.saved", "canned.saved", "canned.deleted"]


def test_other_staff_may_not_keep_canned_answers(client, auth, make_user, db):
    make_user("ag", groups=("network",))
    answer_id = _add(db, "", "Teşekkürler", "İlginiz için teşekkür ederiz.")
    auth.login("ag")
    assert 'href="/canned"' not in client.get("/inbox").get_data(as_text=True)
    token = auth.csrf("/inbox")
    assert client.get("/canned").status_code == 403
    assert client.get(f"/canned/{answer_id}").status_code == 403
    assert client.post("/canned/new", data={"csrf_token": token, "title": "x", "body": "y"}).status_code == 403
    assert client.post(f"/canned/{answer_id}", data={"csrf_token": token, "title": "x", "body": "y"}).status_code == 403
    assert client.post(f"/canned/{answer_id}/delete", data={"csrf_token": token}).status_code == 403
    assert _answers(db) == [("", "Teşekkürler", "İlginiz için teşekkür ederiz.")]


def test_admins_keep_canned_answers_and_unknown_ones_are_not_found(client, auth, make_user):
    make_user("admin", groups=(), roles=("admin",))
    auth.login("admin")
    assert client.get("/canned").status_code == 200
    assert client.get("/canned/999").status_code == 404
    assert client.post("/canned/999/delete", data={"csrf_token": auth.csrf("/canned")}).status_code == 404


def test_errors_are_shown_next_to_the_fields_and_the_text_kept(client, auth, make_user, db):
    make_user("destek", groups=("helpdesk",))
    auth.login("destek")
    response = client.post("/canned/new", data={
        "csrf_token": auth.csrf("/canned/new"), "category": "Uzay İstasyonu", "title": "",
        "body": "Yazdığım metin <b>kalsın</b>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("category", "title"):
        assert f'data-testid="error-{name}"' in page
    assert 'data-testid="error-body"' not in page
    assert "Yazdığım metin &lt;b&gt;kalsın&lt;/b&gt;</textarea>" in page
    response = client.post("/canned/new", data={
        "csrf_token": auth.csrf("/canned/new"), "category": "", "title": "t" * 201, "body": ""})
    page = response.get_data(as_text=True)
    assert 'data-testid="error-title"' in page and 'data-testid="error-body"' in page
    assert _answers(db) == []
    with db.tx() as session:
        assert session.scalar(select(CannedAnswer)) is None


def test_the_task_page_offers_the_canned_answers_of_the_request(client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    _add(db, "Kablosuz Ağ (eduroam)", "eduroam kurulumu", "eduroam CAT aracını indirin.")
    _add(db, "", "Teşekkür", "Bildiriminiz için teşekkür ederiz.")
    _add(db, "user_support", "Ayrıntı isteği", "Ekran görüntüsü gönderir misiniz?")
    _add(db, "Personel E-posta", "Şifre sıfırlama", "Şifrenizi sifre.example.edu.tr adresinden yenileyin.")
    _add(db, "vpn_request", "VPN profili", "VPN profilini indirin.")
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "Kablosuz Ağ (eduroam)", "subject": "eduroam", "requester": "Elif",
            "requester_email": "elif@ogr.example.edu.tr"})
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    auth.login("ag")
    client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf(f"/tasks/{task_id}")})
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    offered = re.findall(r'<option value="\d+" data-body="([^"]*)">([^<]*)</option>', page)
    assert [title for _, title in offered] == ["Ayrıntı isteği", "eduroam kurulumu", "Teşekkür"]
    assert offered[1][0] == "eduroam CAT aracını indirin."
    assert 'data-testid="canned-list"' in page             # readable without JavaScript
    assert '<option value="field-answer">' in page          # the task form's answer is a target
    assert 'id="field-answer"' in page
    assert '/static/canned.js' in page and "<script>" not in page
    assert "Şifre sıfırlama" not in page and "VPN profili" not in page


def test_a_requester_who_chose_english_is_offered_the_english_text(client, auth, make_user, db, deploy):
    """A canned answer may carry an English text; staff are offered the requester's language."""
    from engine import conversation

    make_user("destek", groups=("helpdesk",))
    make_user("ag", groups=("network",))
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    auth.login("destek")
    response = client.post("/canned/new", data={
        "csrf_token": auth.csrf("/canned/new"), "category": "Kablosuz Ağ (eduroam)", "title": "eduroam kurulumu",
        "body": "eduroam CAT aracını indirin.", "body_en": "Download the eduroam CAT tool."})
    assert response.status_code == 302
    with db.tx() as session:
        answer = session.scalar(select(CannedAnswer))
        assert (answer.body, answer.body_en) == ("eduroam CAT aracını indirin.", "Download the eduroam CAT tool.")
        ids = []
        for email, locale in (("elif@ogr.example.edu.tr", "tr"), ("john@exchange.example.edu", "en")):
            instance = runtime.start_instance(session, "user_support", actor="portal", data={
                "category": "Kablosuz Ağ (eduroam)", "subject": "eduroam", "requester": "Rana Er",
                "requester_email": email})
            conversation.record_contact(session, instance.id, name="R", email=email, locale=locale)
            ids.append(session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id)))
    auth.logout()
    auth.login("ag")
    offered = {}
    for task_id in ids:
        client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf(f"/tasks/{task_id}")})
        page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        offered[task_id] = re.findall(r'data-body="([^"]*)"', page)
    assert offered == {ids[0]: ["eduroam CAT aracını indirin."], ids[1]: ["Download the eduroam CAT tool."]}
