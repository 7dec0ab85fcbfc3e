"""The README's webhook example runs as written: its shell block, in bash, against a real
``sek run`` on the embedded default (a fresh data folder), with the catalog deployed."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine.models import HookDelivery, ProcessInstance

ROOT = Path(__file__).resolve().parents[2]
SEK = Path(sys.executable).parent / "sek"
BLOCK = re.compile(r"### Webhooks.*?```sh\n(.*?)```", re.S)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """``sek run`` on a free port with the catalog deployed; the environment and the port."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SEK_DATA_DIR", "SEK_CLOCK_SHIFT", "SEK_CLOCK_AT") and not k.startswith("SMTP_")}
    env.update(SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1", SECRET_KEY="readme-webhook-secret",
               PATH=f"{SEK.parent}:{env.get('PATH', '')}")
    for command in (["db", "upgrade"], ["deploy", "bpmn"]):
        proc = subprocess.run([str(SEK), *command], cwd=ROOT, env=env, capture_output=True, encoding="utf-8",
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
    port = _free_port()
    server = subprocess.Popen([str(SEK), "run", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "sek run did not answer"
                time.sleep(0.2)
        yield env, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_readme_webhook_example_starts_a_fault_request(served, tmp_path):
    env, port = served
    block = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8")).group(1)
    block = block.replace("http://127.0.0.1:5000", f"http://127.0.0.1:{port}")
    send = next(line for line in block.splitlines() if line.startswith("curl "))
    # The block as written, then its delivery once more: the same idempotency key is a replay.
    script = f"{block}\n" + send.replace("curl -sS", "curl -sS -o /dev/null -w '\\n%{http_code}'")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, replay = [line for line in proc.stdout.splitlines() if line.strip()]
    [started] = json.loads(first)["instances"]
    assert replay == "409"

    engine = create_engine(f"sqlite:///{tmp_path / 'sek.db'}")
    with Session(engine) as session:
        instance = session.get(ProcessInstance, started["id"])
        assert (instance.process_key, instance.tracking_code) == ("infrastructure_maintenance",
                                                                   started["tracking_code"])
        assert instance.status in ("running", "waiting")
        outcomes = [d.outcome for d in session.scalars(select(HookDelivery).order_by(HookDelivery.id))]
    engine.dispose()
    assert outcomes == ["started", "replay"]
