"""A requester's whole journey on the public portal, on a phone and on a desktop.

A student picks "Kablosuz Ağ (eduroam)" on ``/``, types a wrong TC Kimlik No (refused next
to its field, nothing typed is lost), fixes it, attaches a file and gets a tracking code
and a mail with a link to the tracking page. The network team (the DMN table's choice)
asks a question, the student answers with a file, the team answers, the student reopens,
the team answers again, the student rates. The team's internal note never reaches the
student; the staff's instance page keeps the whole conversation.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import OPEN_TASK_STATES, HumanTask, ProcessInstance, RequestContact

pytestmark = pytest.mark.browser

# The requester's screen; staff work at a desk.
VIEWPORTS = {
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
CATEGORY = "Kablosuz Ağ (eduroam)"
UNIT = "Mühendislik Fakültesi"
WRONG_TC, VALID_TC = "10000000147", "10000000146"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LINK = re.compile(r"https?://\S+/takip/\S+")

SUBJECT = "Yurtta eduroam bağlanmıyor"
MESSAGE = "Telefonum eduroam ağını görüyor ama\nkullanıcı adı ve parolamı kabul etmiyor."
NOTE = "İç not: RADIUS kayıtlarında hesap kilitli görünüyor."
QUESTION = "Hangi cihazla ve hangi binada bağlanmaya çalışıyorsunuz?"
REPLY = "Android telefonla, KTÜ 2. Yurt binasında."
ANSWER = "Hesabınızın kilidi açıldı; eduroam CAT ile profili yeniden kurun."
REOPEN = "Profili kurdum ama hâlâ bağlanmıyor."
ANSWER_2 = "Android'de 'CA sertifikası: sistem sertifikaları' seçin; şimdi denedik, çalışıyor."
COMMENT = "Hızlı ve anlaşılır yardım, teşekkürler."


def page_width_fits(page: Page) -> bool:
    """No sideways scrolling: the page is not wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def open_task(site, instance_id: int) -> int:
    """The id of the instance's open "resolve" task (the team's)."""
    with site.tx() as session:
        task_id = session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "resolve",
            HumanTask.state.in_(OPEN_TASK_STATES)))
    assert task_id is not None, "the request is not back with the team"
    return task_id


def mail_link(site, mail) -> str:
    """The mailed tracking link, on the live server (mails start with SEK_BASE_URL)."""
    link = urlsplit(LINK.search(mail.body).group(0))
    return site.at(f"{link.path}?{link.query}")


def submit_button(page: Page):
    return page.get_by_test_id("portal-form").locator("button[type=submit]")


def staff_completes(site, staff: Page, instance_id: int, action: str, field: str, text: str) -> None:
    """A team member claims the open task on its page and completes it with ``action``."""
    task_id = open_task(site, instance_id)
    if site.task(task_id).assignee is None:
        site.claim_on_task_page(staff, task_id)
    else:   # back after the reply or reopening: already claimed by who worked it (engine.sync)
        staff.goto(site.at(f"/tasks/{task_id}"))
    form = staff.get_by_test_id("task-form")
    form.get_by_label(action).check()
    form.locator(f"#field-{field}").fill(text)
    staff.get_by_test_id("complete").click()
    expect(staff).to_have_url(re.compile(r"/inbox"))
    assert site.task(task_id).state == "completed"
    site.run_jobs()              # the service task mails the requester


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_a_requester_sends_tracks_answers_reopens_and_rates(site, open_page, screen):
    email = f"zeynep.{screen}@ogr.example.edu.tr"
    staff_name = site.add_user(f"ag.portal.{screen}", "network")
    requester = open_page(**VIEWPORTS[screen])

    # --- Yeni talep: the category, then the form with a wrong TC number ---------------------
    requester.goto(site.at("/"))
    expect(requester.locator("html")).to_have_attribute("lang", "tr")
    requester.get_by_test_id("choice").filter(has_text=CATEGORY).click()
    expect(requester).to_have_url(re.compile(r"/talep/user_support\?kategori="))
    typed = {"#field-requester": "Zeynep Yılmaz", "#field-requester_email": email,
             "#field-national_id": WRONG_TC, "#field-phone": "2345", "#field-subject": SUBJECT,
             "#field-message": MESSAGE}
    for selector, value in typed.items():
        requester.fill(selector, value)
    requester.select_option("#field-unit", UNIT)
    site.answer_captcha(requester)
    if screen == "phone":
        assert page_width_fits(requester)
    submit_button(requester).click()

    error = requester.get_by_test_id("error-national_id")
    expect(error).to_have_text(site.tr("The 11th digit does not fit the first ten: please check the number "
                                       "for a typo."))
    expect(requester.locator("[data-field=national_id]").get_by_test_id("error-national_id")).to_be_visible()
    expect(requester.locator("#field-national_id")).to_have_class(re.compile(r"\bis-invalid\b"))
    for selector, value in typed.items():
        expect(requester.locator(selector)).to_have_value(value)
    expect(requester.locator("#field-unit")).to_have_value(UNIT)
    expect(requester.locator("#field-captcha")).to_have_value("")       # a new question to answer
    with site.tx() as session:            # nothing was started
        assert session.scalar(select(RequestContact).where(RequestContact.email == email)) is None

    # --- fixed, with a file: the tracking code --------------------------------------------
    requester.fill("#field-national_id", VALID_TC)
    site.answer_captcha(requester)
    requester.set_input_files("#field-attachments-1", files=[
        {"name": "ekran.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    submit_button(requester).click()
    expect(requester).to_have_url(re.compile(r"/talep/gonderildi$"))
    code = requester.get_by_test_id("tracking-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6,}", code), code
    expect(requester.get_by_test_id("mail-note")).to_contain_text(email)
    with site.tx() as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.tracking_code == code))
        instance_id = instance.id
    assert instance.process_key == "user_support"

    # The "received" mail: to the requester, in Turkish, with the code and a working link.
    site.run_jobs()
    mail = site.newest_mail(instance_id)
    assert (mail.recipients, mail.template, mail.language) == (email, "received", "tr")
    assert mail.subject.startswith(f"[{code}] Talebiniz alındı")
    assert "Sayın Zeynep Yılmaz" in mail.body and f"Takip kodunuz: {code}" in mail.body
    requester.goto(mail_link(site, mail))
    expect(requester).to_have_url(site.at(f"/takip/{code}"))           # the key leaves the address bar
    expect(requester.get_by_test_id("tracking-code")).to_have_text(code)

    # --- /takip with the code and e-mail, in a browser that never saw the request ----------
    tracker = open_page(**VIEWPORTS[screen])
    tracker.goto(site.at("/takip"))
    tracker.fill("#code", code.lower())
    tracker.fill("#email", email.upper())
    tracker.locator("main form button[type=submit]").click()
    expect(tracker).to_have_url(site.at(f"/takip/{code}"))
    status = tracker.get_by_test_id("track-status")
    expect(status).to_contain_text("Destek masasında")   # the status user_support declares for the team's step
    expect(tracker.get_by_test_id("track-category")).to_have_text(CATEGORY)
    expect(tracker.locator("main")).to_contain_text("kullanıcı adı ve parolamı kabul etmiyor")
    expect(tracker.locator("main")).to_contain_text("ekran.pdf")
    if screen == "phone":
        assert page_width_fits(tracker)

    # --- the network team: an internal note, then a question --------------------------------
    staff = open_page()
    site.sign_in(staff, staff_name)
    task_id = open_task(site, instance_id)
    assert site.task(task_id).group_name == "network"
    staff.goto(site.at(f"/tasks/{task_id}"))
    panel = staff.get_by_test_id("conversation")
    expect(panel.get_by_test_id("contact")).to_contain_text("Zeynep Yılmaz")
    expect(panel.get_by_test_id("contact")).to_contain_text(UNIT)
    expect(panel.get_by_test_id("attachments")).to_contain_text("ekran.pdf")
    staff.locator("#kind-note").check()
    staff.fill("#conv-message", NOTE)
    staff.get_by_test_id("add-message").click()
    expect(staff.locator("[data-testid=message][data-kind=note]")).to_contain_text(NOTE)
    staff_completes(site, staff, instance_id, "Talep sahibine soru sor", "question", QUESTION)
    question_mail = site.newest_mail(instance_id)
    assert (question_mail.recipients, question_mail.template) == (email, "question")
    assert QUESTION in question_mail.body and code in question_mail.subject

    # --- the requester sees the question (never the note) and answers it with a file -------
    tracker.reload()
    expect(status).to_contain_text(site.tr("Waiting for your answer: the team asked you a question."))
    expect(tracker.locator("main")).to_contain_text(QUESTION)
    assert NOTE not in tracker.content()
    reply = tracker.get_by_test_id("reply-form")
    reply.locator("#message").fill(REPLY)
    reply.locator("#attachments").set_input_files(files=[
        {"name": "hata.txt", "mimeType": "text/plain", "buffer": "Kimlik doğrulama başarısız (hata 691)".encode()}])
    reply.locator("button[type=submit]").click()
    expect(tracker.locator(".alert-success")).to_contain_text(site.tr("Your message has been sent."))
    mine = tracker.get_by_test_id("conversation").locator("li.track-mine").filter(has_text=REPLY)
    expect(mine).to_contain_text("hata.txt")
    site.run_jobs()

    # --- back with the team: the answer, on the task page ------------------------------------
    task_id = open_task(site, instance_id)
    staff.goto(site.at(f"/tasks/{task_id}"))
    expect(staff.locator("[data-testid=message][data-kind=requester]").filter(has_text=REPLY)).to_have_count(1)
    expect(staff.get_by_test_id("attachments")).to_contain_text("hata.txt")
    staff_completes(site, staff, instance_id, "Yanıtla: talep çözüldü", "answer", ANSWER)
    answer_mail = site.newest_mail(instance_id)
    assert (answer_mail.recipients, answer_mail.template, answer_mail.language) == (email, "answer", "tr")
    assert code in answer_mail.subject and f"Takip kodunuz: {code}" in answer_mail.body
    assert ANSWER in answer_mail.body

    tracker.reload()
    expect(status).to_contain_text("Yanıtlandı")
    expect(tracker.locator("main")).to_contain_text(ANSWER)
    assert NOTE not in tracker.content()

    # The answer mail's link opens the same page in yet another browser.
    other = open_page(**VIEWPORTS[screen])
    other.goto(mail_link(site, answer_mail))
    expect(other).to_have_url(site.at(f"/takip/{code}"))
    expect(other.locator("main")).to_contain_text(ANSWER)

    # --- not solved after all: reopened with a reason, answered again -------------------------
    reopen = tracker.get_by_test_id("reopen-form")
    reopen.locator("#reason").fill(REOPEN)
    reopen.locator("button[type=submit]").click()
    expect(tracker.locator(".alert-success")).to_contain_text(
        site.tr("The request has been reopened; the team will look at it again."))
    expect(status).to_contain_text("Yeniden açıldı, ekibe iletiliyor")   # at once, before the mail goes out
    expect(tracker.get_by_test_id("reopen-form")).to_have_count(0)
    site.run_jobs()
    assert site.newest_mail(instance_id).template == "reopened"

    task_id = open_task(site, instance_id)
    staff.goto(site.at(f"/tasks/{task_id}"))
    expect(staff.get_by_test_id("conversation")).to_contain_text(REOPEN)
    staff_completes(site, staff, instance_id, "Yanıtla: talep çözüldü", "answer", ANSWER_2)
    assert ANSWER_2 in site.newest_mail(instance_id).body

    tracker.reload()
    expect(status).to_contain_text("Yanıtlandı")
    expect(tracker.locator("main")).to_contain_text(ANSWER_2)

    # --- the rating ---------------------------------------------------------------------------
    rate = tracker.get_by_test_id("rate-form")
    rate.locator("label[for=score-5]").click()
    rate.locator("#comment").fill(COMMENT)
    rate.locator("button[type=submit]").click()
    expect(tracker.locator(".alert-success")).to_contain_text(site.tr("Thank you for your rating."))
    expect(tracker.get_by_test_id("given-rating")).to_contain_text("5")
    expect(tracker.get_by_test_id("given-rating")).to_contain_text(COMMENT)
    assert NOTE not in tracker.content()

    # --- the staff's instance page keeps the whole conversation, the note marked as such -------
    staff.goto(site.at(f"/instances/{instance_id}"))
    conversation = staff.get_by_test_id("conversation")
    for text in ("kullanıcı adı ve parolamı kabul etmiyor", QUESTION, REPLY, ANSWER, REOPEN, ANSWER_2):
        expect(conversation).to_contain_text(text)
    expect(conversation.locator("[data-testid=message][data-kind=note]")).to_contain_text(NOTE)
    expect(conversation.locator("[data-testid=message][data-kind=requester]").filter(has_text=REOPEN)).to_have_count(1)
    rated = staff.locator("[data-testid=timeline] li[data-action='request.rated']")
    expect(rated).to_contain_text(COMMENT)
    expect(rated.locator("dd").first).to_have_text("5")
