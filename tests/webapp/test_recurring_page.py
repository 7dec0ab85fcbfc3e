"""The process page shows a recurring start: how often, the next run (working day), the last run."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from engine import clock, recurring, users
from engine.jobs import WorkerSettings
from engine.models import InstanceStatus, ProcessInstance
from engine.worker import run_due_jobs

CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog"
ZONE = recurring.ZONE
TIMER_START = """
    <bpmn:startEvent id="every_month" name="Aylık yedek denetimi">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="workingDay" value="next" />
          __START_DATA__
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:outgoing>to_monthly_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="every_month_definition">
        <bpmn:timeCycle>"R/2027-01-01T09:00:00+03:00/P1M"</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="to_monthly_end" sourceRef="every_month" targetRef="monthly_end"/>
    <bpmn:endEvent id="monthly_end">
      <bpmn:incoming>to_monthly_end</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>"""


# What the catalog's backup asks of every start (the requester's fields and its own), given by the schedule.
START_DATA = ("<spiffworkflow:property name=\"startData\" value='{\"requester\": \"Sistem Yönetimi\", "
              "\"requester_email\": \"sistem@example.edu.tr\", \"subject\": \"Aylık yedek denetimi \" + "
              "scheduled_for[:7], \"system\": \"BYS\"}' />")


def _deploy_backup(deploy, tmp_path, start_data: str = START_DATA) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(CATALOG, folder, dirs_exist_ok=True)
    bpmn = folder / "backup.bpmn"
    timer = TIMER_START.replace("__START_DATA__", start_data)
    bpmn.write_text((CATALOG / "backup.bpmn").read_text(encoding="utf-8").replace("  </bpmn:process>", timer, 1),
                    encoding="utf-8")
    deploy(folder)


def test_the_process_page_shows_the_schedule_in_words(client, auth, make_user, db, deploy, tmp_path,
                                                      pinned_clock):
    pinned_clock(datetime(2026, 12, 20, 10, 0, tzinfo=ZONE))
    _deploy_backup(deploy, tmp_path)
    make_user("ayse", groups=("systems",))
    auth.login("ayse")
    page = client.get("/processes/backup").get_data(as_text=True)
    # 1 January 2027 is New Year's Day (a Friday): the first start is Monday 4 January.
    assert "Kendiliğinden başlar" in page
    assert "Her ay · sonraki: 4 Ocak 2027 Pazartesi 09:00" in page
    assert "sonraki iş günü" in page and "son çalışma" in page and "henüz çalışmadı" in page
    assert "R/2027" not in page and "every_month" not in page.replace('data-testid="schedule-every_month"', "")

    clock.pin(datetime(2027, 1, 4, 9, 30, tzinfo=ZONE))
    assert run_due_jobs(db.factory, WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)) == 1
    auth.login("ayse")   # two weeks later: a new sign-in
    page = client.get("/processes/backup").get_data(as_text=True)
    assert "sonraki: 1 Şubat 2027 Pazartesi 09:00" in page
    with db.tx() as session:
        [instance] = session.scalars(select(ProcessInstance))
        assert instance.status == InstanceStatus.COMPLETED
    assert f'4 Ocak 2027 Pazartesi 09:00 (<a href="/instances/{instance.id}">#{instance.id}</a>)' in page
    assert "Başarısız başlatmalar" not in page

    with db.tx() as session:   # English on request: the user's language
        users.get_user(session, "ayse").locale = "en"
    page = client.get("/processes/backup").get_data(as_text=True)
    assert "Starts by itself" in page
    assert "Every month · next: Monday 1 February 2027, 09:00" in page


def test_admins_see_a_failed_start_and_start_it_again(client, auth, make_user, db, deploy, tmp_path, pinned_clock):
    pinned_clock(datetime(2027, 1, 4, 10, 0, tzinfo=ZONE))
    # the schedule's start data cannot be made (a number added to a text): the start fails
    _deploy_backup(deploy, tmp_path, start_data=START_DATA.replace("scheduled_for[:7]", "missed_periods"))
    settings = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
    pinned_clock(datetime(2027, 2, 1, 9, 5, tzinfo=ZONE))
    run_due_jobs(db.factory, settings)
    make_user("ayse", groups=("systems",))
    make_user("admin", groups=(), roles=("admin", "staff"))
    auth.login("ayse")
    page = client.get("/processes/backup").get_data(as_text=True)
    assert "son başlatma başarısız oldu" in page and "Başarısız başlatmalar" not in page
    auth.logout()
    auth.login("admin")
    page = client.get("/processes/backup").get_data(as_text=True)
    assert "Başarısız başlatmalar" in page and "1 Şubat 2027 Pazartesi 09:00" in page and "startData" in page
    [job_id] = re.findall(r"/processes/backup/recurring/(\d+)/retry", page)
    # Fixed in a new version: the same start, started again by the admin, now runs.
    _deploy_backup(deploy, tmp_path)
    response = client.post(f"/processes/backup/recurring/{job_id}/retry",
                           data={"csrf_token": auth.csrf("/processes/backup")})
    assert response.status_code == 302
    run_due_jobs(db.factory, settings)
    with db.tx() as session:
        [instance] = session.scalars(select(ProcessInstance))
        assert instance.status == InstanceStatus.COMPLETED
    page = client.get("/processes/backup").get_data(as_text=True)
    assert "Başarısız başlatmalar" not in page and f'(<a href="/instances/{instance.id}">' in page
