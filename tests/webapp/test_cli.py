"""The ``sek`` command line as other programs use it (DESIGN.md, "Contracts other
programs rely on"): real subprocesses, exit codes 0/1/2, one-line errors on stderr,
the JSON shapes of ``start --json`` and ``tasks --json``.

The journey runs a process the project never ships (``tests/data/cli``): the help
desk reviews a software request (a message can withdraw it), a script records the
review, a gateway sends it to the software team or ends it, and a boundary timer
ends an installation that misses the deadline the help desk set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, users
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, RequestContact
from processes.demo import SAMPLE_REQUESTS

SEK = Path(sys.executable).parent / "sek"
DATA = Path(__file__).resolve().parent.parent / "data" / "cli"
PROCESS = DATA / "software_request"
XXE = DATA / "xxe.bpmn"

START_KEYS = {"id", "tracking_code", "status"}
TASK_KEYS = {"id", "instance_id", "bpmn_id", "name", "group", "assignee", "state"}
LOCATED = re.compile(r"^[\w.-]+\.(bpmn|dmn|json)(:[\w.-]+)?: \S")


def _sek(env: dict, *args, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``sek ARGS...`` (``stdin`` on its standard input); return (exit code, stdout,
    stderr). Never a traceback."""
    proc = subprocess.run([str(SEK), *map(str, args)], env=env, capture_output=True, input=stdin,
                          encoding="utf-8", timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def _env(data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(data_dir), PYTHONUTF8="1")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@pytest.fixture
def run(db, tmp_path):
    """``run(*args, stdin=None)`` against the test database (SQLite, or PostgreSQL when configured)."""
    env = _env(tmp_path, db.url)
    return lambda *args, stdin=None: _sek(env, *args, stdin=stdin)


@pytest.fixture
def run_without_db(tmp_path):
    """``run(*args)`` with no database configured: for errors that must not reach one."""
    env = _env(tmp_path / "data", None)
    return lambda *args: _sek(env, *args)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    return lines[0]


def refused(result: tuple[int, str, str]) -> str:
    """Assert exit 1 with one error line on stderr; return that line."""
    code, out, err = result
    assert code == 1, (code, out, err)
    return one_line(err)


def succeeded(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, (code, out, err)
    return out


def task_list(run, *args) -> list[dict]:
    tasks = json.loads(succeeded(run("tasks", *args, "--json")))
    assert isinstance(tasks, list)
    for task in tasks:
        assert set(task) == TASK_KEYS, task
    return tasks


def _broken_copy(tmp_path: Path) -> Path:
    """The fixture with an import in its script, a condition that does not compile,
    its install task outside every lane and its install form missing."""
    broken = tmp_path / "broken"
    shutil.copytree(PROCESS, broken)
    bpmn = broken / "software_request.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    for old, new in (("<bpmn:script>summary", "<bpmn:script>import os\nsummary"),
                     ("        <bpmn:flowNodeRef>install</bpmn:flowNodeRef>\n", ""),
                     ('decision == "reject"', "decision ==")):
        assert old in text, old
        text = text.replace(old, new)
    bpmn.write_text(text, encoding="utf-8")
    (broken / "software_request.install.schema.json").unlink()
    return broken


def test_software_request_journey(run, db, tmp_path):
    # -- schema, checking and deploying ------------------------------------------
    assert "up to date" in succeeded(run("db", "upgrade"))
    assert "software_request" in succeeded(run("validate", PROCESS))

    code, out, err = run("validate", _broken_copy(tmp_path))
    assert code == 1, (out, err)
    one_line(err)
    lines = out.splitlines()
    assert lines and all(LOCATED.match(line) for line in lines), out
    located = {line.split(": ", 1)[0] for line in lines}
    assert {"software_request.bpmn:record_review", "software_request.bpmn:install",
            "software_request.bpmn:not_approved"} <= located, out
    assert "nobody would see it" in out and "import" in out

    # One XXE file in the folder: refused, and nothing of the folder is deployed.
    mixed = tmp_path / "mixed"
    shutil.copytree(PROCESS, mixed)
    shutil.copy(XXE, mixed / "xxe.bpmn")
    code, out, err = run("deploy", mixed)
    assert code == 1, (out, err)
    one_line(err)
    assert out.startswith("xxe.bpmn: ") and "DOCTYPE" in out, out

    assert succeeded(run("deploy", PROCESS)).strip() == "software_request 1"
    assert succeeded(run("deploy", PROCESS)).strip() == "software_request 1 (unchanged)"
    with db.tx() as session:
        deployed = session.execute(select(ProcessDefinition.key, ProcessDefinition.version)).all()
    assert [tuple(row) for row in deployed] == [("software_request", 1)]

    # -- accounts ----------------------------------------------------------------
    out = succeeded(run("users", "add", "deniz", "--group", "helpdesk", "--role", "staff",
                        "--password", "parola123", "--email", "deniz@example.edu.tr"))
    assert "deniz" in out and "helpdesk" in out
    succeeded(run("users", "add", "kerem", "--group", "software"))
    token = succeeded(run("users", "token", "deniz")).strip()
    assert token and len(token.split()) == 1
    with db.tx() as session:
        assert users.user_for_token(session, token).username == "deniz"
        assert users.get_user(session, "deniz").email == "deniz@example.edu.tr"

    # -- five requests: installed, rejected, overdue, withdrawn, cancelled --------
    started = {}
    for name in ("installed", "rejected", "overdue", "withdrawn", "cancelled"):
        request = {"requester": "Deniz Kaya", "requester_email": "deniz.kaya@example.edu.tr",
                   "subject": "SPSS kurulumu", "package": f"SPSS ({name})"}
        args = ["start", "software_request", "--data", json.dumps(request), "--json"]
        if name == "installed":
            args += ["--as", "deniz"]
        value = json.loads(succeeded(run(*args)))
        assert set(value) == START_KEYS, value
        assert value["status"] == "running"
        started[name] = value
    instance = {name: value["id"] for name, value in started.items()}

    ready = task_list(run, "--group", "helpdesk")
    assert sorted(t["instance_id"] for t in ready) == sorted(instance.values())
    assert {(t["bpmn_id"], t["group"], t["state"], t["assignee"]) for t in ready} == {
        ("review", "helpdesk", "ready", None)}
    review = {t["instance_id"]: t["id"] for t in ready}
    first = review[instance["installed"]]

    # Invalid form data names every field at fault, in one line.
    line = refused(run("complete", first, "--data", '{"install_within": "two days"}', "--as", "deniz"))
    assert "decision" in line and "install_within" in line
    # Another group's member may not complete the help desk's task.
    assert "kerem" in refused(run("complete", first, "--data", '{"decision": "reject"}', "--as", "kerem"))

    assert "deniz" in succeeded(run("claim", first, "--as", "deniz"))
    claimed = task_list(run, "--state", "claimed")
    assert [(t["id"], t["assignee"], t["state"]) for t in claimed] == [(first, "deniz", "claimed")]

    approve = {"decision": "approve", "install_within": "P14D", "comment": "licence available"}
    assert "is running" in succeeded(run("complete", first, "--data", json.dumps(approve), "--as", "deniz"))
    assert "no longer open" in refused(run("complete", first, "--data", json.dumps(approve), "--as", "deniz"))

    out = succeeded(run("complete", review[instance["rejected"]], "--data", '{"decision": "reject"}',
                        "--as", "deniz"))
    assert f"instance {instance['rejected']} is completed" in out

    overdue = {"decision": "approve", "install_within": "PT1S"}
    succeeded(run("complete", review[instance["overdue"]], "--data", json.dumps(overdue), "--as", "deniz"))
    deadline = time.monotonic() + 1.5

    tracking_code = started["withdrawn"]["tracking_code"]
    out = succeeded(run("message", "request_withdrawn", "--correlation", tracking_code,
                        "--data", '{"reason": "bought a licence myself"}'))
    assert str(instance["withdrawn"]) in out

    # A deadline the form lets through but the timer cannot parse is refused in one line.
    refused(run("complete", review[instance["cancelled"]], "--data",
                '{"decision": "approve", "install_within": "PT"}', "--as", "deniz"))
    succeeded(run("cancel", instance["cancelled"], "--as", "deniz", "--reason", "duplicate"))

    # -- the software team ----------------------------------------------------------
    install = task_list(run, "--group", "software")
    assert {t["instance_id"] for t in install} == {instance["installed"], instance["overdue"]}
    assert {(t["bpmn_id"], t["group"], t["state"]) for t in install} == {("install", "software", "ready")}
    install_task = next(t["id"] for t in install if t["instance_id"] == instance["installed"])
    out = succeeded(run("complete", install_task, "--data", '{"installed_version": "29.0", "host": "lab-12"}',
                        "--as", "kerem"))
    assert f"instance {instance['installed']} is completed" in out

    time.sleep(max(0.0, deadline - time.monotonic()))
    assert succeeded(run("worker", "--once")).strip() == "1 job(s) run"

    # -- what everybody can see afterwards ----------------------------------------
    completed = task_list(run, "--state", "completed")
    assert {(t["instance_id"], t["bpmn_id"]) for t in completed} == {
        (instance["installed"], "review"), (instance["installed"], "install"),
        (instance["rejected"], "review"), (instance["overdue"], "review")}
    assert {t["state"] for t in completed} == {"completed"}
    assert next(t for t in completed if t["bpmn_id"] == "install")["assignee"] == "kerem"

    every = task_list(run, "--state", "all")
    states = {(t["instance_id"], t["bpmn_id"]): t["state"] for t in every}
    assert len(every) == 7
    assert states[(instance["overdue"], "install")] == "cancelled"
    assert states[(instance["withdrawn"], "review")] == "cancelled"
    assert states[(instance["cancelled"], "review")] == "cancelled"

    assert "intact" in succeeded(run("audit", "verify"))

    with db.tx() as session:
        rows = {row.id: row for row in session.scalars(select(ProcessInstance))}
        status = {name: rows[id_].status for name, id_ in instance.items()}
        data = {name: rows[id_].state.get("data", {}) for name, id_ in instance.items()
                if rows[id_].status == "completed"}
        actions = {(event.instance_id, event.action) for event in session.scalars(select(AuditEvent))}
    assert status == {"installed": "completed", "rejected": "completed", "overdue": "completed",
                      "withdrawn": "completed", "cancelled": "cancelled"}
    assert rows[instance["installed"]].started_by == "deniz"
    assert data["installed"]["summary"] == "SPSS (installed): approve"  # the script task ran
    assert data["installed"]["installed_version"] == "29.0"
    assert data["rejected"]["summary"] == "SPSS (rejected): reject"
    assert "installed_version" not in data["overdue"]
    assert data["withdrawn"]["withdrawal"] == {"reason": "bought a licence myself"}
    assert {(instance["overdue"], "timer.fired"), (instance["withdrawn"], "message.delivered"),
            (instance["cancelled"], "instance.cancelled")} <= actions


def test_demo_can_be_loaded_twice(run, db):
    first = succeeded(run("demo"))
    second = succeeded(run("demo"))

    assert "user_support version 1 (deployed)" in first and "16 sample requests started; 20 assets registered" in first
    assert "user_support version 1 (unchanged)" in second and "0 sample requests started; 0 assets registered" in second
    # the monitoring webhook, added once; its secret (derived from the app's key) named both times
    secret = re.search(r"webhook izleme secret ([0-9a-f]{64})", first).group(1)
    assert f"webhook izleme secret {secret}" in second
    with db.tx() as session:
        assert len(session.scalars(select(ProcessInstance)).all()) == 16  # the sample requests, once
        assert users.get_user(session, "destek").group_slugs == {"helpdesk"}
        # every team's inbox has work: requests wait in network, software and systems, some claimed
        open_groups = {(t.group_name, t.assignee) for t in session.scalars(
            select(HumanTask).where(HumanTask.state.in_(["ready", "claimed"])))}
        assert {("network", None), ("network", "ag"), ("software", None), ("systems", None),
                ("systems", "sistem"), ("helpdesk", None), ("callcenter", None),
                # a VPN request from each unit with heads of its own waits for those heads only
                ("unithead-muhendislik", None), ("unithead-fen", None)} <= open_groups
        started = {i.process_key for i in session.scalars(select(ProcessInstance))}
        first_sample = session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).first()
        first_sample_email = SAMPLE_REQUESTS[0]["requester_email"].upper()   # as a requester may type it
        assert started == {"user_support", "vpn_request", "server_external_access", "yurtnet_registration",
                           "backup_restore", "software_request", "message_routing", "call_record"}
        # the samples can be followed at /takip like portal requests (the anonymous call cannot)
        assert conversation.find_request(session, first_sample.tracking_code, first_sample_email) is not None
        assert len(session.scalars(select(RequestContact)).all()) == 15
        moved = session.scalar(select(AuditEvent).where(AuditEvent.action == "message.delivered"))
        assert (moved.actor, moved.data["payload"]["category"]) == ("destek", "Öğrenci E-posta")


@pytest.mark.parametrize("args, expected", [
    (["start", "no_such_process"], "no_such_process"),
    (["start", "software_request", "--data", '{"package": "SPSS"'], "not valid JSON"),
    (["start", "software_request", "--data", '{"package": NaN}'], "NaN"),
    (["users", "add", "bob", "--role", "wizard"], "wizard"),
    (["claim", "7", "--as", "nobody"], "nobody"),
    (["validate", XXE], "problem"),  # deploying it: see the journey
], ids=lambda value: " ".join(Path(str(v)).name for v in value[:2]) if isinstance(value, list) else "")
def test_refusals_exit_1_with_one_line(run, db, args, expected):
    code, out, err = run(*args)

    assert code == 1, (code, out, err)
    assert expected in one_line(err)
    if args[0] == "validate":
        assert out.splitlines() == [
            "xxe.bpmn: DOCTYPE and ENTITY declarations are not allowed; the file was not parsed"]
    else:
        assert out == ""
    with db.tx() as session:
        assert session.scalars(select(ProcessDefinition)).all() == []


def test_text_with_control_characters_or_broken_unicode_is_refused_in_one_line(run, db):
    succeeded(run("deploy", PROCESS))
    for data, expected in (('{"package": "SPSS\\u0001", "reason": "ders"}', "package: contains the control "
                                                                              "character U+0001"),
                           ('{"package": "SPSS", "reason": "a\\u0000b"}', "reason: contains the control "
                                                                          "character U+0000"),
                           ('{"package": "a\\ud800b"}', "package: contains text that is not valid Unicode")):
        line = refused(run("start", "software_request", "--data", data))
        assert line.startswith("error: ") and expected in line, line
        assert "\x00" not in line and "\x01" not in line
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []


@pytest.mark.parametrize("args, expected", [
    ([], "usage: sek"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["claim", "1"], "--as"),
    (["complete", "1", "--data", "{}"], "--as"),
    (["tasks", "--state", "bogus"], "invalid choice: 'bogus'"),
    (["claim", "first", "--as", "deniz"], "invalid id"),
    (["claim", "99999999999999999999", "--as", "deniz"], "invalid id"),
    (["message", "request_withdrawn"], "--instance"),
    (["db"], "usage: sek"),
])
def test_usage_errors_exit_2_and_touch_nothing(run_without_db, tmp_path, args, expected):
    code, out, err = run_without_db(*args)

    assert code == 2, (code, out, err)
    assert expected in err and err.startswith("usage: sek")
    assert out == ""
    assert not (tmp_path / "data").exists()  # no database was created or opened


def test_a_shifted_clock_lets_the_worker_fire_tomorrows_timers(db, tmp_path):
    """SEK_CLOCK_SHIFT: `sek worker --once` fires what falls due within the shift, and only that."""
    env = _env(tmp_path, db.url)
    succeeded(_sek(env, "deploy", DATA.parent / "jobs" / "timer_catch.bpmn"))
    started = json.loads(succeeded(_sek(env, "start", "timer_catch", "--data", '{"wait": "P2D"}', "--json")))
    assert "0 job(s) run" in succeeded(_sek({**env, "SEK_CLOCK_SHIFT": "P1D"}, "worker", "--once"))
    assert "1 job(s) run" in succeeded(_sek({**env, "SEK_CLOCK_SHIFT": "P2DT1M"}, "worker", "--once"))
    tasks_now = json.loads(succeeded(_sek(env, "tasks", "--json")))
    assert [(t["instance_id"], t["bpmn_id"]) for t in tasks_now] == [(started["id"], "follow_up")]
    assert "SEK_CLOCK_SHIFT" in refused(_sek({**env, "SEK_CLOCK_SHIFT": "tomorrow"}, "tasks"))
    assert "SEK_CLOCK_AT" in refused(_sek({**env, "SEK_CLOCK_AT": "tomorrow"}, "tasks"))


# -- issue 12: validate says what deploy does; odd paths; --data from a file or stdin --------

VALIDATION = DATA.parent / "validation"
# A problem at an element: file, element id, message (what `sek validate` prints per problem).
AT_ELEMENT = re.compile(r"^[^:]+:[\w.-]+: ")


def _copy(source: Path, target: Path, old: str = "", new: str = "") -> Path:
    """``source`` (a folder) copied to ``target`` with ``old`` replaced by ``new`` in its BPMN file."""
    shutil.copytree(source, target)
    for bpmn in target.glob("*.bpmn"):
        text = bpmn.read_text(encoding="utf-8")
        assert old in text, old
        bpmn.write_text(text.replace(old, new), encoding="utf-8")
    return target


UNKNOWN_OPERATOR = ("""<bpmn:scriptTask id="note" name="Note the answer">
      <bpmn:incoming>is_other</bpmn:incoming>
      <bpmn:outgoing>note_done</bpmn:outgoing>
      <bpmn:script>answer = "handled by " + kind</bpmn:script>
    </bpmn:scriptTask>""", """<bpmn:serviceTask id="note" name="Note the answer">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="no_such_operator">
          <spiffworkflow:parameters/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>is_other</bpmn:incoming>
      <bpmn:outgoing>note_done</bpmn:outgoing>
    </bpmn:serviceTask>""")


@pytest.mark.parametrize(("source", "old", "new", "expected"), [
    (PROCESS, 'isExecutable="true"', 'isExecutable="false"',
     ['software_request.bpmn:software_request: process is not executable (isExecutable="true" is missing): '
      "there is nothing to deploy"]),
    (VALIDATION / "valid", *UNKNOWN_OPERATOR, ["ticket.bpmn:note: unknown service operator 'no_such_operator'"]),
], ids=["only-a-drawing", "unknown-operator"])
def test_validate_refuses_exactly_what_deploy_refuses(run, db, tmp_path, source, old, new, expected):
    files = _copy(source, tmp_path / "files", old, new)

    checked, deployed = run("validate", files), run("deploy", files)

    assert checked[0] == deployed[0] == 1, (checked, deployed)
    assert checked[1].splitlines() == deployed[1].splitlines() == expected
    assert "sek deploy would refuse" in one_line(checked[2]) and "nothing was deployed" in one_line(deployed[2])
    with db.tx() as session:
        assert session.scalars(select(ProcessDefinition)).all() == []


def test_validate_names_what_deploy_deploys_and_what_it_leaves_out(run, db, tmp_path):
    files = _copy(PROCESS, tmp_path / "files")
    drawing = (VALIDATION / "valid" / "ticket.bpmn").read_text(encoding="utf-8")
    (files / "drawing.bpmn").write_text(drawing.replace('isExecutable="true"', 'isExecutable="false"')
                                        .replace(">ticket-schema.json<", "><").replace(">ticket-ui.json<", "><"),
                                        encoding="utf-8")

    assert succeeded(run("validate", files)).splitlines() == [
        "ok: 4 file(s), processes: software_request; left out, not executable: drawing.bpmn:ticket"]
    assert succeeded(run("deploy", files)).splitlines() == ["software_request 1"]
    with db.tx() as session:
        assert session.scalars(select(ProcessDefinition.key)).all() == ["software_request"]


def test_validate_prints_spiffs_failures_one_line_each_at_the_element(run, db):
    code, out, err = run("validate", VALIDATION / "spiff_failures")

    assert code == 1, (out, err)
    assert "7 problem(s) in 6 file(s)" in one_line(err)
    lines = out.splitlines()
    assert len(lines) == 7, out
    for line in lines:
        assert AT_ELEMENT.match(line) and "object at 0x" not in line and " at 0x" not in line, line
        assert not re.search(r"\b\w+(Error|Exception)\(", line), line
    assert {line.split(": ", 1)[0] for line in lines} == {
        "boundary_kind.bpmn:undo", "data_output.bpmn:ask", "event_gateway.bpmn:wait", "event_gateway.bpmn:ask_again",
        "message_ref.bpmn:withdrawn", "multiline.dmn:rule_network_group", "no_id.bpmn:no_id"}
    assert "message_ref.bpmn:withdrawn: messageRef 'request_withdrawn' names no bpmn:message of this file" in lines
    assert ("multiline.dmn:rule_network_group: Malformed Output Expression '\"network\" + ('. "
            "invalid syntax (<unknown>, line 1)") in lines


def _odd_path(tmp_path: Path, kind: str) -> Path:
    if kind == "device":
        return Path("/dev/null")
    path = tmp_path / {"pipe": "pipe.bpmn", "folder": "empty", "binary": "program", "empty": "empty.bpmn"}[kind]
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) if kind == "binary" else b"")
    return path


@pytest.mark.parametrize(("kind", "location", "message"), [
    ("device", "/dev/null", "not a BPMN, DMN or JSON file: a device, pipe or socket, not a regular file"),
    ("pipe", "{path}", "not a BPMN, DMN or JSON file: a device, pipe or socket, not a regular file"),
    ("folder", "{path}", "no BPMN, DMN or JSON file in this folder"),
    ("binary", "program", "not a BPMN, DMN or JSON file"),
    ("empty", "empty.bpmn", "the file is empty"),
])
def test_validate_says_what_an_odd_path_is_in_one_line(run, db, tmp_path, kind, location, message):
    path = _odd_path(tmp_path, kind)

    code, out, err = run("validate", path)

    assert code == 1, (code, out, err)
    assert out.splitlines() == [f"{location.format(path=path)}: {message}"]
    one_line(err)


def test_audit_verify_of_an_instance_that_does_not_exist_is_refused(run, db):
    assert "intact" in succeeded(run("audit", "verify"))

    assert refused(run("audit", "verify", "--instance", "99999999")) == "error: no instance 99999999"


def test_data_comes_from_a_file_or_standard_input(run, db, tmp_path, make_user):
    succeeded(run("deploy", PROCESS))
    make_user("deniz", groups=("helpdesk",))
    # More than one command-line argument may hold (Linux: 128 KiB).
    seats = [f"lab-{number:05d}" for number in range(15000)]
    start = tmp_path / "start.json"
    start.write_text(json.dumps({"requester": "Elif Şahin", "requester_email": "elif@example.edu.tr",
                                 "subject": "SPSS lisansı", "package": "SPSS", "seats": seats}),
                     encoding="utf-8")
    assert start.stat().st_size > 128 * 1024

    started = json.loads(succeeded(run("start", "software_request", "--data", f"@{start}", "--json")))
    [review] = task_list(run, "--group", "helpdesk")
    out = succeeded(run("complete", review["id"], "--data", "-", "--as", "deniz",
                        stdin='{"decision": "reject", "comment": "çok pahalı"}'))

    assert f"instance {started['id']} is completed" in out
    with db.tx() as session:
        data = session.get(ProcessInstance, started["id"]).state["data"]
    assert (data["package"], data["seats"], data["decision"], data["comment"]) == ("SPSS", seats, "reject",
                                                                                   "çok pahalı")


@pytest.mark.parametrize(("value", "expected"), [
    ("@{tmp}/missing.json", "error: --data @{tmp}/missing.json: {tmp}/missing.json cannot be read: "
                            "No such file or directory"),
    ("@{tmp}", "error: --data @{tmp}: {tmp} cannot be read: Is a directory"),
    ("@{tmp}/latin1.json", "error: --data @{tmp}/latin1.json: {tmp}/latin1.json is not UTF-8 text"),
    ("-", "error: --data is not valid JSON: Expecting value at position 0"),
], ids=["missing", "folder", "not-utf-8", "empty-stdin"])
def test_data_that_cannot_be_read_is_refused_in_one_line(run, db, tmp_path, value, expected):
    (tmp_path / "latin1.json").write_bytes('{"package": "Türkçe"}'.encode("latin-1"))

    line = refused(run("start", "software_request", "--data", value.format(tmp=tmp_path), stdin=""))

    assert line == expected.format(tmp=tmp_path)
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []


def test_deploy_as_a_user_only_deploys_their_groups_processes(run, db):
    """Issue 12, defect 2: `--as` deploys as that user, by the engine's rule of every door;
    without `--as` the operator at the console deploys any process."""
    vpn = sorted((DATA.parents[2] / "bpmn").glob("vpn_request.*"))
    succeeded(run("users", "add", "sahip", "--group", "systems", "--role", "staff", "--role", "process_owner"))
    succeeded(run("users", "add", "nur", "--group", "network", "--role", "staff", "--role", "process_owner"))

    line = refused(run("deploy", *vpn, "--as", "sahip"))
    assert "vpn_request" in line and "network" in line
    with db.tx() as session:
        assert session.scalars(select(ProcessDefinition)).all() == []

    assert succeeded(run("deploy", *vpn, "--as", "nur")).strip() == "vpn_request 1"
    assert succeeded(run("deploy", *vpn)).strip() == "vpn_request 1 (unchanged)"
    with db.tx() as session:
        assert session.scalar(select(ProcessDefinition.deployed_by)) == "nur"


def test_start_data_is_checked_against_the_start_schema(run, db, deploy):
    """Issue 12, defect 8: `sek start` refuses data a later step would fail on, in one line."""
    deploy(*sorted((DATA.parents[2] / "bpmn").glob("user_support.*")))

    line = refused(run("start", "user_support", "--data", '{"category": 5}'))

    assert "user_support" in line
    assert all(f"{name}:" in line for name in ("category", "requester", "requester_email", "subject"))
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []
