"""``sek audit verify`` and ``sek audit export``: the same verdict as the audit pages,
exit 0 or 1 with one line, and exports that parse back."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from engine import audit

SEK = os.path.join(os.path.dirname(sys.executable), "sek")


@pytest.fixture
def sek(db, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1", DATABASE_URL=db.url)

    def run(*args):
        proc = subprocess.run([SEK, *args], env=env, capture_output=True, encoding="utf-8", timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return run


def _chain(db) -> list[int]:
    """Instance 5's chain of three events (and one system event)."""
    ids = []
    for step, instance_id in enumerate([5, None, 5, 5]):
        with db.tx() as session:
            event = audit.record(session, f"test.step{step}", actor="=ayse" if step == 0 else "ayse",
                                 instance_id=instance_id, data={"step": step})
            if instance_id is not None:
                ids.append(event.id)
    return ids


def _sql(db, *statements, **params):
    with db.tx() as session:
        for statement in statements:
            session.execute(text(statement), params)


@pytest.mark.parametrize(("tamper", "phrase"), [
    ("edit", "the event was edited"),
    ("delete", "an event was removed or reordered"),
    ("reorder", "previous-hash link does not match"),
])
def test_verify_says_what_the_page_says(db, sek, client, auth, make_user, tamper, phrase):
    ids = _chain(db)
    ok = sek("audit", "verify")
    assert ok.returncode == 0 and ok.stdout.strip() == "ok: 4 events, every chain intact"

    if tamper == "edit":
        _sql(db, "UPDATE audit_event SET data = '{\"step\": 9}' WHERE id = :id", id=ids[1])
    elif tamper == "delete":
        _sql(db, "DELETE FROM audit_event WHERE id = :id", id=ids[1])
    else:
        _sql(db, "UPDATE audit_event SET seq = 99 WHERE id = :a", "UPDATE audit_event SET seq = 2 WHERE id = :b",
             "UPDATE audit_event SET seq = 3 WHERE id = :a", a=ids[1], b=ids[2])

    broken = sek("audit", "verify")
    lines = broken.stderr.strip().splitlines()
    assert broken.returncode == 1 and len(lines) == 1 and phrase in lines[0] and "instance:5" in lines[0]
    alone = sek("audit", "verify", "--instance", "5")
    assert alone.returncode == 1 and alone.stderr.strip() == lines[0]
    make_user("denetci", groups=(), roles=("auditor",))
    auth.login("denetci")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert 'data-testid="verify-broken"' in page and phrase in page


def test_export_writes_each_format(db, sek, tmp_path):
    _chain(db)
    out = sek("audit", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert out.returncode == 0 and len(rows) == 4
    assert [r["actor"] for r in rows if r["action"] == "test.step0"] == ["'=ayse"]

    target = tmp_path / "log.json"
    assert sek("audit", "export", "--format", "json", "--output", str(target)).returncode == 0
    assert [e["data"]["step"] for e in json.loads(target.read_text(encoding="utf-8"))] == [1, 0, 2, 3]

    xes = ET.fromstring(sek("audit", "export", "--format", "xes", "--from", "2000-01-01").stdout)
    assert len(xes.findall("{http://www.xes-standard.org/}trace")) == 1   # the system event is no case

    bad = sek("audit", "export", "--from", "yesterday")
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "not a date" in bad.stderr
