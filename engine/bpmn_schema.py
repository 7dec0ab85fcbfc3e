"""The XML Schema layer of validation: BPMN (with Spiff's extensions) and DMN documents.

Each schema error becomes a :class:`~engine.errors.Problem` at ``file:element_id``: the
element on the line lxml names, or its nearest ancestor with an id.
"""

from __future__ import annotations

import re
import threading

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

_SCHEMA_LOCK = threading.Lock()  # an lxml schema keeps its error log on the object
_DMN_VALIDATORS: dict[str, BpmnValidator] = {}
_MAX_ERRORS = 20


def at_element(name: str, element) -> str:
    """``file:id`` of ``element``, or of its nearest ancestor with an id (``file`` when none has one).

    Spiff's extension elements are passed over: their ``id`` names an operator, not an element.
    """
    for candidate in (element, *element.iterancestors()):
        if candidate.get("id") and not candidate.tag.startswith(f"{{{SPIFF_NS}}}"):
            return f"{name}:{candidate.get('id')}"
    return name


def root_problem(name: str, root) -> Problem | None:
    """What is wrong with the root element, if it is not BPMN's (or a DMN version's) ``definitions``."""
    namespace, _, tag = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    bpmn = name.lower().endswith(".bpmn")
    expected = (BPMN_NS,) if bpmn else tuple(DMN_SCHEMAS)
    if tag == "definitions" and namespace in expected:
        return None
    kind = "BPMN" if bpmn else "DMN"
    return Problem(name, f"not a {kind} file: the root element is '{root.tag}', "
                         f"expected 'definitions' in the {kind} namespace")


def schema_problems(name: str, root) -> list[Problem]:
    """The schema errors of a BPMN or DMN document (the first 20); empty when it is valid."""
    validator = VALIDATOR
    if not name.lower().endswith(".bpmn"):
        namespace = root.tag[1:].split("}")[0]
        with _SCHEMA_LOCK:
            if namespace not in _DMN_VALIDATORS:
                _DMN_VALIDATORS[namespace] = BpmnValidator(DMN_SCHEMAS[namespace])
            validator = _DMN_VALIDATORS[namespace]
    with _SCHEMA_LOCK:
        try:
            validator.validate(root, name)
            return []
        except ValidationException as exc:
            errors = [(e.line, e.message) for e in validator.validator.error_log]
            errors = errors or [(exc.line_number, exc.args[0] if exc.args else str(exc))]
    return [Problem(_location_at_line(name, root, line), _schema_message(message))
            for line, message in errors[:_MAX_ERRORS]]


def _location_at_line(name: str, root, line) -> str:
    for element in root.iter("{*}*"):
        if element.sourceline == line:
            return at_element(name, element)
    return name


def _schema_message(message: str) -> str:
    message = message.replace(f"{{{BPMN_NS}}}", "bpmn:").replace(f"{{{SPIFF_NS}}}", "spiffworkflow:")
    message = re.sub(r"\{[^}]*/DMN/[^}]*\}", "dmn:", message)
    unexpected = re.match(r"Element '([^']+)': This element is not expected", message)
    if unexpected:
        return f"element '{unexpected.group(1)}' is not allowed here (unknown or misplaced element)"
    return message.rstrip(". ")
