"""Text from outside (engine.textinput): one rule for every door, checked before anything
is stored; the audit trail never fails on text it cannot keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import conversation, runtime, tasks, textinput, users
from engine.errors import ValidationError
from engine.models import AuditEvent, HumanTask, ProcessInstance, RequestMessage

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "support"
# What json.loads makes of "a\ud800b": a str no UTF-8 encoder (nor PostgreSQL) takes.
SURROGATE = json.loads('"a\\ud800b"')


def _codes(value, **kwargs) -> list[tuple[str, str]]:
    return [(p.location, p.code) for p in textinput.problems(value, **kwargs)]


@pytest.mark.parametrize(("text", "code"), [
    (SURROGATE, "unicode"),
    ("a\x00b", "control_character"),
    ("zil \x07", "control_character"),
    ("\x1b[2J ekranı sil", "control_character"),
    ("DEL \x7f", "control_character"),
    ("C1 CSI \x9b31m", "control_character"),
    ("x" * (textinput.TEXT_MAX + 1), "maxLength"),
])
def test_bad_text_is_named_at_its_field(text, code):
    assert _codes({"subject": text}) == [("subject", code)]


def test_ordinary_text_passes_tabs_and_line_breaks_included():
    data = {"subject": "VPN bağlanmıyor 🙂", "message": "Satır 1\r\nSatır 2\n\tgirintili", "count": 3,
            "tags": ["ağ", "vpn"], "nested": {"note": "x" * textinput.TEXT_MAX}, "none": None, "ok": True}
    assert textinput.problems(data) == []
    textinput.check(data)


def test_paths_name_nested_fields_and_bad_field_names():
    data = {"items": [{"name": "ok"}, {"name": "a\x00"}], "a\x01b": "değer", SURROGATE: 1}
    assert _codes(data) == [("items.1.name", "control_character"), ("ab", "control_character"),
                            ("ab", "unicode")]
    problems = textinput.problems(data)
    assert problems[1].message.startswith("the field name contains the control character U+0001")
    assert all("\x00" not in p.message and "\x01" not in p.message for p in problems)   # one clean line each


def test_a_whole_payload_and_its_nesting_are_bounded():
    many = {f"f{n}": "x" * textinput.TEXT_MAX for n in range(textinput.DATA_MAX // textinput.TEXT_MAX + 1)}
    assert _codes(many) == [("", "data_size")]
    deep: list = []
    for _ in range(textinput.DEPTH_MAX + 5):
        deep = [deep]
    assert ("", "depth") not in _codes({"ok": [[1]]})
    assert [code for _location, code in _codes({"deep": deep})] == ["depth"]
    flood = {f"f{n}": "\x00" for n in range(1000)}
    assert len(textinput.problems(flood)) == textinput.PROBLEMS_MAX


def test_a_door_with_its_own_size_limits_checks_only_the_characters():
    assert textinput.problems({"bpmn": "<x/>" * 50_000}, sizes=False) == []
    assert _codes({"bpmn": "<x>\x00</x>"}, sizes=False) == [("bpmn", "control_character")]


def test_cleaned_keeps_what_was_typed_but_the_refused_characters():
    assert textinput.cleaned("a\x00b\tc\nd\x1b" + SURROGATE) == "ab\tc\nda" + "b"


def _counts(db) -> tuple[int, int, int]:
    with db.tx() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (ProcessInstance, AuditEvent, RequestMessage))


def test_every_engine_door_refuses_before_anything_is_stored(db, deploy, make_user):
    deploy(SUPPORT)
    make_user("ayse", groups=("helpdesk",))
    before = _counts(db)   # the deployment's and the account's events
    for data in ({"subject": SURROGATE}, {"subject": "a\x00b"}, {"subject": "x" * 10_000_000}):
        with db.tx() as session, pytest.raises(ValidationError) as refused:
            runtime.start_instance(session, "support_ticket", data=data, actor="portal")
        assert [p.location for p in refused.value.problems] == ["subject"]
    assert _counts(db) == before

    with db.tx() as session:
        instance_id = runtime.start_instance(session, "support_ticket", data={"subject": "VPN"}, actor="portal").id
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    before = _counts(db)
    with db.tx() as session, pytest.raises(ValidationError) as refused:
        tasks.complete_task(session, task_id, users.acting_user(session, "ayse"),
                            {"category": "Diğer", "team": "helpdesk", "triage_note": "not\x00"})
    assert [(p.location, p.code) for p in refused.value.problems] == [("triage_note", "control_character")]
    for body in (SURROGATE, "bir\x1bmesaj", "x" * (conversation.BODY_MAX + 1)):
        with db.tx() as session, pytest.raises(ValidationError) as refused:
            conversation.add_message(session, instance_id, body, author_kind="staff", author="ayse")
        assert [p.location for p in refused.value.problems] == ["message"]
    with db.tx() as session, pytest.raises(ValidationError):
        runtime.deliver_message(session, "anything", {"note": SURROGATE}, instance_id=instance_id)
    assert _counts(db) == before
    with db.tx() as session:
        assert session.get(HumanTask, task_id).state == "ready"
