"""Validating submitted task data against the task's JSON Schema form.

A form's conditionals (``oneOf`` branches, ``if``/``then``/``else``,
``dependentRequired``; see :mod:`engine.form_conditions`) decide which fields matter:
the values of the others are dropped before checking and storing (:func:`prepare`),
and they are never required.
"""

from __future__ import annotations

import re

from jsonschema import FormatChecker
from jsonschema.validators import validator_for

from . import form_conditions
from .errors import Problem, ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
# jsonschema's own "email" check only looks for an "@": "ali@" would pass.
_FORMATS = FormatChecker()
_FORMATS.checks("email")(lambda value: not isinstance(value, str) or bool(_EMAIL.match(value)))


def prepare(schema: dict | None, data: dict) -> dict:
    """``data`` without the fields its choices leave out, checked against ``schema``.

    The one rule every door that completes a task goes through
    (:func:`engine.tasks.complete_task`).

    :raises ValidationError: as :func:`validate_form_data`
    """
    if schema is None:
        return data
    validate_form_data(schema, data)
    return form_conditions.prune(schema, data)


def validate_form_data(schema: dict, data: dict) -> None:
    """Check ``data`` against ``schema``; every problem is reported under its field.

    Fields that the form's choices leave out (:func:`engine.form_conditions.inactive_fields`)
    are never required, and not checked once another case is chosen.

    :raises ValidationError: with one problem per field (dotted path; ``""`` for the
        whole form)
    """
    if not isinstance(data, dict):
        raise ValidationError("form data must be a JSON object", [Problem("", "expected an object")])
    inactive = form_conditions.inactive_fields(schema, data)
    # what a case not chosen holds is not looked at; values typed before any choice still are
    unchosen = inactive - form_conditions.undecided_fields(schema, data)
    data = {k: v for k, v in data.items() if k not in unchosen}
    validator_class = validator_for(schema)
    validator = validator_class(schema, format_checker=_FORMATS)
    problems: list[Problem] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        _report(error, problems)
    problems = [p for p in problems if not (p.code == "required" and p.location in inactive)]
    if problems:
        raise ValidationError("the form has errors", problems)


def _add(problems: list[Problem], problem: Problem) -> None:
    if problem not in problems:
        problems.append(problem)


def _report(error, problems: list[Problem]) -> None:
    """Turn one jsonschema error into problems named by field."""
    path = [str(p) for p in error.absolute_path]
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        # "required" is reported on the object, once per missing field, each error
        # carrying the whole list; name every missing field once.
        for name in error.validator_value:
            if name not in instance:
                _add(problems, Problem(".".join([*path, name]), "this field is required", "required"))
        return
    if error.validator == "dependentRequired":
        for trigger, needed in error.validator_value.items():
            if trigger in instance:
                for name in needed:
                    if name not in instance:
                        _add(problems, Problem(".".join([*path, name]), "this field is required", "required"))
        return
    if error.validator == "oneOf" and _report_branch(error, path, instance, problems):
        return
    _add(problems, Problem(".".join(path), error.message, str(error.validator),
                           {"limit": error.validator_value} if error.validator != "enum" else {}))


def _report_branch(error, path: list[str], instance: dict, problems: list[Problem]) -> bool:
    """A ``oneOf`` of branches chosen by a discriminator: the chosen branch's own problems."""
    branches = error.validator_value
    control = form_conditions.discriminator(branches)
    if control is None:
        return False
    where = ".".join([*path, control])
    if control not in instance:
        _add(problems, Problem(where, "this field is required", "required"))
        return True
    chosen = [i for i, b in enumerate(branches)
              if form_conditions.same_value(instance[control], b["properties"][control]["const"])]
    if not chosen:
        _add(problems, Problem(where, "not one of the options", "enum"))
        return True
    before = len(problems)
    for sub in error.context or ():
        if sub.relative_schema_path and sub.relative_schema_path[0] == chosen[0]:
            _report(sub, problems)
    return len(problems) > before   # else (more than one branch fits): reported as it is
