"""Task forms: a JSON Schema (and optional UI schema) to HTML fields, and a POST back to data.

Widgets follow the react-jsonschema-form UI schema that spiff-arena's forms use:
``ui:order``, and per field ``ui:widget`` (textarea, radio, select, checkboxes,
hidden), ``ui:help``, ``ui:placeholder``, ``ui:title``. Checking is the engine's:
the same JSON Schema validates on the server; this module only converts text
inputs to JSON types and words the engine's problems for people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine import textinput
from engine.errors import Problem, ValidationError
from engine.forms import validate_form_data
from processes import rules


@dataclass
class Field:
    """One input of a task form, with what was typed and what is wrong with it."""

    name: str
    label: str
    kind: str          # text, textarea, email, date, datetime, number, integer, select, radio,
                       # checkbox, checkboxes, lines, json, hidden
    required: bool = False
    help: str = ""
    placeholder: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: object = ""           # str for text inputs, list[str] for checkboxes, bool for checkbox
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None

    @property
    def input_id(self) -> str:
        return f"field-{self.name}"


def _options(prop: dict, items: dict | None = None) -> list[tuple[str, str]] | None:
    source = items if items is not None else prop
    if "enum" in source:
        names = source.get("enumNames") or []
        return [(_as_text(v), str(names[i]) if i < len(names) else _as_text(v))
                for i, v in enumerate(source["enum"])]
    if "oneOf" in source and all(isinstance(o, dict) and "const" in o for o in source["oneOf"]):
        return [(_as_text(o["const"]), str(o.get("title", o["const"]))) for o in source["oneOf"]]
    return None


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _kind(prop: dict, ui: dict) -> str:
    widget = ui.get("ui:widget")
    types = prop.get("type")
    if widget == "hidden":
        return "hidden"
    if types == "array":
        items = prop.get("items") or {}
        if _options(prop, items) is not None:
            return "checkboxes"
        return "lines" if items.get("type", "string") == "string" else "json"
    if _options(prop) is not None:
        return "radio" if widget == "radio" else "select"
    if types == "boolean":
        return "checkbox"
    if types in ("number", "integer"):
        return types
    if types == "string" or types is None and "format" in prop:
        fmt = prop.get("format")
        if widget == "textarea":
            return "textarea"
        if fmt == "email":
            return "email"
        if fmt == "date":
            return "date"
        if fmt == "date-time":
            return "datetime"
        if (prop.get("maxLength") or 0) > 300:
            return "textarea"
        return "text"
    return "json"


def build_fields(schema: dict, ui_schema: dict | None = None, values: dict | None = None) -> list[Field]:
    """The fields of a form, in ``ui:order`` (then schema order), filled with ``values``."""
    ui_schema = ui_schema or {}
    values = values or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    order = [name for name in ui_schema.get("ui:order", []) if name in properties]
    order += [name for name in properties if name not in order]
    fields = []
    for name in order:
        prop = properties[name] if isinstance(properties[name], dict) else {}
        ui = ui_schema.get(name) or {}
        kind = _kind(prop, ui)
        item = Field(
            name=name,
            label=str(ui.get("ui:title") or prop.get("title") or name),
            kind=kind,
            required=name in required,
            help=str(ui.get("ui:help") or prop.get("description") or ""),
            placeholder=str(ui.get("ui:placeholder") or ""),
            options=_options(prop, prop.get("items") if kind == "checkboxes" else None) or [],
            max_length=prop.get("maxLength"),
        )
        item.value = _initial(kind, values.get(name, prop.get("default")))
        fields.append(item)
    return fields


def _initial(kind: str, value):
    if kind == "checkbox":
        return bool(value)
    if kind == "checkboxes":
        return [_as_text(v) for v in value] if isinstance(value, list) else []
    if kind == "lines":
        return "\n".join(_as_text(v) for v in value) if isinstance(value, list) else ""
    if kind == "json":
        return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)
    if kind == "datetime" and isinstance(value, str):
        return value[:16]
    return _as_text(value)


def read_submission(fields: list[Field], schema: dict, form: MultiDict) -> dict:
    """Turn a POSTed form into task data, keeping what was typed in ``fields``.

    Values that cannot even be converted (a word in a number field) are reported on
    their field and left out of the data; everything else is left to the engine.
    """
    properties = schema.get("properties") or {}
    data = {}
    for item in fields:
        prop = properties.get(item.name) or {}
        if item.kind == "checkbox":
            item.value = form.get(item.name) in ("on", "true", "1")
            data[item.name] = item.value
            continue
        if item.kind == "checkboxes":
            item.value = form.getlist(item.name)
            data[item.name] = [_from_option(prop.get("items") or {}, v) for v in item.value]
            continue
        raw = form.get(item.name, "")
        item.value = raw
        text = raw.strip()
        if item.kind == "lines":
            data[item.name] = [line.strip() for line in raw.splitlines() if line.strip()]
            continue
        if not text:
            continue
        try:
            data[item.name] = _convert(item.kind, prop, text)
        except ValueError as exc:
            item.errors.append(str(exc))
    return data


def _from_option(prop: dict, text: str):
    for value in prop.get("enum") or [o.get("const") for o in prop.get("oneOf") or [] if isinstance(o, dict)]:
        if _as_text(value) == text:
            return value
    return text


def _convert(kind: str, prop: dict, text: str):
    if kind in ("select", "radio"):
        return _from_option(prop, text)
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
    if kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(_("Enter a number."))
        return int(number) if number.is_integer() and "." not in text and "," not in text else number
    if kind == "datetime":
        return text if len(text) > 16 else text + ":00"
    if kind == "json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError(_("Enter valid JSON.")) from None
    return text


def problem_text(problem: Problem) -> str:
    """An engine problem in the user's language."""
    limit = problem.params.get("limit")
    messages = {
        "required": lambda: _("This field is required."),
        "minLength": lambda: _("Enter at least %(n)s characters.", n=limit),
        "maxLength": lambda: _("Enter at most %(n)s characters.", n=limit),
        "enum": lambda: _("Choose one of the options."),
        "const": lambda: _("Choose one of the options."),
        "oneOf": lambda: _("Choose one of the options."),
        "minimum": lambda: _("Enter %(n)s or more.", n=limit),
        "maximum": lambda: _("Enter %(n)s or less.", n=limit),
        "exclusiveMinimum": lambda: _("Enter more than %(n)s.", n=limit),
        "exclusiveMaximum": lambda: _("Enter less than %(n)s.", n=limit),
        "minItems": lambda: _("Choose at least %(n)s.", n=limit),
        "maxItems": lambda: _("Choose at most %(n)s.", n=limit),
        "pattern": lambda: _("This value does not have the expected form."),
        "type": lambda: _("This value has the wrong type."),
        "format": lambda: {
            "email": _("Enter a valid e-mail address."),
            "date": _("Enter a valid date."),
            "date-time": _("Enter a valid date and time."),
        }.get(limit, _("This value does not have the expected form.")),
        **_text_wording(problem),
        rules.CODE: lambda: rules.worded(problem, str(get_locale() or "tr")),   # processes/<key>/validate.py
    }
    wording = messages.get(problem.code)
    return wording() if wording else problem.message


def _text_wording(problem: Problem) -> dict:
    """How the problems of :mod:`engine.textinput` are worded, by code (each a function).

    Every form that shows them shows the text again without the refused characters
    (:func:`engine.textinput.cleaned`), so "removed" is what the person sees.
    """
    params = problem.params
    return {
        textinput.CONTROL: lambda: _("This text contained an invisible control character (%(char)s) that cannot "
                                     "be used; it has been removed. Please check the text and send it again.",
                                     char=params.get("char", "")),
        textinput.UNICODE: lambda: _("This text contained characters that are not valid Unicode; they have been "
                                     "removed. Please check the text and send it again."),
        textinput.DATA_SIZE: lambda: _("The form holds too much text altogether (at most %(n)s characters).",
                                       n=params.get("limit")),
        textinput.DEPTH: lambda: _("The data is nested too deeply (at most %(n)s levels).", n=params.get("limit")),
    }


def attach_problems(fields: list[Field], problems: list[Problem]) -> list[str]:
    """Put each problem next to its field; returns those that belong to no field."""
    by_name = {item.name: item for item in fields}
    general = []
    for problem in problems:
        target = by_name.get(problem.location.split(".")[0]) if problem.location else None
        if target is not None and target.errors and problem.code == "required":
            continue  # what was typed could not be read: that error says more than "required"
        text = problem_text(problem)
        if target is None:
            general.append(f"{problem.location}: {text}" if problem.location else text)
        elif text not in target.errors:
            target.errors.append(text)
    return general


def check_submission(fields: list[Field], schema: dict, data: dict) -> list[str]:
    """Validate ``data`` with the engine's form check and put every problem next to its field.

    Text the engine refuses (:mod:`engine.textinput`: control characters, broken
    Unicode, sizes) is reported the same way, and shown again without the refused
    characters.

    :returns: the problems that belong to no field; see :func:`has_errors`
    """
    problems = textinput.problems(data)
    try:
        validate_form_data(schema, data)
    except ValidationError as exc:
        # the form's own limit of a field says more than the engine's ceiling for any text
        limited = {p.location for p in exc.problems if p.code == "maxLength"}
        problems = [*(p for p in problems if not (p.code == textinput.MAX_LENGTH and p.location in limited)),
                    *exc.problems]
    for item in fields:
        if isinstance(item.value, str):
            item.value = textinput.cleaned(item.value)
    return attach_problems(fields, problems)


def has_errors(fields: list[Field], general: list[str]) -> bool:
    return bool(general) or any(item.errors for item in fields)
