"""The script sandbox: what BPMN scripts and expressions may do, and what they may not."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ScriptError
from engine.sandbox import (
    SandboxEnvironment,
    SandboxScriptEngine,
    check_expression,
    check_script,
)

ESCAPES = [
    ("import os\nos.remove({sentinel!r})", "import statements are not allowed"),
    ("from os import remove", "import statements are not allowed"),
    ("__import__('os').remove({sentinel!r})", '"__import__" is an invalid variable name'),
    ("x = open('/etc/passwd').read()", "name 'open' is not defined"),
    ("open({target!r}, 'w').write('x')", "name 'open' is not defined"),
    ("x = ().__class__.__base__.__subclasses__()", '"__class__" is an invalid attribute name'),
    ("x = getattr((), '__class__')", "name 'getattr' is not defined"),
    ("x = (lambda: 0).__globals__", '"__globals__" is an invalid attribute name'),
    ("x = eval('1')", "Eval calls are not allowed"),
    ("exec('x=1')", "Exec calls are not allowed"),
    ("x = '{{0.__class__}}'.format(1)", "format*() methods of `str` is not safe"),
    ("x = str.format('{{0.__class__}}', 1)", "format*() methods of `str` is not safe"),
    ("x = f'{{price.__class__}}'", '"__class__" is an invalid attribute name'),
    ("x = type(1)", "name 'type' is not defined"),
    ("x = json.codecs.open({target!r}, 'w')", "has no attribute 'codecs'"),
    ("x = re.enum", "has no attribute 'enum'"),
    ("math.pi = 3", "attribute-less object"),
    ("class A:\n    pass", "ClassDef statements are not allowed"),
    ("raise SystemExit", "name 'SystemExit' is not defined"),
]


@pytest.mark.parametrize(("template", "refusal"), ESCAPES)
def test_escape_attempts_fail_cleanly_and_touch_nothing(tmp_path, template, refusal):
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("keep me")
    target = tmp_path / "x"
    context = {"price": 1}
    script = template.format(sentinel=str(sentinel), target=str(target))

    with pytest.raises(ScriptError) as info:
        SandboxEnvironment().execute(script, context, {})

    assert refusal in info.value.message
    assert sentinel.read_text() == "keep me"
    assert not target.exists()
    assert context == {"price": 1}


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "x = [i * j for i in range(10**4) for j in range(10**4)]",
        # Catching the stop or looping in `finally` must not switch the limit off.
        "while True:\n    try:\n        while True: pass\n    except:\n        pass",
        "try:\n    while True: pass\nfinally:\n    while True: pass",
        "def f(n):\n    return f(n + 1) if n < 500 else [0 for i in range(10**5)]\nwhile True:\n    f(0)",
    ],
)
def test_runaway_script_is_stopped_by_the_step_limit(script):
    with pytest.raises(ScriptError, match="script stopped: took more than 100000 steps"):
        SandboxEnvironment().execute(script, {}, {})


def test_slow_script_is_stopped_by_the_time_limit():
    env = SandboxEnvironment(max_steps=10**12, max_seconds=0.05)
    with pytest.raises(ScriptError, match="ran longer than 0.05 seconds"):
        env.execute("x = 0\nwhile True:\n    x += 1", {}, {})


def test_huge_range_is_refused_before_it_loops_in_c():
    with pytest.raises(ScriptError, match="range of more than 100000 numbers"):
        SandboxEnvironment().execute("total = sum(range(10**12))", {}, {})


def test_previous_tracer_is_restored_after_a_stop():
    before = sys.gettrace()
    with pytest.raises(ScriptError):
        SandboxEnvironment().execute("while True: pass", {}, {})
    assert sys.gettrace() is before


def test_base_exception_raised_by_a_script_becomes_a_script_error():
    with pytest.raises(ScriptError, match="BaseException: boom"):
        SandboxEnvironment().execute("error = Exception.mro()[1]\nraise error('boom')", {}, {})


@pytest.mark.parametrize(
    ("script", "data", "expected"),
    [
        ("total = price * qty", {"price": 2.5, "qty": 4}, {"total": 10.0}),
        ("due = (start + timedelta(days=3)).date().isoformat()\nlate = due > date(2024, 2, 1).isoformat()",
         {"start": datetime(2024, 1, 30, tzinfo=UTC)}, {"due": "2024-02-02", "late": True}),
        ("n = math.ceil(2.1)", {}, {"n": 3}),
        ("ok = bool(re.match(r'[a-z]+@uni\\.edu$', mail))", {"mail": "ann@uni.edu"}, {"ok": True}),
        ("text = json.dumps({'a': [1, 2]})", {}, {"text": '{"a": [1, 2]}'}),
        ("amount = str(Decimal('1.10') + Decimal('2.20'))", {}, {"amount": "3.30"}),
        ("squares = [i * i for i in range(4)]\nby_name = {u['name']: u['id'] for u in users}",
         {"users": [{"name": "ann", "id": 1}]}, {"squares": [0, 1, 4, 9], "by_name": {"ann": 1}}),
        ("count += 1\nlabel *= 2", {"count": 1, "label": "ab"}, {"count": 2, "label": "abab"}),
        ("d['a'] = 1\nitems.append(2)\nfirst, second = items", {"d": {}, "items": [1]},
         {"d": {"a": 1}, "items": [1, 2], "first": 1, "second": 2}),
    ],
)
def test_scripts_compute_with_task_data(script, data, expected):
    context = dict(data)

    assert SandboxEnvironment().execute(script, context, {}) is True

    assert {key: context[key] for key in expected} == expected


def test_expression_picks_a_candidate_group():
    expression = "'network' if category == 'VPN' else 'helpdesk'"
    env = SandboxEnvironment()
    context = {"category": "VPN"}

    assert env.evaluate(expression, context) == "network"
    assert env.evaluate(expression, {"category": "Mail"}) == "helpdesk"
    assert context == {"category": "VPN"}


def test_execute_leaves_only_json_data_behind():
    context = {"n": 2}
    script = (
        "def double(v):\n    return v * 2\n"
        "half = lambda v: v / 2\nm = math\nnow = datetime\nprint('hi')\n"
        "result = double(n) + half(n) + len(printed)"
    )

    SandboxEnvironment(helpers={"lookup": lambda key: key}).execute(script, context, {})

    assert context == {"n": 2, "result": 8.0}
    assert json.loads(json.dumps(context)) == context


def group_of(user):
    """A helper: at module level, as helpers are (a sandbox process imports it by name)."""
    return f"{user}-team"


def test_helpers_are_offered_by_name_and_cannot_be_hidden_by_data():
    env = SandboxEnvironment(helpers={"group_of": group_of})
    context = {"user": "ann"}

    env.execute("group = group_of(user)", context, {})

    assert context == {"user": "ann", "group": "ann-team"}
    with pytest.raises(ScriptError, match="task data hides engine functions, rename: group_of"):
        env.execute("x = 1", {"group_of": "oops"}, {})


def test_runtime_error_names_the_line():
    with pytest.raises(ScriptError) as info:
        SandboxEnvironment().execute("x = 1\ny = missing + 1", {}, {})
    assert info.value.message == "NameError: name 'missing' is not defined (line 2)"


def test_decimal_results_stay_in_task_data():
    context = {}
    SandboxEnvironment().execute("total = Decimal('0.1') * 3", context, {})
    assert context == {"total": Decimal("0.3")}


def test_check_script_refuses_import_and_accepts_a_valid_script():
    with pytest.raises(ScriptError, match="Line 2: import statements are not allowed"):
        check_script("x = 1\nimport os")
    assert check_script("total = sum(item['price'] for item in items)") is None


def test_check_expression_reports_syntax_errors_with_their_line():
    with pytest.raises(ScriptError, match="Line 1: SyntaxError"):
        check_expression("amount >")
    assert check_expression(" amount > 100 ") is None


def test_call_service_is_refused():
    with pytest.raises(ScriptError, match="service tasks run in the worker"):
        SandboxScriptEngine().call_service(None, operation_name="send_mail")


HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
"""

SCRIPT_AND_GATEWAY = HEADER + """
    <bpmn:scriptTask id="script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_two"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_other"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end_two">
      <bpmn:conditionExpression>x == 2</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end_other"/>
  </bpmn:process>
</bpmn:definitions>
"""

DECISION = HEADER + """
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>pick_group</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="groups"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="pick_group" name="Pick group">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in" label="Category">
        <inputExpression id="in_expr" typeRef="string"><text>category</text></inputExpression>
      </input>
      <output id="out" label="Group" name="group" typeRef="string"/>
      <rule id="vpn">
        <inputEntry id="vpn_in"><text>"VPN"</text></inputEntry>
        <outputEntry id="vpn_out"><text>"network"</text></outputEntry>
      </rule>
      <rule id="other">
        <inputEntry id="other_in"><text>-</text></inputEntry>
        <outputEntry id="other_out"><text>"helpdesk"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def run_bpmn(bpmn: str, data: dict | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode(), "test.bpmn")
    parser.add_dmn_str(DMN.encode(), "groups.dmn")
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=SandboxScriptEngine())
    workflow.get_tasks(spec_name="start")[0].data.update(data or {})
    workflow.do_engine_steps()
    return workflow


def test_bpmn_script_and_gateway_run_in_the_sandbox():
    workflow = run_bpmn(SCRIPT_AND_GATEWAY.format(script="x = 1 + 1"))

    assert workflow.is_completed()
    assert workflow.data == {"x": 2}
    ends = [task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)]
    assert "end_two" in ends
    assert "end_other" not in ends


def test_bpmn_script_with_import_fails_the_run():
    with pytest.raises(SpiffWorkflowException, match="import statements are not allowed"):
        run_bpmn(SCRIPT_AND_GATEWAY.format(script="import os"))


@pytest.mark.parametrize(("category", "group"), [("VPN", "network"), ("Mail", "helpdesk")])
def test_decision_table_cells_are_evaluated_in_the_sandbox(category, group):
    workflow = run_bpmn(DECISION, {"category": category})

    assert workflow.is_completed()
    assert workflow.data == {"category": category, "group": group}


def test_dates_format_and_parse_but_imports_stay_closed():
    """strftime/strptime import modules internally: that works, a script's own import does not."""
    from engine.sandbox import SandboxScriptEngine

    environment = SandboxScriptEngine().environment
    assert environment.evaluate('date(2026, 11, 23).strftime("%d.%m.%Y")', {}) == "23.11.2026"
    assert environment.evaluate('datetime.strptime("2026-11-23", "%Y-%m-%d").day', {}) == 23
    for script, reason in (('__import__("os")', "starts with"), ("import os", "import"),
                           ("from os import path", "import")):
        with pytest.raises(ScriptError, match=reason):
            environment.execute(script, {}, {})
