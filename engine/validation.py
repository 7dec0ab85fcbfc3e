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
import re
import threading
from pathlib import Path

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.errors import Problem, ScriptError, ValidationError
from engine.spiff import SekBpmnParser
from engine.xmlsafe import MAX_XML_BYTES, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
SUFFIXES = (".bpmn", ".dmn", ".json")

_SCHEMA_LOCK = threading.Lock()  # an lxml schema keeps its error log on the object
_DMN_VALIDATORS: dict[str, BpmnValidator] = {}
_HUMAN_TASKS = ".//bpmn:userTask | .//bpmn:manualTask"
_SUBPROCESS_TAGS = {f"{{{BPMN_NS}}}{tag}" for tag in ("subProcess", "transaction", "adHocSubProcess")}
_FORM_TAGS = ("formJsonSchemaFilename", "formUiSchemaFilename")
_SPIFF_MESSAGES = {
    "No start event found": "process has no start event",
    "There is no support implemented for this task type.": "this element type is not supported",
}


def load_paths(paths: list[str]) -> dict[str, bytes]:
    """Read BPMN, DMN and JSON files from files and folders (folders recursively).

    A folder's files are named by their path relative to that folder, a file given
    directly by its base name. Files over the size limit are read only far enough
    for :func:`validate_files` to refuse them.

    :raises ValidationError: when a path does not exist or two files get one name.
    """
    files: dict[str, bytes] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for path in paths:
        base = Path(path)
        if base.is_dir():
            found = [(p.relative_to(base).as_posix(), p) for p in sorted(base.rglob("*"))
                     if p.is_file() and p.suffix.lower() in SUFFIXES]
        elif base.is_file():
            found = [(base.name, base)]
        else:
            problems.append(Problem(path, "no such file or folder"))
            continue
        for name, file_path in found:
            if name in files:
                problems.append(Problem(name, f"two files have this name: {origins[name]} and {file_path}"))
                continue
            with open(file_path, "rb") as handle:
                files[name] = handle.read(MAX_XML_BYTES + 1)
            origins[name] = str(file_path)
    if problems:
        raise ValidationError("some files could not be read", problems)
    return files


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
        valid = {name: root for name, root in roots.items() if _check_schema(name, root, found)}
        _check_with_spiff(roots, valid, found, require_executable)
        for name, root in roots.items():
            if _is_bpmn(name):
                found.guard(name, _check_rules, name, root, files, found, known_operators)
    except Exception as exc:  # the last resort: the validator itself never raises
        found.add("", Problem("", f"validation stopped unexpectedly: {type(exc).__name__}: {exc}"))
    return found.in_file_order()


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
        found.add("", _spiff_problem(exc, location))
    except Exception as exc:
        found.add("", Problem(location, f"could not be parsed: {type(exc).__name__}: {exc}"))
    raise ValidationError(f"process '{process_id}' could not be parsed", found.in_file_order())


class _Found:
    """The problems found, each once, grouped by file in the order found."""

    def __init__(self):
        self.items: list[tuple[str, Problem]] = []

    def add(self, file: str, problem: Problem):
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
            self.add(file, _spiff_problem(exc, file))
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
        if lowered.endswith(".json"):
            found.guard(name, _load_json, files, name)
        elif lowered.endswith((".bpmn", ".dmn")):
            root = found.guard(name, parse_xml, files[name], name)
            if root is not None and _is_definitions(name, root, found):
                roots[name] = root
        else:
            found.add(name, Problem(name, "not a BPMN, DMN or JSON file"))
    return roots


def _is_definitions(name: str, root, found: _Found) -> bool:
    """True when the root element is BPMN's (or a DMN version's we read) ``definitions``."""
    namespace, _, tag = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    expected = (BPMN_NS,) if _is_bpmn(name) else tuple(DMN_SCHEMAS)
    if tag == "definitions" and namespace in expected:
        return True
    kind = "BPMN" if _is_bpmn(name) else "DMN"
    found.add(name, Problem(name, f"not a {kind} file: the root element is '{root.tag}', "
                                  f"expected 'definitions' in the {kind} namespace"))
    return False


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


def _check_schema(name: str, root, found: _Found) -> bool:
    """Validate against the BPMN schema (with Spiff's extensions) or the DMN schema."""
    validator = VALIDATOR
    if not _is_bpmn(name):
        namespace = root.tag[1:].split("}")[0]
        with _SCHEMA_LOCK:
            if namespace not in _DMN_VALIDATORS:
                _DMN_VALIDATORS[namespace] = BpmnValidator(DMN_SCHEMAS[namespace])
            validator = _DMN_VALIDATORS[namespace]
    with _SCHEMA_LOCK:
        try:
            validator.validate(root, name)
            return True
        except ValidationException as exc:
            errors = [(e.line, e.message) for e in validator.validator.error_log]
            errors = errors or [(exc.line_number, exc.args[0] if exc.args else str(exc))]
    for line, message in errors[:20]:
        found.add(name, Problem(_location_at_line(name, root, line), _schema_message(message)))
    return False


def _location_at_line(name: str, root, line) -> str:
    """``file:id`` of the element on ``line`` (or its nearest ancestor with an id)."""
    for element in root.iter("{*}*"):
        if element.sourceline == line:
            for candidate in (element, *element.iterancestors()):
                if candidate.get("id"):
                    return f"{name}:{candidate.get('id')}"
            break
    return name


def _schema_message(message: str) -> str:
    message = message.replace(f"{{{BPMN_NS}}}", "bpmn:").replace(f"{{{SPIFF_NS}}}", "spiffworkflow:")
    message = re.sub(r"\{[^}]*/DMN/[^}]*\}", "dmn:", message)
    unexpected = re.match(r"Element '([^']+)': This element is not expected", message)
    if unexpected:
        return f"element '{unexpected.group(1)}' is not allowed here (unknown or misplaced element)"
    return message.rstrip(". ")


def _spiff_problem(exc: ValidationException, fallback: str) -> Problem:
    """Turn Spiff's exception into a problem at ``file:element_id`` where it says which."""
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    message = _SPIFF_MESSAGES.get(message, message)
    if message == "this element type is not supported" and getattr(exc, "tag", ""):
        message = f"element '{exc.tag}' is not supported"
    message = ". ".join([message.rstrip(". "), *getattr(exc, "notes", [])])
    fallback_file = fallback.split(":")[0]
    file = getattr(exc, "file_name", "") or fallback_file
    element = getattr(exc, "id", "")
    if element:
        return Problem(f"{file}:{element}", message)
    return Problem(fallback if file == fallback_file else file, message)


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
            location = f"{name}:{pid}"
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
                found.add(name, _spiff_problem(exc, location))
            except Exception as exc:
                found.add(name, Problem(location, f"could not be parsed: {type(exc).__name__}: {exc}"))


def _check_references(name: str, process, parser: SekBpmnParser, known_decisions: set, found: _Found):
    """Report flows, calls and decisions pointing nowhere, in words Spiff does not find.

    :returns: ``(calls_ok, spec_ok)``: whether Spiff can follow the calls, and parse at all.
    """
    calls_ok = spec_ok = True
    if process.find("bpmn:startEvent", NS) is None:
        spec_ok = False
        found.add(name, Problem(f"{name}:{process.get('id')}", "process has no start event"))
    ids = set(process.xpath(".//@id"))
    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                spec_ok = False
                found.add(name, Problem(f"{name}:{flow.get('id')}",
                                        f"{end} '{flow.get(end)}' is not an element of this process"))
    for call in process.iterfind(".//bpmn:callActivity", NS):
        if call.get("calledElement") not in parser.process_parsers:
            calls_ok = False
            found.add(name, Problem(f"{name}:{call.get('id')}",
                                    f"calls process '{call.get('calledElement')}', which no file defines"))
    for ref in process.iterfind(".//bpmn:businessRuleTask//spiffworkflow:calledDecisionId", NS):
        decision = (ref.text or "").strip()
        if decision not in parser.dmn_parsers:
            spec_ok = False  # a decision in a broken DMN file is reported at that file
            if decision not in known_decisions:
                task = ref.getparent().getparent()
                found.add(name, Problem(f"{name}:{task.get('id')}",
                                        f"uses decision '{decision}', which no DMN file defines"))
    return calls_ok, spec_ok


def _check_rules(name: str, root, files: dict[str, bytes], found: _Found, known_operators):
    """SEK's own rules over one BPMN document."""
    from engine import sandbox

    def compile_each(elements, check, what):
        for owner, source in elements:
            try:
                check(source)
            except ScriptError as exc:
                found.add(name, Problem(f"{name}:{owner.get('id')}", f"{what} cannot run in the sandbox: {exc.message}"))
            except Exception as exc:
                found.add(name, Problem(f"{name}:{owner.get('id')}", f"{what} could not be checked: {exc}"))

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
                found.add(name, Problem(f"{name}:{task.get('id')}",
                                        "user task has no lane and no candidateGroups: nobody would see it"))
        compile_each(groups, sandbox.check_expression, "candidateGroups expression")
        _check_forms(name, process, files, found)
        compile_each(_texts(process, ".//bpmn:scriptTask/bpmn:script", 1), sandbox.check_script, "script")
        for task in process.iterfind(".//bpmn:scriptTask", NS):
            if not (task.findtext("bpmn:script", "", NS) or "").strip():
                found.add(name, Problem(f"{name}:{task.get('id')}", "script task has no script"))
        for tag in ("preScript", "postScript"):
            compile_each(_texts(process, f".//spiffworkflow:{tag}", 2), sandbox.check_script, tag)
        compile_each(_texts(process, ".//bpmn:sequenceFlow/bpmn:conditionExpression", 1),
                     sandbox.check_expression, "condition")
        for prop in ("dueIn", "correlationKey"):
            path = f".//spiffworkflow:properties/spiffworkflow:property[@name='{prop}']"
            compile_each([(p.getparent().getparent().getparent(), p.get("value")) for p in process.iterfind(path, NS)
                          if (p.get("value") or "").strip()], sandbox.check_expression, f"{prop} expression")
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
                found.add(name, Problem(f"{name}:{task.get('id')}",
                                        f"unknown service operator '{operator.get('id')}'"))


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
        location = f"{name}:{task.get('id')}"
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
