"""The public portal: "/" lists what can be asked for; a requester fills the form, solves
the question, attaches files and gets a tracking code; refusals keep what was typed."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import instances
from engine.models import Attachment, MailMessage, ProcessInstance, RequestContact, RequestMessage
from processes.portal import GROUPS, SUPPORT, ensure_units
from processes.user_support.recategorize import CATEGORIES

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
FORM = "/talep/user_support?kategori=VPN+Ba%C4%9Flant%C4%B1s%C4%B1"
VALID_TC = "10000000146"
QUESTION = re.compile(r'data-testid="captcha-question">([^<]+)<')
TOKEN = re.compile(r'name="captcha_token" value="([^"]+)"')
# The test's own reading of numbers in words, as a person would read the question.
NUMBERS = {"sıfır": 0, "bir": 1, "iki": 2, "üç": 3, "dört": 4, "beş": 5, "altı": 6, "yedi": 7, "sekiz": 8,
           "dokuz": 9, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9}


def solve(question: str) -> int:
    """Read "yedi artı dört kaç eder?" (or "What is seven minus two?") and work it out."""
    words = html.unescape(question).lower().replace("?", "").split()
    numbers = [NUMBERS[w] for w in words if w in NUMBERS]
    assert len(numbers) == 2, question
    a, b = numbers
    if "artı" in words or "plus" in words:
        return a + b
    assert "eksi" in words or "minus" in words, question
    return a - b


def tc_number(first_nine: str) -> str:
    """A valid TC Kimlik No from nine digits (the official rule, written out again here)."""
    d = [int(c) for c in first_nine]
    tenth = (7 * (d[0] + d[2] + d[4] + d[6] + d[8]) - (d[1] + d[3] + d[5] + d[7])) % 10
    return first_nine + str(tenth) + str((sum(d) + tenth) % 10)


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def token_payload(token: str) -> dict:
    """What anyone can read from a signed token (it is signed, not encrypted)."""
    part = token.split(".")[1] if token.startswith(".") else token.split(".")[0]
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return json.loads(zlib.decompress(raw) if token.startswith(".") else raw)


class Portal:
    """A requester's browser: opens the form, reads the question, fills in and sends."""

    def __init__(self, client):
        self.client = client
        self.page = ""

    def open(self, path: str = FORM) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.status_code
        self.page = response.get_data(as_text=True)
        return self.page

    def send(self, path: str = FORM, *, files=(), answer: str | None = None, token: str | None = None,
             csrf: bool = True, environ: dict | None = None, **fields):
        if not self.page:
            self.open(path)
        data = {"requester": "Ayşe Yılmaz", "requester_email": "ayse@example.edu.tr", "national_id": VALID_TC,
                "unit": "Mühendislik Fakültesi", "phone": "1234", "subject": "VPN bağlanmıyor",
                "message": "Evden VPN ile bağlanamıyorum.", "website": ""}
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        if csrf:
            data["csrf_token"] = CSRF.search(self.page).group(1)
        found = TOKEN.search(self.page)
        data["captcha_token"] = token if token is not None else found.group(1)
        data["captcha_answer"] = answer if answer is not None else str(solve(QUESTION.search(self.page).group(1)))
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
        response = self.client.post(path, data=data, content_type="multipart/form-data",
                                    environ_base=environ or {})
        self.page = response.get_data(as_text=True)
        return response


def field_error(page: str, name: str) -> str | None:
    match = re.search(rf'data-testid="error-{name}">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def value_of(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}" value="([^"]*)"', page)
    if match:
        return html.unescape(match.group(1))
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def english(client) -> None:
    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    client.post("/lang", data={"lang": "en", "csrf_token": token, "next": "/"})


@pytest.fixture
def portal(client, db, deploy):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        ensure_units(session, ["Mühendislik Fakültesi", "Tıp Fakültesi", "Diğer"])
    return Portal(client)


def counts(db) -> dict:
    with db.tx() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (ProcessInstance, RequestContact, RequestMessage, Attachment, MailMessage)}


NOTHING = {"ProcessInstance": 0, "RequestContact": 0, "RequestMessage": 0, "Attachment": 0, "MailMessage": 0}


# -- the first page -----------------------------------------------------------------------------


def test_every_help_desk_category_has_a_place_on_the_portal():
    shown = [c.category for *_head, items in GROUPS for c in items if c.key == SUPPORT]
    assert sorted(shown) == sorted(CATEGORIES)


def test_front_page_lists_the_startable_choices_grouped(client, portal):
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="public-nav"' in page and 'href="/takip"' in page and 'href="/login"' in page
    assert page.count('data-key="user_support"') == len(CATEGORIES)
    assert "Kablosuz Ağ (eduroam)" in page and "eduroam" in page
    # processes not deployed are not offered
    assert 'data-key="vpn_request"' not in page
    assert "/talep/user_support?kategori=" in page


def test_staff_see_the_portal_with_a_way_to_their_inbox(client, auth, make_user, portal):
    make_user("ayse")
    auth.login("ayse")
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="staff-note"' in page and 'href="/inbox"' in page


def test_unknown_or_undeployed_choices_are_not_found(client, portal):
    assert client.get("/talep/vpn_request").status_code == 404        # not deployed
    assert client.get("/talep/call_record").status_code == 404        # not a portal process
    assert client.get("/talep/user_support?kategori=Uzay").status_code == 404


# -- a request sent -----------------------------------------------------------------------------


def test_a_request_is_sent_tracked_and_mailed(client, portal, db, app):
    page = portal.open()
    assert 'name="category"' in page and 'type="hidden" name="category" value="VPN Bağlantısı"' in page
    assert '<option value="Tıp Fakültesi"' in page                      # units from the admin list
    document = docx_bytes()   # once: a ZIP carries the time it was written (to 2 seconds)
    response = portal.send(files=[("ekran.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100), ("not.docx", document)])
    assert response.status_code == 302 and response.headers["Location"].endswith("/talep/gonderildi")
    done = client.get("/talep/gonderildi").get_data(as_text=True)
    code = re.search(r'data-testid="tracking-code">([A-Z0-9]+)<', done).group(1)
    assert 'data-testid="mail-note"' in done and "ayse@example.edu.tr" in done
    assert re.search(rf'href="/takip/{code}\?k=[0-9a-f]+"', done)

    with db.tx() as session:
        instance = session.scalar(select(ProcessInstance))
        assert (instance.tracking_code, instance.process_key, instance.started_by) == (
            code, "user_support", "requester:ayse@example.edu.tr")
        data = instances.current_data(session, instance.id)
        assert {k: data.get(k) for k in ("requester", "requester_email", "unit", "phone", "subject", "category")} == {
            "requester": "Ayşe Yılmaz", "requester_email": "ayse@example.edu.tr", "unit": "Mühendislik Fakültesi",
            "phone": "1234", "subject": "VPN bağlanmıyor", "category": "VPN Bağlantısı"}
        assert data["message"] == "Evden VPN ile bağlanamıyorum."
        assert VALID_TC not in repr(data)                                 # the TC number stays out of process data
        contact = session.get(RequestContact, instance.id)
        assert (contact.name, contact.email, contact.national_id, contact.unit, contact.locale) == (
            "Ayşe Yılmaz", "ayse@example.edu.tr", VALID_TC, "Mühendislik Fakültesi", "tr")
        message = session.scalar(select(RequestMessage))
        assert (message.body, message.author_kind, message.public) == (
            "Evden VPN ile bağlanamıyorum.", "requester", True)
        files = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(f.filename, f.content_type, f.message_id) for f in files] == [
            ("ekran.png", "image/png", message.id),
            ("not.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", message.id)]
        stored = Path(app.config["SEK_DATA_DIR"]) / "attachments" / files[1].stored_name
        assert stored.read_bytes() == document
        mail = session.scalar(select(MailMessage))
        assert (mail.template, mail.recipients, mail.instance_id) == ("received", "ayse@example.edu.tr", instance.id)
        assert code in mail.body


def test_english_requesters_are_written_to_in_english(client, portal, db):
    english(client)
    page = portal.open()
    assert "What is" in QUESTION.search(page).group(1)
    assert portal.send().status_code == 302
    with db.tx() as session:
        assert session.scalar(select(RequestContact.locale)) == "en"


def test_the_category_can_be_chosen_on_the_form(portal, db):
    page = portal.open("/talep/user_support")
    assert '<select class="form-select " id="field-category" name="category"' in page
    response = portal.send("/talep/user_support", category="YurtNet")
    assert response.status_code == 302
    with db.tx() as session:
        instance_id = session.scalar(select(ProcessInstance.id))
        assert instances.current_data(session, instance_id)["category"] == "YurtNet"


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "rule"), [
    ("1000000014", "exactly 11 digits"),
    ("1000000014a", "exactly 11 digits"),
    ("01234567890", "never starts with 0"),
    ("10000000156", "10th digit"),
    ("10000000147", "11th digit"),
])
def test_a_wrong_tc_number_says_which_rule_failed(client, portal, db, number, rule):
    english(client)
    response = portal.send(national_id=number, subject="Konu burada")
    assert response.status_code == 422
    assert rule in field_error(portal.page, "national_id")
    assert value_of(portal.page, "national_id") == number and value_of(portal.page, "subject") == "Konu burada"
    assert counts(db) == NOTHING
    portal.send(national_id=tc_number("123456789"))      # fixed, it goes
    assert counts(db)["ProcessInstance"] == 1


@pytest.mark.parametrize(("name", "value"), [
    ("requester", ""), ("requester", "A"), ("requester_email", ""), ("requester_email", "not-an-address"),
    ("national_id", ""), ("unit", ""), ("unit", "Uzay Fakültesi"), ("subject", ""), ("subject", "ab"),
    ("message", ""), ("message", "x" * 10001), ("phone", "9" * 31),
])
def test_each_field_has_its_error_next_to_it(portal, db, name, value):
    response = portal.send(**{name: value})
    assert response.status_code == 422
    assert field_error(portal.page, name), f"no error next to {name}"
    others = [n for n in ("requester", "requester_email", "national_id", "subject", "message") if n != name]
    assert all(field_error(portal.page, other) is None for other in others)
    assert value_of(portal.page, "requester" if name != "requester" else "subject") is not None
    assert counts(db) == NOTHING


def test_a_refused_form_keeps_what_was_typed_and_the_files(portal, db):
    response = portal.send(requester_email="bozuk", message="Satır 1\nSatır 2", files=[("a.txt", b"hello")])
    assert response.status_code == 422
    assert value_of(portal.page, "requester") == "Ayşe Yılmaz"
    assert value_of(portal.page, "message") == "Satır 1\nSatır 2"
    assert value_of(portal.page, "requester_email") == "bozuk"
    assert value_of(portal.page, "national_id") == VALID_TC
    assert 'data-testid="files-again"' not in portal.page     # see tests/webapp/test_portal_pending.py
    assert re.findall(r'data-testid="pending-file">([^<]*)<', portal.page) == ["a.txt"]
    assert counts(db) == NOTHING


def test_control_characters_are_refused_next_to_their_field_and_the_rest_is_kept(portal, db):
    response = portal.send(subject="VPN\x00 bağlanmıyor", message="Satır 1\nSatır\x1b[2J 2")
    assert response.status_code == 422
    assert field_error(portal.page, "subject") == (
        "Bu metinde kullanılamayan görünmez bir denetim karakteri (U+0000) vardı; çıkarıldı. Lütfen metni kontrol "
        "edip yeniden gönderin.")
    assert "(U+001B)" in field_error(portal.page, "message")
    assert field_error(portal.page, "requester") is None and field_error(portal.page, "unit") is None
    assert value_of(portal.page, "subject") == "VPN bağlanmıyor"
    assert value_of(portal.page, "message") == "Satır 1\nSatır[2J 2"
    assert "\x00" not in portal.page and "\x1b" not in portal.page
    assert counts(db) == NOTHING
    portal.open()
    assert portal.send(subject=value_of(response.get_data(as_text=True), "subject")).status_code == 302
    with db.tx() as session:
        assert instances.current_data(session, session.scalar(select(ProcessInstance.id)))["subject"] == \
            "VPN bağlanmıyor"


def test_the_honeypot_refuses_and_keeps_everything(portal, db):
    page = portal.open()
    hp = re.search(r'<div class="sek-hp" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'tabindex="-1"' in hp and 'autocomplete="off"' in hp and "style=" not in hp
    response = portal.send(website="http://spam.example")
    assert response.status_code == 422 and 'data-testid="form-error"' in portal.page
    assert value_of(portal.page, "subject") == "VPN bağlanmıyor"
    assert counts(db) == NOTHING


def test_the_captcha_must_be_answered_right_and_only_once(client, portal, db):
    page = portal.open()
    question, token = QUESTION.search(page).group(1), TOKEN.search(page).group(1)
    right = solve(question)
    assert set(token_payload(token)) == {"n", "h"}            # a nonce and an HMAC: no answer to read
    assert portal.send(answer=str(right + 1)).status_code == 422
    assert field_error(portal.page, "captcha")
    assert value_of(portal.page, "message") == "Evden VPN ile bağlanamıyorum."
    assert portal.send(answer="").status_code == 422 and field_error(portal.page, "captcha")
    assert portal.send(token="").status_code == 422 and field_error(portal.page, "captcha")
    assert portal.send(token=token + "x").status_code == 422 and field_error(portal.page, "captcha")
    # the first, burnt by a wrong answer, cannot be replayed with the right one
    assert portal.send(token=token, answer=str(right)).status_code == 422 and field_error(portal.page, "captcha")
    assert counts(db) == NOTHING
    portal.open()
    token = TOKEN.search(portal.page).group(1)
    assert portal.send().status_code == 302
    portal.open()
    assert portal.send(token=token, answer=str(right)).status_code == 422     # used for a request already
    assert counts(db)["ProcessInstance"] == 1


def test_a_captcha_answer_in_words_counts(portal):
    turkish = ("sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz", "on", "on bir",
               "on iki", "on üç", "on dört", "on beş", "on altı", "on yedi", "on sekiz")
    answer = solve(QUESTION.search(portal.open()).group(1))
    assert portal.send(answer=turkish[answer].upper() if answer != 1 else " 1 ").status_code == 302


def test_one_address_sends_for_many_e_mails(app, portal, db):
    """A campus behind one NAT is one address: thirty people send from it in an hour."""
    for n in range(30):
        portal.open()
        assert portal.send(requester_email=f"kisi{n}@example.edu.tr").status_code == 302, n
    for _ in range(4):                        # kisi0 reaches the per-e-mail limit (5) ...
        portal.open()
        assert portal.send(requester_email="kisi0@example.edu.tr").status_code == 302
    portal.open()                             # ... and is refused over it, from any address
    refused = portal.send(requester_email="kisi0@example.edu.tr", environ={"REMOTE_ADDR": "10.4.4.4"})
    assert refused.status_code == 429
    assert "Son bir saatte bu e-posta adresi için çok fazla talep gönderildi" in portal.page
    assert counts(db)["ProcessInstance"] == 34


def test_submissions_per_address_and_e_mail_are_limited(app, portal, db):
    app.config["SEK_PORTAL_SUBMITS_PER_IP"] = "2"
    app.config["SEK_PORTAL_SUBMITS_PER_EMAIL"] = "100"
    for _ in range(2):
        portal.open()
        assert portal.send().status_code == 302
    portal.open()
    response = portal.send(subject="Üçüncü talep")
    assert response.status_code == 429 and 'data-testid="form-error"' in portal.page
    assert value_of(portal.page, "subject") == "Üçüncü talep"
    portal.open()                             # another e-mail from the same address
    assert portal.send(requester_email="baska@example.edu.tr").status_code == 302
    portal.open()                             # the same e-mail from another address
    assert portal.send(environ={"REMOTE_ADDR": "10.1.2.3"}).status_code == 302
    assert counts(db)["ProcessInstance"] == 4


def test_submissions_per_email_are_limited(app, portal, db):
    app.config["SEK_PORTAL_SUBMITS_PER_EMAIL"] = "1"
    assert portal.send().status_code == 302
    portal.open()
    assert portal.send(requester_email="AYSE@example.edu.tr", environ={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
    assert value_of(portal.page, "requester_email") == "AYSE@example.edu.tr"
    portal.open()
    assert portal.send(requester_email="ali@example.edu.tr").status_code == 302
    assert counts(db)["ProcessInstance"] == 2


PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_script_payloads_come_back_as_text(client, portal, db):
    fields = {name: PAYLOAD for name in ("requester", "phone", "subject", "message")}
    response = portal.send(requester_email=PAYLOAD, national_id=PAYLOAD, unit=PAYLOAD, **fields)
    assert response.status_code == 422
    assert "<script>alert(1)" not in portal.page and "<img src=x" not in portal.page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in portal.page
    # accepted as text where text is allowed: the tracking code page and the stored data stay inert
    portal.open()
    assert portal.send(requester=PAYLOAD, subject=PAYLOAD, message=PAYLOAD, phone="1",
                       files=[(PAYLOAD + ".txt", b"plain")]).status_code == 302
    done = client.get("/talep/gonderildi").get_data(as_text=True)
    assert "<script>alert" not in done
    with db.tx() as session:
        assert session.scalar(select(RequestMessage.body)) == PAYLOAD
        name = session.scalar(select(Attachment.filename))
        assert "<" not in name and ">" not in name and name.endswith(".txt")


@pytest.mark.parametrize(("files", "why"), [
    ([("sayfa.html", b"<html><body>hi</body></html>")], "not accepted"),
    ([("resim.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')], "not accepted"),
    ([("fatura.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64)], "not accepted"),
    ([("buyuk.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))], "larger than 1 mb"),
    ([(f"d{n}.txt", b"text") for n in range(4)], "at most 3 files"),
])
def test_refused_uploads_keep_the_form_and_store_nothing(client, app, portal, db, files, why):
    app.config["SEK_UPLOAD_FILE_MB"] = "1"
    english(client)
    response = portal.send(files=files)
    assert response.status_code == 422
    assert why in field_error(portal.page, "attachments").lower().replace("attach at most", "at most")
    assert 'data-testid="files-again"' in portal.page and value_of(portal.page, "subject") == "VPN bağlanmıyor"
    assert counts(db) == NOTHING
    assert not (Path(app.config["SEK_DATA_DIR"]) / "attachments").exists()


def zip_bomb(megabytes: int = 8) -> bytes:
    """A ZIP whose one member packs ``megabytes`` MB of zeros into a few KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_with_the_reason_next_to_the_file_field(app, portal, db):
    bomb = zip_bomb()
    assert len(bomb) < 20 * 1024
    response = portal.send(files=[("belgeler.zip", bomb), ("not.docx", docx_bytes())])
    assert response.status_code == 422
    assert field_error(portal.page, "attachments") == (
        "belgeler.zip: arşivdeki bir dosya açıldığında sıkıştırılmış boyutunun 100 katından fazlasına çıkıyor; "
        "olağan dosyalar böyle olmaz (\"zip bombası\").")
    assert 'data-testid="files-again"' in portal.page and value_of(portal.page, "subject") == "VPN bağlanmıyor"
    assert counts(db) == NOTHING
    assert not (Path(app.config["SEK_DATA_DIR"]) / "attachments").exists()
    portal.open()
    assert portal.send(files=[("not.docx", docx_bytes())]).status_code == 302    # the document alone goes


def test_too_large_a_body_gets_a_clear_page(client, app, portal, db):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = portal.send(files=[("big.pdf", b"%PDF-" + b"0" * 100 * 1024)])
    assert response.status_code == 413
    assert 'data-testid="too-large"' in portal.page and FORM.split("?")[0] in portal.page
    assert counts(db) == NOTHING


def test_a_post_without_csrf_token_is_refused(portal, db):
    response = portal.send(csrf=False)
    assert response.status_code == 400
    assert counts(db) == NOTHING


def test_the_done_page_without_a_submission_goes_to_the_start(client, portal):
    response = client.get("/talep/gonderildi")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


def test_every_choice_of_a_full_deployment_opens_its_form(client, db, deploy):
    deploy(BPMN)
    page = client.get("/").get_data(as_text=True)
    links = [html.unescape(link) for link in re.findall(r'data-key="[a-z_]+"\s+href="([^"]+)"', page)]
    keys = set(re.findall(r'data-key="([a-z_]+)"', page))
    assert keys == {"user_support", "vpn_request", "yurtnet_registration", "server_external_access",
                    "software_request", "backup_restore", "message_routing", "infrastructure_maintenance",
                    "lab_access_restriction", "workshop_service", "lab_support"}
    assert len(links) == len(CATEGORIES) + len(keys) - 1
    for link in links:
        form = client.get(link)
        assert form.status_code == 200, link
        text = form.get_data(as_text=True)
        assert 'name="national_id"' in text and 'name="captcha_answer"' in text, link
    vpn = client.get("/talep/vpn_request").get_data(as_text=True)
    assert 'name="purpose"' in vpn and 'name="target_systems"' in vpn


def test_the_portal_wants_a_name_an_address_and_a_subject_where_other_doors_need_none(client, db, deploy):
    """A fault may come from monitoring without a reporter; on the portal the reporter is asked."""
    deploy(*sorted(BPMN.glob("infrastructure_maintenance.*")))
    portal = Portal(client)
    path = "/talep/infrastructure_maintenance"
    response = portal.send(path, requester="", requester_email="", subject="", kind="network", urgency="normal",
                           location="Fen Fakültesi B blok")
    assert response.status_code == 422
    assert all(field_error(portal.page, name) for name in ("requester", "requester_email", "subject"))
    assert value_of(portal.page, "location") == "Fen Fakültesi B blok"
    assert counts(db) == NOTHING


def test_a_start_form_field_is_checked_next_to_it(client, db, deploy):
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    portal = Portal(client)
    response = portal.send("/talep/vpn_request", purpose="kısa", target_systems="lab-1", start_date="2026-13-40",
                           end_date="")
    assert response.status_code == 422
    assert field_error(portal.page, "purpose") and field_error(portal.page, "end_date")
    assert value_of(portal.page, "purpose") == "kısa"
    assert counts(db) == NOTHING


def test_staff_started_requests_can_be_tracked_too(client, auth, make_user, db, deploy):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    make_user("cagri", groups=("callcenter",))
    auth.login("cagri")
    response = client.post("/processes/user_support/start", data={
        "csrf_token": auth.csrf("/processes/user_support/start"), "requester": "Veli Kaya",
        "requester_email": "veli@example.edu.tr", "subject": "Telefonla bildirildi", "category": "Diğer",
        "message": "Arayan yazıcısının çalışmadığını söyledi."})
    assert response.status_code == 302
    with db.tx() as session:
        instance = session.scalar(select(ProcessInstance))
        contact = session.get(RequestContact, instance.id)
        assert (contact.name, contact.email, contact.national_id) == ("Veli Kaya", "veli@example.edu.tr", None)
        message = session.scalar(select(RequestMessage))
        assert (message.body, message.author_kind) == ("Arayan yazıcısının çalışmadığını söyledi.", "requester")
        mail = session.scalar(select(MailMessage))
        assert (mail.template, mail.recipients) == ("received", "veli@example.edu.tr")
        assert instance.tracking_code in mail.body
