"""/admin/outbox: admins read every mail with its state, template and language, filter by
state, and send a failed mail again; staff get 403."""

from __future__ import annotations

from sqlalchemy import select

from engine.jobs import WorkerSettings
from engine.mail import MailSettings, queue_mail
from engine.models import Job, JobKind, JobState, MailMessage, User
from engine.worker import run_due_jobs


def _queue(db, subject: str, *, template=None, language=None) -> int:
    with db.tx() as session:
        return queue_mail(session, "elif@ktu.edu.tr", subject, f"Body of {subject} <b>not html</b>",
                          template=template, language=language).id


def _english(db, *names: str) -> None:
    """These users read the UI in English (the texts checked below are the English ones)."""
    with db.tx() as session:
        for user in session.scalars(select(User).where(User.username.in_(names))):
            user.locale = "en"


def _fail_all(db) -> None:
    """Every pending mail job fails for good (the SMTP server is down on its last attempt)."""
    with db.tx() as session:
        for job in session.scalars(select(Job).where(Job.kind == JobKind.MAIL, Job.state == JobState.PENDING)):
            job.attempts = job.max_attempts - 1
    run_due_jobs(db.factory, WorkerSettings(mail=MailSettings(host="127.0.0.1", port=1, timeout=1)))


def test_staff_cannot_see_the_outbox(db, client, auth, make_user):
    make_user("ayse", roles=("staff",))
    auth.login("ayse")
    assert client.get("/admin/outbox").status_code == 403
    mail_id = _queue(db, "Gizli")
    assert client.get(f"/admin/outbox/{mail_id}").status_code == 403
    assert client.post(f"/admin/outbox/{mail_id}/retry", data={"csrf_token": auth.csrf("/inbox")}).status_code == 403


def test_admins_read_filter_and_retry_a_failed_mail(db, client, auth, make_user):
    make_user("yonetici", roles=("admin",))
    _english(db, "yonetici")
    failed = _queue(db, "Talebiniz yanıtlandı", template="answer", language="en")
    _fail_all(db)
    kept = _queue(db, "Talebiniz alındı", template="received", language="tr")
    run_due_jobs(db.factory, WorkerSettings(mail=MailSettings(host=None)))     # no SMTP: outbox
    auth.login("yonetici")

    page = client.get("/admin/outbox").get_data(as_text=True)
    assert page.index("Talebiniz alındı") < page.index("Talebiniz yanıtlandı")      # newest first
    assert "received · tr" in page and "answer · en" in page and "elif@ktu.edu.tr" in page
    assert 'href="/admin/outbox"' in client.get("/inbox").get_data(as_text=True)     # in the admin nav
    only_failed = client.get("/admin/outbox?state=failed").get_data(as_text=True)
    assert "Talebiniz yanıtlandı" in only_failed and "Talebiniz alındı" not in only_failed

    one = client.get(f"/admin/outbox/{failed}").get_data(as_text=True)
    assert "&lt;b&gt;not html&lt;/b&gt;" in one                                     # text, never markup
    assert "ConnectionRefusedError" in one and 'data-testid="retry"' in one
    assert 'data-testid="retry"' not in client.get(f"/admin/outbox/{kept}").get_data(as_text=True)

    answer = client.post(f"/admin/outbox/{failed}/retry", data={"csrf_token": auth.csrf(f"/admin/outbox/{failed}")},
                         follow_redirects=True)
    assert "queued again" in answer.get_data(as_text=True)
    with db.tx() as session:
        assert session.get(MailMessage, failed).state == "queued"
    run_due_jobs(db.factory, WorkerSettings(mail=MailSettings(host=None)))
    with db.tx() as session:
        assert session.get(MailMessage, failed).state == "outbox"

    again = client.post(f"/admin/outbox/{failed}/retry", data={"csrf_token": auth.csrf(f"/admin/outbox/{failed}")},
                        follow_redirects=True)
    assert "not waiting for a retry" in again.get_data(as_text=True)


def test_a_retry_without_csrf_token_is_refused(db, client, auth, make_user):
    make_user("yonetici", roles=("admin",))
    mail_id = _queue(db, "X")
    _fail_all(db)
    auth.login("yonetici")
    assert client.post(f"/admin/outbox/{mail_id}/retry").status_code == 400
    with db.tx() as session:
        assert session.get(MailMessage, mail_id).state == "failed"


def test_my_account_sets_the_notice_mode_and_admins_can_too(db, client, auth, make_user):
    make_user("ayse", roles=("staff",))
    make_user("yonetici", roles=("admin",))
    _english(db, "ayse", "yonetici")
    auth.login("ayse")
    page = client.get("/account").get_data(as_text=True)
    assert 'value="immediate"' in page and "checked" in page.split('value="immediate"')[1].split(">")[0]
    answer = client.post("/account", data={"notify_mode": "digest", "csrf_token": auth.csrf("/account")},
                         follow_redirects=True)
    assert "saved" in answer.get_data(as_text=True)
    assert client.post("/account", data={"notify_mode": "often", "csrf_token": auth.csrf("/account")}).status_code == 422
    auth.logout()

    auth.login("yonetici")
    assert "checked" in client.get("/admin/users/ayse").get_data(as_text=True).split('value="digest"')[1].split(">")[0]
    client.post("/admin/users/ayse/notify", data={"notify_mode": "off", "csrf_token": auth.csrf("/admin/users/ayse")})
    with db.tx() as session:
        assert session.scalar(select(User.notify_mode).where(User.username == "ayse")) == "off"
