"""The portal's request form: the requester's fields (seed 001), the TC Kimlik No, the
category's own start fields, and how each refusal is worded next to its field.

Fields are rendered and read with the task-form helpers of :mod:`webapp.inbox.forms`,
so a start form's JSON Schema looks and is checked the same for staff and requesters.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine import definitions
from engine.attachments import MAX_FILES, Upload
from engine.errors import Problem
from processes import identity
from processes.portal import Choice, list_units

from ..inbox.forms import Field, attach_problems, build_fields, check_submission, read_submission
from ..templating import shown_form
from . import captcha

NATIONAL_ID = "national_id"
HONEYPOT = "website"


@dataclass
class PortalForm:
    """The form of one choice, with what was typed and what is wrong, field by field."""

    choice: Choice
    schema: dict                       # what the process data is checked against
    fields: list[Field]
    errors: list[str] = field(default_factory=list)             # belonging to no field
    attachment_errors: list[str] = field(default_factory=list)
    captcha_errors: list[str] = field(default_factory=list)
    files_chosen: int = 0
    pending: list = field(default_factory=list)    # files kept from a refused try (webapp.portal.pending)
    pending_token: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.attachment_errors or self.captcha_errors
                    or any(item.errors for item in self.fields))

    def field(self, name: str) -> Field | None:
        return next((item for item in self.fields if item.name == name), None)


def _labels() -> dict[str, dict]:
    return {
        "requester": {"ui:title": _("Your name")},
        "requester_email": {"ui:title": _("E-mail address"),
                            "ui:help": _("The tracking code and every answer are sent to this address.")},
        NATIONAL_ID: {"ui:title": _("National identity number (TC Kimlik No)"), "ui:help": _("11 digits.")},
        "unit": {"ui:title": _("Your unit")},
        "phone": {"ui:title": _("Internal phone (optional)")},
        "subject": {"ui:title": _("Subject")},
        "message": {"ui:title": _("Message"), "ui:widget": "textarea",
                    "ui:help": _("Describe what you need or what went wrong, as exactly as you can.")},
    }


def build_form(session, choice: Choice) -> PortalForm:
    """The empty form of ``choice``: the requester's fields, then the process's start fields.

    :raises NotFoundError: the process is not deployed
    """
    schema, ui = definitions.start_schema(session, choice.key)
    # What the engine checks every start against, and more: a requester on the portal
    # always gives a name, the address the tracking code goes to and a subject (even where
    # other doors may start without them: staff, monitoring), names their unit and writes
    # a message.
    schema["required"] = [*schema["required"], *(n for n in ("requester", "requester_email", "subject", "unit",
                                                              "message") if n not in schema["required"])]
    units = [unit.name for unit in list_units(session, active_only=True)]
    if units:   # without units configured the field stays free text
        schema["properties"]["unit"] = {**schema["properties"]["unit"], "enum": units}
    values = {}
    if choice.category:   # the category was chosen on the first page: it is not asked again
        ui["category"] = {"ui:widget": "hidden"}
        values["category"] = choice.category
    for name, labels in _labels().items():
        ui[name] = {**ui.get(name, {}), **labels}
    # The TC number is shown among the requester's fields but checked apart (processes.identity).
    shown = copy.deepcopy(schema)
    shown["properties"] = {}
    for name, prop in schema["properties"].items():
        shown["properties"][name] = prop
        if name == "requester_email":
            shown["properties"][NATIONAL_ID] = {"type": "string", "maxLength": 11}
    shown["required"] = [*schema["required"], NATIONAL_ID]
    order = ui["ui:order"]
    ui["ui:order"] = [*order[:order.index("requester_email") + 1], NATIONAL_ID,
                      *order[order.index("requester_email") + 1:]]
    return PortalForm(choice, schema, build_fields(*shown_form(choice.key, shown, ui), values))


def read_form(form: PortalForm, posted: MultiDict) -> tuple[dict, str]:
    """Read a POSTed form into process data and the TC number, keeping everything typed and
    putting each problem next to its field.

    :returns: ``(data, national_id)``
    """
    data = read_submission(form.fields, form.schema, posted)
    national_id = identity.normalize(str(data.pop(NATIONAL_ID, "") or ""))
    if form.choice.category:
        data["category"] = form.choice.category
    form.errors.extend(check_submission(form.fields, form.schema, data))
    problem = identity.national_id_problem(national_id, field=NATIONAL_ID)
    if problem is not None:
        form.field(NATIONAL_ID).errors.append(national_id_text(problem))
    return data, national_id


def national_id_text(problem: Problem) -> str:
    """Which rule of the TC Kimlik No failed, in the UI language."""
    return {
        identity.REQUIRED: _("This field is required."),
        identity.DIGITS: _("A TC Kimlik No has exactly 11 digits and nothing else."),
        identity.LEADING_ZERO: _("A TC Kimlik No never starts with 0."),
        identity.CHECK_10: _("The 10th digit does not fit the first nine: please check the number for a typo."),
        identity.CHECK_11: _("The 11th digit does not fit the first ten: please check the number for a typo."),
    }.get(problem.code, problem.message)


def attach_general(form: PortalForm, problems: list[Problem]) -> None:
    """Put the engine's problems (a start form refused on start) next to their fields."""
    form.errors.extend(attach_problems(form.fields, problems))


def uploads_of(files) -> list[Upload]:
    """The files of the ``attachments`` inputs (empty inputs left out)."""
    uploads = []
    for item in files.getlist("attachments"):
        if item and item.filename:
            uploads.append(Upload(item.filename, item.read()))
    return uploads


def attachment_text(problem: Problem) -> str:
    """A refused attachment, in the UI language."""
    params = problem.params
    name = params.get("name", "")
    return {
        "max_files": lambda: _("Attach at most %(n)s files.", n=params.get("limit", MAX_FILES)),
        "empty": lambda: _("%(name)s: the file is empty.", name=name),
        "file_size": lambda: _("%(name)s: the file is larger than %(n)s MB.", name=name, n=params.get("limit")),
        "file_type": lambda: _("%(name)s: this type of file is not accepted. Allowed: PDF, PNG, JPEG, text, "
                               "Word (docx), Excel (xlsx), OpenDocument text (odt) and ZIP.", name=name),
        "request_size": lambda: _("The files together are larger than %(n)s MB.", n=params.get("limit")),
        "archive_members": lambda: _("%(name)s: the archive holds more than %(n)s files.", name=name,
                                     n=params.get("limit")),
        "archive_size": lambda: _("%(name)s: the archive would unpack to more than %(n)s MB.", name=name,
                                  n=params.get("limit")),
        "archive_ratio": lambda: _("%(name)s: a file in the archive unpacks to more than %(n)s times its packed "
                                   "size, which no ordinary file does (a \"zip bomb\").", name=name,
                                   n=params.get("limit")),
        "archive_broken": lambda: _("%(name)s: the archive's table of contents does not match what it holds.",
                                    name=name),
    }.get(problem.code, lambda: problem.message)()


def captcha_text(code: str) -> str:
    """Why the CAPTCHA answer was refused, in the UI language."""
    return {
        captcha.MISSING: _("Please answer the question."),
        captcha.WRONG: _("That was not the right answer. Please answer the new question."),
        captcha.EXPIRED: _("The question has expired. Please answer the new question."),
        captcha.USED: _("That question was already answered once. Please answer the new question."),
    }[code]
