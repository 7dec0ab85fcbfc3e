"""A help-desk agent's day in a real browser (issue 13): a campus outage brings requests to
the help desk; the agent finds one by search, triages from the task (priority, category,
duplicate link), answers the main request with the conditional form, the duplicate's
English-speaking requester gets the answer in English, and when the first requester
reopens, the request comes back to the agent's own list. The requests are made as the
portal makes them (engine calls): the portal itself has its own journey test."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

import processes
from engine import clock, conversation, runtime
from engine.models import OPEN_TASK_STATES, AuthorKind, HumanTask, MailMessage
from engine.workdays import ZONE
from tests.browser.a11y import check_page

pytestmark = pytest.mark.browser

processes.install()   # the operators and date rules, as the live server has them

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
AGENT = "gunes.masa"
ANSWER = "Kanuni yerleşkesindeki omurga anahtarı değiştirildi; bağlantı yeniden sağlandı."
REOPEN = "Bizim koridorda hâlâ bağlantı yok."
RESOLVE = "Talebi çöz"
LINK = re.compile(r"https?://\S+/takip/\S+")


@pytest.fixture
def pinned():
    """The live server runs in this process: its clock is the engine's, pinned here."""
    clock.pin(MONDAY)
    yield
    clock.set_shift(timedelta(0))


def submit(site, name: str, email: str, subject: str, message: str, locale: str = "tr") -> tuple[int, str]:
    """A request of category "Diğer" (the help desk's, by the routing table), as the portal
    records it: the instance, its requester and language, the first message."""
    actor = f"requester:{email}"
    with site.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor=actor, data={
            "requester": name, "requester_email": email, "category": "Diğer", "subject": subject,
            "message": message})
        conversation.record_contact(session, instance.id, name=name, email=email, locale=locale)
        conversation.add_message(session, instance.id, message, author_kind=AuthorKind.REQUESTER, author=email,
                                 actor=actor)
        return instance.id, instance.tracking_code


def open_task(site, instance_id: int) -> HumanTask | None:
    with site.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state.in_(OPEN_TASK_STATES)))
        if row is not None:
            session.expunge(row)
        return row


def group_rows(page: Page, *task_ids: int) -> list[int]:
    """The given tasks in the order the inbox lists them (other tests' tasks left out)."""
    listed = [int(i) for i in page.locator("[data-testid=task-list] tr[data-task-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.taskId)")]
    return [i for i in listed if i in task_ids]


def mail_link(site, body: str) -> str:
    """The tracking link of a mail's body, on the live server."""
    link = urlsplit(LINK.search(body).group(0))
    return site.at(f"{link.path}?{link.query}")


def test_an_agents_day_search_triage_duplicate_answer_and_reopen(site, page, open_page, pinned):
    site.add_user(AGENT, "helpdesk")
    other_id, _ = submit(site, "Kerem Aksoy", "kerem.aksoy@ogr.example.edu.tr", "Kanuni amfisinde projektör yanmıyor",
                         "B1 amfisindeki projektörün lambası yanmıyor.")
    main_id, main_code = submit(site, "Elif Gündoğdu", "elif.gundogdu@ogr.example.edu.tr",
                                "Kanuni yerleşkesinde internet yok", "Sabahtan beri kampüste kablolu ağ çalışmıyor.")
    copy_id, copy_code = submit(site, "John Smith", "john.smith@example.edu.tr", "No internet on Kanuni campus",
                                "The wired network has been down since this morning.", locale="en")
    other, main, copy = (open_task(site, i) for i in (other_id, main_id, copy_id))
    assert {other.group_name, main.group_name, copy.group_name} == {"helpdesk"}

    # Signed in, the agent lands on the inbox: nothing of theirs yet, so the help desk's queue,
    # soonest due first, every request of normal priority.
    site.sign_in(page, AGENT)
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.get_by_test_id("tab-group")).to_have_class(re.compile(r"\bactive\b"))
    ids = (other.id, main.id, copy.id)
    page.get_by_test_id("inbox-filter").locator("#filter-text").fill("Kanuni")   # this outage's requests
    page.get_by_test_id("inbox-filter").locator("#filter-text").press("Enter")
    expect(page).to_have_url(re.compile(r"text=Kanuni"))
    expect(page.locator("[data-testid=task-list] tr[data-task-id]")).to_have_count(3)
    assert group_rows(page, *ids) == [other.id, main.id, copy.id]
    expect(site.task_row(page, main.id).locator(".badge")).to_have_text("Normal")

    # Found by search: the navbar's box, the results page, the request, its task.
    search = page.get_by_test_id("nav-search")
    search.fill("Gündoğdu")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?"))
    hits = page.get_by_test_id("search-hit")
    expect(hits).to_have_count(1)
    expect(hits).to_contain_text(main_code)
    check_page(page, "the search results")
    hits.get_by_role("link", name="Kanuni yerleşkesinde internet yok").click()
    expect(page).to_have_url(site.at(f"/instances/{main_id}"))
    page.get_by_test_id("instance-tasks").locator(f"a[href='/tasks/{main.id}']").click()
    expect(page).to_have_url(site.at(f"/tasks/{main.id}"))

    # Triage from the task: urgent. Back in the queue it comes first, with its badge.
    triage = page.get_by_test_id("triage")
    triage.locator("#triage-priority").select_option("urgent")
    triage.get_by_role("button", name="Önceliği kaydet").click()
    expect(page.locator(".alert-success")).to_contain_text("Acil")
    expect(page.locator("#triage-priority")).to_have_value("urgent")
    page.goto(site.at("/inbox?section=group&text=Kanuni"))
    assert group_rows(page, *ids) == [main.id, other.id, copy.id]
    expect(site.task_row(page, main.id).locator(".badge")).to_have_text("Acil")

    # The projector is no help-desk matter: moved to "Donanım / Arıza", it leaves the queue.
    page.goto(site.at(f"/tasks/{other.id}"))
    move = page.get_by_test_id("triage-category")
    move.locator("#triage-category").select_option("Donanım / Arıza")
    move.locator("#triage-note").fill("Donanım ekibinin işi.")
    move.get_by_role("button", name="Taşı").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text("Donanım / Arıza")
    assert open_task(site, other_id).group_name == "systems"

    # John's request is the same outage: a duplicate of Elif's, by its tracking code.
    page.goto(site.at(f"/tasks/{copy.id}"))
    duplicate = page.get_by_test_id("triage-duplicate")
    duplicate.locator("#triage-main").fill(main_code.lower())
    duplicate.get_by_role("button", name="Kopya olarak işaretle").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(f"#{main_id}")
    page.goto(site.at("/inbox?section=group&text=Kanuni"))
    assert group_rows(page, *ids) == [main.id]

    # Claim and open Elif's request: its panel names the duplicate; the form shows an action's
    # fields only once it is chosen.
    site.task_row(page, main.id).get_by_role("button", name="Üstlen ve aç").click()
    expect(page).to_have_url(site.at(f"/tasks/{main.id}"))
    expect(page.get_by_test_id("assignee")).to_have_text(AGENT)
    expect(page.get_by_test_id("triage-linked")).to_contain_text(f"#{copy_id}")
    form = page.get_by_test_id("task-form")
    answer = form.get_by_test_id("section-action-answer")
    expect(answer).to_be_hidden()
    check_page(page, "the triaged task page")
    form.get_by_label("Yanıtla: talep çözüldü").check()
    expect(answer).to_be_visible()
    expect(form.get_by_test_id("section-action-route")).to_be_hidden()
    form.locator("#field-answer").fill(ANSWER)
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(RESOLVE)
    site.run_jobs()

    # One answer, two requesters, each in their own language.
    with site.tx() as session:
        mails = {i: [(m.recipients, m.template, m.language, m.subject, m.body) for m in session.scalars(
            select(MailMessage).where(MailMessage.instance_id == i, MailMessage.template == "answer"))]
            for i in (main_id, copy_id)}
    [(to, _, language, subject, body)] = mails[main_id]
    assert (to, language) == ("elif.gundogdu@ogr.example.edu.tr", "tr") and ANSWER in body
    assert subject.startswith(f"[{main_code}] Talebiniz yanıtlandı")
    [(to, _, language, subject, body)] = mails[copy_id]
    assert (to, language) == ("john.smith@example.edu.tr", "en") and ANSWER in body
    assert subject.startswith(f"[{copy_code}] Your request has been answered")
    page.goto(site.at(f"/instances/{copy_id}"))          # John's request: answered, no longer to unlink
    expect(page.get_by_test_id("triage-main")).to_contain_text(main_code)
    expect(page.get_by_test_id("triage-unlink")).to_have_count(0)
    john = open_page()                      # the mailed link: the page in the language John wrote in
    john.goto(mail_link(site, body))
    expect(john).to_have_url(site.at(f"/takip/{copy_code}"))
    expect(john.locator("html")).to_have_attribute("lang", "en")
    expect(john.get_by_test_id("track-status-text")).to_have_text("Answered")
    expect(john.locator("main")).to_contain_text(ANSWER)

    # Elif reopens from her tracking page: the request comes back to the agent's own list.
    elif_ = open_page()
    elif_.goto(mail_link(site, mails[main_id][0][4]))
    expect(elif_.get_by_test_id("track-status-text")).to_have_text("Yanıtlandı")
    reopen = elif_.get_by_test_id("reopen-form")
    reopen.locator("#reason").fill(REOPEN)
    reopen.locator("button[type=submit]").click()
    expect(elif_.locator(".alert-success")).to_contain_text("yeniden açıldı")
    site.run_jobs()
    back = open_task(site, main_id)
    assert (back.bpmn_id, back.state, back.assignee) == ("resolve", "claimed", AGENT)
    assert back.due_at.astimezone(ZONE) < MONDAY + timedelta(hours=5)   # still urgent: four working hours
    page.goto(site.at("/inbox"))
    page.get_by_test_id("tab-mine").click()
    row = site.task_row(page, back.id)
    expect(row).to_contain_text("Kanuni yerleşkesinde internet yok")
    expect(row.locator(".badge")).to_have_text("Acil")
    row.get_by_role("link", name="Kanuni yerleşkesinde internet yok").click()
    expect(page.get_by_test_id("conversation")).to_contain_text(REOPEN)
    expect(page.get_by_test_id("assignee")).to_have_text(AGENT)
    # A fresh decision: the last answer is in the conversation, not chosen and written in the form.
    form = page.get_by_test_id("task-form")
    expect(form.locator("input[name=action]:checked")).to_have_count(0)
    expect(form.get_by_test_id("section-action-answer")).to_be_hidden()
    form.get_by_label("Yanıtla: talep çözüldü").check()
    expect(form.locator("#field-answer")).to_have_value("")
