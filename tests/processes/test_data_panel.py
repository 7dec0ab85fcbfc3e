"""The data panel: the keys a process declares, by their titles, values as people read them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from processes import data_panel

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
START = {"type": "object", "properties": {
    "category": {"type": "string", "title": "Kategori", "enum": ["vpn", "mail"], "enumNames": ["VPN", "E-posta"]},
    "start_date": {"type": "string", "format": "date", "title": "Başlangıç"},
    "window": {"type": "string", "format": "duration", "title": "Süre"},
    "systems": {"type": "array", "title": "Sistemler",
                "items": {"type": "string", "oneOf": [{"const": "bys", "title": "BYS"}, {"const": "ldap", "title": "LDAP"}]}},
    "subject": {"type": "string", "title": "Konu"},
}}
TASK = {"type": "object", "properties": {
    "registered": {"type": "boolean", "title": "Kaydedildi mi?",
                   "oneOf": [{"const": True, "title": "Evet, kaydedildi"}, {"const": False, "title": "Hayır"}]},
    "opened_at": {"type": "string", "format": "date-time", "title": "Açıldığı an"},
    "effort": {"type": "number", "title": "Efor"},
}}


def test_declared_keys_by_title_values_by_label_internal_keys_never():
    data = {"category": "vpn", "start_date": "2026-12-07", "window": "P3D", "systems": ["ldap", "bys"],
            "subject": "VPN", "registered": True, "opened_at": "2026-12-07T11:07:34.289772+03:00", "effort": 2.5,
            "due_at": "2026-12-07T11:07:34.289772+03:00", "lead_email": "ag-lider@example.edu.tr",
            "previous_team": "systems", "recategorization": {"by": "destek", "category": "VPN"}}
    rows = {r.key: r for r in data_panel.rows("vpn_request", [START, TASK], data, "tr")}
    assert list(rows) == ["category", "start_date", "window", "systems", "registered", "opened_at", "effort"]
    assert (rows["category"].label, rows["category"].value) == ("Kategori", "VPN")
    assert rows["systems"].value == ["LDAP", "BYS"] and rows["registered"].value == "Evet, kaydedildi"
    assert rows["start_date"].value == date(2026, 12, 7) and rows["window"].value == timedelta(days=3)
    assert rows["opened_at"].value == datetime(2026, 12, 7, 8, 7, 34, 289772, tzinfo=UTC)
    assert rows["effort"].kind == "number"


def test_a_choice_between_branches_reads_as_its_branch_title_and_scripts_keys_as_declared():
    resolve = json.loads((BPMN / "user_support.resolve.schema.json").read_text(encoding="utf-8"))
    [row] = data_panel.rows("user_support", [resolve], {"action": "ask", "question": ""}, "tr")
    assert (row.label, row.value) == ("İşlem", "Talep sahibine soru sor")
    [row] = data_panel.rows("message_routing", [], {"unit_answer": "Ders saatleri ekte."}, "en")
    assert (row.label, row.value) == ("The unit's answer", "Ders saatleri ekte.")
    [row] = data_panel.rows("yurtnet_registration", [], {"mac_check": {"status": "ok", "mac": "A4:5E"}}, "tr")
    assert (row.label, row.value) == ("Denetlenmiş MAC adresi", "A4:5E")
