"""Validating submitted task data against the task's JSON Schema form."""

from __future__ import annotations

import re

from jsonschema import FormatChecker
from jsonschema.validators import validator_for

from .errors import Problem, ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
# jsonschema's own "email" check only looks for an "@": "ali@" would pass.
_FORMATS = FormatChecker()
_FORMATS.checks("email")(lambda value: not isinstance(value, str) or bool(_EMAIL.match(value)))


def validate_form_data(schema: dict, data: dict) -> None:
    """Check ``data`` against ``schema``; every problem is reported under its field.

    :raises ValidationError: with one problem per field (dotted path; ``""`` for the
        whole form)
    """
    if not isinstance(data, dict):
        raise ValidationError("form data must be a JSON object", [Problem("", "expected an object")])
    validator_class = validator_for(schema)
    validator = validator_class(schema, format_checker=_FORMATS)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            # "required" is reported on the object, once per missing field, each error
            # carrying the whole list; name every missing field once.
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            for name in missing:
                problem = Problem(".".join([*path, name]), "this field is required", "required")
                if problem not in problems:
                    problems.append(problem)
            continue
        problems.append(Problem(".".join(path), error.message, str(error.validator),
                                {"limit": error.validator_value} if error.validator != "enum" else {}))
    if problems:
        raise ValidationError("the form has errors", problems)
