"""SEK 08-04-35 in a real browser: a student's device passes the MAC check, the network
team registers it through the task form (a "no" without a reason is refused in place
first), and the student is mailed the connection instructions."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser

REGISTER = "Cihazı YurtNet'e kaydet"


def test_the_network_team_registers_a_students_device(site, page):
    site.add_user("ag.yurtnet", "network")
    request = {
        "requester": "Burak Yıldız", "requester_email": "burak.yildiz@ogr.example.edu.tr", "subject": "YurtNet",
        "student_number": "402577001", "dorm": "Fatih Kız Öğrenci Yurdu", "block": "C", "room": "112",
        "device_type": "Telefon", "mac_address": "d8-3a-dd-4b-90-1c",
    }
    with site.tx() as session:
        request_id = runtime.start_instance(session, "yurtnet_registration", actor="portal", data=request).id
    site.run_jobs()              # the MAC check
    task_id = site.task_id(request_id, "register_device")
    assert task_id is not None and site.task(task_id).group_name == "network"

    site.sign_in(page, "ag.yurtnet")
    site.claim_from_group(page, task_id, REGISTER)

    # "Not registered" needs a reason for the student: refused next to the field.
    form = page.get_by_test_id("task-form")
    form.get_by_label("Hayır, kaydedilemedi").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-reason")).to_have_text("Bu alan zorunludur.")
    assert site.task(task_id).state == "claimed"

    form = page.get_by_test_id("task-form")
    form.get_by_label("Evet, kaydedildi").check()
    form.locator("#field-network_note").fill("VLAN 312, DHCP rezervasyonu 10.31.2.45")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(REGISTER)
    assert site.task(task_id).completed_by == "ag.yurtnet"

    site.run_jobs()              # the instructions mail
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        code = session.get(ProcessInstance, request_id).tracking_code
        assert (mail.recipients, mail.subject) == (
            "burak.yildiz@ogr.example.edu.tr", f"[{code}] YurtNet kaydınız tamamlandı")
        assert (mail.template, mail.language) == ("yurtnet_registered", "tr")
        assert "D8:3A:DD:4B:90:1C" in mail.body and "VLAN 312" in mail.body and f"Takip kodunuz: {code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    student = page.context.browser.new_page()         # the mailed link opens the tracking page
    student.goto(site.at(f"{link.path}?{link.query}"))
    expect(student.locator("main")).to_contain_text(code)
    student.close()
    page.goto(site.at(f"/instances/{request_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(1)
    expect(page.get_by_test_id("instance-tasks").locator(f"tr[data-task-id='{task_id}']")).to_contain_text(
        "ag.yurtnet")
