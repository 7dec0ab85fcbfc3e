"""The front door (the public portal's "Yeni talep" page, for everyone), liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, current_app

from engine.health import ReadinessProbe

from .config import db_settings
from .errors import RETRY_AFTER_SECONDS, outage_log
from .portal.routes import index as portal_index

bp = Blueprint("home", __name__)

# Where each role's work is, in the order a user with several roles is sent: staff work
# (tasks waiting in the inbox) first, then the reports, the audit search, the processes.
LANDINGS = (("staff", "inbox.index"), ("manager", "reports.index"), ("auditor", "audit.index"),
            ("process_owner", "catalog.index"))


def landing_endpoint(user) -> str:
    """The page ``user`` starts on after signing in: admins and staff (or anyone in a
    group, who has tasks) the inbox, managers the reports, auditors the audit search,
    process owners the process catalog."""
    roles = set(user.roles or [])
    if "admin" in roles or user.groups:
        return "inbox.index"
    return next((endpoint for role, endpoint in LANDINGS if role in roles), "inbox.index")


@bp.get("/")
def index():
    # Staff see the same page (their nav leads to the inbox): "/" is where requesters start.
    return portal_index()


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. It never touches the database, so an outage does not
    get a healthy process restarted (readiness, below, tells the load balancer)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Readiness: the database answers within a short timeout and its schema is at the head
    revision. 503 with ``Retry-After`` otherwise, so a load balancer sends requests elsewhere."""
    app = current_app._get_current_object()
    probe = app.extensions.get("sek_readiness")
    if probe is None:
        probe = app.extensions["sek_readiness"] = ReadinessProbe(app.config["DATABASE_URL"], db_settings(app.config))
    readiness = probe.check()
    outage = outage_log(app)
    if readiness.error is not None:
        outage.failed(readiness.error)
    elif readiness.ready:
        outage.succeeded()
    if readiness.ready:
        return {"status": "ready"}
    return {"status": "unavailable", "problem": readiness.problem}, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
