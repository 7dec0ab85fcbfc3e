"""The tracking page (/takip): a requester without an account follows their request by
tracking code and e-mail (or the mailed link), answers the team, reopens, rates."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock, conversation, links, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.models import (
    Attachment,
    HumanTask,
    InstanceStatus,
    MailMessage,
    ProcessInstance,
    RateEvent,
    RequestMessage,
    ServiceRating,
)
from engine.worker import run_due_jobs

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
EMAIL = "elif.demir@ktu.edu.tr"
OTHER = "can.kaya@ktu.edu.tr"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR = re.compile(r'data-testid="track-error">([^<]*)<')


@pytest.fixture(autouse=True)
def _real_clock():
    yield
    clock.set_shift(timedelta(0))


class Site:
    """The test database with user_support deployed, and what a requester's browser does."""

    def __init__(self, db, client):
        self.db, self.client = db, client

    def work(self) -> None:
        run_due_jobs(self.db.factory, FAST)

    def submit(self, email: str = EMAIL, subject: str = "E-posta kotam doldu", key: str = "user_support",
               data: dict | None = None) -> ProcessInstance:
        """A request as the portal starts it: the instance, its contact and the first message."""
        data = data or {"category": "Personel E-posta", "message": "Kotam doldu, posta alamıyorum."}
        with self.db.tx() as session:
            instance = runtime.start_instance(session, key, actor="portal", data={
                "requester": "Elif Demir", "requester_email": email, "subject": subject, **data})
            conversation.record_contact(session, instance.id, name="Elif Demir", email=email)
            conversation.add_message(session, instance.id, data.get("message") or subject,
                                     author_kind="requester", author=email)
        self.work()
        return instance

    def complete(self, instance_id: int, bpmn_id: str, data: dict, username: str = "selin.sistem") -> None:
        with self.db.tx() as session:
            row = session.scalar(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id,
                HumanTask.state.in_(("ready", "claimed"))))
            tasks.complete_task(session, row.id, users.acting_user(session, username), data)
        self.work()

    def open_tasks(self, instance_id: int) -> list[str]:
        with self.db.tx() as session:
            return list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                                       HumanTask.state.in_(("ready", "claimed")))))

    def count(self, model, *where) -> int:
        with self.db.tx() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))

    def csrf(self) -> str:
        return CSRF.search(self.client.get("/takip").get_data(as_text=True)).group(1)

    def look_up(self, code: str, email: str = EMAIL):
        return self.client.post("/takip", data={"code": code, "email": email, "csrf_token": self.csrf()})

    def page(self, instance: ProcessInstance) -> str:
        response = self.client.get(f"/takip/{instance.tracking_code}")
        assert response.status_code == 200, response.headers.get("Location")
        return response.get_data(as_text=True)

    def post(self, instance: ProcessInstance, action: str, **fields):
        return self.client.post(f"/takip/{instance.tracking_code}/{action}",
                                data={"csrf_token": self.csrf(), **fields}, content_type="multipart/form-data")


@pytest.fixture
def site(app, db, client, deploy, make_user) -> Site:
    make_user("selin.sistem", groups=("systems",))
    deploy(*sorted(BPMN.glob("user_support.*")))
    return Site(db, client)


def _opened(site: Site, instance: ProcessInstance) -> None:
    assert site.look_up(instance.tracking_code).status_code == 302


# -- finding a request --------------------------------------------------------------------------


def test_a_wrong_code_and_a_wrong_e_mail_get_the_same_answer_the_right_pair_opens_it(site, app):
    mine = site.submit()
    site.submit(email=OTHER)

    wrong_code, wrong_email = site.look_up("ABCDEFGHJK"), site.look_up(mine.tracking_code, OTHER)
    assert wrong_code.status_code == wrong_email.status_code == 404
    assert ERROR.search(wrong_code.get_data(as_text=True)).group(1) == \
        ERROR.search(wrong_email.get_data(as_text=True)).group(1)
    assert "Bu takip kodu ve e-posta adresiyle eşleşen bir talep yok" in wrong_code.get_data(as_text=True)
    assert f'value="{OTHER}"' in wrong_email.get_data(as_text=True)       # what was typed stays

    right = site.look_up(mine.tracking_code.lower(), "  Elif.Demir@KTU.edu.tr ")
    assert right.status_code == 302 and right.headers["Location"].endswith(f"/takip/{mine.tracking_code}")
    response = site.client.get(f"/takip/{mine.tracking_code}")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "E-posta kotam doldu" in page and "Personel E-posta" in page and "Kotam doldu, posta alamıyorum." in page
    assert 'data-testid="track-status"' in page and "Destek masasında" in page
    assert "Kullanıcı Desteği" in page or "User Support" in page
    # The signed cookie holds only the id of the request proved, nothing secret.
    cookie = site.client.get_cookie("sek_session").value
    stored = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert stored["tracked"] == [mine.id] and EMAIL not in str(stored)
    assert site.count(RateEvent) == 2                       # the two failures, committed


def test_without_proof_a_tracking_address_leads_to_the_form_with_the_code_filled_in(site):
    mine = site.submit()
    response = site.client.get(f"/takip/{mine.tracking_code}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/takip?kod={mine.tracking_code}")
    form = site.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'value="{mine.tracking_code}"' in form and "Takip kodumu unuttum" in form


def test_the_mailed_link_opens_the_request_and_a_wrong_key_counts_as_a_failure(site):
    mine = site.submit()
    url = links.tracking_url(mine.tracking_code, EMAIL)
    key = url.split("?k=")[1]

    wrong = site.client.get(f"/takip/{mine.tracking_code}?k={'0' * 32}")
    assert wrong.status_code == 302 and "kod=" in wrong.headers["Location"]
    assert site.count(RateEvent) == 1

    opened = site.client.get(f"/takip/{mine.tracking_code}?k={key}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/takip/{mine.tracking_code}")
    assert "E-posta kotam doldu" in site.page(mine)


def test_too_many_failures_block_the_address_even_for_the_right_code(site, app):
    app.config["SEK_TRACK_MAX_FAILURES"] = "3"
    mine = site.submit()
    for code in ("AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"):
        assert site.look_up(code).status_code == 404

    blocked = site.look_up(mine.tracking_code)
    assert blocked.status_code == 429
    assert "çok fazla başarısız deneme" in blocked.get_data(as_text=True)
    key = links.tracking_url(mine.tracking_code, EMAIL).split("?k=")[1]
    assert site.client.get(f"/takip/{mine.tracking_code}?k={key}").status_code == 429
    assert site.client.get(f"/takip/{mine.tracking_code}").status_code == 302     # still not opened
    assert site.count(RateEvent) == 3

    clock.set_shift(timedelta(minutes=16))                   # the window has passed
    assert site.look_up(mine.tracking_code).status_code == 302


def test_another_e_mails_request_is_never_shown_nor_changed(site):
    mine, theirs = site.submit(), site.submit(email=OTHER, subject="Başkasının talebi")
    _opened(site, mine)

    response = site.client.get(f"/takip/{theirs.tracking_code}")
    unknown = site.client.get("/takip/ZZZZZZZZZZ")
    assert response.status_code == unknown.status_code == 302
    assert "/takip?kod=" in response.headers["Location"]
    replied = site.post(theirs, "yanit", message="Benim değil ama yazayım")
    assert replied.status_code == 302 and "/takip?kod=" in replied.headers["Location"]
    assert site.count(RequestMessage, RequestMessage.instance_id == theirs.id, RequestMessage.author_kind == "requester") == 1


# -- answering, reopening, rating ---------------------------------------------------------------


def test_a_reply_to_the_teams_question_goes_back_to_the_team_with_its_file(site):
    mine = site.submit()
    site.complete(mine.id, "resolve", {"action": "ask", "question": "Hangi hesabınız?"})
    _opened(site, mine)
    page = site.page(mine)
    assert "Yanıtınız bekleniyor" in page and "Hangi hesabınız?" in page
    assert site.open_tasks(mine.id) == []

    response = site.post(mine, "yanit", message="elif.demir hesabım",
                         attachments=[(io.BytesIO(b"%PDF-1.4 ekran"), "ekran.pdf")])
    assert response.status_code == 302
    site.work()
    page = site.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mesajınız gönderildi." in page and "elif.demir hesabım" in page and "ekran.pdf" in page
    assert "Destek masasında" in page
    assert site.open_tasks(mine.id) == ["resolve"]
    with site.db.tx() as session:
        [row] = session.scalars(select(Attachment).where(Attachment.instance_id == mine.id)).all()
        message = session.get(RequestMessage, row.message_id)
        assert (row.filename, message.body, message.author_kind) == ("ekran.pdf", "elif.demir hesabım", "requester")


def test_a_refused_file_keeps_the_text_and_sends_nothing(site):
    mine = site.submit()
    site.complete(mine.id, "resolve", {"action": "ask", "question": "Hangi hesabınız?"})
    _opened(site, mine)

    response = site.post(mine, "yanit", message="Uzun açıklamam burada",
                         attachments=[(io.BytesIO(b"<html><script>alert(1)</script></html>"), "not.txt")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Uzun açıklamam burada</textarea>" in page
    assert "not.txt: bu dosya türü kabul edilmiyor" in page
    assert site.count(RequestMessage, RequestMessage.instance_id == mine.id, RequestMessage.author_kind == "requester") == 1
    assert site.count(Attachment) == 0
    assert "Yanıtınız bekleniyor" in site.page(mine)

    both = site.post(mine, "yanit", message=" ", attachments=[(io.BytesIO(b"MZ\x90\x00binary"), "rapor.pdf")])
    page = both.get_data(as_text=True)
    assert 'data-testid="error-message"' in page and "rapor.pdf: bu dosya türü kabul edilmiyor" in page


def test_a_zip_bomb_in_a_reply_is_refused_with_the_reason(site):
    mine = site.submit()
    site.complete(mine.id, "resolve", {"action": "ask", "question": "Hangi hesabınız?"})
    _opened(site, mine)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(1001):
            archive.writestr(f"kayit/{n}.txt", b"")

    response = site.post(mine, "yanit", message="Kayıtlar ekte",
                         attachments=[(io.BytesIO(buffer.getvalue()), "kayitlar.zip")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "kayitlar.zip: arşivde 1000 dosyadan fazlası var." in page and "Kayıtlar ekte</textarea>" in page
    assert site.count(RequestMessage, RequestMessage.instance_id == mine.id, RequestMessage.author_kind == "requester") == 1
    assert site.count(Attachment) == 0


def test_an_answered_request_can_be_reopened_and_goes_back_to_the_team(site):
    mine = site.submit()
    site.complete(mine.id, "resolve", {"action": "answer", "answer": "Kotanızı 10 GB'a çıkardık."})
    _opened(site, mine)
    page = site.page(mine)
    assert "Yanıtlandı" in page and "tarihine kadar yeniden açabilirsiniz" in page and "Kotanızı 10 GB" in page
    assert 'data-testid="reopen-form"' in page and 'data-testid="rate-form"' in page

    empty = site.post(mine, "yeniden-ac", reason="  ")
    assert empty.status_code == 422 and 'data-testid="error-reason"' in empty.get_data(as_text=True)

    response = site.post(mine, "yeniden-ac", reason="Hâlâ posta alamıyorum")
    assert response.status_code == 302
    site.work()
    page = site.page(mine)
    assert "Talep yeniden açıldı" in page and "Hâlâ posta alamıyorum" in page
    assert "Destek masasında" in page and 'data-testid="reopen-form"' not in page
    assert site.open_tasks(mine.id) == ["resolve"]


def test_after_the_reopen_window_the_request_is_closed_and_can_only_be_rated(site):
    mine = site.submit()
    site.complete(mine.id, "resolve", {"action": "answer", "answer": "Kotanızı artırdık."})
    clock.set_shift(timedelta(days=7, hours=1))
    site.work()
    _opened(site, mine)

    page = site.page(mine)
    assert "Çözüldü" in page and "tarihinde kapandı" in page and 'data-testid="reopen-form"' not in page and 'data-testid="reply-form"' not in page
    assert 'data-testid="rate-form"' in page
    late = site.post(mine, "yeniden-ac", reason="Geç kaldım")
    assert late.status_code == 302
    assert "Bu artık mümkün değil" in site.client.get(late.headers["Location"]).get_data(as_text=True)
    with site.db.tx() as session:
        assert session.get(ProcessInstance, mine.id).status == InstanceStatus.COMPLETED


def test_rating_takes_a_score_from_1_to_5_and_shows_it(site):
    mine = site.submit()
    _opened(site, mine)
    assert 'data-testid="rate-form"' not in site.page(mine)           # still being worked on
    site.complete(mine.id, "resolve", {"action": "answer", "answer": "Kotanızı artırdık."})

    wrong = site.post(mine, "puan", score="6", comment="Süper")
    assert wrong.status_code == 422
    assert "Lütfen 1 ile 5 arasında bir puan seçin." in wrong.get_data(as_text=True)
    assert "Süper</textarea>" in wrong.get_data(as_text=True)

    assert site.post(mine, "puan", score="4", comment="Hızlıydı").status_code == 302
    page = site.page(mine)
    assert "Puanınız için teşekkürler." in page and "Puanınız: 5 üzerinden 4" in page and "Hızlıydı" in page
    with site.db.tx() as session:
        rating = session.get(ServiceRating, mine.id)
        assert (rating.score, rating.comment) == (4, "Hızlıydı")


def test_script_in_a_reply_is_shown_as_text(site):
    mine = site.submit()
    _opened(site, mine)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert site.post(mine, "yanit", message=payload).status_code == 302
    page = site.page(mine)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_every_post_without_a_csrf_token_is_refused(site):
    mine = site.submit()
    _opened(site, mine)
    site.complete(mine.id, "resolve", {"action": "answer", "answer": "Tamam."})
    for path, data in [("/takip", {"code": mine.tracking_code, "email": EMAIL}),
                       ("/takip/unuttum", {"email": EMAIL}),
                       (f"/takip/{mine.tracking_code}/yanit", {"message": "CSRF"}),
                       (f"/takip/{mine.tracking_code}/yeniden-ac", {"reason": "CSRF"}),
                       (f"/takip/{mine.tracking_code}/puan", {"score": "1"}),
                       (f"/takip/{mine.tracking_code}/onay", {"ok": "yes"})]:
        assert site.client.post(path, data=data).status_code == 400, path
    assert site.count(RequestMessage, RequestMessage.instance_id == mine.id, RequestMessage.author_kind == "requester") == 1
    assert site.count(ServiceRating) == 0 and site.count(MailMessage, MailMessage.template == "open_requests") == 0
    assert site.count(RateEvent) == 0
    assert site.open_tasks(mine.id) == []                     # not reopened, still resolved


# -- forgot my code, restore confirmation ----------------------------------------------------


def test_forgot_my_code_mails_the_open_requests_and_always_answers_the_same(site):
    mine = site.submit()
    before = site.count(MailMessage, MailMessage.template == "open_requests")

    def ask(email):
        return site.client.post("/takip/unuttum", data={"email": email, "csrf_token": site.csrf()})

    form = site.client.get("/takip/unuttum")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    known, unknown = ask(EMAIL), ask("kimse@ktu.edu.tr")
    assert known.status_code == unknown.status_code == 200
    assert 'data-testid="forgot-sent"' in known.get_data(as_text=True)
    assert 'data-testid="forgot-sent"' in unknown.get_data(as_text=True)
    with site.db.tx() as session:
        mails = session.scalars(select(MailMessage).where(MailMessage.template == "open_requests")).all()
        assert [m.recipients for m in mails][before:] == [EMAIL]
        assert mine.tracking_code in mails[-1].body
    for _ in range(3):                                            # past the e-mail's limit: same answer, no mail
        assert 'data-testid="forgot-sent"' in ask(EMAIL).get_data(as_text=True)
    assert site.count(MailMessage, MailMessage.template == "open_requests") == before + 3
    assert ask("not-an-address").status_code == 422
    for n in range(5):
        ask(f"kisi{n}@ktu.edu.tr")
    assert ask("son@ktu.edu.tr").status_code == 429                # ten from one address within the hour


def test_a_restored_backup_is_confirmed_from_the_tracking_page(site, deploy):
    deploy(*sorted(BPMN.glob("backup_restore.*")))
    mine = site.submit(key="backup_restore", subject="Klasör geri yükleme", data={
        "system": "Dosya sunucusu", "item_type": "Dosya / klasör", "item": "muhasebe/2026",
        "restore_date": "2026-01-20", "reason": "Silindi.", "destination": "original"})
    site.complete(mine.id, "check_right", {"right_confirmed": True})
    site.complete(mine.id, "restore", {"outcome": "restored", "restored_to": "muhasebe/2026"})
    _opened(site, mine)
    page = site.page(mine)
    assert "Onayınız bekleniyor" in page and 'data-testid="confirm-form"' in page

    no_note = site.post(mine, "onay", ok="no", note="")
    assert no_note.status_code == 422 and 'data-testid="error-note"' in no_note.get_data(as_text=True)
    assert site.post(mine, "onay", ok="no", note="Alt klasörler eksik").status_code == 302
    site.work()
    assert site.open_tasks(mine.id) == ["restore"]
    assert "Alt klasörler eksik" in site.page(mine)

    site.complete(mine.id, "restore", {"outcome": "restored", "restored_to": "muhasebe/2026"})
    assert site.post(mine, "onay", ok="yes").status_code == 302
    assert "Geri yüklendi" in site.page(mine) and "tarihinde kapandı" in site.page(mine)
    with site.db.tx() as session:
        assert session.get(ProcessInstance, mine.id).status == InstanceStatus.COMPLETED


def test_behind_a_proxy_each_client_address_is_counted_on_its_own(db, tmp_path):
    """With SEK_PROXY_HOPS=1 the limit counts X-Forwarded-For's client, not the proxy: one
    blocked client does not block everybody else behind the same proxy."""
    from webapp import create_app
    from webapp.config import load_config

    app = create_app(load_config({"SEK_DATA_DIR": str(tmp_path / "proxy"), "DATABASE_URL": db.url,
                                  "SECRET_KEY": "s", "SEK_PROXY_HOPS": "1", "SEK_TRACK_MAX_FAILURES": "2"}))
    client = app.test_client()

    def look_up(address):
        token = CSRF.search(client.get("/takip").get_data(as_text=True)).group(1)
        return client.post("/takip", data={"code": "NOPE123456", "email": "x@example.edu.tr", "csrf_token": token},
                           headers={"X-Forwarded-For": address})

    assert [look_up("10.1.1.1").status_code for _ in range(3)] == [404, 404, 429]
    assert look_up("10.2.2.2").status_code == 404


def test_a_fix_is_accepted_from_the_tracking_page_in_the_words_of_an_acceptance_test(site, deploy, make_user):
    make_user("yazilim.gel", groups=("software",))
    deploy(*sorted(BPMN.glob("software_maintenance.*")))
    mine = site.submit(key="software_maintenance", subject="OBS not girişi", data={
        "application": "Öğrenci Bilgi Sistemi (OBS)", "report_kind": "bug", "impact": "unit",
        "what_happens": "85,5 kabul edilmiyor.", "steps": "Not girişi > Kaydet"})
    site.complete(mine.id, "triage", {"triage_decision": "accept"}, "yazilim.gel")
    site.complete(mine.id, "prioritize", {"priority": "normal"}, "yazilim.gel")
    site.complete(mine.id, "fix", {"fix_outcome": "fixed", "fix_summary": "Virgül kabul ediliyor.",
                                   "test_instructions": "obs-test üzerinde deneyin."}, "yazilim.gel")
    _opened(site, mine)
    page = site.page(mine)
    assert "Değişiklik beklediğiniz gibi çalışıyor mu?" in page and "Evet, çalışıyor" in page
    assert "Verileriniz doğru geri yüklendi mi?" not in page

    assert site.post(mine, "onay", ok="no", note="100 girince hata veriyor").status_code == 302
    site.work()
    assert site.open_tasks(mine.id) == ["fix"]
    site.complete(mine.id, "fix", {"fix_outcome": "fixed", "fix_summary": "100 de kabul ediliyor.",
                                   "test_instructions": "obs-test üzerinde deneyin."}, "yazilim.gel")
    answer = site.post(mine, "onay", ok="yes")
    assert answer.status_code == 302
    site.work()
    assert "değişiklik şimdi yayına alınacak" in site.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert site.open_tasks(mine.id) == ["release"]
