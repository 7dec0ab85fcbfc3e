"""Browser fixtures: the real app served on 127.0.0.1, Debian's chromium driven by Playwright.

One live server and one browser serve the whole folder; every test gets fresh browser
contexts (no shared cookies) and its own users and requests, so tests do not depend
on each other's order. A failing test leaves full-page screenshots of each of its pages,
at 1280 and 390 px wide, in the git-ignored ``tests/browser/screenshots/``; the failure
report lists them.

Only Debian's ``chromium`` is used (``make browser`` installs it): Playwright's own
downloaded browsers are never needed, and the flags below keep Chromium from
reaching out to the (closed) network.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

import processes
from engine import definitions, migrate, runtime, services, users, validation
from engine.db import make_engine, make_session_factory, transaction
from engine.jobs import WorkerSettings
from engine.models import HumanTask, MailMessage
from engine.worker import run_due_jobs
from processes.demo import UNITS
from processes.portal import ensure_units
from webapp import create_app
from webapp.extensions import db as flask_db

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
# A frozen copy of the first help-desk process (triage, then the team answers) for the journeys.
SUPPORT = ROOT / "tests" / "data" / "support"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "parola123"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 740}
# The widths a failing test's pages are photographed at: a desk, and a phone (390 px).
SCREENSHOT_WIDTHS = (1280, 390)
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TURKISH_CATALOG = ROOT / "webapp" / "translations" / "tr" / "LC_MESSAGES" / "messages.mo"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
# The public reply page's link in a mail (the live server's own address is the base).
REPLY_TOKEN = re.compile(r"/yanit/(\S+)")
# The test's own reading of the portal's CAPTCHA question ("yedi artı dört kaç eder?").
NUMBERS = {"sıfır": 0, "bir": 1, "iki": 2, "üç": 3, "dört": 4, "beş": 5, "altı": 6, "yedi": 7, "sekiz": 8,
           "dokuz": 9, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9}


def solve(question: str) -> int:
    """Work out "yedi artı dört kaç eder?" (or "What is seven minus two?") as a person would."""
    words = question.lower().replace("?", "").split()
    numbers = [NUMBERS[w] for w in words if w in NUMBERS]
    assert len(numbers) == 2, question
    if "artı" in words or "plus" in words:
        return numbers[0] + numbers[1]
    assert "eksi" in words or "minus" in words, question
    return numbers[0] - numbers[1]


@dataclass
class Site:
    """The running app: its address, its database, and the steps tests share."""

    url: str
    factory: object

    def tx(self):
        """One committed transaction on the app's database (as a CLI command would)."""
        return transaction(self.factory)

    def at(self, path: str) -> str:
        return self.url + path

    def add_user(self, username: str, *groups: str) -> str:
        with self.tx() as session:
            users.add_user(session, username, groups=groups, roles=("staff",), password=PASSWORD)
        return username

    def start_request(self, subject: str, requester: str = "Ali Veli",
                      requester_email: str = "ali.veli@ogr.example.edu.tr") -> int:
        with self.tx() as session:
            instance = runtime.start_instance(session, "support_ticket", actor="portal", data={
                "subject": subject, "requester": requester, "requester_email": requester_email,
            })
            return instance.id

    def task_id(self, instance_id: int, bpmn_id: str = "triage") -> int:
        with self.tx() as session:
            return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                              HumanTask.bpmn_id == bpmn_id))

    def task(self, task_id: int) -> HumanTask:
        with self.tx() as session:
            return session.get(HumanTask, task_id)

    def sign_in(self, page: Page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the real form and land on the user's start page (staff: the
        inbox; managers: the reports; auditors: the audit search; process owners: the catalog)."""
        page.goto(self.at("/login"))
        page.fill("#username", username)
        page.fill("#password", password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/(inbox|reports|audit|processes)"))

    def run_jobs(self) -> int:
        """Run the jobs that are due (service tasks, mails, timers), as the worker would."""
        return run_due_jobs(self.factory, FAST)

    def newest_mail(self, instance_id: int) -> MailMessage:
        """The instance's newest mail (run the jobs first: the worker renders and sends it)."""
        with self.tx() as session:
            mail = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)
                                   .order_by(MailMessage.id.desc())).first()
            assert mail is not None, f"instance {instance_id} mailed nothing"
            return mail

    def mails(self, instance_id: int) -> list[tuple[str, str]]:
        """The instance's mails, oldest first, as ``(recipients, subject)``."""
        with self.tx() as session:
            return [(m.recipients, m.subject) for m in session.scalars(
                select(MailMessage).where(MailMessage.instance_id == instance_id).order_by(MailMessage.id))]

    def reply_path(self, instance_id: int) -> str:
        """The path of the newest public reply link the instance mailed."""
        with self.tx() as session:
            bodies = list(session.scalars(select(MailMessage.body).where(
                MailMessage.instance_id == instance_id).order_by(MailMessage.id.desc())))
        return next(f"/yanit/{REPLY_TOKEN.search(b).group(1)}" for b in bodies if REPLY_TOKEN.search(b))

    @staticmethod
    def answer_captcha(page: Page) -> None:
        """Read the portal form's question and type its answer (each form shows a new one)."""
        question = page.get_by_test_id("captcha-question").inner_text()
        page.fill("#field-captcha", str(solve(question)))

    @staticmethod
    def tr(msgid: str, **params) -> str:
        """A UI text as the Turkish catalog says it (the English msgid while it is untranslated)."""
        text = Translations.load(str(ROOT / "webapp" / "translations"), ["tr"]).gettext(msgid)
        return text % params if params else text

    @staticmethod
    def task_row(page: Page, task_id: int):
        """The row of ``task_id`` in the inbox's task list."""
        return page.locator(f"[data-testid=task-list] tr[data-task-id='{task_id}']")

    def claim_from_group(self, page: Page, task_id: int, title: str, *row_shows: str) -> None:
        """From the inbox's group list: claim the task, then open it from the user's own list.

        :param row_shows: more texts the task's row in the group list must show.
        """
        page.get_by_test_id("tab-group").click()
        row = self.task_row(page, task_id)
        expect(row).to_contain_text(title)
        for text in row_shows:
            expect(row).to_contain_text(text)
        row.get_by_role("button", name="Üstlen", exact=True).click()
        expect(page.locator(".alert-success")).to_be_visible()
        page.get_by_test_id("tab-mine").click()
        self.task_row(page, task_id).get_by_role("link", name=title).click()
        expect(page.locator("main h1")).to_have_text(title)

    def claim_on_task_page(self, page: Page, task_id: int) -> None:
        """Open the task's own page and claim it there; its form appears."""
        page.goto(self.at(f"/tasks/{task_id}"))
        page.get_by_test_id("claim").click()
        expect(page.get_by_test_id("task-form")).to_be_visible()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The app on a fresh, migrated SQLite file with ``bpmn/`` deployed, served in a thread."""
    if not TURKISH_CATALOG.exists():
        pytest.fail("the Turkish catalog is not compiled, so the UI would speak English: "
                    "run `make translations` (part of `make test`)", pytrace=False)
    folder = tmp_path_factory.mktemp("browser-data")
    url = f"sqlite:///{folder / 'sek.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    processes.install()   # the processes' service operators, before their BPMN is checked
    with transaction(factory) as session:
        definitions.deploy(session, validation.load_paths([str(BPMN), str(SUPPORT)]),
                           known_operators=services.operator_names())
        ensure_units(session, UNITS)   # the portal's "Biriminiz" list, as on a real site
    app = create_app({
        "SEK_DATA_DIR": str(folder), "DATABASE_URL": url, "SECRET_KEY": "browser-test-secret",
        "SMTP_HOST": None, "SMTP_PORT": "25", "SMTP_USER": None, "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": "false", "MAIL_FROM": "sek@localhost", "SEK_JOB_BACKOFF_SECONDS": "30",
        "SEK_WORKER_POLL_SECONDS": "1", "SEK_DEFAULT_LOCALE": "tr", "SEK_TIMEZONE": "Europe/Istanbul",
        "SEK_SECURE_COOKIES": "false", "SEK_SESSION_HOURS": "12", "SEK_LOGIN_MAX_FAILURES": "5",
        "SEK_LOGIN_WINDOW_MINUTES": "15",
        # Every test submits and looks up from 127.0.0.1 on this shared server: the limits
        # themselves are tested with the Flask client (tests/webapp/test_portal_submit.py,
        # test_tracking.py), here they must not stop one test because of the others.
        "SEK_PORTAL_SUBMITS_PER_IP": "1000", "SEK_PORTAL_SUBMITS_PER_EMAIL": "1000",
        "SEK_TRACK_MAX_FAILURES": "1000", "SEK_TRACK_WINDOW_MINUTES": "15",
    })
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="sek-live-server", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", factory)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            flask_db.engine.dispose()
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Browser:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not on PATH: the browser tests need it "
                    "(`make browser`, part of `make test`, installs it with apt-get)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The pages a test opened (open_page), for the screenshots of a failure.
OPENED_PAGES = pytest.StashKey[list]()


def save_screenshots(item) -> list[str]:
    """Full-page screenshots of every page the test opened, at each of SCREENSHOT_WIDTHS."""
    saved = []
    name = re.sub(r"[^\w.-]+", "_", item.name)
    for number, page in enumerate(item.stash.get(OPENED_PAGES, []), start=1):
        if page.is_closed():
            continue
        suffix = "" if number == 1 else f"-{number}"
        height = (page.viewport_size or DESKTOP)["height"]
        for width in SCREENSHOT_WIDTHS:
            path = SCREENSHOTS / f"{name}{suffix}-{width}px.png"
            try:
                page.set_viewport_size({"width": width, "height": height})
                page.screenshot(path=str(path), full_page=True)
                saved.append(str(path))
            except Exception as exc:  # a crashed page must not hide the test's own failure
                saved.append(f"(page {number} at {width} px: no screenshot: {exc})")
    return saved


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failure at teardown;
    when the test (or its setup) fails, photograph its pages while they are still open and
    name the files in the failure report."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
    if report.failed and report.when in ("setup", "call") and item.stash.get(OPENED_PAGES, None):
        SCREENSHOTS.mkdir(exist_ok=True)
        report.sections.append(("screenshots (1280 and 390 px wide)", "\n".join(save_screenshots(item))))


@pytest.fixture
def dialogs() -> list[str]:
    """Every JavaScript dialog (alert, confirm, prompt) any page of the test opened."""
    return []


@pytest.fixture
def open_page(request, browser, dialogs):
    """Open a page in a new browser context (own cookies); ``open_page(viewport=PHONE)``.

    Dialogs are recorded and dismissed; a test that opened one fails. When the test
    fails, each page it opened is saved as full-page screenshots (pytest_runtest_makereport).
    """
    contexts, pages = [], []
    request.node.stash[OPENED_PAGES] = pages

    def open_(viewport: dict | None = None, **options) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="tr-TR", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(f"{dialog.type}: {dialog.message}"), dialog.dismiss()))
        pages.append(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not dialogs, f"a page opened a JavaScript dialog: {dialogs}"


@pytest.fixture
def page(open_page) -> Page:
    """A desktop-sized page in a fresh browser context."""
    return open_page()


@pytest.fixture
def phone_page(open_page) -> Page:
    """A phone-sized touch page (375x740) in a fresh browser context."""
    return open_page(viewport=PHONE, is_mobile=True, has_touch=True)
