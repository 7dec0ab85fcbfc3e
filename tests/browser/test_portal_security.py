"""The public portal against a hostile requester, in a real browser.

- Markup typed into every portal field, a tracking reply, a staff note and a staff public
  message reads as text on the tracking page and the staff task page: no dialog opens (the
  ``dialogs`` fixture fails the test otherwise), no element is injected, the text is there.
- HTML, SVG and an executable renamed ``report.pdf`` are refused, with the reason next to
  the attachments field and the rest of the form kept.
- A tracking code with another e-mail address reveals nothing: the same answer as an
  unknown code.

Covered with the Flask client rather than here, because this live server is shared by
every browser test and all of them come from 127.0.0.1: the per-address block on
``/takip`` (tests/webapp/test_tracking.py::
test_too_many_failures_block_the_address_even_for_the_right_code), the portal's submission
limits (tests/webapp/test_portal_submit.py) and CSRF on every POST route
(tests/webapp/test_csrf_every_post.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from engine.models import OPEN_TASK_STATES, Attachment, HumanTask, ProcessInstance, RequestContact

pytestmark = pytest.mark.browser

CATEGORY = "Kablosuz Ağ (eduroam)"
FORM = "/talep/user_support?kategori=Kablosuz+A%C4%9F+%28eduroam%29"
VALID_TC = "10000000146"
UNIT = "Mühendislik Fakültesi"

NAME = 'Ali <script>alert("ad")</script>'
SUBJECT = '"><img src=x onerror=alert(1)>'
MESSAGE = '<script>alert(2)</script>\n"><img src=x onerror=alert(3)><b>kalın</b>'
PHONE = "<script>alert(4)</script>"          # the field takes at most 30 characters
REPLY = "</textarea><script>alert(5)</script><img src=x onerror=alert(6)>"
NOTE = '<img src=x onerror=alert(7)>"><script>alert(8)</script>'
PUBLIC = "<svg onload=alert(9)></svg><a href=javascript:alert(10)>tıkla</a>"

HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


def assert_nothing_injected(page: Page) -> None:
    """No element came from what was typed: no inline script, image, SVG or javascript: link."""
    expect(page.locator("script:not([src])")).to_have_count(0)
    expect(page.locator("main img, main svg, main b")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)


def fill_portal(site, page: Page, *, email: str, name: str = "Ayşe Demir", subject: str = "eduroam sorunu",
                message: str = "Bağlanamıyorum.", phone: str = "") -> None:
    """Open the eduroam form and fill every field (the CAPTCHA answered), without sending."""
    page.goto(site.at(FORM))
    page.fill("#field-requester", name)
    page.fill("#field-requester_email", email)
    page.fill("#field-national_id", VALID_TC)
    page.select_option("#field-unit", UNIT)
    page.fill("#field-phone", phone)
    page.fill("#field-subject", subject)
    page.fill("#field-message", message)
    site.answer_captcha(page)


def send(page: Page) -> None:
    page.get_by_test_id("portal-form").locator("button[type=submit]").click()


def submit(site, page: Page, **fields) -> str:
    """Send a request through the portal; its tracking code."""
    fill_portal(site, page, **fields)
    send(page)
    expect(page).to_have_url(re.compile(r"/talep/gonderildi$"))
    return page.get_by_test_id("tracking-code").inner_text().strip()


def instance_of(site, code: str) -> int:
    with site.tx() as session:
        return session.scalar(select(ProcessInstance.id).where(ProcessInstance.tracking_code == code))


def open_task(site, instance_id: int) -> int:
    with site.tx() as session:
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.state.in_(OPEN_TASK_STATES)))


def track(site, page: Page, code: str, email: str) -> None:
    """Look a request up on /takip as a requester would."""
    page.goto(site.at("/takip"))
    page.fill("#code", code)
    page.fill("#email", email)
    page.locator("main form button[type=submit]").click()


def test_markup_in_every_field_is_shown_as_text(site, open_page, dialogs):
    email = "guvenlik.betik@ogr.example.edu.tr"
    requester = open_page()

    # An e-mail address with markup is refused, and shown back as typed, not run.
    fill_portal(site, requester, email='"><img src=x onerror=alert(0)>', name=NAME, subject=SUBJECT,
                message=MESSAGE, phone=PHONE)
    send(requester)
    expect(requester.get_by_test_id("error-requester_email")).to_be_visible()
    expect(requester.locator("#field-requester_email")).to_have_value('"><img src=x onerror=alert(0)>')
    expect(requester.locator("#field-requester")).to_have_value(NAME)
    expect(requester.locator("#field-message")).to_have_value(MESSAGE)
    assert_nothing_injected(requester)

    requester.fill("#field-requester_email", email)
    site.answer_captcha(requester)
    send(requester)
    expect(requester).to_have_url(re.compile(r"/talep/gonderildi$"))
    code = requester.get_by_test_id("tracking-code").inner_text().strip()
    instance_id = instance_of(site, code)
    with site.tx() as session:
        contact = session.scalar(select(RequestContact).where(RequestContact.instance_id == instance_id))
        assert (contact.name, contact.phone) == (NAME, PHONE)          # kept as typed, escaped on output

    # The tracking page (the done page's link): subject and message read exactly as typed.
    requester.get_by_test_id("track-link").click()
    expect(requester).to_have_url(site.at(f"/takip/{code}"))
    expect(requester.locator("main h1")).to_have_text(SUBJECT)
    expect(requester.get_by_test_id("conversation").locator(".track-body").first).to_have_text(MESSAGE)
    assert_nothing_injected(requester)

    # The requester replies with markup too.
    reply = requester.get_by_test_id("reply-form")
    reply.locator("#message").fill(REPLY)
    reply.locator("button[type=submit]").click()
    expect(requester.locator(".alert-success")).to_be_visible()
    expect(requester.get_by_test_id("conversation")).to_contain_text(REPLY)
    assert_nothing_injected(requester)

    # Staff: the task page shows every field as text; a note and a public message with markup.
    staff = open_page()
    site.sign_in(staff, site.add_user("ag.guvenlik", "network"))
    task_id = open_task(site, instance_id)
    staff.goto(site.at(f"/tasks/{task_id}"))
    contact_list = staff.get_by_test_id("contact")
    expect(contact_list).to_contain_text(NAME)
    # the address nowhere on the page (header, history, message authors) until a recorded view
    assert email.split("@")[0] not in staff.content()
    staff.get_by_test_id("reveal").click()   # the phone is masked until a recorded view
    expect(contact_list).to_contain_text(PHONE)
    expect(contact_list).to_contain_text(email)
    expect(staff.get_by_test_id("request-subject")).to_have_text(SUBJECT)
    messages = staff.locator("[data-testid=message] .conv-body")
    expect(messages.filter(has_text="alert(2)")).to_have_text(MESSAGE)
    expect(messages.filter(has_text="alert(5)")).to_have_text(REPLY)
    for kind, text in (("note", NOTE), ("public", PUBLIC)):
        staff.locator(f"#kind-{kind}").check()
        staff.fill("#conv-message", text)
        staff.get_by_test_id("add-message").click()
        expect(staff.locator(f"[data-testid=message][data-kind={kind}] .conv-body")).to_have_text(text)
    assert_nothing_injected(staff)

    # Back on the tracking page: the public message as text, the note not at all.
    requester.reload()
    expect(requester.get_by_test_id("conversation")).to_contain_text(PUBLIC)
    assert "alert(7)" not in requester.content()
    assert_nothing_injected(requester)
    assert dialogs == []


@pytest.mark.parametrize("name, content", [("sayfa.html", HTML), ("resim.svg", SVG), ("report.pdf", EXE)],
                         ids=["html", "svg", "renamed-exe"])
def test_a_dangerous_upload_is_refused_next_to_the_field_and_the_form_is_kept(site, open_page, name, content):
    email = f"guvenlik.dosya.{name.replace('.', '-')}@ogr.example.edu.tr"
    page = open_page()
    fill_portal(site, page, email=email, subject="Dosyalı talep", message="Ekteki dosyaya bakın.", phone="1234")
    page.set_input_files("#field-attachments-1", files=[{"name": name, "mimeType": "application/pdf",
                                                          "buffer": content}])
    send(page)

    error = page.get_by_test_id("error-attachments")
    expect(error).to_contain_text(name)
    expect(error).to_contain_text(site.tr(
        "%(name)s: this type of file is not accepted. Allowed: PDF, PNG, JPEG, text, Word (docx), Excel (xlsx), "
        "OpenDocument text (odt) and ZIP.", name=name))
    expect(page.locator("[data-field=attachments]").get_by_test_id("error-attachments")).to_be_visible()
    expect(page.get_by_test_id("files-again")).to_be_visible()
    for selector, value in (("#field-requester", "Ayşe Demir"), ("#field-requester_email", email),
                            ("#field-national_id", VALID_TC), ("#field-unit", UNIT), ("#field-phone", "1234"),
                            ("#field-subject", "Dosyalı talep"), ("#field-message", "Ekteki dosyaya bakın.")):
        expect(page.locator(selector)).to_have_value(value)
    with site.tx() as session:                       # nothing started, nothing stored
        assert session.scalar(select(RequestContact).where(RequestContact.email == email)) is None


def test_a_dangerous_file_in_a_tracking_reply_is_refused_and_the_text_kept(site, open_page):
    email = "guvenlik.yanit@ogr.example.edu.tr"
    page = open_page()
    code = submit(site, page, email=email)
    instance_id = instance_of(site, code)
    page.get_by_test_id("track-link").click()
    reply = page.get_by_test_id("reply-form")
    reply.locator("#message").fill("Ekran görüntüsü ekte.")
    reply.locator("#attachments").set_input_files(files=[
        {"name": "ekran.png", "mimeType": "image/png", "buffer": SVG},
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": EXE}])
    reply.locator("button[type=submit]").click()

    error = page.get_by_test_id("error-attachments")
    expect(error).to_contain_text("ekran.png")
    expect(error).to_contain_text("report.pdf")
    expect(page.locator("#attachments")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#message")).to_have_value("Ekran görüntüsü ekte.")
    expect(page.get_by_test_id("conversation")).not_to_contain_text("Ekran görüntüsü ekte.")
    with site.tx() as session:
        assert session.scalar(select(func.count(Attachment.id)).where(Attachment.instance_id == instance_id)) == 0


def test_a_code_with_another_e_mail_reveals_nothing(site, open_page):
    email = "guvenlik.sahip@ogr.example.edu.tr"
    code = submit(site, open_page(), email=email, subject="Gizli konu başlığı", message="Gizli mesaj metni.")

    stranger = open_page()
    answers = []
    for tried_code, tried_email in ((code, "baskasi@ogr.example.edu.tr"),     # the right code, a wrong address
                                    ("ZZZZZZZZZZ", email)):                     # an unknown code
        with stranger.expect_response(lambda r: r.request.method == "POST") as posted:
            track(site, stranger, tried_code, tried_email)
        expect(stranger.get_by_test_id("track-error")).to_be_visible()
        answers.append((posted.value.status, stranger.get_by_test_id("track-error").inner_text()))
        expect(stranger).to_have_url(site.at("/takip"))
        assert "Gizli" not in stranger.content()
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
    assert answers[0][1] == site.tr("No request matches this tracking code and e-mail address. Please check both.")

    # The failed try proved nothing: the request's own address still leads to the look-up form.
    stranger.goto(site.at(f"/takip/{code}"))
    expect(stranger).to_have_url(re.compile(r"/takip\?kod=" + code + "$"))
    assert "Gizli" not in stranger.content()
