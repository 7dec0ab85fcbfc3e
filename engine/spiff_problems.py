"""SpiffWorkflow's parser errors as SEK problems: one line each, at ``file:element_id``.

Spiff words some errors for a programmer: it wraps an unexpected exception in the
exception's ``repr`` (``AttributeError("'UserTask' object has no attribute ...")``),
puts an lxml element or a task spec object into a message (``<Element ... at 0x...>``),
or copies a whole XML fragment, newlines and all, into it. A process owner reads these
lines in ``sek validate``, the modeler and the API, so every problem the validator
reports passes through :func:`one_line`, and Spiff's exceptions through
:func:`problem_from_spiff`, which also recovers the element id Spiff attached.
"""

from __future__ import annotations

import re

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .errors import Problem

_KNOWN = {
    "No start event found": "process has no start event",
    "There is no support implemented for this task type.": "this element type is not supported",
}
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}([\w.-]+) at 0x[0-9a-fA-F]+>")
_OBJECT_REPR = re.compile(r"<(?:[\w]+\.)*([\w]+) object at 0x[0-9a-fA-F]+>")
_EVENT_DEFINITION = re.compile(rb"<(?:[\w.-]+:)?(\w+EventDefinition)\b")


def one_line(text: str) -> str:
    """``text`` as one readable line: no newlines, no Python object addresses.

    Runs of whitespace become one space; an lxml element becomes its tag
    (``'targetRef' element``), another object its class name.
    """
    text = _ELEMENT_REPR.sub(lambda m: f"'{m.group(1)}' element", str(text))
    text = _OBJECT_REPR.sub(lambda m: m.group(1), text)
    return " ".join(text.split())


def clean(problem: Problem) -> Problem:
    """The same problem with its location and message on one line each."""
    location, message = one_line(problem.location), one_line(problem.message)
    if (location, message) == (problem.location, problem.message):
        return problem
    return Problem(location, message, problem.code, problem.params)


def problem_from_spiff(exc: ValidationException, fallback: str) -> Problem:
    """Spiff's exception as a problem at ``file:element_id`` where it says which element.

    :param fallback: ``file`` or ``file:element_id`` to use when Spiff names no element.
    """
    message = _message(exc)
    if message == "this element type is not supported" and getattr(exc, "tag", ""):
        message = f"element '{exc.tag}' is not supported"
    message = ". ".join([message.rstrip(". "), *map(str, getattr(exc, "notes", []))])
    fallback_file = fallback.split(":")[0]
    file = getattr(exc, "file_name", "") or fallback_file
    element = getattr(exc, "id", "")
    if element:
        return clean(Problem(f"{file}:{element}", message))
    return clean(Problem(fallback if file == fallback_file else file, message))


def _message(exc: ValidationException) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    # Spiff's task parser re-raises any other exception as ValidationException(repr(exc)).
    if cause is not None and not isinstance(cause, ValidationException) and text == repr(cause):
        return _cause_message(cause)
    return _KNOWN.get(text, text)


def _cause_message(cause: BaseException) -> str:
    """Words for an exception Spiff did not expect while parsing an element."""
    args = cause.args
    if isinstance(cause, NotImplementedError) and args and "Unsupported Catch Event" in str(args[0]):
        found = _EVENT_DEFINITION.search(args[1]) if len(args) > 1 and isinstance(args[1], bytes) else None
        kind = f" with bpmn:{found.group(1).decode()}" if found else " without an event definition"
        return f"a boundary event{kind} is not supported"
    detail = str(cause) or "no details"
    return f"could not be parsed ({type(cause).__name__}: {detail})"
