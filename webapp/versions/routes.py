"""Version views: the list, a diff of two versions, and migrating running requests.

Every staff member may look; only process owners of the owning group and admins may
move a running request to another version.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine import instance_migration, owners, versions
from engine.errors import ConflictError, NotFoundError
from engine.models import OPEN_STATUSES, ProcessDefinition, ProcessInstance

from ..auth import require_role
from ..db import command
from ..extensions import db
from . import bp

MAX_LISTED = 100   # previews restore each workflow: keep the page bounded


def can_migrate(key: str) -> bool:
    """Whoever may change the process (the engine's rule, as for deploying it)."""
    return owners.may_change(current_user, key)


def _versions_or_404(key: str):
    try:
        return versions.list_versions(db.session, key)
    except NotFoundError:
        abort(404)


@bp.get("/<key>/versions")
@require_role("staff")
def index(key: str):
    listed = _versions_or_404(key)
    newest = listed[0].version
    return render_template("versions/index.html", key=key, versions=listed, newest=newest,
                           can_migrate=can_migrate(key))


@bp.get("/<key>/versions/compare")
@require_role("staff")
def compare(key: str):
    """The two versions picked in the list's form."""
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a is None or b is None:
        abort(404)
    return redirect(url_for("versions.diff", key=key, a=min(a, b), b=max(a, b)))


@bp.get("/<key>/versions/<int:a>/diff/<int:b>")
@require_role("staff")
def diff(key: str, a: int, b: int):
    try:
        result = versions.diff(db.session, key, a, b)
    except NotFoundError:
        abort(404)
    return render_template("versions/diff.html", key=key, diff=result)


def _older_open_instances(key: str, version: int) -> list[ProcessInstance]:
    return list(db.session.scalars(
        select(ProcessInstance).join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.process_key == key, ProcessDefinition.version < version,
               ProcessInstance.status.in_(OPEN_STATUSES))
        .order_by(ProcessInstance.id).limit(MAX_LISTED)))


@bp.get("/<key>/versions/<int:version>/migrate")
@require_role("staff")
def migrate_page(key: str, version: int):
    owners.require_change(current_user, [key], "migrate requests of")
    if version not in {v.version for v in _versions_or_404(key)}:
        abort(404)
    previews = [instance_migration.preview(db.session, i.id, version)
                for i in _older_open_instances(key, version)]
    return render_template("versions/migrate.html", key=key, version=version, previews=previews,
                           limit=MAX_LISTED)


@bp.post("/<key>/versions/<int:version>/migrate/<int:instance_id>")
@require_role("staff")
def migrate(key: str, version: int, instance_id: int):
    owners.require_change(current_user, [key], "migrate requests of")
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None or instance.process_key != key:
        abort(404)
    try:
        with command() as session:
            result = instance_migration.migrate(session, instance_id, version, actor=current_user)
    except ConflictError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("Request %(code)s now runs version %(version)s.", code=result.tracking_code,
                version=result.to_version), "success")
    return redirect(url_for("versions.migrate_page", key=key, version=version))
