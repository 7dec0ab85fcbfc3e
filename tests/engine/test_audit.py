"""The audit trail an auditor verifies: hash chains that show any edit, removal or reorder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import JSON, bindparam, func, select, text

from engine import audit, runtime, tasks, users
from engine.errors import ValidationError, WorkflowError
from engine.models import AuditChain, AuditEvent, HumanTask

DATA = Path(__file__).resolve().parent.parent / "data" / "runtime"
CHAIN = "instance:7"


def record_chains(db) -> dict[str, list[int]]:
    """Three interleaved chains: system (2 events), instance 7 (3) and instance 8 (2).

    :returns: chain name -> event ids in chain order
    """
    ids: dict[str, list[int]] = {}
    for step, instance_id in enumerate([None, 7, 8, 7, None, 8, 7]):
        with db.tx() as session:
            event = audit.record(session, f"test.step{step}", actor="ayse", instance_id=instance_id,
                                 data={"step": step, "note": f"adım {step}"})
            ids.setdefault(event.chain, []).append(event.id)
    return ids


def verify(db, chain: str | None = None) -> audit.VerifyResult:
    with db.tx() as session:
        return audit.verify(session, chain)


def execute(db, sql: str, **params) -> None:
    """Raw SQL, as someone with database access (not the engine) would change the table."""
    statement = text(sql)
    if "data" in params:
        statement = statement.bindparams(bindparam("data", type_=JSON))
    with db.tx() as session:
        session.execute(statement, params)


def forge(db, event_id: int, **changes) -> None:
    """Edit an event and recompute its own hash, as an attacker who knows the algorithm would."""
    with db.tx() as session:
        event = session.get(AuditEvent, event_id)
        for name, value in changes.items():
            setattr(event, name, value)
        event.hash = audit._digest(event)


def chain_rows(db, chain: str) -> list[AuditEvent]:
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)))


# -- intact chains -----------------------------------------------------------------------

def test_intact_chains_verify_and_count_every_event(db):
    ids = record_chains(db)

    result = verify(db)

    assert (result.ok, result.checked) == (True, 7)
    assert str(result) == "ok: 7 events, every chain intact"
    assert (verify(db, CHAIN).ok, verify(db, CHAIN).checked) == (True, 3)
    assert verify(db, "system").checked == 2
    assert set(ids) == {"system", "instance:7", "instance:8"}
    rows = chain_rows(db, CHAIN)
    assert [e.seq for e in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in rows[1:]] == [e.hash for e in rows[:-1]]
    assert [e.instance_id for e in rows] == [7, 7, 7]
    with db.tx() as session:
        head = session.get(AuditChain, CHAIN)
        assert (head.seq, head.head_hash) == (3, rows[-1].hash)


def test_an_empty_trail_verifies(db):
    result = verify(db)

    assert (result.ok, result.checked, result.event_id, result.reason) == (True, 0, None, None)


def test_an_instance_history_is_one_verified_chain(db, deploy, make_user):
    make_user("zeynep", groups=("systems",), password=None)
    deploy(DATA / "script_error.bpmn")
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "script_error", actor="zeynep").id
    with db.tx() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        zeynep = users.get_user(session, "zeynep")
        tasks.claim_task(session, task.id, zeynep)
        tasks.complete_task(session, task.id, zeynep, {"quota": 10, "users": 2})

    rows = chain_rows(db, f"instance:{instance_id}")
    assert [(e.action, e.actor) for e in rows] == [
        ("instance.started", "zeynep"), ("task.claimed", "zeynep"), ("task.completed", "zeynep"),
    ]
    assert rows[-1].data == {"task_id": task.id, "bpmn_id": "enter_quota", "data": {"quota": 10, "users": 2}}
    with db.tx() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    result = verify(db)
    assert (result.ok, result.checked) == (True, total)


# -- tampering -----------------------------------------------------------------------------

def _edit_data(db, ids):
    execute(db, "UPDATE audit_event SET data = :data WHERE id = :id", data={"step": 99}, id=ids[1])
    return ids[1]


def _edit_actor(db, ids):
    execute(db, "UPDATE audit_event SET actor = 'mehmet' WHERE id = :id", id=ids[1])
    return ids[1]


def _edit_first_action(db, ids):
    execute(db, "UPDATE audit_event SET action = 'test.nothing' WHERE id = :id", id=ids[0])
    return ids[0]


def _delete_middle(db, ids):
    execute(db, "DELETE FROM audit_event WHERE id = :id", id=ids[1])
    return ids[2]  # found where the removed one was expected


def _reorder(db, ids):
    # (chain, seq) is unique: swap through a free number
    execute(db, "UPDATE audit_event SET seq = 99 WHERE id = :id", id=ids[1])
    execute(db, "UPDATE audit_event SET seq = 2 WHERE id = :id", id=ids[2])
    execute(db, "UPDATE audit_event SET seq = 3 WHERE id = :id", id=ids[1])
    return ids[2]  # now second, but linked to the event it used to follow


def _forge_middle(db, ids):
    forge(db, ids[1], data={"step": 99})
    return ids[2]  # its own hash fits; the next event's link does not


def _delete_last(db, ids):
    execute(db, "DELETE FROM audit_event WHERE id = :id", id=ids[2])
    return None


def _forge_last(db, ids):
    forge(db, ids[2], data={"step": 99})
    return ids[2]


def _append_forged(db, ids):
    with db.tx() as session:
        last = session.get(AuditEvent, ids[2])
        event = AuditEvent(chain=CHAIN, seq=4, instance_id=7, actor="mehmet", action="task.completed",
                           data={"step": 3}, created_at=last.created_at, prev_hash=last.hash)
        event.hash = audit._digest(event)
        session.add(event)
        session.flush()
        return event.id


def _delete_chain(db, ids):
    execute(db, "DELETE FROM audit_event WHERE chain = :chain", chain=CHAIN)
    return None


@pytest.mark.parametrize(("tamper", "phrase"), [
    (_edit_data, "the event was edited"),
    (_edit_actor, "the event was edited"),
    (_edit_first_action, "the event was edited"),
    (_delete_middle, "expected event #2 of the chain, found #3: an event was removed or reordered"),
    (_reorder, "previous-hash link does not match"),
    (_forge_middle, "previous-hash link does not match"),
    (_delete_last, "chain ends at event #2 but its head records #3: events were removed from the end"),
    (_forge_last, "does not match its chain head"),
    (_append_forged, "added after the chain head"),
    (_delete_chain, "all events of this chain were removed"),
], ids=["edit-data", "edit-actor", "edit-first-action", "delete-middle", "reorder", "forge-middle",
        "delete-last", "forge-last", "append-forged", "delete-chain"])
def test_tampering_is_detected_and_named(db, tamper, phrase):
    ids = record_chains(db)

    culprit = tamper(db, ids[CHAIN])

    result = verify(db)
    assert result.ok is False
    assert (result.chain, result.event_id) == (CHAIN, culprit)
    assert phrase in result.reason
    assert CHAIN in str(result) and (culprit is None or f"event {culprit}" in str(result))
    alone = verify(db, CHAIN)
    assert (alone.ok, alone.chain, alone.event_id, alone.reason) == (False, CHAIN, culprit, result.reason)
    # the other chains are still intact
    assert verify(db, "instance:8").ok and verify(db, "system").ok


def test_a_missing_chain_head_is_detected(db):
    record_chains(db)
    execute(db, "DELETE FROM audit_chain WHERE name = :name", name=CHAIN)

    result = verify(db)

    assert (result.ok, result.chain, result.reason) == (False, CHAIN, "chain head is missing")


# -- same transaction as the change -------------------------------------------------------

def test_a_failed_command_leaves_no_event(db):
    with pytest.raises(RuntimeError), db.tx() as session:
        audit.record(session, "user.created", actor="root", data={"username": "ali"})
        raise RuntimeError("the command failed after recording")

    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert session.get(AuditChain, audit.SYSTEM_CHAIN) is None
    assert verify(db).ok


@pytest.mark.parametrize(("data", "error"), [
    ({"quota": 10, "users": 0}, WorkflowError),   # the script after the task fails
    ([1, 2], ValidationError),                   # not a JSON object
], ids=["script-error", "bad-data"])
def test_an_engine_command_that_fails_records_nothing(db, deploy, make_user, data, error):
    make_user("zeynep", groups=("systems",), password=None)
    deploy(DATA / "script_error.bpmn")
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "script_error", actor="zeynep").id
    before = chain_rows(db, f"instance:{instance_id}")

    with pytest.raises(error), db.tx() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        tasks.complete_task(session, task.id, users.get_user(session, "zeynep"), data)

    after = chain_rows(db, f"instance:{instance_id}")
    assert [(e.id, e.hash) for e in after] == [(e.id, e.hash) for e in before]
    assert [e.action for e in after] == ["instance.started"]
    with db.tx() as session:
        assert session.get(AuditChain, f"instance:{instance_id}").seq == 1
    assert verify(db).ok


# -- redactable hashing (KVKK retention) -----------------------------------------------------
PERSONAL = {"data": {"category": "VPN", "requester": "Ayşe Yılmaz", "requester_email": "ayse@example.edu.tr",
                     "phone": "0532 111 22 33"}, "note": "kısa", "list": [{"body": "Merhaba Ayşe Yılmaz"}]}


def _leaves(value):
    """Every string in stored data except the digests kept by redaction markers."""
    if audit.is_redacted(value):
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value


def record_personal(db) -> int:
    with db.tx() as session:
        audit.record(session, "test.plain", actor="ayse", instance_id=7, data={"step": 1})
        event = audit.record(session, "test.personal", actor="requester:ayse@example.edu.tr", instance_id=7,
                             data=PERSONAL)
        audit.record(session, "test.after", actor="ag", instance_id=7, data={"step": 3})
        return event.id


def test_personal_values_are_redacted_and_the_chain_still_verifies(db):
    event_id = record_personal(db)
    rows = chain_rows(db, CHAIN)
    # Only the event with personal data gets a salt; auditors read the clear values until retention.
    assert ["_salt" in e.data for e in rows] == [False, True, False]
    assert rows[1].data["data"]["requester"] == "Ayşe Yılmaz" and rows[1].actor == "requester:ayse@example.edu.tr"
    with db.tx() as session:
        assert audit.redact(session, 7) == 1
        assert audit.redact(session, 7) == 0   # done once
    event = next(e for e in chain_rows(db, CHAIN) if e.id == event_id)
    assert event.actor == "requester:[redacted]"
    assert event.data["data"]["category"] == "VPN" and event.data["note"] == "kısa"
    assert audit.is_redacted(event.data["data"]["phone"]) and audit.is_redacted(event.data["list"][0]["body"])
    text_leaves = " ".join(_leaves(event.data))
    assert not any(v in text_leaves for v in ("Ayşe", "ayse@", "0532"))
    assert verify(db).ok
    assert verify(db).checked == 3


def test_a_forged_redaction_is_detected(db):
    event_id = record_personal(db)
    with db.tx() as session:   # a marker with a made-up digest in place of a clear value
        event = session.get(AuditEvent, event_id)
        event.data = {**event.data, "data": {**event.data["data"], "phone": {"$redacted": "0" * 64}}}
    result = verify(db)
    assert not result.ok and result.event_id == event_id and "edited" in result.reason


def test_an_edited_redacted_event_is_detected(db):
    event_id = record_personal(db)
    with db.tx() as session:
        audit.redact(session, 7)
    assert verify(db).ok
    with db.tx() as session:   # the digest of another name swapped in for the redacted one
        event = session.get(AuditEvent, event_id)
        requester = event.data["data"]["requester"]
        other = audit._keyed(event.data["_salt"], "requester", "Mehmet Demir")
        event.data = {**event.data, "data": {**event.data["data"], "requester": {"$redacted": other}}}
    result = verify(db)
    assert not result.ok and result.event_id == event_id and "edited" in result.reason
    with db.tx() as session:   # put back, then forge the actor's digest instead
        event = session.get(AuditEvent, event_id)
        event.data = {**event.data, "data": {**event.data["data"], "requester": requester}}
    assert verify(db).ok
    with db.tx() as session:
        event = session.get(AuditEvent, event_id)
        event.data = {**event.data, "_actor_digest": audit._keyed(event.data["_salt"], "actor", "requester:x@y")}
    assert not verify(db).ok


def test_events_recorded_before_redactable_hashing_verify_and_stay(db):
    """An event without a salt (the old scheme) keeps its hash over the clear values; redact leaves it."""
    with db.tx() as session:
        head = AuditChain(name=CHAIN, seq=1, head_hash="")
        event = AuditEvent(chain=CHAIN, seq=1, instance_id=7, actor="requester:ayse@example.edu.tr",
                           action="instance.started", data={"data": {"requester": "Ayşe Yılmaz"}},
                           created_at=audit.utcnow(), prev_hash=audit.GENESIS)
        event.hash = head.head_hash = audit._digest(event)
        session.add_all([head, event])
    assert verify(db).ok
    with db.tx() as session:
        assert audit.redact(session, 7) == 0
    assert chain_rows(db, CHAIN)[0].data == {"data": {"requester": "Ayşe Yılmaz"}}
    assert verify(db).ok


# What json.loads makes of "a\ud800b" (valid JSON): a str no UTF-8 encoder, nor PostgreSQL, takes.
LONE_SURROGATE = json.loads('"a\\ud800b"')


def test_the_audit_trail_keeps_text_it_cannot_store_as_a_replacement_and_still_verifies(db):
    with db.tx() as session:
        event = audit.record(session, "test.odd_text", actor="ayse",
                             data={"subject": LONE_SURROGATE, "note": "a\x00b", LONE_SURROGATE: ["\x00"]})
        event_id = event.id
    with db.tx() as session:
        assert session.get(AuditEvent, event_id).data == {"subject": "a\ufffdb", "note": "a\ufffdb",
                                                          "a\ufffdb": ["\ufffd"]}
        assert audit.verify(session).ok
    assert audit.to_json_value({"kept": "a\\u0000 as typed, tab\t"}) == {"kept": "a\\u0000 as typed, tab\t"}
