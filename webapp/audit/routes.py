"""The auditor's pages. Every view only reads: the search, an instance's history, the
hash-chain verification and the period exports (streamed)."""

from __future__ import annotations

import re

from flask import Response, render_template, request, stream_with_context
from flask_babel import get_timezone
from flask_babel import gettext as _

from engine import audit, audit_export, audit_search, instances
from engine.errors import NotFoundError, ValidationError
from engine.models import InstanceStatus, ProcessInstance
from processes.user_support.recategorize import CATEGORIES

from ..auth.identity import require_role
from ..extensions import db
from ..timeline import LABELS
from . import bp

PER_PAGE = 50
# Full Content-Type values: given as ``content_type``, never as ``mimetype`` (which would append the charset again).
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json",
               "xes": "application/xml; charset=utf-8"}
FILTER_KEYS = ("process", "version", "status", "from", "to", "category", "team", "requester", "actor")


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text and text.strip() else None
    except ValueError:
        return None


@bp.get("")
@require_role("auditor")
def index():
    args = {key: (request.args.get(key) or "").strip() for key in FILTER_KEYS}
    page = max(1, _int(request.args.get("page")) or 1)
    errors, rows = [], []
    try:
        start, end = audit_export.period(args["from"], args["to"], get_timezone())
    except ValidationError as exc:
        errors, start, end = [p.message for p in exc.problems], None, None
    criteria = audit_search.InstanceFilter(
        process_key=args["process"] or None, version=_int(args["version"]),
        status=args["status"] if args["status"] in set(InstanceStatus) else None,
        created_from=start, created_to=end, category=args["category"] or None, team=args["team"] or None,
        requester=args["requester"] or None, actor=args["actor"] or None)
    if not errors:
        rows = audit_search.search_instances(db.session, criteria, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template(
        "audit/index.html", rows=rows[:PER_PAGE], has_more=len(rows) > PER_PAGE, page=page, args=args,
        errors=errors, statuses=list(InstanceStatus), categories=CATEGORIES,
        teams=audit_search.known_teams(db.session), processes=audit_search.known_processes(db.session))


@bp.get("/instances/<int:instance_id>")
@require_role("auditor")
def instance(instance_id: int):
    found = db.session.get(ProcessInstance, instance_id)
    if found is None:
        raise NotFoundError(f"no instance {instance_id}")
    return render_template("audit/instance.html", instance=found,
                           version=instances.version_of(db.session, found),
                           history=audit_search.instance_history(db.session, instance_id))


@bp.get("/verify")
@require_role("auditor")
def verify():
    """Recompute the chains (every chain, or one instance's): green, or the first event that
    does not match and why, worded as ``sek audit verify`` words it."""
    instance_id = _int(request.args.get("instance"))
    if instance_id is None:
        result = audit.verify(db.session)
    else:
        result = audit.verify_instance(db.session, instance_id)   # no such instance: 404
    return render_template("audit/verify.html", result=result, instance_id=instance_id)


@bp.get("/export")
@require_role("auditor")
def export():
    fmt = request.args.get("format") or ""
    args = {key: (request.args.get(key) or "").strip() for key in ("from", "to")}
    if fmt not in audit_export.FORMATS:
        return render_template("audit/export.html", args=args, formats=audit_export.FORMATS, errors=[])
    try:
        start, end = audit_export.period(args["from"], args["to"], get_timezone())
    except ValidationError as exc:
        return render_template("audit/export.html", args=args, formats=audit_export.FORMATS,
                               errors=[p.message for p in exc.problems]), 422
    days = [re.sub(r"[^0-9-]", "", args[k]) for k in ("from", "to")]   # only date characters in the header
    name = f"sek-audit-{days[0] or 'start'}-{days[1] or 'now'}.{fmt}"
    body = stream_with_context(audit_export.export(db.session, fmt, start, end))
    return Response(body, content_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff"})


# A value blanked by KVKK retention (engine.audit.redact), as the history shows it in JSON.
_MARKER = re.compile(r'\{"\$redacted": "[0-9a-f]{64}"\}')


@bp.app_template_filter("redaction_marks")
def redaction_marks(text: str | None) -> str | None:
    """Redaction markers read as "[redacted]" (the digest they keep means nothing to a reader)."""
    return _MARKER.sub("[" + _("redacted") + "]", text) if text else text


@bp.app_template_filter("audit_label")
def audit_label(action: str) -> str:
    if action == "personal_data.viewed":
        return _("Requester's personal data viewed")
    return str(LABELS.get(action, action))
