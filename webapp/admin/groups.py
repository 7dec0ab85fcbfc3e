"""Admin view of the group directory: each group's e-mail address and lead.

BPMN names mail recipients as ``group:<slug>`` and ``lead:<slug>`` (engine.directory); this
page is where those become addresses. The lead is chosen among the group's active members.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import directory, textinput
from engine import users as accounts
from engine.errors import NotFoundError, ValidationError

from ..auth import require_role
from ..db import command
from ..extensions import db
from ..inbox.forms import problem_text
from ..templating import group_title
from . import bp


def _problem_text(problem) -> str:
    if problem.code in textinput.CODES:
        return problem_text(problem)
    return {
        "format": _("Enter a valid e-mail address."),
        "not_member": _("Choose the lead among the group's active members."),
    }.get(problem.code, problem.message)


def _render(*, editing: str | None = None, form=None, errors=None, status: int = 200):
    groups = sorted(accounts.list_groups(db.session), key=lambda group: group_title(group.slug).casefold())
    return render_template("admin/groups.html", groups=groups,
                           members={group.slug: sorted((m for m in group.members if m.active),
                                                       key=lambda m: m.username) for group in groups},
                           editing=editing, form=form or {}, errors=errors or {}), status


@bp.get("/groups")
@require_role("admin")
def groups():
    return _render()


@bp.post("/groups/<slug>")
@require_role("admin")
def update_group(slug: str):
    form = {"email": request.form.get("email", ""), "lead": request.form.get("lead", "")}
    try:
        with command() as session:
            directory.set_contact(session, slug, form["email"], form["lead"], actor=current_user.username)
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            errors.setdefault(problem.location, []).append(_problem_text(problem))
        return _render(editing=slug, errors=errors, status=422,
                       form={name: textinput.cleaned(value) for name, value in form.items()})
    flash(_("%(name)s: address and lead saved.", name=group_title(slug)), "success")
    return redirect(url_for("admin.groups"))
