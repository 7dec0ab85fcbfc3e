"""The asset registry's pages and API: staff search and read an asset's history with links
to the requests that changed it; the equipment groups register and change assets (CSRF,
errors next to fields); an inventory-number field refuses an unknown number on the staff
start page, the task page and the API, and offers staff a registry search."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import pytest
from flask import render_template_string
from sqlalchemy import select

from engine import assets
from engine.jobs import WorkerSettings
from engine.models import Asset, AssetChange, HumanTask, ProcessInstance
from engine.workdays import ZONE
from engine.worker import run_due_jobs
from webapp.inbox.forms import build_fields

DATA = Path(__file__).resolve().parents[1] / "data" / "assets"
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
CORE = {"inventory_no": "255.01.02-2024-0017", "kind": "network_device", "model": "Cisco C9500-24Y4C",
        "serial": "FDO2533Q1AB", "site": "Merkez Kampüs", "room": "Bilgi İşlem B-012", "rack": "R3",
        "rack_unit": 38, "status": "in_use", "owner_unit": "Ağ Hizmetleri"}
UPS = {"inventory_no": "DM/2019/114", "kind": "ups", "model": "APC Smart-UPS SRT 10kVA", "site": "Merkez Kampüs",
       "room": "Sistem Odası", "status": "in_repair"}


@pytest.fixture
def registry(app, db, make_user, pinned_clock):
    pinned_clock(MONDAY)   # after the app, which sets the clock from its configuration
    make_user("ali", groups=("network",))
    make_user("destek", groups=("helpdesk",))
    with db.tx() as session:
        for values in (CORE, UPS):
            assets.register(session, values, actor="tkyetkili")
    return db


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _field_error(page: str, name: str) -> str | None:
    match = re.search(rf'data-testid="error-{name}">(.*?)</div>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else None


def test_staff_search_the_registry_in_turkish_and_read_an_asset(client, auth, registry):
    assert client.get("/assets").status_code == 302   # signed-in staff only
    auth.login("destek")
    page = client.get("/assets").get_data(as_text=True)
    assert 'data-testid="nav-assets"' in page
    text = _text(page)
    assert "Demirbaş kaydı" in text and "2 demirbaş" in text
    assert "Ağ cihazı" in text and "Kullanımda" in text and "Onarımda" in text and "network_device" not in text
    assert "Bilgi İşlem B-012 / kabin R3, U38" in text and "2.11.2026" in text
    assert 'data-testid="asset-new"' not in page   # the help desk does not keep the registry

    found = _text(client.get("/assets?q=smart-ups").get_data(as_text=True))
    assert "DM/2019/114" in found and "255.01.02-2024-0017" not in found
    assert "Demirbaş bulunamadı." in _text(client.get("/assets?kind=generator").get_data(as_text=True))
    refused = client.get("/assets?status=lost")
    assert refused.status_code == 422 and "Seçeneklerden birini seçin." in _text(refused.get_data(as_text=True))

    page = client.get("/assets/DM/2019/114")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "Kesintisiz güç kaynağı (UPS)" in text and "Merkez Kampüs / Sistem Odası" in text and "Kaydedildi" in text
    assert client.get("/assets/DM-404").status_code == 404
    assert client.get("/assets/edit/DM/2019/114").status_code == 403
    assert client.post("/assets/new", data={"csrf_token": auth.csrf("/assets"), **CORE}).status_code == 403


def test_an_equipment_group_member_registers_and_moves_an_asset_with_csrf_and_field_errors(client, auth, registry):
    db = registry
    auth.login("ali")
    assert 'data-testid="asset-new"' in client.get("/assets").get_data(as_text=True)
    assert client.post("/assets/new", data={**UPS, "inventory_no": "DM-1"}).status_code == 400   # no CSRF token
    refused = client.post("/assets/new", data={"csrf_token": auth.csrf("/assets/new"), "inventory_no": "DM/2019/114",
                                               "kind": "", "rack_unit": "4", "model": "x"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert _field_error(page, "inventory_no") == "Bu demirbaş numarası zaten kayıtlı."
    assert _field_error(page, "kind") == "Bu alan zorunludur."
    assert _field_error(page, "rack_unit") == "Kabin yuvası için kabini de yazın."

    created = client.post("/assets/new", data={
        "csrf_token": auth.csrf("/assets/new"), "inventory_no": "255.01.02-2025-0003", "kind": "server",
        "model": "Dell PowerEdge R750", "serial": "7XK2LM3", "site": "Merkez Kampüs", "room": "Sistem Odası",
        "rack": "S2", "rack_unit": "20", "status": "in_use", "owner_unit": "Sistem Destek", "note": ""})
    assert created.status_code == 302 and created.headers["Location"].endswith("/assets/255.01.02-2025-0003")

    edit = "/assets/edit/255.01.02-2025-0003"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="Dell PowerEdge R750"' in form
    bad = client.post(edit, data={"csrf_token": auth.csrf(edit), "kind": "server", "status": "disposed",
                                  "rack": "S2", "rack_unit": "abc", "model": "Dell PowerEdge R750"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert _field_error(page, "rack_unit") == "Bir tam sayı girin."
    assert _field_error(page, "status") == "Durumu “kullanımda” olan bir demirbaş “hurdaya ayrıldı” durumuna geçemez."
    moved = client.post(edit, data={
        "csrf_token": auth.csrf(edit), "kind": "server", "model": "Dell PowerEdge R750", "serial": "7XK2LM3",
        "site": "Merkez Kampüs", "room": "Sistem Odası", "rack": "S4", "rack_unit": "12", "status": "in_use",
        "owner_unit": "Sistem Destek", "note": "", "change_note": "Kabin S2 boşaltıldı"})
    assert moved.status_code == 302
    text = _text(client.get("/assets/255.01.02-2025-0003").get_data(as_text=True))
    assert "Taşındı" in text and "Kabin: S2 → S4" in text and "Kabin yuvası (U): 20 → 12" in text
    assert "Kabin S2 boşaltıldı" in text and "ali" in text
    with db.tx() as session:
        asset = session.scalar(select(Asset).where(Asset.inventory_no == "255.01.02-2025-0003"))
        assert (asset.rack, asset.rack_unit) == ("S4", 12)
        assert [c.action for c in assets.history(session, asset)] == ["registered", "moved"]


def test_the_api_searches_and_reads_the_registry_for_staff_only(client, auth, registry):
    assert client.get("/api/v1/assets").status_code == 401
    auth.login("destek")
    body = client.get("/api/v1/assets?q=dm/2019").get_json()
    assert body["total"] == 1 and body["results"][0]["kind_title"] == "Kesintisiz güç kaynağı (UPS)"
    body = client.get("/api/v1/assets?kind=network_device,server&pickable=true").get_json()
    assert [a["inventory_no"] for a in body["results"]] == ["255.01.02-2024-0017"]
    refused = client.get("/api/v1/assets?kind=toaster&per_page=1000")
    assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {"kind", "per_page"}
    one = client.get("/api/v1/assets/255.01.02-2024-0017").get_json()
    assert one["rack_unit"] == 38 and [c["action"] for c in one["history"]] == ["registered"]
    assert client.get("/api/v1/assets/DM-404").status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/assets" in paths and "/api/v1/assets/{inventory_no}" in paths


def test_a_field_offers_staff_a_registry_search_and_anonymous_a_plain_input(app, registry):
    fields = build_fields({"type": "object", "properties": {"device": {"type": "string", "title": "Cihaz"}}},
                          {"device": {"ui:widget": "asset", "ui:options": {"kinds": ["network_device", "ups"]}}})
    assert (fields[0].kind, fields[0].asset_kinds) == ("asset", ["network_device", "ups"])
    with app.test_request_context("/talep/x"):
        page = render_template_string('{% include "_field.html" %}', f=fields[0], disabled=False)
    assert "data-asset-search" not in page and "/api/v1/assets" not in page and 'name="device"' in page


@pytest.fixture
def moving(registry, deploy):
    deploy(*sorted(DATA.glob("asset_move*")))
    return registry


def test_the_api_start_and_the_task_page_refuse_unknown_numbers_next_to_the_field(client, auth, moving):
    db = moving
    auth.login("ali")
    token = auth.csrf("/assets")
    refused = client.post("/api/v1/processes/asset_move/instances", headers={"X-CSRFToken": token}, json={
        "data": {"device": "DM/2019/114", "room": "B-014", "spare_no": "DM-YEDEK-01"}})
    assert refused.status_code == 422
    # the API speaks the engine's English, as for every refusal
    assert refused.get_json()["error"]["fields"]["device"] == ["this asset is a ups, not one of network_device"]
    started = client.post("/api/v1/processes/asset_move/instances", headers={"X-CSRFToken": token}, json={
        "data": {"device": "255.01.02-2024-0017", "room": "Bilgi İşlem B-014", "spare_no": "DM-YEDEK-01"}})
    assert started.status_code == 201, started.get_json()
    assert run_due_jobs(db.factory, FAST) == 2
    with db.tx() as session:
        instance = session.scalar(select(ProcessInstance))
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.bpmn_id == "check"))
        assert session.scalar(select(AssetChange.instance_id).where(AssetChange.action == "moved")) == instance.id

    # the asset's page links the change to the request that made it
    text = client.get("/assets/255.01.02-2024-0017").get_data(as_text=True)
    assert f'href="/instances/{instance.id}"' in text and f"talep {instance.tracking_code}" in _text(text)
    assert "sistem (bir süreç adımı)" in _text(text) and "Bilgi İşlem B-012 → Bilgi İşlem B-014" in _text(text)
    # and the request's history names the assets its steps changed
    request_page = _text(client.get(f"/instances/{instance.id}").get_data(as_text=True))
    assert "Demirbaş kaydedildi: DM-YEDEK-01" in request_page
    assert "Demirbaş değiştirildi: 255.01.02-2024-0017" in request_page

    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "data-asset-search" in page and "asset_field.js" in page and 'data-api="/api/v1/assets"' in page
    token = auth.csrf(f"/tasks/{task_id}")
    bad = client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, "uplink": "DM-404", "remark": "x" * 301})
    assert bad.status_code == 422   # every refusal at once
    assert _field_error(bad.get_data(as_text=True), "uplink") == "Bu demirbaş numarası kayıtlı değil."
    assert _field_error(bad.get_data(as_text=True), "remark") == "En çok 300 karakter girin."
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"uplink": "DM-404"}},
                          headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and "uplink" in refused.get_json()["error"]["fields"]
    done = client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, "uplink": "dm-yedek-01"})
    assert done.status_code == 302
