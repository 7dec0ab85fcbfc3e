"""SEK 08-04-18 in a real browser: the systems team confirms the requester's right to the
data and restores it through the task forms; the requester's confirmation arrives as the
portal's message and closes the request."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser

CHECK = "Veri üzerindeki hakkı denetle"
RESTORE = "Yedekten geri yükle"
REQUESTER = "nur.aydin@example.edu.tr"


def test_the_systems_team_restores_and_the_requester_confirms(site, page):
    site.add_user("sistem.yedek", "systems")
    with site.tx() as session:
        instance = runtime.start_instance(session, "backup_restore", actor="portal", data={
            "requester": "Nur Aydın", "requester_email": REQUESTER, "unit": "Öğrenci İşleri Daire Başkanlığı",
            "subject": "Silinen e-posta klasörü",
            "system": "E-posta sunucusu", "item_type": "E-posta kutusu", "item": "nur.aydin@example.edu.tr",
            "restore_date": "2026-11-16", "reason": "Gelen kutusundaki klasör silindi.", "destination": "original",
        })
        request_id, tracking_code = instance.id, instance.tracking_code

    site.sign_in(page, "sistem.yedek")
    check_id = site.task_id(request_id, "check_right")
    site.claim_from_group(page, check_id, CHECK)
    page.get_by_test_id("task-form").get_by_label("Evet, doğrulandı").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(CHECK)

    restore_id = site.task_id(request_id, "restore")
    assert site.task(restore_id).group_name == "systems"
    site.claim_from_group(page, restore_id, RESTORE)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Geri yüklendi", exact=True).check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-restored_to")).to_have_text("Bu alan zorunludur.")
    form = page.get_by_test_id("task-form")
    form.locator("#field-restored_to").fill("nur.aydin@example.edu.tr / Geri Yüklenenler klasörü")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    assert site.task(restore_id).completed_by == "sistem.yedek"

    site.run_jobs()              # the "please check" mail
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        assert (mail.recipients, mail.template, mail.language) == (REQUESTER, "restore_done", "tr")
        assert f"Takip kodunuz: {tracking_code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    requester = page.context.browser.new_page()       # the mailed link opens the tracking page
    requester.goto(site.at(f"{link.path}?{link.query}"))
    expect(requester.locator("main")).to_contain_text(tracking_code)
    requester.close()
    page.goto(site.at(f"/instances/{request_id}"))
    expect(page.get_by_test_id("status")).to_have_text("bekliyor")

    # The portal passes on the requester's answer.
    with site.tx() as session:
        assert runtime.deliver_message(session, "restore_confirmed", {"ok": True, "note": "Hepsi yerinde."},
                                       correlation_key=tracking_code, actor="portal") == [request_id]
        assert session.get(ProcessInstance, request_id).status == "completed"
        subjects = list(session.scalars(select(MailMessage.subject).where(MailMessage.instance_id == request_id)))
    assert subjects == [f"[{tracking_code}] Verileriniz yedekten geri yüklendi"]
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(2)
    expect(page.locator("[data-testid=timeline] li[data-action='message.delivered']")).to_have_count(1)
