"""``/yanit/<token>``: show what the unit is asked, take its answer once.

Public (no sign-in): the signed, single-use token is the credential. A used,
expired or unknown link gets a polite page (410 or 404), never an error page.
"""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _

from engine import links, textinput
from engine.errors import NotFoundError
from engine.links import LinkExpiredError, LinkUsedError

from ..db import command
from ..extensions import db
from ..inbox.forms import problem_text
from . import bp

ANSWER_MAX = 10000
NAME_MAX = 200


def _page(template: str, status: int = 200, **context):
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _gone(exc: Exception):
    if isinstance(exc, LinkExpiredError):
        return _page("reply/closed.html", 410, title=_("This link has expired"),
                     message=_("The time to answer through this link is over. If you still want to answer, "
                               "please write to the IT department, which will send you a new link."))
    if isinstance(exc, LinkUsedError):
        return _page("reply/closed.html", 410, title=_("This link has already been used"),
                     message=_("An answer has already been sent through this link. Thank you; "
                               "there is nothing more to do here."))
    return _page("reply/closed.html", 404, title=_("Link not found"),
                 message=_("This link is not valid. Please check that you copied the whole address from "
                           "the e-mail."))


def _read_form() -> tuple[dict, dict]:
    values = {"answer": request.form.get("answer", "").strip(),
              "answered_by": request.form.get("answered_by", "").strip()}
    errors = {problem.location: problem_text(problem) for problem in textinput.problems(values)
              if problem.code in textinput.CODES}
    values = {name: textinput.cleaned(value) for name, value in values.items()}
    if not values["answer"]:
        errors["answer"] = _("Please write your answer.")
    elif len(values["answer"]) > ANSWER_MAX:
        errors["answer"] = _("The answer may be at most %(n)d characters long.", n=ANSWER_MAX)
    if not values["answered_by"]:
        errors["answered_by"] = _("Please write your name.")
    elif len(values["answered_by"]) > NAME_MAX:
        errors["answered_by"] = _("The name may be at most %(n)d characters long.", n=NAME_MAX)
    return values, errors


@bp.get("/yanit/<token>")
def show(token: str):
    try:
        link = links.resolve(db.session, token)
    except (NotFoundError, LinkUsedError, LinkExpiredError) as exc:
        return _gone(exc)
    return _page("reply/form.html", link=link, values={}, errors={})


@bp.post("/yanit/<token>")
def answer(token: str):
    try:
        link = links.resolve(db.session, token)
    except (NotFoundError, LinkUsedError, LinkExpiredError) as exc:
        return _gone(exc)
    values, errors = _read_form()
    if errors:
        return _page("reply/form.html", 422, link=link, values=values, errors=errors)
    label = f"{values['answered_by']} <{link.recipient}>"
    try:
        with command():
            links.use(db.session, token, values, actor_label=label[:150])
    except (NotFoundError, LinkUsedError, LinkExpiredError) as exc:
        db.session.rollback()
        return _gone(exc)
    return _page("reply/thanks.html")
