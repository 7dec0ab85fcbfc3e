"""Call centre in a real browser: a call that needs a unit is routed by the agent, the unit
answers on the public reply page, the agent calls the caller back and the record is done."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import runtime

pytestmark = pytest.mark.browser


def test_a_call_routed_to_a_unit_is_answered_and_called_back(site, page, open_page):
    site.add_user("cagri.calisani", "callcenter")
    with site.tx() as session:
        instance_id = runtime.start_instance(session, "call_record", actor="cagri.calisani", data={
            "requester": "Mert Aydın", "phone": "0532 000 00 00",
            "topic": "Yatay geçiş başvurusu", "outcome": "needs_unit",
            "call_summary": "Başvuru son tarihi soruluyor."}).id
    site.sign_in(page, "cagri.calisani")

    site.claim_on_task_page(page, site.task_id(instance_id, "route"))
    page.fill("#field-unit_name", "Öğrenci İşleri")
    page.fill("#field-unit_email", "ogrenci@example.edu.tr")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    site.run_jobs()
    assert site.mails(instance_id) == [("ogrenci@example.edu.tr",
                                        "Çağrı Merkezi: biriminize yönlendirilen mesaj")]
    unit = open_page()
    unit.goto(site.at(site.reply_path(instance_id)))
    expect(unit.get_by_test_id("reply-purpose")).to_contain_text("Yatay geçiş başvurusu")
    assert "0532 000 00 00" not in unit.content() and "Mert Aydın" not in unit.content()
    unit.fill("#answer", "Son tarih 15 Ağustos.")
    unit.fill("#answered_by", "Ece Kara")
    unit.locator("main form button[type=submit]").click()
    expect(unit.get_by_test_id("reply-thanks")).to_be_visible()

    site.claim_on_task_page(page, site.task_id(instance_id, "give_answer"))
    expect(page.locator("main")).to_contain_text("Son tarih 15 Ağustos.")
    page.get_by_label("Arayana ulaşıldı").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
