"""Running one job: a due timer, a queued service task or an outgoing mail.

Each job runs inside a savepoint of the transaction that claimed it. If the job
fails, the savepoint is rolled back and the failure (attempts, backoff, and at the
end the instance's ``error`` status) is written in the same transaction, so a job is
never lost and never half-done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, health, mail, notices, recurring, runtime, services
from .errors import ConflictError, NotFoundError, ValidationError, WorkflowError
from .mail import MailSettings
from .models import (
    OPEN_TASK_STATES,
    HumanTask,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    MailMessage,
    MailState,
    ProcessInstance,
    utcnow,
)


@dataclass(frozen=True)
class WorkerSettings:
    mail: MailSettings = field(default_factory=MailSettings)
    backoff_seconds: float = 30.0
    poll_seconds: float = 1.0
    # Staff notices (engine.notices): the daily digest's local hour, and how often to look for overdue tasks.
    digest_hour: int = 8
    timezone: str = "Europe/Istanbul"
    overdue_minutes: float = 15.0


@dataclass(frozen=True)
class ServiceContext:
    """What an operator may use besides its parameters: the transaction and the instance."""

    session: Session
    instance_id: int
    data: dict
    # The service task running (engine.linked records which task started a child).
    bpmn_id: str | None = None


def claim_next(session: Session, now=None) -> Job | None:
    """Lock the next due job; other workers on PostgreSQL skip it (SKIP LOCKED)."""
    query = (
        select(Job)
        .where(Job.state == JobState.PENDING, Job.due_at <= (now or utcnow()))
        .order_by(Job.due_at, Job.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def execute(session: Session, job: Job, settings: WorkerSettings) -> bool:
    """Run a claimed job; record success or failure. Returns True on success."""
    try:
        with session.begin_nested():
            _HANDLERS[job.kind](session, job, settings)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is lost
        if health.is_unavailable(exc):
            # The connection, and the transaction holding the job, are gone (an outage, or the
            # database ended a session that sat idle too long): nothing can be recorded, and
            # nothing this run did is kept. The job is still pending, for the next worker.
            raise
        _record_failure(session, job, exc, settings)
        return False
    if job.state == JobState.PENDING and job.due_at > utcnow():
        return True  # rescheduled by its handler
    job.state, job.finished_at = JobState.DONE, utcnow()
    job.attempts += 1
    return True


def _run_timer(session: Session, job: Job, settings: WorkerSettings) -> None:
    fired, waiting = runtime.fire_due_timers(session, job.instance_id)
    if not fired and job.task_uuid in waiting:
        # Not quite due by the engine's clock yet: look again in a moment.
        job.due_at = utcnow() + timedelta(seconds=1)


def _run_service(session: Session, job: Job, settings: WorkerSettings) -> None:
    active = runtime.load_instance(session, job.instance_id)
    task = active.get_task(job.task_uuid)
    if not task.has_state(SpiffState.STARTED):
        return
    spec = task.task_spec
    try:
        params = {name: p["value"] for name, p in spec.evaluate_params(task).items()}
    except SpiffWorkflowException as exc:
        raise WorkflowError(f"{spec.bpmn_id}: parameters failed: {exc}") from exc
    operator = services.get_operator(spec.operation_name)
    result = operator(ServiceContext(session, job.instance_id, dict(task.data), spec.bpmn_id), **params)
    task.data[spec.result_variable] = audit.to_json_value(result)
    task.complete()
    active.run_engine_steps()
    active.save(session, "service.completed", actor=None,
                data={"bpmn_id": spec.bpmn_id, "operator": spec.operation_name, "result": result})


def _run_mail(session: Session, job: Job, settings: WorkerSettings) -> None:
    message = session.get(MailMessage, job.payload["mail_id"])
    if message is None:
        raise NotFoundError(f"mail {job.payload['mail_id']} is gone")
    mail.deliver(message, settings.mail)


def _run_notice(session: Session, job: Job, settings: WorkerSettings) -> None:
    notices.run_task_notice(session, job, timezone=settings.timezone)


def _run_digest(session: Session, job: Job, settings: WorkerSettings) -> None:
    notices.run_digest(session, job, digest_hour=settings.digest_hour, timezone=settings.timezone)


def _run_overdue(session: Session, job: Job, settings: WorkerSettings) -> None:
    notices.run_overdue(session, job, timezone=settings.timezone, overdue_minutes=settings.overdue_minutes)


def _run_recurring(session: Session, job: Job, settings: WorkerSettings) -> None:
    recurring.run_schedule(session, job)


def _run_recurring_start(session: Session, job: Job, settings: WorkerSettings) -> None:
    recurring.run_start(session, job)


_HANDLERS = {JobKind.TIMER: _run_timer, JobKind.SERVICE: _run_service, JobKind.MAIL: _run_mail,
             JobKind.NOTICE: _run_notice, JobKind.DIGEST: _run_digest, JobKind.OVERDUE: _run_overdue,
             JobKind.RECURRING: _run_recurring, JobKind.RECURRING_START: _run_recurring_start}


def _record_failure(session: Session, job: Job, exc: Exception, settings: WorkerSettings) -> None:
    message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, WorkflowError) else str(exc)
    job.attempts += 1
    job.last_error = message
    # A failure retrying cannot mend (a mail to a group that does not exist, start data the
    # started process refuses) fails the job at once, for an admin to fix and retry.
    permanent = getattr(exc, "permanent", False)
    if job.kind == JobKind.RECURRING_START:
        if isinstance(exc, ValidationError):
            permanent = True
            problems = "; ".join(str(p) for p in exc.problems)
            job.last_error = message = f"{message} ({problems})" if problems else message
        recurring.start_failed(session, job, message)
    if job.attempts < job.max_attempts and not permanent:
        job.due_at = utcnow() + timedelta(seconds=settings.backoff_seconds * 2 ** (job.attempts - 1))
        return
    job.state, job.finished_at = JobState.FAILED, utcnow()
    summary = f"{job.kind} job {job.id} failed after {job.attempts} attempts: {message}"
    if job.kind == JobKind.MAIL:
        mail_row = session.get(MailMessage, job.payload.get("mail_id"))
        if mail_row is not None:
            mail_row.state, mail_row.error = MailState.FAILED, message
    if job.instance_id is not None:
        instance = session.get(ProcessInstance, job.instance_id)
        if instance is not None:
            instance.status, instance.error_message = InstanceStatus.ERROR, summary
    audit.record(session, "job.failed", actor=None, instance_id=job.instance_id,
                 data={"job_id": job.id, "kind": job.kind, "attempts": job.attempts, "error": message})


def retry_job(session: Session, job_id: int, *, actor: str | None) -> Job:
    """Put a failed job back in the queue (an admin's action)."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id}")
    if job.state != JobState.FAILED:
        raise ConflictError(f"job {job_id} is {job.state}, not failed")
    job.state, job.attempts, job.due_at, job.finished_at = JobState.PENDING, 0, utcnow(), None
    if job.instance_id is not None:
        instance = session.get(ProcessInstance, job.instance_id)
        if instance is not None and instance.status == InstanceStatus.ERROR:
            instance.status, instance.error_message = _status_without_error(session, instance.id), None
    if job.kind == JobKind.MAIL:
        mail_row = session.get(MailMessage, job.payload.get("mail_id"))
        if mail_row is not None:
            mail_row.state, mail_row.error = MailState.QUEUED, None
    audit.record(session, "job.retried", actor=actor, instance_id=job.instance_id,
                 data={"job_id": job.id, "kind": job.kind})
    return job


def _status_without_error(session: Session, instance_id: int) -> InstanceStatus:
    open_task = session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.state.in_(OPEN_TASK_STATES)).limit(1))
    return InstanceStatus.RUNNING if open_task is not None else InstanceStatus.WAITING


def send_mail_operator(ctx: ServiceContext, to, subject: str, body: str) -> dict:
    """Built-in service operator ``send_mail``: queue a mail for the worker to send."""
    message = mail.queue_mail(ctx.session, to, subject, body, instance_id=ctx.instance_id)
    return {"mail_id": message.id}

