"""The group directory (issue 14, C4): mail recipients ``group:<slug>`` and ``lead:<slug>``
become addresses when the mail is queued; an unknown group fails the job at once, visibly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import directory, runtime, users
from engine.directory import RecipientError
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.mail import MailSettings, queue_mail
from engine.models import Group, InstanceStatus, Job, JobState, MailMessage, MailState, ProcessInstance
from engine.worker import run_due_jobs

JOBS = Path(__file__).resolve().parent.parent / "data" / "jobs"
OUTBOX = WorkerSettings(mail=MailSettings(host=None), backoff_seconds=0.01, poll_seconds=0.01)


@pytest.fixture
def groups(db):
    """network: an address and a lead with one; helpdesk: no address, two active members and
    an inactive one; systems: an address, a lead without one; software: nobody, nothing."""
    with db.tx() as session:
        users.add_user(session, "mert", groups=("network",), email="mert@example.edu.tr")
        users.add_user(session, "ayse", groups=("helpdesk",), email="ayse@example.edu.tr")
        users.add_user(session, "can", groups=("helpdesk",), email="can@example.edu.tr")
        users.add_user(session, "eski", groups=("helpdesk",), email="eski@example.edu.tr")
        users.set_active(session, "eski", False, actor="test")
        users.add_user(session, "selin", groups=("systems",))
        users.ensure_group(session, "software")
        directory.set_contact(session, "network", "ag@bidb.example.edu.tr", "mert", actor="test")
        directory.set_contact(session, "systems", "sistem@bidb.example.edu.tr", "selin", actor="test")
    return db


@pytest.mark.parametrize(("recipients", "addresses"), [
    ("group:network", ["ag@bidb.example.edu.tr"]),                       # the group's own address
    ("lead:network", ["mert@example.edu.tr"]),                           # the lead's address
    ("group:helpdesk", ["ayse@example.edu.tr", "can@example.edu.tr"]),   # no address: its active members
    ("lead:helpdesk", ["ayse@example.edu.tr", "can@example.edu.tr"]),    # no lead, no address: the members
    ("lead:systems", ["sistem@bidb.example.edu.tr"]),                    # a lead without an address: the group's
    (["elif@ktu.edu.tr", "group:network", "AG@bidb.example.edu.tr"], ["elif@ktu.edu.tr", "ag@bidb.example.edu.tr"]),
    ("elif@ktu.edu.tr, lead:network", ["elif@ktu.edu.tr", "mert@example.edu.tr"]),
])
def test_tokens_become_addresses(groups, recipients, addresses):
    with groups.tx() as session:
        assert directory.resolve_recipients(session, recipients) == addresses


@pytest.mark.parametrize(("recipients", "message"), [
    ("group:nosuch", "there is no group 'nosuch'"),
    ("lead:nosuch", "there is no group 'nosuch'"),
    ("group:software", "the group 'software' has no e-mail address and none of its active members has one"),
])
def test_an_unknown_group_or_no_address_at_all_is_refused(groups, recipients, message):
    with groups.tx() as session:
        with pytest.raises(RecipientError, match=message):
            queue_mail(session, recipients, "Konu", "Metin")


def test_the_lead_must_be_an_active_member_and_the_address_valid(groups):
    with groups.tx() as session:
        with pytest.raises(ValidationError) as refused:
            directory.set_contact(session, "network", "ag@", "ayse", actor="root")
    assert {p.location: p.code for p in refused.value.problems} == {"email": "format", "lead": "not_member"}
    with groups.tx() as session:
        assert (session.scalar(select(Group.email).where(Group.slug == "network"))) == "ag@bidb.example.edu.tr"


def test_send_mail_to_a_group_reaches_its_address(groups, deploy):
    deploy(JOBS / "notify.bpmn")
    with groups.tx() as session:
        instance_id = runtime.start_instance(session, "notify", actor="ayse", data={
            "requester": "lead:network", "subject": "Kesinti", "body": "Ağ bakımı"}).id
    assert run_due_jobs(groups.factory, OUTBOX) == 2                  # the service task, then its mail
    with groups.tx() as session:
        mail = session.scalar(select(MailMessage).where(MailMessage.instance_id == instance_id))
        assert (mail.recipients, mail.subject, mail.state) == ("mert@example.edu.tr", "Kesinti", MailState.OUTBOX)


def test_send_mail_to_an_unknown_group_fails_the_job_at_once(groups, deploy):
    deploy(JOBS / "notify.bpmn")
    with groups.tx() as session:
        instance_id = runtime.start_instance(session, "notify", actor="ayse", data={
            "requester": "group:ogrenci-isleri", "subject": "Kesinti", "body": "Ağ bakımı"}).id
    run_due_jobs(groups.factory, OUTBOX)
    with groups.tx() as session:
        job = session.scalar(select(Job).where(Job.instance_id == instance_id))
        assert (job.state, job.attempts) == (JobState.FAILED, 1)
        assert "there is no group 'ogrenci-isleri'" in job.last_error
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == InstanceStatus.ERROR
        assert "group:ogrenci-isleri" in instance.error_message
        assert session.scalars(select(MailMessage)).all() == []
