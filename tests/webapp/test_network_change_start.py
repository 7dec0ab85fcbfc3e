"""A network engineer plans a configuration change (SEK 08-04-29) on the staff start page:
a device number the asset registry does not know and a window in the past are refused next
to their fields, with everything typed kept; fixed, the change goes to its approval."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from engine import assets
from engine.models import HumanTask, ProcessInstance
from engine.workdays import ZONE

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
START = "/processes/network_config_update/start"


def test_a_change_names_registered_devices_and_a_window_ahead(client, auth, make_user, db, deploy, pinned_clock):
    pinned_clock(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE))
    make_user("murat", groups=("network",))
    deploy(*sorted(BPMN.glob("network_config_update.*")), *sorted(BPMN.glob("network_change.*")))
    with db.tx() as session:
        assets.register(session, {"inventory_no": "BIDB-2024-0117", "kind": "network_device", "status": "in_use"},
                        actor="test")
    auth.login("murat")
    form = client.get(START).get_data(as_text=True)
    assert 'name="devices"' in form and 'name="window_start"' in form and 'type="datetime-local"' in form

    typed = {
        "requester": "Murat Çelik", "requester_email": "murat.celik@example.edu.tr", "subject": "VLAN 120",
        "devices": "BIDB-2024-0117\nBIDB-2099-0001", "change_category": "vlan",
        "change_description": "Yeni araştırma laboratuvarı için VLAN 120.", "planned_commands": "vlan 120",
        "risk": "low", "impact": "device", "expected_outage": "0",
        "window_start": "2026-11-01T22:00", "window_end": "2026-11-01T23:00",
        "rollback_plan": "Yedekten geri yükleme (5 dakika).",
    }
    token = auth.csrf(START)
    refused = client.post(START, data={"csrf_token": token, **typed})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "BIDB-2099-0001: Bu demirbaş numarası kayıtlı değil." in page
    assert "Bakım penceresi ileri bir zamanda başlamalıdır." in page
    assert 'value="Murat Çelik"' in page
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None

    fixed = {**typed, "devices": "BIDB-2024-0117", "window_start": "2026-11-05T22:00",
             "window_end": "2026-11-05T23:30"}
    started = client.post(START, data={"csrf_token": token, **fixed})
    assert started.status_code == 302
    with db.tx() as session:
        task = session.scalar(select(HumanTask))
        assert (task.bpmn_id, task.group_name) == ("approve_change", "network")
