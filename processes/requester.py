"""Who a request is from: the fields every started request carries (seed 001's form).

The portal and the staff start page ask for these before the process's own start
form; processes read them as ``requester``, ``requester_email``, ``unit``, ``phone``,
``subject`` and ``message``.
"""

from __future__ import annotations

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


def request_schema(start_form: dict | None, start_ui: dict | None = None) -> tuple[dict, dict]:
    """The requester's fields followed by the process's own start fields, as one form."""
    start_form, start_ui = start_form or {}, start_ui or {}
    properties = {**REQUESTER_SCHEMA["properties"], **(start_form.get("properties") or {})}
    required = [*REQUESTER_SCHEMA["required"],
                *[name for name in start_form.get("required") or [] if name not in REQUESTER_SCHEMA["required"]]]
    own = [n for n in start_ui.get("ui:order", []) if n in properties and n not in REQUESTER_SCHEMA["properties"]]
    own += [n for n in properties if n not in REQUESTER_SCHEMA["properties"] and n not in own]
    widgets = {name: value for name, value in start_ui.items() if name != "ui:order"}
    return ({"type": "object", "required": required, "properties": properties},
            {**REQUESTER_UI, **widgets, "ui:order": [*REQUESTER_SCHEMA["properties"], *own]})
