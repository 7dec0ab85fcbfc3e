"""Checks BPMN, DMN and form files before they are deployed.

Used by ``sek validate``, ``sek deploy``, the definitions API and the modeler. Files
are given as ``{name: bytes}``; every problem found is returned as a
:class:`~engine.errors.Problem` located at ``file:element_id`` (or ``file``). The
checks run in layers: safe XML, the BPMN or DMN schema (with Spiff's extensions),
Spiff's own parser, then SEK's rules: somebody sees every user task, forms exist and
are valid JSON Schema, every script and expression compiles in the sandbox, service
operators exist. Whatever goes wrong inside a check becomes a problem, never a
traceback.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bpmn_schema import BPMN_NS, NS, SPIFF_NS, at_element, root_problem, schema_problems
from engine.definition_files import SUFFIXES, load_paths
from engine.errors import Problem, ScriptError, ValidationError
from engine.spiff import SekBpmnParser
from engine.spiff_problems import clean, problem_from_spiff
from engine.xmlsafe import MAX_XML_BYTES, parse_xml

# Re-exported: callers read files, and name the namespaces, through this module.
__all__ = ["BPMN_NS", "NS", "SPIFF_NS", "SUFFIXES", "DeploymentPlan", "executable_process_ids", "load_paths",
           "parse_specs", "plan_deployment", "referenced_files", "validate_files"]
_HUMAN_TASKS = ".//bpmn:userTask | .//bpmn:manualTask"
_SUBPROCESS_TAGS = {f"{{{BPMN_NS}}}{tag}" for tag in ("subProcess", "transaction", "adHocSubProcess")}
_FORM_TAGS = ("formJsonSchemaFilename", "formUiSchemaFilename")
# What an event definition's reference must name, in the same document (as Spiff looks it up).
_EVENT_REFS = (("messageEventDefinition", "messageRef", "message"), ("signalEventDefinition", "signalRef", "signal"),
               ("errorEventDefinition", "errorRef", "error"),
               ("escalationEventDefinition", "escalationRef", "escalation"))
_EVENT_GATEWAY_TARGETS = {f"{{{BPMN_NS}}}{tag}" for tag in ("intermediateCatchEvent", "receiveTask")}


def validate_files(files: dict[str, bytes], *, require_executable: bool = True,
                   known_operators: set[str] | None = None) -> list[Problem]:
    """Check definition files and return every problem found (an empty list: all valid).

    :param files: ``{name: content}``, as from :func:`load_paths` or an upload.
    :param require_executable: report processes not marked ``isExecutable="true"``;
        turn off to check documentation-only diagrams.
    :param known_operators: names of the registered service-task operators; when
        given, service tasks naming any other operator are reported.
    """
    found = _Found()
    try:
        roots = _parse_all(files, found)
        valid = {}
        for name, root in roots.items():
            problems = schema_problems(name, root)
            for problem in problems:
                found.add(name, problem)
            if not problems:
                valid[name] = root
        _check_with_spiff(roots, valid, found, require_executable)
        for name, root in roots.items():
            if _is_bpmn(name):
                found.guard(name, _check_rules, name, root, files, found, known_operators)
    except Exception as exc:  # the last resort: the validator itself never raises
        found.add("", Problem("", f"validation stopped unexpectedly: {type(exc).__name__}: {exc}"))
    return found.in_file_order()


@dataclass(frozen=True)
class DeploymentPlan:
    """What deploying a set of files would do.

    ``process_ids``: the processes that would be deployed, in file order; ``left_out``:
    ``file:process_id`` of the processes not marked executable (drawings, kept out);
    ``problems``: why the deployment would be refused (empty: it would go ahead).
    """

    process_ids: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def plan_deployment(files: dict[str, bytes], *, known_operators: set[str] | None = None) -> DeploymentPlan:
    """The one rule of what a deployment of ``files`` does; ``sek deploy`` acts on it and
    ``sek validate`` reports it, so the two never disagree.

    Every file is checked (:func:`validate_files`); processes not marked executable are
    checked as far as a drawing can be and left out; files holding no executable process
    at all are refused, each BPMN file saying why.

    :param known_operators: as for :func:`validate_files`.
    """
    problems = validate_files(files, require_executable=False, known_operators=known_operators)
    if problems:
        return DeploymentPlan(problems=problems)
    ids, left_out, nothing = [], [], []
    for name, root in _parse_all(files, _Found()).items():
        if not _is_bpmn(name):
            continue
        processes = root.findall(".//bpmn:process", NS)
        if not processes:
            nothing.append(Problem(name, "no process is defined in this file: there is nothing to deploy"))
        for process in processes:
            pid = process.get("id")
            if process.get("isExecutable") == "true" and pid:
                if pid not in ids:
                    ids.append(pid)
            else:
                left_out.append(at_element(name, process))
                nothing.append(Problem(at_element(name, process), 'process is not executable (isExecutable="true" is '
                                                           "missing): there is nothing to deploy"))
    if ids:
        return DeploymentPlan(ids, left_out)
    if not nothing:
        nothing = [Problem(name, "not a BPMN file: a deployment needs a BPMN file with an executable process")
                   for name in sorted(files)] or [Problem("", "no BPMN, DMN or JSON file was given")]
    return DeploymentPlan(left_out=left_out, problems=nothing)


def executable_process_ids(files: dict[str, bytes]) -> list[str]:
    """Ids of the processes marked ``isExecutable="true"`` in the BPMN files, in file order."""
    ids: list[str] = []
    for root in _parse_all(files, _Found()).values():
        for process in root.iterfind(".//bpmn:process", NS):
            pid = process.get("id")
            if process.get("isExecutable") == "true" and pid and pid not in ids:
                ids.append(pid)
    return ids


def referenced_files(files: dict[str, bytes], process_id: str) -> set[str]:
    """Names of the files a process needs in order to run.

    Its own BPMN file, the BPMN files of the processes it calls (transitively), the
    DMN files defining the decisions its business rule tasks use, and its form files.

    :raises ValidationError: when no BPMN file defines the process.
    """
    roots = _parse_all(files, _Found())
    processes = {p.get("id"): (name, p) for name, root in roots.items() if _is_bpmn(name)
                 for p in root.iterfind(".//bpmn:process", NS)}
    decisions = {d.get("id"): name for name, root in roots.items() if not _is_bpmn(name)
                 for d in root.iter("{*}decision")}
    if process_id not in processes:
        message = f"process '{process_id}' is not defined in any BPMN file"
        raise ValidationError(message, [Problem("", message)])
    needed: set[str] = set()
    todo, seen = [process_id], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in processes:
            continue
        seen.add(pid)
        name, process = processes[pid]
        needed.add(name)
        todo.extend(c.get("calledElement") for c in process.iterfind(".//bpmn:callActivity", NS))
        for ref in process.iterfind(".//bpmn:businessRuleTask//spiffworkflow:calledDecisionId", NS):
            if (ref.text or "").strip() in decisions:
                needed.add(decisions[ref.text.strip()])
        for _owner, _tag, ref in _form_references(process):
            needed.add(_resolve(files, name, ref) or ref)
    return {n for n in needed if n in files}


def parse_specs(files: dict[str, bytes], process_id: str):
    """Parse the (already validated) files and return ``(spec, subprocess_specs)``.

    :raises ValidationError: with the problems when the process cannot be parsed.
    """
    found = _Found()
    roots = _parse_all(files, found)
    parser, _added = _build_parser(roots, found)
    location = process_id
    if process_id in parser.process_parsers:
        location = f"{parser.process_parsers[process_id].filename}:{process_id}"
    try:
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        found.add("", problem_from_spiff(exc, location))
    except Exception as exc:
        found.add("", Problem(location, f"could not be parsed: {type(exc).__name__}: {exc}"))
    raise ValidationError(f"process '{process_id}' could not be parsed", found.in_file_order())


class _Found:
    """The problems found, each once, grouped by file in the order found."""

    def __init__(self):
        self.items: list[tuple[str, Problem]] = []

    def add(self, file: str, problem: Problem):
        problem = clean(problem)   # one line, whatever the check or Spiff wrote
        if all(p != problem for _, p in self.items):
            self.items.append((file, problem))

    def guard(self, file: str, check, *args):
        """Run one check; whatever it raises becomes a problem at ``file``."""
        try:
            return check(*args)
        except ValidationError as exc:
            for problem in exc.problems or [Problem(file, exc.message)]:
                self.add(file, problem)
        except ValidationException as exc:
            self.add(file, problem_from_spiff(exc, file))
        except Exception as exc:
            self.add(file, Problem(file, f"could not be checked: {type(exc).__name__}: {exc}"))
        return None

    def in_file_order(self) -> list[Problem]:
        return [p for _, p in sorted(self.items, key=lambda item: item[0])]


def _is_bpmn(name: str) -> bool:
    return name.lower().endswith(".bpmn")


def _parse_all(files: dict[str, bytes], found: _Found) -> dict:
    """Parse every XML file safely and check every JSON file; return ``{name: root}``."""
    roots = {}
    for name in sorted(files):
        lowered = name.lower()
        if lowered.endswith(SUFFIXES) and not files[name].strip():
            found.add(name, Problem(name, "the file is empty"))
        elif lowered.endswith(".json"):
            found.guard(name, _load_json, files, name)
        elif lowered.endswith((".bpmn", ".dmn")):
            root = found.guard(name, parse_xml, files[name], name)
            problem = root_problem(name, root) if root is not None else None
            if problem:
                found.add(name, problem)
            elif root is not None:
                roots[name] = root
        else:
            found.add(name, Problem(name, "not a BPMN, DMN or JSON file"))
    return roots


def _load_json(files: dict[str, bytes], name: str):
    content = files[name]
    if len(content) > MAX_XML_BYTES:
        raise ValidationError(name, [Problem(name, f"file is too large (the limit is {MAX_XML_BYTES} bytes)")])
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValidationError(name, [Problem(name, f"not valid JSON: {exc.msg} (line {exc.lineno})")]) from None
    except (UnicodeDecodeError, ValueError):
        raise ValidationError(name, [Problem(name, "not valid JSON: not UTF-8 text")]) from None


def _build_parser(roots: dict, found: _Found) -> tuple[SekBpmnParser, set[str]]:
    """A parser holding the BPMN and DMN documents Spiff accepts, and their names."""
    parser, added = SekBpmnParser(validator=None), set()
    for name, root in roots.items():
        before = len(found.items)
        found.guard(name, parser.add_bpmn_xml if _is_bpmn(name) else _add_dmn(parser), root, name)
        if len(found.items) == before:
            added.add(name)
    return parser, added


def _add_dmn(parser: SekBpmnParser):
    """A function adding one DMN document to ``parser`` and parsing its decisions."""
    def add(root, name: str):
        parser.add_dmn_xml(root, filename=name)
        for dmn in [d for d in parser.dmn_parsers.values() if d.filename == name]:
            dmn.parse()  # Spiff parses decisions lazily; find their problems now
    return add


def _check_with_spiff(roots: dict, valid: dict, found: _Found, require_executable: bool):
    """Let Spiff parse every executable process and what it calls."""
    parser, added = _build_parser(valid, found)
    known_decisions = {d.get("id") for name, root in roots.items() if not _is_bpmn(name)
                       for d in root.iter("{*}decision")}
    for name, root in roots.items():
        processes = root.findall(".//bpmn:process", NS) if _is_bpmn(name) else None
        if processes == [] and require_executable:
            found.add(name, Problem(name, "no process is defined in this file"))
        for process in processes or []:
            pid = process.get("id") or ""
            location = at_element(name, process)
            if process.get("isExecutable") != "true":
                if require_executable:
                    found.add(name, Problem(location, 'process is not executable (isExecutable="true" is missing)'))
                continue
            own = parser.get_process_parser(pid)
            if name not in added or own is None or own.filename != name:
                continue
            calls_ok, spec_ok = _check_references(name, process, parser, known_decisions, found)
            if not spec_ok:
                continue
            try:
                parser.get_spec(pid)
                if calls_ok:
                    parser.get_subprocess_specs(pid)
            except ValidationException as exc:
                found.add(name, problem_from_spiff(exc, location))
            except Exception as exc:
                found.add(name, Problem(location, f"could not be parsed: {type(exc).__name__}: {exc}"))


def _check_references(name: str, process, parser: SekBpmnParser, known_decisions: set, found: _Found):
    """Report flows, calls and decisions pointing nowhere, in words Spiff does not find.

    :returns: ``(calls_ok, spec_ok)``: whether Spiff can follow the calls, and parse at all.
    """
    calls_ok = spec_ok = True
    if process.find("bpmn:startEvent", NS) is None:
        spec_ok = False
        found.add(name, Problem(at_element(name, process), "process has no start event"))
    ids = set(process.xpath(".//@id"))
    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                spec_ok = False
                found.add(name, Problem(at_element(name, flow),
                                        f"{end} '{flow.get(end)}' is not an element of this process"))
    for call in process.iterfind(".//bpmn:callActivity", NS):
        if call.get("calledElement") not in parser.process_parsers:
            calls_ok = False
            found.add(name, Problem(at_element(name, call),
                                    f"calls process '{call.get('calledElement')}', which no file defines"))
    for ref in process.iterfind(".//bpmn:businessRuleTask//spiffworkflow:calledDecisionId", NS):
        decision = (ref.text or "").strip()
        if decision not in parser.dmn_parsers:
            spec_ok = False  # a decision in a broken DMN file is reported at that file
            if decision not in known_decisions:
                task = ref.getparent().getparent()
                found.add(name, Problem(at_element(name, task),
                                        f"uses decision '{decision}', which no DMN file defines"))
    for problem in _dangling_event_and_data_refs(name, process):
        spec_ok = False  # Spiff would stop at these with a Python error instead of a sentence
        found.add(name, problem)
    return calls_ok, spec_ok


def _dangling_event_and_data_refs(name: str, process):
    """Events naming an undefined message, signal, error or escalation; event-based gateways
    leading elsewhere than to catch events; data associations naming no data reference."""
    root = process.getroottree().getroot()
    for tag, attribute, target in _EVENT_REFS:
        defined = set(root.xpath(f".//bpmn:{target}/@id", namespaces=NS))
        for definition in process.iterfind(f".//bpmn:{tag}", NS):
            ref = definition.get(attribute)
            if ref is not None and ref not in defined:
                yield Problem(at_element(name, definition.getparent()),
                              f"{attribute} '{ref}' names no bpmn:{target} of this file")
    messages = {m.get("id"): (m.get("name") or "").strip() for m in root.iterfind(".//bpmn:message", NS)}
    for definition in process.iterfind(".//bpmn:messageEventDefinition", NS):
        ref = definition.get("messageRef")
        if not ref:
            yield Problem(at_element(name, definition.getparent()),
                          "message event names no message: give its messageEventDefinition a messageRef "
                          "to a bpmn:message with a name")
        elif ref in messages and not messages[ref]:
            yield Problem(at_element(name, definition.getparent()),
                          f"message '{ref}' has no name: the name is what senders and webhooks address")
    by_id = {element.get("id"): element for element in process.iter("{*}*") if element.get("id")}
    for gateway in process.iterfind(".//bpmn:eventBasedGateway", NS):
        for flow in gateway.getparent().iterfind("bpmn:sequenceFlow", NS):
            target = by_id.get(flow.get("targetRef"))
            if flow.get("sourceRef") == gateway.get("id") and target is not None \
                    and target.tag not in _EVENT_GATEWAY_TARGETS:
                yield Problem(at_element(name, gateway), "an event-based gateway can lead only to intermediate catch "
                                                  f"events or receive tasks, not to '{target.get('id')}'")
    references = set(root.xpath(".//bpmn:dataObjectReference/@id | .//bpmn:dataStoreReference/@id",
                                namespaces=NS))
    for path, what in (("bpmn:dataInputAssociation/bpmn:sourceRef", "dataInputAssociation"),
                       ("bpmn:dataOutputAssociation/bpmn:targetRef", "dataOutputAssociation")):
        for ref in process.iterfind(f".//{path}", NS):
            if (ref.text or "").strip() not in references:
                yield Problem(at_element(name, ref.getparent().getparent()),
                              f"{what} names '{(ref.text or '').strip()}', which is no data object "
                              "or data store reference of this file")


def _check_rules(name: str, root, files: dict[str, bytes], found: _Found, known_operators):
    """SEK's own rules over one BPMN document."""
    from engine import sandbox

    def compile_each(elements, check, what):
        for owner, source in elements:
            try:
                check(source)
            except ScriptError as exc:
                found.add(name, Problem(at_element(name, owner), f"{what} cannot run in the sandbox: {exc.message}"))
            except Exception as exc:
                found.add(name, Problem(at_element(name, owner), f"{what} could not be checked: {exc}"))

    for process in root.iterfind(".//bpmn:process", NS):
        lanes = {ref.text.strip() for ref in process.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)
                 if ref.text and (ref.getparent().get("name") or "").strip()}
        groups = []
        for task in process.xpath(_HUMAN_TASKS, namespaces=NS):
            prop = task.find("bpmn:extensionElements/spiffworkflow:properties/"
                             "spiffworkflow:property[@name='candidateGroups']", NS)
            if prop is not None and (prop.get("value") or "").strip():
                groups.append((task, prop.get("value")))
            elif not _in_lane(task, process, lanes):
                found.add(name, Problem(at_element(name, task),
                                        "user task has no lane and no candidateGroups: nobody would see it"))
        compile_each(groups, _check_candidate_groups, "candidateGroups expression")
        _check_forms(name, process, files, found)
        compile_each(_texts(process, ".//bpmn:scriptTask/bpmn:script", 1), sandbox.check_script, "script")
        for task in process.iterfind(".//bpmn:scriptTask", NS):
            if not (task.findtext("bpmn:script", "", NS) or "").strip():
                found.add(name, Problem(at_element(name, task), "script task has no script"))
        for tag in ("preScript", "postScript"):
            compile_each(_texts(process, f".//spiffworkflow:{tag}", 2), sandbox.check_script, tag)
        compile_each(_texts(process, ".//bpmn:sequenceFlow/bpmn:conditionExpression", 1),
                     sandbox.check_expression, "condition")
        for prop in ("dueIn", "correlationKey"):
            path = f".//spiffworkflow:properties/spiffworkflow:property[@name='{prop}']"
            compile_each([(p.getparent().getparent().getparent(), p.get("value")) for p in process.iterfind(path, NS)
                          if (p.get("value") or "").strip()], sandbox.check_expression, f"{prop} expression")
        _check_requester_properties(name, process, found)
        _check_start_events(name, process, found)
        params = ".//spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter"
        compile_each([(next(p.iterancestors(f"{{{BPMN_NS}}}serviceTask")), p.get("value"))
                      for p in process.iterfind(params, NS) if (p.get("value") or "").strip()],
                     sandbox.check_expression, "service parameter")
        for tag in ("timeDuration", "timeDate", "timeCycle"):
            path = f".//bpmn:timerEventDefinition/bpmn:{tag}"
            compile_each(_texts(process, path, 2), sandbox.check_expression, "timer expression")
        for operator in process.iterfind(".//bpmn:serviceTask//spiffworkflow:serviceTaskOperator", NS):
            if known_operators is not None and operator.get("id") not in known_operators:
                task = next(operator.iterancestors(f"{{{BPMN_NS}}}serviceTask"))
                found.add(name, Problem(at_element(name, task),
                                        f"unknown service operator '{operator.get('id')}'"))


def _check_start_events(name: str, process, found: _Found) -> None:
    """One none start event at most (where people and the API start); a start event's
    ``timeCycle`` gives a repeating interval (engine.recurring); ``workingDay`` only beside one."""
    from engine import recurring, sandbox

    none_starts = [s for s in process.iterfind("bpmn:startEvent", NS)
                   if not any(child.tag.endswith("EventDefinition") for child in s)]
    for extra in none_starts[1:]:
        found.add(name, Problem(at_element(name, extra), "a process has one start event without an event "
                                f"(where people and the API start it); '{none_starts[0].get('id')}' is already one"))
    for start in process.iterfind(".//bpmn:startEvent", NS):
        cycle = start.find("bpmn:timerEventDefinition/bpmn:timeCycle", NS)
        prop = start.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='workingDay']",
                          NS)
        data = start.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='startData']",
                          NS)
        if data is not None and (cycle is None or start.getparent() is not process):
            found.add(name, Problem(at_element(name, start), "startData belongs on a timer start event with a "
                                                              "timeCycle of the process"))
        elif data is not None:
            try:
                sandbox.check_expression(data.get("value") or "")
            except Exception as exc:  # noqa: BLE001 - in words
                found.add(name, Problem(at_element(name, start), "startData expression cannot run in the sandbox: "
                                                                  f"{getattr(exc, 'message', None) or exc}"))
        if prop is not None and (cycle is None or start.getparent() is not process):
            found.add(name, Problem(at_element(name, start), "workingDay belongs on a timer start event with a "
                                                              "timeCycle of the process"))
        elif prop is not None and (prop.get("value") or "").strip() not in recurring.WORKING_DAY_VALUES:
            found.add(name, Problem(at_element(name, start), f"workingDay must be one of "
                                    f"{', '.join(recurring.WORKING_DAY_VALUES)}, not '{prop.get('value')}'"))
        if cycle is None or start.getparent() is not process or not (cycle.text or "").strip():
            continue
        try:
            sandbox.check_expression(cycle.text)
        except Exception:  # noqa: BLE001 - reported as "timer expression cannot run in the sandbox"
            continue
        try:
            recurring.check_expression(cycle.text)
        except ValueError as exc:
            found.add(name, Problem(at_element(name, start), str(exc)))


def _check_candidate_groups(source: str) -> None:
    """An expression the sandbox runs, or ``unithead:FIELD`` (see :mod:`engine.assignment`)."""
    from engine import assignment, sandbox

    try:
        field = assignment.unit_head_field(source)
    except ValueError as exc:
        raise ScriptError(str(exc)) from exc
    if field is None:
        sandbox.check_expression(source)


# Where a requester-facing status (engine.requester_status) can be declared: the waits and the ends.
_REQUESTER_PLACES = {"requesterStatus": ("userTask", "manualTask", "receiveTask", "intermediateCatchEvent",
                                         "serviceTask"),
                     "requesterOutcome": ("endEvent",),
                     "requesterShows": ("userTask", "manualTask", "receiveTask", "intermediateCatchEvent",
                                        "serviceTask", "endEvent")}


def _check_requester_properties(name: str, process, found: _Found) -> None:
    """A requester status only on a wait, an outcome only on an end event, each a short text."""
    for prop, places in _REQUESTER_PLACES.items():
        path = f".//spiffworkflow:properties/spiffworkflow:property[@name='{prop}']"
        for element in process.iterfind(path, NS):
            owner = element.getparent().getparent().getparent()
            value = (element.get("value") or "").strip()
            if owner.tag.rpartition("}")[2] not in places:
                found.add(name, Problem(at_element(name, owner),
                                        f"{prop} belongs on {', '.join(places)}, not here"))
            elif not value or len(value) > (1000 if prop == "requesterShows" else 300):
                found.add(name, Problem(at_element(name, owner), f"{prop} must be a text of 1 to 300 characters"))


def _texts(process, path: str, up: int):
    """``(owner element, text)`` for the non-empty elements at ``path``; the owner is ``up`` levels above."""
    for element in process.iterfind(path, NS):
        if (element.text or "").strip():
            owner = element
            for _ in range(up):
                owner = owner.getparent()
            yield owner, element.text


def _in_lane(task, process, lanes: set[str]) -> bool:
    """A task is in a lane when it, or a subprocess around it, is listed in a named lane."""
    for element in (task, *task.iterancestors()):
        if element is process:
            return False
        if element.get("id") in lanes and (element is task or element.tag in _SUBPROCESS_TAGS):
            return True
    return False


def _form_references(process):
    """``(task, tag, file name)`` for every form file a task of the process names."""
    for tag in _FORM_TAGS:
        for ref in process.iterfind(f".//bpmn:extensionElements/spiffworkflow:{tag}", NS):
            if (ref.text or "").strip():
                yield ref.getparent().getparent(), tag, ref.text.strip()


def _resolve(files: dict[str, bytes], bpmn_name: str, ref: str) -> str | None:
    """The name under which a referenced file was given: as written, or beside the BPMN file."""
    beside = posixpath.normpath(posixpath.join(posixpath.dirname(bpmn_name), ref))
    return next((candidate for candidate in (ref, beside) if candidate in files), None)


def _check_forms(name: str, process, files: dict[str, bytes], found: _Found):
    """Form files named by the process's tasks exist, hold JSON objects, and schemas are valid."""
    for task, tag, ref in _form_references(process):
        location = at_element(name, task)
        resolved = _resolve(files, name, ref)
        if resolved is None:
            found.add(name, Problem(location, f"form file '{ref}' is missing (named in {tag})"))
            continue
        try:
            schema = _load_json(files, resolved)
        except ValidationError:
            continue  # already reported at the JSON file itself
        if not isinstance(schema, dict):
            found.add(resolved, Problem(resolved, "a form file must hold a JSON object"))
        elif tag == "formJsonSchemaFilename":
            try:
                validator_for(schema).check_schema(schema)
            except SchemaError as exc:
                where = "/".join(str(p) for p in exc.path)
                suffix = f" (at '{where}')" if where else ""
                found.add(resolved, Problem(resolved, f"not a valid JSON Schema: {exc.message}{suffix}"))
