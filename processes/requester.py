"""Who a request is from: the fields every started request carries (seed 001's form).

Every catalog process is started with these before its own start form's fields;
processes read them as ``requester``, ``requester_email``, ``unit``, ``phone``,
``subject`` and ``message``. :func:`start_schema` is registered with the engine
(:func:`processes.install`), which checks every start against it, whatever the door;
the portal and the staff start page show the same schema.
"""

from __future__ import annotations

from . import catalog

REQUESTER_SCHEMA = {
    "type": "object",
    "required": ["requester", "requester_email", "subject"],
    "properties": {
        "requester": {"type": "string", "title": "Talep sahibi", "minLength": 2, "maxLength": 200},
        "requester_email": {"type": "string", "format": "email", "title": "E-posta adresi", "maxLength": 300},
        "unit": {"type": "string", "title": "Biriminiz", "maxLength": 200},
        "phone": {"type": "string", "title": "Dahili telefon", "maxLength": 30},
        "subject": {"type": "string", "title": "Konu", "minLength": 3, "maxLength": 300},
        "message": {"type": "string", "title": "Mesaj", "maxLength": 10000},
    },
}
REQUESTER_UI = {"message": {"ui:widget": "textarea"}}


def request_schema(start_form: dict | None, start_ui: dict | None = None, *,
                   optional: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """The requester's fields followed by the process's own start fields, as one form.

    :param optional: requester fields the process does without (see ``CatalogEntry.requester_optional``)
    """
    start_form, start_ui = start_form or {}, start_ui or {}
    properties = {**REQUESTER_SCHEMA["properties"], **(start_form.get("properties") or {})}
    mine = [name for name in REQUESTER_SCHEMA["required"] if name not in optional]
    required = [*mine, *[name for name in start_form.get("required") or [] if name not in mine]]
    own = [n for n in start_ui.get("ui:order", []) if n in properties and n not in REQUESTER_SCHEMA["properties"]]
    own += [n for n in properties if n not in REQUESTER_SCHEMA["properties"] and n not in own]
    widgets = {name: value for name, value in start_ui.items() if name != "ui:order"}
    # The form's own keywords (if/then, $schema, ...) stay beside the merged fields.
    return ({**start_form, "type": "object", "required": required, "properties": properties},
            {**REQUESTER_UI, **widgets, "ui:order": [*REQUESTER_SCHEMA["properties"], *own]})


def start_schema(key: str, start_form: dict | None, start_ui: dict | None) -> tuple[dict | None, dict | None]:
    """The complete start schema of process ``key`` (the engine's start-schema provider).

    A catalog process is a request: the requester's fields, then its own start form. A
    process outside the catalog (an admin's experiment, a test fixture) keeps its start
    form alone.
    """
    try:
        entry = catalog.entry(key)
    except LookupError:
        return start_form, start_ui
    return request_schema(start_form, start_ui, optional=entry.requester_optional)
