"""Mail to requesters from templates: every one in Turkish and English, with the tracking
code and a link that opens the tracking page; "forgot my code"; and a whole user_support
journey received by a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import conversation, links, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.mail import MailSettings
from engine.models import HumanTask, ProcessInstance
from engine.worker import run_due_jobs
from processes.notifications import mail_open_requests, notify_requester
from processes.notifications.render import template_names
from webapp import create_app
from webapp.config import load_config
from webapp.extensions import db as flask_db

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
REQUESTER = "elif.demir@ktu.edu.tr"
REQUESTER_TEMPLATES = ("received", "question", "answer", "reminder", "reopened", "autoclosed", "message",
                       "routed", "outside", "confirmed")
LINK = re.compile(r"http://sek\.test/takip/\S+")
WORDS = {"tr": "Takip kodunuz", "en": "Your tracking code"}


@pytest.fixture
def web(db, tmp_path):
    """The web app on the test database; it also signs the links (SECRET_KEY, SEK_BASE_URL)."""
    app = create_app(load_config({"SEK_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db.url,
                                  "SECRET_KEY": "notify-secret", "SEK_BASE_URL": "http://sek.test"}))
    app.config["TESTING"] = True
    yield app.test_client()
    with app.app_context():
        flask_db.engine.dispose()


@pytest.fixture
def site(db, deploy, web):
    with db.tx() as session:
        users.add_user(session, "selin.sistem", groups=("systems",), password="parola123",
                       email="selin@ktu.edu.tr")
    deploy(*sorted(BPMN.glob("user_support.*")))
    return db


def _submit(db, locale: str = "tr", email_address: str = REQUESTER, subject: str = "E-posta kotam doldu") -> int:
    """What the portal does: start the request, keep its requester, mail "received"."""
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "user_support", actor="portal", data={
            "requester": "Elif Demir", "requester_email": email_address, "category": "Personel E-posta",
            "subject": subject, "message": "Yeni posta alamıyorum."}).id
        conversation.record_contact(session, instance_id, name="Elif Demir", email=email_address, locale=locale)
        notify_requester(session, instance_id, "received", category="Personel E-posta", subject=subject)
    return instance_id


def _code(db, instance_id: int) -> str:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).tracking_code


def _opens(web, link: str, *texts: str) -> None:
    """The link, followed like a browser, shows a page with ``texts``."""
    parts = urlsplit(link)
    page = web.get(f"{parts.path}?{parts.query}", follow_redirects=True)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for text in texts:
        assert text in body


def _resolve(db, instance_id: int, data: dict, work=None) -> None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state.in_(("ready", "claimed"))))
        tasks.complete_task(session, row.id, users.acting_user(session, "selin.sistem"), data)
    (work or db.work)()


def test_every_template_has_both_languages():
    for name in template_names():
        for lang in ("tr", "en"):
            assert (Path(__file__).resolve().parents[2] / "processes" / "notifications" / "templates"
                    / f"{name}.{lang}.txt").exists(), f"{name}.{lang}"


@pytest.mark.parametrize("locale", ["tr", "en"])
def test_every_requester_mail_has_the_code_and_a_working_link_in_their_language(site, web, locale):
    db = site
    instance_id = _submit(db, locale)
    code = _code(db, instance_id)
    with db.tx() as session:
        # as the portal and the staff panel call it: no category or subject, the request's data has them
        mails = [notify_requester(session, instance_id, name, message=f"Metin {name}", unit_name="Kütüphane")
                 for name in REQUESTER_TEMPLATES]
        seen = [(m.recipients, m.template, m.language, m.subject, m.body) for m in mails]
    for (to, template, language, subject, body), name in zip(seen, REQUESTER_TEMPLATES, strict=True):
        assert (to, template, language) == (REQUESTER, name, locale)
        assert subject.startswith(f"[{code}] ")
        assert f"{WORDS[locale]}: {code}" in body and links.tracking_url(code, REQUESTER) in body
        assert ("Sayın Elif Demir," if locale == "tr" else "Dear Elif Demir,") in body
    assert "Metin answer" in seen[2][4] and "Kütüphane" in seen[7][4]
    assert seen[0][3] == (f"[{code}] Talebiniz alındı (Personel E-posta): E-posta kotam doldu" if locale == "tr"
                          else f"[{code}] We received your request (Staff e-mail): E-posta kotam doldu")

    _opens(web, LINK.search(seen[0][4]).group(0), code, "E-posta kotam doldu")


def test_staff_mails_name_the_task_and_process_in_the_readers_language(site):
    """Selin reads English: her new-task mail names the task and the process in English."""
    db = site
    from engine import notices
    from engine.models import MailMessage

    with db.tx() as session:
        users.get_user(session, "selin.sistem").locale = "en"
        notices.set_notify_mode(session, "selin.sistem", "immediate", actor="admin")
    _submit(db)
    db.work()
    with db.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.template == "task_new"))
        subject, body, language = mail.subject, mail.body, mail.language
    assert language == "en" and "Resolve the request" in subject
    assert "User Support (SEK 08-04-27)" in body and "Talebi çöz" not in body
    # the group by its name, the due date as an English reader writes it (not a slug, not 07.11.2026)
    assert "your group System Support:" in body and "systems" not in body
    assert re.search(r"Due: \d{1,2} [A-Z][a-z]+ 2026, \d\d:\d\d\n", body), body


def test_a_forged_link_opens_nothing(site, web):
    db = site
    instance_id = _submit(db)
    code = _code(db, instance_id)
    page = web.get(f"/takip/{code}?k={'0' * 32}", follow_redirects=True).get_data(as_text=True)
    assert "E-posta kotam doldu" not in page


def test_forgot_my_code_mails_the_open_requests_of_the_address_only(site, web):
    db = site
    first, second = _submit(db, "en", subject="Birinci"), _submit(db, "en", subject="İkinci")
    _submit(db, "tr", email_address="baska@ktu.edu.tr", subject="Başkasının")
    with db.tx() as session:
        mail = mail_open_requests(session, " Elif.Demir@KTU.edu.tr ", "en")
        assert mail_open_requests(session, "nobody@ktu.edu.tr", "tr") is None
        to, subject, body, template, language = mail.recipients, mail.subject, mail.body, mail.template, mail.language
    assert (to, subject, template, language) == (REQUESTER, "Your open requests", "open_requests", "en")
    for instance_id in (first, second):
        code = _code(db, instance_id)
        assert code in body and links.tracking_url(code, REQUESTER) in body
    assert len(LINK.findall(body)) == 2
    # each request's day, written the reader's way ("3 December 2026", not 03.12.2026)
    assert len(re.findall(r"\), \d{1,2} [A-Z][a-z]+ 20\d\d\n", body)) == 2, body
    _opens(web, LINK.findall(body)[1], _code(db, first), "Birinci")


def test_a_request_without_a_requester_contact_gets_no_requester_mail(site):
    db = site
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "user_support", actor="ayse", data={
            "requester": "Elif Demir", "requester_email": REQUESTER, "category": "Diğer",
            "subject": "Telefonla gelen talep"}).id   # its contact is not recorded
        assert notify_requester(session, instance_id, "received") is None


def test_a_request_started_by_staff_gets_a_contact_so_its_link_works(site, web):
    db = site
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "user_support", actor="ayse", data={
            "requester": "Elif Demir", "requester_email": REQUESTER, "category": "Personel E-posta",
            "subject": "Telefonla gelen talep"}).id
    db.work()
    _resolve(db, instance_id, {"action": "answer", "answer": "Çözüldü."})
    [mail] = db.mails(instance_id)
    assert mail.template == "answer" and mail.language == "tr"
    _opens(web, LINK.search(mail.body).group(0), "Telefonla gelen talep", "Çözüldü.")


# -- a whole journey through a real SMTP server ------------------------------------------------------


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox.envelopes
    controller.stop()


def test_a_journey_every_mail_reaches_smtp_with_its_language_code_and_link(site, web, smtp):
    db = site
    port, received = smtp
    settings = WorkerSettings(mail=MailSettings(host="127.0.0.1", port=port, sender="destek@ktu.edu.tr", timeout=5),
                              backoff_seconds=0.01)

    def work():
        return run_due_jobs(db.factory, settings)

    instance_id = _submit(db, "en")
    work()
    code = _code(db, instance_id)
    _resolve(db, instance_id, {"action": "ask", "question": "What is your user name?"}, work)
    with db.tx() as session:
        conversation.requester_reply(session, session.get(ProcessInstance, instance_id), "edemir", email=REQUESTER)
    work()
    _resolve(db, instance_id, {"action": "answer", "answer": "Your quota is now 10 GB."}, work)
    with db.tx() as session:
        conversation.reopen(session, session.get(ProcessInstance, instance_id), "Still full.", email=REQUESTER)
    work()

    mails = [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in received]
    to_requester = [(e, m) for e, m in zip(received, mails, strict=True) if e.rcpt_tos == [REQUESTER]]
    to_staff = [(e, m) for e, m in zip(received, mails, strict=True) if e.rcpt_tos != [REQUESTER]]
    assert [m["Subject"].strip() for _, m in to_requester] == [
        f"[{code}] We received your request (Staff e-mail): E-posta kotam doldu",
        f"[{code}] A question about your request (Staff e-mail): E-posta kotam doldu",
        f"[{code}] Your request has been answered (Staff e-mail): E-posta kotam doldu",
        f"[{code}] Your request has been reopened (Staff e-mail): E-posta kotam doldu"]
    for envelope, mail in to_requester:
        body = mail.get_content()
        assert envelope.mail_from == "destek@ktu.edu.tr" and mail["Content-Language"] == "en"
        assert f"Your tracking code: {code}" in body
        _opens(web, LINK.search(body).group(0), code, "Your quota is now 10 GB.")

    # staff: a new task for the systems team at the start, after the reply and after the reopening
    assert [e.rcpt_tos for e, _ in to_staff] == [["selin@ktu.edu.tr"]] * 3
    for _, mail in to_staff:
        assert mail["Subject"] == f"Yeni iş: Talebi çöz [{code}]" and mail["Content-Language"] == "tr"
        assert re.search(r"http://sek\.test/tasks/\d+", mail.get_content())
    # the question and the answer are on the public conversation too
    with db.tx() as session:
        said = [(m.author_kind, m.body) for m in conversation.messages_of(session, instance_id)]
    assert said == [("staff", "What is your user name?"), ("requester", "edemir"),
                    ("staff", "Your quota is now 10 GB."), ("requester", "Still full.")]
