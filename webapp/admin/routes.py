"""Admin views (filled in by the admin work)."""

from flask import render_template

from ..auth import require_role
from . import bp


@bp.get("/users")
@require_role("admin")
def users():
    return render_template("admin/users.html", users=[])
