"""What ``sek validate`` / ``sek deploy`` tell a process owner about their files."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from engine import validation, xmlsafe
from engine.errors import Problem, ValidationError
from engine.spiff_problems import one_line
from engine.validation import (
    executable_process_ids,
    load_paths,
    parse_specs,
    plan_deployment,
    referenced_files,
    validate_files,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "validation"

SCRIPT_TASK = """    <bpmn:scriptTask id="note" name="Note the answer">
      <bpmn:incoming>is_other</bpmn:incoming>
      <bpmn:outgoing>note_done</bpmn:outgoing>
      <bpmn:script>answer = "handled by " + kind</bpmn:script>
    </bpmn:scriptTask>"""

SERVICE_TASK = """    <bpmn:serviceTask id="note" name="Mail the answer">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="send_mail" resultVariable="mail">
          <spiffworkflow:parameters/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>is_other</bpmn:incoming>
      <bpmn:outgoing>note_done</bpmn:outgoing>
    </bpmn:serviceTask>"""

START_EVENT = """<bpmn:startEvent id="start">
      <bpmn:outgoing>to_triage</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="to_triage" sourceRef="start" targetRef="triage"/>"""


def _valid_files() -> dict[str, bytes]:
    return load_paths([str(DATA / "valid")])


def _ref_files() -> dict[str, bytes]:
    return load_paths([str(DATA / "refs")])


def _changed(files: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    text = files[name].decode("utf-8")
    assert old in text, f"fixture {name} no longer contains {old!r}"
    text = text.replace(old, new)
    if "complexGateway" in new:
        text = text.replace("</bpmn:exclusiveGateway>", "</bpmn:complexGateway>")
    return {**files, name: text.encode("utf-8")}


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_folder_is_found_and_has_no_problems():
    files = _valid_files()

    assert set(files) == {"ticket.bpmn", "ticket-schema.json", "ticket-ui.json"}
    assert validate_files(files) == []
    assert executable_process_ids(files) == ["ticket"]


def test_folder_with_calls_decisions_and_forms_has_no_problems():
    files = _ref_files()

    assert validate_files(files) == []
    assert executable_process_ids(files) == ["notify_requester", "request", "unrelated"]


@pytest.mark.parametrize(
    ("old", "new", "location", "phrase"),
    [
        (START_EVENT, "", "ticket.bpmn:ticket", "process has no start event"),
        ('<bpmn:endEvent id="done">', '<bpmn:fooTask id="mystery"/>\n    <bpmn:endEvent id="done">',
         "ticket.bpmn:mystery", "element 'bpmn:fooTask' is not allowed here"),
        (">ticket-schema.json<", ">missing.json<", "ticket.bpmn:triage", "form file 'missing.json' is missing"),
        ("<bpmn:flowNodeRef>fix_network</bpmn:flowNodeRef>", "", "ticket.bpmn:fix_network",
         "user task has no lane and no candidateGroups: nobody would see it"),
        ('answer = "handled by " + kind', "import os", "ticket.bpmn:note", "import statements are not allowed"),
        ('kind == "network"', 'kind == = "network"', "ticket.bpmn:is_network", "condition cannot run in the sandbox"),
        ('"PT1H"', "PT1H +", "ticket.bpmn:triage_timer", "timer expression cannot run in the sandbox"),
        ('value="&quot;helpdesk&quot;"', 'value="help desk"', "ticket.bpmn:triage",
         "candidateGroups expression cannot run in the sandbox"),
        ('value="&quot;helpdesk&quot;"', 'value="unithead:the unit"', "ticket.bpmn:triage",
         "'unithead:' must be followed by the name of a data field"),
        ("<spiffworkflow:properties>", "<spiffworkflow:preScript>x = </spiffworkflow:preScript>\n"
         "        <spiffworkflow:properties>", "ticket.bpmn:triage", "preScript cannot run in the sandbox"),
        ('<bpmn:script>answer = "handled by " + kind</bpmn:script>', "", "ticket.bpmn:note",
         "script task has no script"),
        ('isExecutable="true"', 'isExecutable="false"', "ticket.bpmn:ticket", "process is not executable"),
        ('sourceRef="fix_network" targetRef="done"', 'sourceRef="fix_network" targetRef="nowhere"', "ticket.bpmn:network_done",
         "targetRef 'nowhere' is not an element of this process"),
        ('<bpmn:exclusiveGateway id="route">', '<bpmn:complexGateway id="route">', "ticket.bpmn:route",
         "element 'bpmn:complexGateway' is not supported"),
        ('isExecutable="true"', "", "ticket.bpmn:ticket", "process is not executable"),
    ],
    ids=["no-start", "unknown-element", "missing-form", "no-lane", "import", "condition", "timer",
         "candidate-groups", "unit-head-field", "pre-script", "empty-script", "not-executable", "executable-missing",
         "dangling-flow", "unsupported-element"],
)
def test_broken_bpmn_is_reported_at_the_element(old, new, location, phrase):
    problems = validate_files(_changed(_valid_files(), "ticket.bpmn", old, new))

    problem = _only(problems)
    assert problem.location == location
    assert phrase in problem.message


def test_a_unit_heads_task_names_the_data_field_of_the_unit():
    files = _changed(_valid_files(), "ticket.bpmn", 'value="&quot;helpdesk&quot;"', 'value="unithead:unit"')

    assert validate_files(files) == []


def test_non_executable_diagram_is_fine_when_not_required():
    files = _changed(_valid_files(), "ticket.bpmn", 'isExecutable="true"', 'isExecutable="false"')

    assert validate_files(files, require_executable=False) == []
    assert executable_process_ids(files) == []


def test_invalid_json_schema_is_reported_at_the_form_file():
    files = {**_valid_files(), "ticket-schema.json": b'{"type": "nope"}'}

    problem = _only(validate_files(files))
    assert problem.location == "ticket-schema.json"
    assert problem.message.startswith("not a valid JSON Schema:")
    assert "'nope'" in problem.message


@pytest.mark.parametrize("name", ["ticket-ui.json", "unused.json"])
def test_json_that_does_not_parse_is_reported(name):
    files = {**_valid_files(), name: b'{"comment": '}

    problem = _only(validate_files(files))
    assert problem.location == name
    assert "not valid JSON" in problem.message


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"this is not XML", "not well-formed XML: Start tag expected"),
        (b"<bpmn:definitions", "not well-formed XML"),
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b"<a>&xxe;</a>", "not well-formed XML: Entity 'xxe' not defined (line 1)"),
        (b"<notes/>", "not a BPMN file"),
    ],
)
def test_unreadable_xml_is_reported_at_the_file(content, phrase):
    problem = _only(validate_files({"broken.bpmn": content}))

    assert problem.location == "broken.bpmn"
    assert phrase in problem.message


@pytest.mark.parametrize("fixture", ["xxe.bpmn", "billion_laughs.bpmn"])
def test_doctype_and_entities_are_refused_before_parsing(fixture, monkeypatch):
    def parse_nothing(*args, **kwargs):
        raise AssertionError("lxml was asked to parse a file with a DOCTYPE")

    monkeypatch.setattr(xmlsafe.etree, "fromstring", parse_nothing)
    started = time.perf_counter()

    problems = validate_files(load_paths([str(DATA / fixture)]))

    assert time.perf_counter() - started < 1.0
    problem = _only(problems)
    assert problem.location == fixture
    assert "DOCTYPE and ENTITY declarations are not allowed" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_doctype_is_found_in_other_encodings(encoding):
    text = (DATA / "xxe.bpmn").read_text("utf-8").replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')

    with pytest.raises(ValidationError) as refused:
        xmlsafe.parse_xml(text.encode(encoding), "xxe.bpmn")

    assert refused.value.problems[0].location == "xxe.bpmn"
    assert "DOCTYPE" in refused.value.problems[0].message


def test_oversize_file_is_refused():
    padding = b" " * (xmlsafe.MAX_XML_BYTES + 1)
    content = _valid_files()["ticket.bpmn"].replace(b"</bpmn:definitions>", padding + b"</bpmn:definitions>")

    problem = _only(validate_files({"ticket.bpmn": content}))

    assert problem.location == "ticket.bpmn"
    assert "file is too large" in problem.message


def test_load_paths_reports_missing_paths_and_duplicate_names():
    missing = str(DATA / "nowhere")

    with pytest.raises(ValidationError) as refused:
        load_paths([missing, str(DATA / "valid"), str(DATA / "valid" / "ticket.bpmn")])

    locations = [p.location for p in refused.value.problems]
    assert locations == [missing, "ticket.bpmn"]
    assert refused.value.problems[0].message == "no such file or folder"
    assert "two files have this name" in refused.value.problems[1].message


def test_load_paths_names_a_file_by_its_base_name():
    files = load_paths([str(DATA / "refs" / "route.dmn")])

    assert list(files) == ["route.dmn"]
    assert validate_files(files) == []


def test_other_file_types_are_reported():
    problem = _only(validate_files({**_valid_files(), "notes.txt": b"hello"}))

    assert problem.location == "notes.txt"
    assert "not a BPMN, DMN or JSON file" in problem.message


@pytest.mark.parametrize(
    ("known", "expected"),
    [
        (None, []),
        ({"send_mail"}, []),
        ({"open_ticket"}, [Problem("ticket.bpmn:note", "unknown service operator 'send_mail'")]),
    ],
)
def test_service_operators_are_checked_when_known(known, expected):
    files = _changed(_valid_files(), "ticket.bpmn", SCRIPT_TASK, SERVICE_TASK)

    assert validate_files(files, known_operators=known) == expected


@pytest.mark.parametrize(
    ("name", "old", "new", "location", "phrase"),
    [
        ("request.bpmn", 'calledElement="notify_requester"', 'calledElement="nobody"', "request.bpmn:notify",
         "calls process 'nobody', which no file defines"),
        ("request.bpmn", ">route_decision<", ">no_decision<", "request.bpmn:decide",
         "uses decision 'no_decision', which no DMN file defines"),
        ("route.dmn", "<decisionTable", "<bogus/>\n    <decisionTable", "route.dmn:route_decision",
         "element 'dmn:bogus' is not allowed here"),
        ("route.dmn", 'hitPolicy="FIRST"', 'hitPolicy="SOMETIMES"', "route.dmn:route_table", "SOMETIMES"),
    ],
    ids=["missing-process", "missing-decision", "dmn-unknown-element", "dmn-bad-attribute"],
)
def test_broken_references_and_dmn_are_reported(name, old, new, location, phrase):
    problem = _only(validate_files(_changed(_ref_files(), name, old, new)))

    assert problem.location == location
    assert phrase in problem.message


def test_duplicate_process_ids_are_reported():
    files = {**_ref_files(), "copy.bpmn": _ref_files()["unrelated.bpmn"]}

    problem = _only(validate_files(files))

    assert problem.location == "unrelated.bpmn:unrelated"
    assert "Duplicate process ID: unrelated" in problem.message


def test_unexpected_errors_become_problems(monkeypatch):
    def explode(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(validation, "_check_rules", explode)

    problem = _only(validate_files(_valid_files()))

    assert problem.location == "ticket.bpmn"
    assert "RuntimeError: boom" in problem.message


def test_referenced_files_follow_forms_decisions_and_call_activities():
    files = _ref_files()

    assert referenced_files(files, "request") == {
        "request.bpmn", "request-schema.json", "route.dmn", "notify.bpmn",
    }
    assert referenced_files(files, "notify_requester") == {"notify.bpmn"}
    assert referenced_files(_valid_files(), "ticket") == {"ticket.bpmn", "ticket-schema.json", "ticket-ui.json"}


def test_referenced_files_of_an_unknown_process_is_refused():
    with pytest.raises(ValidationError) as refused:
        referenced_files(_ref_files(), "nobody")

    assert "process 'nobody' is not defined" in refused.value.problems[0].message


def test_parse_specs_returns_the_process_and_what_it_calls():
    files = _ref_files()
    needed = {name: files[name] for name in referenced_files(files, "request")}

    spec, subprocess_specs = parse_specs(needed, "request")

    assert spec.name == "request"
    assert {"fill", "decide", "notify"} <= set(spec.task_specs)
    assert set(subprocess_specs) == {"notify_requester"}
    assert "write" in subprocess_specs["notify_requester"].task_specs


def test_parse_specs_refuses_what_does_not_parse():
    files = _changed(_valid_files(), "ticket.bpmn", START_EVENT, "")

    with pytest.raises(ValidationError) as refused:
        parse_specs(files, "ticket")

    problem = _only(refused.value.problems)
    assert problem.location == "ticket.bpmn:ticket"
    assert "process has no start event" in problem.message


# -- one line per problem, at the element, in words (issue 12) ------------------------------

# A problem line as `sek validate` prints it: file, element id, message.
AT_ELEMENT = re.compile(r"^[^:]+:[\w.-]+: ")
TIMER_DEFINITION = """<bpmn:timerEventDefinition id="triage_timer_definition">
        <bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>"""


def _assert_one_clean_line(problem: Problem) -> None:
    line = str(problem)
    assert AT_ELEMENT.match(line), line
    assert "\n" not in line and "\r" not in line, line
    assert "object at 0x" not in line and " at 0x" not in line, line
    assert not re.search(r"\b\w+(Error|Exception)\(", line), line   # no exception repr


@pytest.mark.parametrize(
    ("old", "new", "location", "phrase"),
    [
        # Spiff fails with TypeError inside its own error reporting for these three.
        (TIMER_DEFINITION, '<bpmn:messageEventDefinition id="m" messageRef="nomsg"/>', "ticket.bpmn:triage_timer",
         "messageRef 'nomsg' names no bpmn:message of this file"),
        (TIMER_DEFINITION, '<bpmn:signalEventDefinition id="m" signalRef="nosig"/>', "ticket.bpmn:triage_timer",
         "signalRef 'nosig' names no bpmn:signal of this file"),
        (TIMER_DEFINITION, '<bpmn:errorEventDefinition id="m" errorRef="noerr"/>', "ticket.bpmn:triage_timer",
         "errorRef 'noerr' names no bpmn:error of this file"),
        # Spiff: AttributeError("'UserTask' object has no attribute 'event_definition'")
        ('<bpmn:exclusiveGateway id="route">', '<bpmn:eventBasedGateway id="route">', "ticket.bpmn:route",
         "an event-based gateway can lead only to intermediate catch events or receive tasks, not to 'fix_network'"),
        # Spiff: NotImplementedError('Unsupported Catch Event: %r', b'<bpmn:boundaryEvent ...\n ...>')
        (TIMER_DEFINITION, '<bpmn:compensateEventDefinition id="m"/>', "ticket.bpmn:triage_timer",
         "a boundary event with bpmn:compensateEventDefinition is not supported"),
        # Spiff: "Cannot resolve dataOutputAssociation <Element {...}targetRef at 0x7f...>"
        ("<bpmn:script>answer", '<bpmn:dataOutputAssociation id="out"><bpmn:targetRef>nothing</bpmn:targetRef>'
         "</bpmn:dataOutputAssociation><bpmn:script>answer", "ticket.bpmn:note",
         "dataOutputAssociation names 'nothing', which is no data object or data store reference"),
        # An element without an id: located at the nearest element that has one, never at "None".
        ('<bpmn:userTask id="fix_network" name="Fix the network">', '<bpmn:userTask name="Fix the network">',
         "ticket.bpmn:ticket", "user task has no lane and no candidateGroups"),
        # A script spanning lines.
        ('answer = "handled by " + kind', 'answer = (\n  "handled by" +', "ticket.bpmn:note",
         "script cannot run in the sandbox"),
    ],
    ids=["message-ref", "signal-ref", "error-ref", "event-gateway", "boundary-compensation",
         "data-association", "element-without-id", "multiline-script"],
)
def test_spiff_failures_are_one_line_at_the_element(old, new, location, phrase):
    files = _changed(_valid_files(), "ticket.bpmn", old, new)
    if "eventBasedGateway" in new:
        files = {**files, "ticket.bpmn": files["ticket.bpmn"].replace(b"</bpmn:exclusiveGateway>",
                                                                      b"</bpmn:eventBasedGateway>")}

    problems = validate_files(files)

    assert problems, "the broken diagram was accepted"
    for problem in problems:
        _assert_one_clean_line(problem)
    assert any(p.location == location and phrase in p.message for p in problems), problems


@pytest.mark.parametrize("text", ['"network" +\n   (', '"net\nwork'])
def test_a_dmn_expression_spanning_lines_is_reported_on_one_line(text):
    files = _changed(_ref_files(), "route.dmn", '<outputEntry id="rule_network_group"><text>"network"</text>',
                     f'<outputEntry id="rule_network_group"><text>{text}</text>')

    problem = _only(validate_files(files))

    _assert_one_clean_line(problem)
    assert problem.location == "route.dmn:rule_network_group"
    assert problem.message.startswith("Malformed Output Expression '" + " ".join(text.split()) + "'")


def test_one_line_names_objects_instead_of_printing_their_address():
    text = ("Cannot resolve <Element {http://www.omg.org/spec/BPMN/20100524/MODEL}targetRef at 0x7f20df7dfb80>"
            " for <SpiffWorkflow.bpmn.specs.defaults.UserTask object at 0x7f20df7dfb80>\n   in task")

    assert one_line(text) == "Cannot resolve 'targetRef' element for UserTask in task"


# -- what deploy would do is what validate says (issue 12) -----------------------------------


def test_the_plan_lists_what_would_be_deployed_and_what_is_left_out():
    drawing = _changed(_ref_files(), "unrelated.bpmn", 'isExecutable="true"', 'isExecutable="false"')

    plan = plan_deployment(drawing)

    assert (plan.process_ids, plan.left_out, plan.problems) == (
        ["notify_requester", "request"], ["unrelated.bpmn:unrelated"], [])


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (_changed(_valid_files(), "ticket.bpmn", 'isExecutable="true"', 'isExecutable="false"'),
         [Problem("ticket.bpmn:ticket", 'process is not executable (isExecutable="true" is missing): '
                                        "there is nothing to deploy")]),
        ({"route.dmn": _ref_files()["route.dmn"], "unused.json": _ref_files()["unused.json"]},
         [Problem(name, "not a BPMN file: a deployment needs a BPMN file with an executable process")
          for name in ("route.dmn", "unused.json")]),
        ({}, [Problem("", "no BPMN, DMN or JSON file was given")]),
    ],
    ids=["only-a-drawing", "no-bpmn", "no-files"],
)
def test_nothing_to_deploy_is_a_problem_of_the_plan(files, expected):
    assert plan_deployment(files).problems == expected
    assert plan_deployment(files).process_ids == []


# -- paths that are not definition files (issue 12) ------------------------------------------


def _refused_paths(*paths) -> list[Problem]:
    with pytest.raises(ValidationError) as refused:
        load_paths([str(p) for p in paths])
    return refused.value.problems


def test_a_device_a_pipe_and_an_empty_folder_are_refused_without_reading_them(tmp_path):
    fifo = tmp_path / "pipe.bpmn"
    os.mkfifo(fifo)      # opening it to read would wait for a writer forever
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "readme.txt").write_text("not a diagram")
    started = time.perf_counter()

    problems = _refused_paths("/dev/null", fifo, empty, other)

    assert time.perf_counter() - started < 1.0
    not_a_file = "not a BPMN, DMN or JSON file: a device, pipe or socket, not a regular file"
    assert problems == [Problem("/dev/null", not_a_file), Problem(str(fifo), not_a_file),
                        Problem(str(empty), "no BPMN, DMN or JSON file in this folder"),
                        Problem(str(other), "no BPMN, DMN or JSON file in this folder")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_one_problem(tmp_path):
    locked = tmp_path / "locked.bpmn"
    locked.write_bytes(b"<x/>")
    locked.chmod(0)

    assert _refused_paths(locked) == [Problem("locked.bpmn", "cannot be read: Permission denied")]


def test_a_binary_file_and_an_empty_file_say_what_they_are(tmp_path):
    (tmp_path / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    (tmp_path / "empty.bpmn").write_bytes(b"")

    files = load_paths([str(tmp_path / "program"), str(tmp_path / "empty.bpmn")])

    assert validate_files(files) == [Problem("empty.bpmn", "the file is empty"),
                                     Problem("program", "not a BPMN, DMN or JSON file")]


def test_a_schema_error_inside_an_extension_is_located_at_its_task_not_at_the_operator_name():
    files = _changed(_valid_files(), "ticket.bpmn", SCRIPT_TASK, SERVICE_TASK.replace("<spiffworkflow:parameters/>", ""))

    problem = _only(validate_files(files))

    assert problem.location == "ticket.bpmn:note"
    assert "spiffworkflow:serviceTaskOperator" in problem.message
