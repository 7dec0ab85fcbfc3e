"""The asset registry (engine/assets.py): register, move, change status, search, history;
every change recorded with who, when and the request, and audited; inventory-number
fields checked on the start and task doors; the service operators through the worker."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import assets, audit, runtime, tasks, users
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, ProcessInstance
from engine.workdays import ZONE
from engine.worker import run_due_jobs

DATA = Path(__file__).resolve().parent.parent / "data" / "assets"
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
SWITCH = {"inventory_no": "255.01.02-2024-0017", "kind": "network_device", "model": "Cisco C9300-48P",
          "serial": "FOC2417X0AB", "site": "Merkez Kampüs", "room": "Bilgi İşlem B-012", "rack": "R3",
          "rack_unit": 12, "status": "in_use", "owner_unit": "Ağ Hizmetleri"}


@pytest.fixture
def clocked(db, pinned_clock):
    pinned_clock(MONDAY)
    return db


def _register(db, values=None, actor="tkyetkili"):
    with db.tx() as session:
        return assets.register(session, values or SWITCH, actor=actor).inventory_no


def _problems(exc) -> dict[str, str]:
    return {p.location: p.code for p in exc.value.problems}


def test_register_then_find_in_any_case_with_its_history_and_audit(clocked):
    db = clocked
    assert _register(db, {**SWITCH, "inventory_no": " 255.01.02-2024-0017 "}) == "255.01.02-2024-0017"
    with db.tx() as session:
        asset = assets.find(session, "255.01.02-2024-0017")
        assert (asset.model, asset.rack, asset.rack_unit, asset.status) == ("Cisco C9300-48P", "R3", 12, "in_use")
        [change] = assets.history(session, asset)
        assert (change.action, change.actor, change.instance_id, change.before) == ("registered", "tkyetkili", None, {})
        assert change.after["room"] == "Bilgi İşlem B-012" and change.at.astimezone(ZONE).date() == MONDAY.date()
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "asset.registered"))
        assert (event.chain, event.actor, event.data["inventory_no"]) == ("system", "tkyetkili", "255.01.02-2024-0017")
        assert audit.verify(session).ok
        assert assets.find(session, "dm-0001") is None
        with pytest.raises(NotFoundError):
            assets.get(session, "DM-0001")


def test_register_refuses_each_bad_field_by_name(clocked):
    db = clocked
    _register(db)
    with db.tx() as session, pytest.raises(ValidationError) as exc:
        assets.register(session, {"inventory_no": "255.01.02-2024-0017", "kind": "toaster", "status": "lost",
                                  "model": "x" * 201, "rack_unit": 99, "colour": "red"}, actor="tkyetkili")
    assert _problems(exc) == {"inventory_no": assets.TAKEN, "kind": "enum", "status": "enum",
                              "model": "maxLength", "rack_unit": assets.RANGE, "colour": assets.UNKNOWN_FIELD}
    with db.tx() as session, pytest.raises(ValidationError) as exc:
        assets.register(session, {"inventory_no": "no spaces!", "rack_unit": 4}, actor="tkyetkili")
    assert _problems(exc) == {"inventory_no": assets.INVALID, "kind": "required", "rack_unit": assets.NO_RACK}
    with db.tx() as session, pytest.raises(ValidationError) as exc:
        assets.register(session, {"inventory_no": "DM-2", "kind": "server", "status": "disposed"}, actor="a")
    assert _problems(exc) == {"status": assets.TRANSITION}


def test_moving_and_status_changes_record_before_and_after_and_disposed_is_final(clocked, pinned_clock):
    db = clocked
    number = _register(db)
    pinned_clock(datetime(2026, 11, 3, 14, 30, tzinfo=ZONE))
    with db.tx() as session:
        assets.update(session, number, {"room": "Bilgi İşlem B-014", "rack": "R1", "rack_unit": 30,
                                        "model": "Cisco C9300-48P"}, actor="ali", note="Kabin düzenlemesi")
        assets.update(session, number, {"status": "in_repair"}, actor="ali", note="Fan arızası")
        assets.update(session, number, {"room": "Bilgi İşlem B-014"}, actor="ali")   # nothing changes
    with db.tx() as session:
        asset = assets.get(session, number)
        moved, repair = assets.history(session, asset)[1:]
        assert (moved.action, moved.before, moved.after, moved.note) == (
            "moved", {"room": "Bilgi İşlem B-012", "rack": "R3", "rack_unit": 12},
            {"room": "Bilgi İşlem B-014", "rack": "R1", "rack_unit": 30}, "Kabin düzenlemesi")
        assert (repair.action, repair.before, repair.after) == ("status", {"status": "in_use"}, {"status": "in_repair"})
        assert len(assets.history(session, asset)) == 3
        with pytest.raises(ValidationError) as exc:
            assets.update(session, number, {"status": "disposed", "inventory_no": "DM-9"}, actor="ali")
        assert _problems(exc) == {"status": assets.TRANSITION, "inventory_no": assets.INVALID}
        assets.update(session, number, {"status": "retired"}, actor="ali")
        assets.update(session, number, {"status": "disposed"}, actor="ali", note="Hurdaya ayrıldı")
    with db.tx() as session, pytest.raises(ConflictError):
        assets.update(session, number, {"note": "tekrar"}, actor="ali")
    with db.tx() as session:
        assert assets.get(session, number).status == "disposed"
        assert session.query(AuditEvent).filter(AuditEvent.action == "asset.updated").count() == 4
        assert audit.verify(session).ok


def test_search_by_number_serial_model_and_place_with_filters_and_pages(clocked):
    db = clocked
    _register(db)
    _register(db, {"inventory_no": "DM-UPS-01", "kind": "ups", "model": "APC Smart-UPS SRT 10kVA",
                   "site": "Merkez Kampüs", "room": "Sistem Odası", "status": "in_repair"})
    _register(db, {"inventory_no": "DM-PC-1001", "kind": "computer", "model": "Dell OptiPlex 7010",
                   "site": "Mühendislik Fakültesi", "room": "Lab 3", "status": "in_use"})
    with db.tx() as session:
        def numbers(*args, **kwargs):
            return [a.inventory_no for a in assets.search(session, *args, **kwargs).items]
        assert numbers("foc2417") == ["255.01.02-2024-0017"]
        assert numbers("smart-ups") == ["DM-UPS-01"]
        assert numbers("lab 3") == ["DM-PC-1001"]
        assert numbers("dm-") == ["DM-PC-1001", "DM-UPS-01"]
        assert numbers("_") == [] and numbers("%") == []
        assert numbers(kind="ups") == ["DM-UPS-01"]
        assert numbers(status="in_use", site="Merkez Kampüs") == ["255.01.02-2024-0017"]
        page = assets.search(session, per_page=2, page=2)
        assert (page.total, page.pages, [a.inventory_no for a in page.items]) == (3, 2, ["DM-UPS-01"])
        assert assets.search(session, per_page=10_000).per_page == assets.PER_PAGE_MAX
        assert assets.sites(session) == ["Merkez Kampüs", "Mühendislik Fakültesi"]


def test_form_problems_name_the_field_of_an_unknown_disposed_or_wrong_kind_asset(clocked):
    db = clocked
    _register(db)
    _register(db, {"inventory_no": "DM-UPS-01", "kind": "ups"})
    _register(db, {"inventory_no": "DM-OLD", "kind": "network_device", "status": "retired"})
    with db.tx() as session:
        assets.update(session, "DM-OLD", {"status": "disposed"}, actor="ali")
    ui = {"device": {"ui:widget": "asset", "ui:options": {"kinds": ["network_device"]}}, "other": {}}
    with db.tx() as session:
        def codes(value):
            return [(p.location, p.code) for p in assets.form_problems(session, ui, {"device": value})]
        assert codes("255.01.02-2024-0017") == []
        assert codes("") == []
        assert codes("DM-404") == [("device", assets.UNKNOWN)]
        assert codes("DM-OLD") == [("device", assets.UNKNOWN)]
        assert codes("dm-ups-01") == [("device", assets.WRONG_KIND)]


@pytest.fixture
def moving(clocked, deploy, make_user):
    deploy(*sorted(DATA.glob("asset_move*")))
    make_user("ali", groups=("network",))
    _register(clocked)
    _register(clocked, {"inventory_no": "DM-UPS-01", "kind": "ups", "status": "in_use"})
    return clocked


def test_start_refuses_an_unknown_device_and_a_wrong_kind_by_field(moving):
    db = moving
    for device, code in (("DM-404", assets.UNKNOWN), ("DM-UPS-01", assets.WRONG_KIND)):
        with db.tx() as session, pytest.raises(ValidationError) as exc:
            runtime.start_instance(session, "asset_move", data={"device": device, "room": "B-014", "spare_no": "DM-9"},
                                   actor="ali")
        assert _problems(exc) == {"device": code}
    with db.tx() as session, pytest.raises(ValidationError) as exc:   # reported with the schema's problems
        runtime.start_instance(session, "asset_move", data={"device": "DM-404"}, actor="ali")
    assert _problems(exc) == {"device": assets.UNKNOWN, "room": "required", "spare_no": "required"}
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None


def test_operators_register_and_move_under_the_request_then_the_task_door_checks_numbers(moving):
    db = moving
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "asset_move", actor="ali", data={
            "device": "255.01.02-2024-0017", "room": "Bilgi İşlem B-014", "spare_no": "dm-yedek-01"}).id
    assert run_due_jobs(db.factory, FAST) == 2
    with db.tx() as session:
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.RUNNING
        spare = assets.get(session, "DM-YEDEK-01")
        [registered] = assets.history(session, spare)
        assert (spare.kind, spare.status, registered.actor, registered.instance_id) == (
            "network_device", "in_stock", None, instance_id)
        switch = assets.get(session, "255.01.02-2024-0017")
        moved = assets.history(session, switch)[-1]
        assert (switch.room, moved.action, moved.instance_id, moved.note) == (
            "Bilgi İşlem B-014", "moved", instance_id, "Kabin düzenlemesi")
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                                      .order_by(AuditEvent.seq))]
        assert actions.count("asset.registered") == 1 and actions.count("asset.updated") == 1
        assert audit.verify_instance(session, instance_id).ok
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.bpmn_id == "check"))
        ali = users.get_user(session, "ali")
        with pytest.raises(ValidationError) as exc:
            tasks.complete_task(session, task_id, ali, {"uplink": "DM-404"})
        assert _problems(exc) == {"uplink": assets.UNKNOWN}
    with db.tx() as session:
        tasks.complete_task(session, task_id, users.get_user(session, "ali"), {"uplink": "DM-UPS-01"})
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.COMPLETED


def test_asset_update_operator_refusal_fails_the_job_not_the_registry(moving):
    db = moving
    with db.tx() as session:
        assets.update(session, "255.01.02-2024-0017", {"status": "retired"}, actor="ali")
        assets.update(session, "255.01.02-2024-0017", {"status": "disposed"}, actor="ali")
    # disposed after the start door checked it: the operator refuses, the job records why
    with db.tx() as session:
        assets.register(session, {"inventory_no": "DM-SW-2", "kind": "network_device"}, actor="ali")
        instance_id = runtime.start_instance(session, "asset_move", actor="ali", data={
            "device": "DM-SW-2", "room": "B-1", "spare_no": "DM-YEDEK-02"}).id
        assets.update(session, "DM-SW-2", {"status": "retired"}, actor="ali")
        assets.update(session, "DM-SW-2", {"status": "disposed"}, actor="ali")
    run_due_jobs(db.factory, FAST)
    with db.tx() as session:
        job = session.scalar(select(Job).where(Job.instance_id == instance_id, Job.task_uuid.is_not(None))
                             .order_by(Job.id.desc()))
        assert "disposed" in (job.last_error or "")
        assert assets.get(session, "DM-SW-2").room == ""


def test_the_demo_registers_its_assets_once(clocked):
    from processes.demo import DEMO_ASSETS, load_assets

    db = clocked
    with db.tx() as session:
        assert load_assets(session) == len(DEMO_ASSETS) == 20
    with db.tx() as session:
        assert load_assets(session) == 0
        assert {s: assets.search(session, status=s).total for s in ("in_repair", "retired")} == {"in_repair": 3,
                                                                                              "retired": 1}
        assert {a.kind for a in assets.search(session, per_page=100).items} >= {
            "network_device", "server", "ups", "generator", "cooling", "computer", "printer"}
        moved = assets.get(session, "253.02.02-2023-0004")
        assert [c.action for c in assets.history(session, moved)] == ["registered", "moved"]
