"""``sek demo --year 2023`` and ``sek retention apply`` as an operator runs them: one line each,
exit codes 0/1/2 (DESIGN.md's CLI contract)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from engine.models import RequestContact

SEK = Path(sys.executable).parent / "sek"


def _sek(db, tmp_path, *args) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1", DATABASE_URL=db.url)
    proc = subprocess.run([str(SEK), *args], env=env, capture_output=True, encoding="utf-8", timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def test_demo_year_then_retention_from_the_command_line(db, tmp_path):
    code, out, _ = _sek(db, tmp_path, "demo", "--year", "2023")
    assert code == 0
    assert out.splitlines()[-1] == "demo year 2023: 3481 requests loaded, 3464 resolved, 17 open"

    code, out, err = _sek(db, tmp_path, "retention", "apply", "--years", "1", "--dry-run")
    assert (code, out, err) == (0, "3464 request(s) would be anonymized (6928 message(s), 0 file(s), 0 mail(s))\n", "")
    with db.tx() as session:
        assert not session.scalar(select(func.count()).select_from(RequestContact)
                                  .where(RequestContact.name == "Anonim"))
    code, out, _ = _sek(db, tmp_path, "retention", "apply", "--years", "1")
    assert (code, out) == (0, "3464 request(s) anonymized (6928 message(s), 0 file(s), 0 mail(s))\n")
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(RequestContact)
                              .where(RequestContact.name == "Anonim")) == 3464


def test_retention_refuses_bad_arguments(db, tmp_path):
    code, out, err = _sek(db, tmp_path, "retention", "apply", "--years", "0")
    assert (code, out, err) == (1, "", "error: --years must be at least 1\n")
    code, _, err = _sek(db, tmp_path, "retention", "apply")
    assert code == 2 and "--years" in err
    code, _, err = _sek(db, tmp_path, "demo", "--year", "1999")
    assert code == 2 and "invalid choice" in err
