"""Admins keep the webhooks: add one (its secret shown once), see clear errors next to a
bad mapping, rotate the secret, deactivate, and read the recent deliveries; others may not.
And ``sek hooks add`` / ``sek hooks list`` on the command line."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import hooks
from engine.models import AuditEvent, Hook

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'<code class="user-select-all">([0-9a-f]{64})</code>')
DATA = Path(__file__).resolve().parents[1] / "data" / "hooks"
SEK = Path(sys.executable).parent / "sek"
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
MAPPING = {"host": "/host", "service": "/service", "severity": "/severity", "summary": "/summary"}


@pytest.fixture
def admin(client, auth, make_user):
    make_user("root", groups=(), roles=("admin",))
    auth.login("root")
    return client


def _token(client) -> str:
    return CSRF.search(client.get("/admin/hooks").get_data(as_text=True)).group(1)


def _add(client, **form):
    values = {"name": "izleme", "message": "monitoring_alert", "mode": "start", "correlation_pointer": "",
              "mapping": json.dumps(MAPPING), **form}
    return client.post("/admin/hooks", data={**values, "csrf_token": _token(client)})


def test_admin_adds_a_hook_and_sees_its_secret_once(admin, client, db, deploy, pinned_clock):
    pinned_clock(NOW)
    page = admin.get("/admin/hooks").get_data(as_text=True)
    assert 'href="/admin/hooks"' in page and "Web kancaları" in page and "Henüz web kancası yok." in page
    response = _add(admin)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    secret = SECRET.search(text).group(1)
    assert "izleme kancasının gizli anahtarı" in text and "/api/v1/hooks/izleme" in text
    assert secret not in admin.get("/admin/hooks").get_data(as_text=True)   # only this once
    with db.tx() as session:
        hook = session.scalar(select(Hook))
        assert (hook.name, hook.message, hook.mode, hook.mapping, hook.created_by) == (
            "izleme", "monitoring_alert", "start", MAPPING, "root")
        assert secret not in json.dumps([hook.salt, hook.mapping])            # never stored
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "hook.created"))
    # the secret works: a signed delivery starts the fixture process, listed as a delivery
    deploy(DATA / "fault_report.bpmn", DATA / "fault_report.alert.schema.json")
    raw = json.dumps({"host": "sw1", "service": "ping", "severity": "warning", "summary": "slow"}).encode()
    pinned_clock(NOW)
    stamp = str(int(NOW.timestamp()))
    answer = client.post("/api/v1/hooks/izleme", data=raw, headers={
        "X-SEK-Timestamp": stamp, "X-SEK-Signature": hooks.sign(secret, stamp, raw), "Idempotency-Key": "a1"})
    assert answer.status_code == 201
    listing = admin.get("/admin/hooks").get_data(as_text=True)
    assert 'data-outcome="started"' in listing and "kabul edildi: talep açıldı" in listing


def test_a_bad_mapping_is_named_next_to_the_field(admin, db):
    response = _add(admin, mapping="{not json")
    assert response.status_code == 422
    assert 'data-testid="error-mapping"' in response.get_data(as_text=True)
    assert "Bu geçerli bir JSON değil." in response.get_data(as_text=True)
    response = _add(admin, name="Bad Name", mapping=json.dumps({"host": "host"}), mode="correlate")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "host: JSON işaretçisi / ile başlar" in text
    assert 'data-testid="error-name"' in text and 'data-testid="error-correlation_pointer"' in text
    assert 'value="Bad Name"' in text                                      # what was typed stays
    with db.tx() as session:
        assert session.scalars(select(Hook)).all() == []


def test_admin_rotates_and_deactivates(admin, db):
    first = SECRET.search(_add(admin).get_data(as_text=True)).group(1)
    with db.tx() as session:
        hook_id = session.scalar(select(Hook.id))
    rotated = admin.post(f"/admin/hooks/{hook_id}/rotate", data={"csrf_token": _token(admin)})
    second = SECRET.search(rotated.get_data(as_text=True)).group(1)
    assert second != first
    response = admin.post(f"/admin/hooks/{hook_id}/active", data={"active": "0", "csrf_token": _token(admin)},
                          follow_redirects=True)
    assert "izleme kancası devre dışı" in response.get_data(as_text=True)
    assert 'data-hook="izleme" data-active="false"' in response.get_data(as_text=True)


def test_others_may_not_and_csrf_is_required(client, auth, make_user, admin):
    assert admin.post("/admin/hooks", data={"name": "x"}).status_code == 400       # no CSRF token
    auth.logout()
    make_user("ayse")
    auth.login("ayse")
    assert client.get("/admin/hooks").status_code == 403


def test_the_cli_adds_and_lists_hooks(db, tmp_path):
    import os
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, SECRET_KEY="cli-secret", PYTHONUTF8="1")

    def sek(*args):
        proc = subprocess.run([str(SEK), *args], env=env, capture_output=True, encoding="utf-8", timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    code, out, _err = sek("hooks", "add", "izleme", "--message", "monitoring_alert", "--map", json.dumps(MAPPING))
    assert code == 0 and re.fullmatch(r"[0-9a-f]{64}\n", out)
    with db.tx() as session:
        assert hooks.secret_of(hooks.hook_by_name(session, "izleme"), "cli-secret") == out.strip()
    code, out, _err = sek("hooks", "add", "vendor", "--message", "vendor_ack", "--correlate", "/device",
                          "--map", '{"ticket": "/ticket"}')
    assert code == 0
    code, out, err = sek("hooks", "add", "broken", "--message", "m", "--map", '{"host": "host"}')
    assert code == 1 and "mapping" in err and out == ""
    code, out, _err = sek("hooks", "list")
    assert code == 0
    lines = [line.split("\t") for line in out.splitlines()]
    assert [line[:4] for line in lines] == [["izleme", "monitoring_alert", "start", "active"],
                                            ["vendor", "vendor_ack", "correlate /device", "active"]]
