"""Rules a form's JSON Schema cannot say (an end date after the start date, a date not in
the past), checked on every door alike.

The processes layer registers, per process and step, plain functions from the submitted
data and the engine's "now" to a list of field-named problems
(:func:`register_rule`; ``processes/<key>/validate.py`` holds them). The engine calls
:func:`check` wherever data enters a process: :func:`engine.runtime.start_instance` for
the start form (step :data:`START`) and :func:`engine.tasks.complete_task` for a user
task (step: the task's BPMN id). The portal, the task page, the API and the CLI all go
through those two functions, so no door can skip a rule; the portal also asks
:func:`problems` beforehand, to show every refusal at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import clock
from .errors import Problem, ValidationError

START = "start"
# (data, now) -> problems; ``now`` is the engine's clock (timezone-aware).
Rule = Callable[[dict, datetime], list[Problem]]

_rules: dict[tuple[str, str], list[Rule]] = {}


def register_rule(process_key: str, step: str, rule: Rule) -> None:
    """Check ``rule`` whenever data enters ``step`` (:data:`START` or a user task's BPMN id)
    of ``process_key``; registering the same rule again is a no-op."""
    rules = _rules.setdefault((process_key, step), [])
    if rule not in rules:
        rules.append(rule)


def problems(process_key: str, step: str, data: dict) -> list[Problem]:
    """What the rules of ``step`` find wrong with ``data`` (empty: nothing).

    A rule reads only the fields it can understand: a missing or malformed value is the
    form schema's business, not the rule's.
    """
    if not isinstance(data, dict):
        return []
    now = clock.now()
    found: list[Problem] = []
    for rule in _rules.get((process_key, step), ()):
        for problem in rule(data, now) or ():
            if problem not in found:
                found.append(problem)
    return found


def check(process_key: str, step: str, data: dict, earlier: list[Problem] | None = None) -> None:
    """Refuse ``data`` if a rule of ``step`` (or ``earlier``, the schema's problems) objects.

    :param earlier: problems already found (the form schema's), reported together
    :raises ValidationError: one problem per field and rule
    """
    found = [*(earlier or []), *(p for p in problems(process_key, step, data) if p not in (earlier or []))]
    if found:
        raise ValidationError(f"the data of {process_key} ({step}) is refused", found)
