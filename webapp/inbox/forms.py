"""Task forms: a JSON Schema (and optional UI schema) to HTML fields, and a POST back to data.

Widgets follow the react-jsonschema-form UI schema that spiff-arena's forms use:
``ui:order``, and per field ``ui:widget`` (textarea, radio, select, checkboxes,
hidden), ``ui:help``, ``ui:placeholder``, ``ui:title``. Checking is the engine's:
the same JSON Schema validates on the server; this module only converts text
inputs to JSON types and words the engine's problems for people.

The form's conditionals (:mod:`engine.form_conditions`) become sections: the fields
one case needs, together, under a heading that says when they apply
(``_fields.html``); ``static/form_sections.js`` shows each section only with its case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine import assets, form_conditions, textinput
from engine.errors import Problem, ValidationError
from engine.forms import validate_form_data
from processes import rules

from .. import asset_words
from ..extensions import db


@dataclass
class Field:
    """One input of a task form, with what was typed and what is wrong with it."""

    name: str
    label: str
    kind: str          # text, textarea, email, date, datetime, number, integer, select, radio,
                       # checkbox, checkboxes, lines, json, hidden, asset
    required: bool = False
    help: str = ""
    placeholder: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: object = ""           # str for text inputs, list[str] for checkboxes, bool for checkbox
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None
    section: Section | None = None   # the case this field belongs to; None: always asked
    asset_kinds: list[str] = field(default_factory=list)   # kind "asset": the kinds it takes (empty: any)

    @property
    def input_id(self) -> str:
        return f"field-{self.name}"


@dataclass(frozen=True)
class Section:
    """Fields that matter in one case: ``when`` is what ``form_sections.js`` checks (a JSON
    list of ``{"field", "values", "negate"}`` or ``{"field", "filled"}``; empty: always shown),
    ``heading`` says the case in words."""

    key: str
    heading: str
    when: str


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
    if widget == "asset" and types == "string":
        return "asset"   # an inventory number of the registry (engine/assets.py)
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


def _properties(schema: dict) -> dict:
    """The top-level properties, with the fields only the form's branches declare, and a
    ``oneOf`` discriminator's options taken from its branches' titles."""
    properties = dict(schema.get("properties") or {})
    for name, prop in form_conditions.branch_properties(schema).items():
        properties[name] = {**prop, **(properties.get(name) or {})}
    control = form_conditions.discriminator(schema.get("oneOf"))
    if control is not None:
        prop = properties.get(control) if isinstance(properties.get(control), dict) else {}
        if form_conditions.options_of(prop) is None:
            properties[control] = {**prop, "oneOf": [{"const": value, "title": title or _as_text(value)}
                                                     for value, title in form_conditions.choice_options(schema,
                                                                                                        control)]}
    return properties


def build_fields(schema: dict, ui_schema: dict | None = None, values: dict | None = None) -> list[Field]:
    """The fields of a form, in ``ui:order`` (then schema order), filled with ``values``;
    the fields of one case together, at the place of the first of them."""
    ui_schema = ui_schema or {}
    values = values or {}
    properties = _properties(schema)
    required = set(schema.get("required") or [])
    order = [name for name in ui_schema.get("ui:order", []) if name in properties]
    order += [name for name in properties if name not in order]
    conditions = form_conditions.conditions(schema)
    branch_required = {name for c in conditions for name in c.required}
    fields = []
    for name in order:
        prop = properties[name] if isinstance(properties[name], dict) else {}
        ui = ui_schema.get(name) or {}
        kind = _kind(prop, ui)
        item = Field(
            name=name,
            label=str(ui.get("ui:title") or prop.get("title") or name),
            kind=kind,
            required=name in required or name in branch_required,
            help=str(ui.get("ui:help") or prop.get("description") or ""),
            placeholder=str(ui.get("ui:placeholder") or ""),
            options=_options(prop, prop.get("items") if kind == "checkboxes" else None) or [],
            max_length=prop.get("maxLength"),
        )
        if kind == "asset":
            item.asset_kinds = list(assets.widget_fields({name: ui}).get(name) or [])
        item.value = _initial(kind, values.get(name, prop.get("default")))
        fields.append(item)
    return _grouped(fields, conditions)


def _grouped(fields: list[Field], conditions) -> list[Field]:
    """Give each conditional field its section, and put a section's fields together."""
    cases: dict[str, list[int]] = {}
    for index, condition in enumerate(conditions):
        for name in condition.fields:
            cases.setdefault(name, []).append(index)
    by_name = {f.name: f for f in fields}
    made: dict[tuple, Section] = {}
    for item in fields:
        if item.name in cases:
            key = tuple(cases[item.name])   # the same cases, the same section
            if key not in made:
                made[key] = _section(len(made) + 1, [conditions[i] for i in key], by_name)
            item.section = made[key]
    ordered, placed = [], set()
    for item in fields:
        if item.name in placed:
            continue
        run = [f for f in fields if f.section is item.section] if item.section is not None else [item]
        ordered += run
        placed.update(f.name for f in run)
    return ordered


def _section(number: int, cases: list, by_name: dict[str, Field]) -> Section:
    whens, words = [], []
    merged: dict[tuple, list] = {}
    for case in cases:
        if case.kind == form_conditions.EQUALS:
            bucket = merged.setdefault((case.control, case.negate), [])
            bucket.extend(v for v in case.values if v not in bucket)
        elif case.kind == form_conditions.FILLED:
            whens.append({"field": case.control, "filled": True})
            control = by_name.get(case.control)
            label = control.label if control else case.control
            words.append(_("when “%(field)s” is ticked", field=label) if control and control.kind == "checkbox"
                         else _("when “%(field)s” is filled in", field=label))
        else:
            words.append(case.title or _("only in some cases"))
            whens.append({"always": True})
    for (control_name, negate), values in merged.items():
        whens.append({"field": control_name, "values": [_as_text(v) for v in values], "negate": negate})
        control = by_name.get(control_name)
        titles = dict(control.options) if control else {}
        choices = _(" or ").join(f"“{titles.get(_as_text(v), _as_text(v))}”" for v in values)
        words.append(_("when %(choices)s is not chosen", choices=choices) if negate
                     else _("when %(choices)s is chosen", choices=choices))
    key = "-".join(["section", *(str(part) for w in whens for part in (w.get("field", ""), *w.get("values", ())))])
    if any(w.get("always") for w in whens):
        whens = []   # a case the page cannot tell: always shown
    heading = _(" or ").join(words)
    return Section(key if whens else f"section-{number}", heading[:1].upper() + heading[1:],
                   json.dumps(whens, ensure_ascii=False))


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
    registry = asset_words.problem_text(problem)   # an inventory number field (engine/assets.py)
    if registry is not None:
        return registry
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
    characters; so are inventory numbers the asset registry does not know
    (:func:`engine.assets.form_problems`), together with the form's other problems.

    :returns: the problems that belong to no field; see :func:`has_errors`
    """
    unchosen = form_conditions.inactive_fields(schema, data) - form_conditions.undecided_fields(schema, data)
    for item in fields:
        if item.name in unchosen:
            item.errors = []   # what a case not chosen holds does not matter, readable or not
    data = {k: v for k, v in data.items() if k not in unchosen}
    problems = textinput.problems(data)
    try:
        validate_form_data(schema, data)
    except ValidationError as exc:
        # the form's own limit of a field says more than the engine's ceiling for any text
        limited = {p.location for p in exc.problems if p.code == "maxLength"}
        problems = [*(p for p in problems if not (p.code == textinput.MAX_LENGTH and p.location in limited)),
                    *exc.problems]
    # inventory numbers: the registry's check (the engine makes it again on start and completion)
    registry = {f.name: {"ui:widget": assets.WIDGET, "ui:options": {"kinds": f.asset_kinds}}
                for f in fields if f.kind == "asset"}
    if registry:
        problems = [*problems, *assets.form_problems(db.session, registry, data)]
    for item in fields:
        if isinstance(item.value, str):
            item.value = textinput.cleaned(item.value)
    return attach_problems(fields, problems)


def has_errors(fields: list[Field], general: list[str]) -> bool:
    return bool(general) or any(item.errors for item in fields)
