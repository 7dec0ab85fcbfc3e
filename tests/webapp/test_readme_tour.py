"""The README's quick tour runs as written (issue 12, defect 8: its `sek start` used to
exit 1 on a route expression): every command of its shell block, in order, as real
`sek` subprocesses on the embedded default (a SQLite file in a fresh data folder), from
the repository's root as a reader would type them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance

ROOT = Path(__file__).resolve().parents[2]
SEK = Path(sys.executable).parent / "sek"
TOUR = re.compile(r"A quick tour on the embedded default.*?```sh\n(.*?)```", re.S)


def tour_commands() -> list[list[str]]:
    """The tour's commands, each split as the shell would split it."""
    block = TOUR.search((ROOT / "README.md").read_text(encoding="utf-8")).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_every_command_of_the_readme_tour_succeeds(tmp_path):
    commands = tour_commands()
    assert len(commands) >= 8 and all(c[0] == ".venv/bin/sek" for c in commands), commands
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SEK_DATA_DIR", "SEK_CLOCK_SHIFT") and not k.startswith("SMTP_")}
    env.update(SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1")

    outputs = []
    for command in commands:
        proc = subprocess.run([str(SEK), *command[1:]], cwd=ROOT, env=env, capture_output=True,
                              encoding="utf-8", timeout=180)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        outputs.append(proc.stdout)

    assert "every chain intact" in outputs[-1]
    engine = create_engine(f"sqlite:///{tmp_path / 'sek.db'}")
    with Session(engine) as session:
        [instance] = session.scalars(select(ProcessInstance)).all()
        assert (instance.process_key, instance.status) == ("user_support", "waiting")   # answered; may reopen
        tasks = [(t.id, t.group_name, t.state, t.completed_by) for t in
                 session.scalars(select(HumanTask).order_by(HumanTask.id))]
    engine.dispose()
    assert tasks == [(1, "helpdesk", "cancelled", None), (2, "network", "completed", "mehmet")]
