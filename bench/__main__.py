"""Quality-bar benchmarks of DESIGN.md, each a ratio against a baseline of the same run.

Run with ``make bench`` (or ``python -m bench [--quick]``). Prints a Markdown table
that goes into the README with the machine it came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from sqlalchemy import insert, select

from engine import definitions, inbox, migrate, runtime, services, tasks, users, validation
from engine.db import make_engine, make_session_factory, transaction
from engine.inbox import InboxFilter
from engine.models import (
    PRIORITIES,
    HumanTask,
    ProcessInstance,
    RequestContact,
    RequestFact,
    TaskState,
    User,
    utcnow,
)

from . import reports, sandbox, web
from . import search as search_bench
from .timing import timed

DATA = Path(__file__).parent / "data"


class Bench:
    """One fresh SQLite database in a temporary folder, with a user and the bench BPMN."""

    def __init__(self, folder: Path):
        self.engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        migrate.upgrade(self.engine)
        self.factory = make_session_factory(self.engine)
        files = validation.load_paths([str(DATA)])
        with transaction(self.factory) as session:
            definitions.deploy(session, files, known_operators=services.operator_names())
            users.add_user(session, "bench", groups=["helpdesk"])

    def start(self, key: str) -> int:
        with transaction(self.factory) as session:
            return runtime.start_instance(session, key, actor="bench").id

    def complete_open_task(self, instance_id: int) -> None:
        with transaction(self.factory) as session:
            task_id = session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY))
            tasks.complete_task(session, task_id, users.get_user(session, "bench"), {})


def bench_engine_overhead(rounds: int) -> tuple[float, float]:
    """Start + complete 3 user tasks: SEK on a SQLite file vs plain SpiffWorkflow in memory."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState as SpiffState

    files = validation.load_paths([str(DATA / "three_tasks.bpmn")])
    spec, subprocess_specs = validation.parse_specs(files, "bench_three")

    def plain():
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.do_engine_steps()
        for _ in range(3):
            task = workflow.get_next_task(state=SpiffState.READY, manual=True)
            task.data.update({})
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()

    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder))

        def persisted():
            instance_id = bench.start("bench_three")
            for _ in range(3):
                bench.complete_open_task(instance_id)

        for _ in range(3):  # warm caches on both sides
            plain()
            persisted()
        baseline = timed(plain, rounds)
        measured = timed(persisted, rounds)
        bench.engine.dispose()
    return baseline, measured


def bench_inbox(small: int, large: int, backlog: int, rounds: int) -> tuple[float, float]:
    """What the group inbox page queries, for a member of one group, as history grows: a
    page of 25 unclaimed tasks by due date, the group badges, the section tabs' counts and
    the filters' choices (``engine.inbox``, as ``GET /inbox`` calls it, one transaction
    per page view; the signed-in user is loaded once, outside the timing). Each row is
    joined to its request's summary (subject, category, priority) and requester.

    The open backlog stays ``backlog`` tasks (staff capacity does not grow with
    history); every other instance is finished with three completed tasks. Every
    instance has its summary row and requester, as portal requests do. Both databases
    are built first, then timed in alternation, so that a machine busy with something
    else slows both alike.
    """
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        runs = []
        for folder, count in ((first, small), (second, large)):
            bench = Bench(Path(folder))
            _fill_history(bench, count, backlog)
            with transaction(bench.factory) as session:
                user = users.get_user(session, "bench")
                assert user.group_slugs == {"helpdesk"}  # loaded now, kept after the commit
            for _ in range(5):
                _inbox_queries(bench, user)
            runs.append((bench, user))
        samples = ([], [])
        for _ in range(rounds):
            for taken, (bench, user) in zip(samples, runs, strict=True):
                taken.append(timed(lambda b=bench, u=user: _inbox_queries(b, u), 1))
        for bench, _user in runs:
            bench.engine.dispose()
    return statistics.median(samples[0]), statistics.median(samples[1])


GROUP_SECTION = InboxFilter(section="group", sort="due", per_page=25)


def _inbox_queries(bench: Bench, user: User) -> None:
    with transaction(bench.factory) as session:
        summary = inbox.overview(session, user)
        page = inbox.inbox_page(session, user, GROUP_SECTION)
    # A broken query must not look fast: a full page, consistent counts, one badge row.
    assert len(page.items) == 25 and page.total == summary.sections["group"] > 25
    assert [row["group"] for row in summary.groups] == ["helpdesk"]
    assert summary.groups[0]["ready"] == page.total
    assert summary.processes == ["bench_three"] and len(summary.categories) == 7
    assert all(row.subject and row.requester for row in page.items)


def _fill_history(bench: Bench, count: int, backlog: int) -> None:
    groups = ["helpdesk", "network", "systems", "software", "callcenter"]
    now = utcnow()
    with transaction(bench.factory) as session:
        definition_id = definitions.get_definition(session, "bench_three").id
        batch = 5000
        for offset in range(0, count, batch):
            ids = range(offset + 1, min(offset + batch, count) + 1)
            session.execute(insert(ProcessInstance), [{
                "id": i, "definition_id": definition_id, "process_key": "bench_three",
                "status": "running" if i > count - backlog else "completed",
                "tracking_code": f"B{i:09d}", "state": {}, "revision": 1, "created_at": now,
                "updated_at": now,
            } for i in ids])
            rows = []
            for i in ids:
                is_open = i > count - backlog
                for n, bpmn_id in enumerate(("first", "second", "third")):
                    open_task = is_open and n == 2
                    rows.append({
                        "instance_id": i, "process_key": "bench_three", "task_uuid": f"{i}-{n}",
                        "bpmn_id": bpmn_id, "name": bpmn_id, "group_name": groups[(i + n) % 5],
                        "state": "ready" if open_task else "completed", "created_at": now,
                        "due_at": now, "completed_by": None if open_task else "bench",
                        "completed_at": None if open_task else now,
                    })
            session.execute(insert(HumanTask), rows)
            # What the inbox joins each row to: the request's summary and its requester.
            session.execute(insert(RequestFact), [{
                "instance_id": i, "process_key": "bench_three", "status": "completed", "received_at": now,
                "subject": f"Talep {i}", "priority": PRIORITIES[i % 4], "category": f"Kategori {i % 7}",
            } for i in ids])
            session.execute(insert(RequestContact), [{
                "instance_id": i, "name": f"Talep Eden {i}", "email": f"kisi{i}@example.edu.tr",
                "email_key": f"kisi{i}@example.edu.tr", "locale": "tr", "created_at": now,
            } for i in ids])


def bench_long_instance(short: int, long: int, rounds: int) -> tuple[float, float]:
    """One step (complete the loop's user task) after ``short`` vs ``long`` iterations."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder))
        for iterations in (short, long):
            instance_id = bench.start("bench_loop")
            for _ in range(iterations):
                bench.complete_open_task(instance_id)
            results.append(timed(lambda i=instance_id: bench.complete_open_task(i), rounds))
        bench.engine.dispose()
    return results[0], results[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    quick = args.quick
    rows = []

    base, ours = bench_engine_overhead(rounds=10 if quick else 40)
    rows.append(("engine overhead", "start + 3 user tasks, SQLite file vs plain Spiff in memory",
                 f"{base:.2f} ms", f"{ours:.2f} ms", f"{ours / base:.2f}×", "≤ 2.0×"))
    rows.extend(sandbox.rows(quick))
    small, large = (1_000, 10_000) if quick else (1_000, 100_000)
    base, ours = bench_inbox(small, large, backlog=300, rounds=20 if quick else 50)
    rows.append(("inbox at scale", f"group inbox queries, {large:,} vs {small:,} instances",
                 f"{base:.2f} ms", f"{ours:.2f} ms", f"{ours / base:.2f}×", "≤ 1.5×"))
    rows.extend(search_bench.rows(quick))
    short, long = (10, 100) if quick else (10, 500)
    base, ours = bench_long_instance(short, long, rounds=5 if quick else 10)
    rows.append(("long instance", f"one step after {long} vs {short} loop iterations",
                 f"{base:.2f} ms", f"{ours:.2f} ms", f"{ours / base:.2f}×", "≤ 3×"))
    pg_url = os.environ.get("TEST_DATABASE_URL")
    if pg_url:
        small, large = (10_000, 100_000) if quick else (10_000, 1_000_000)
        base, ours = reports.bench_yearly_report(pg_url, DATA, small, large, rounds=10 if quick else 20)
        rows.append(("yearly report at scale", f"`reports.summary(2023)` on PostgreSQL, {large:,} vs {small:,} "
                     f"requests ({reports.YEAR_SIZE:,} in 2023)", f"{base:.2f} ms", f"{ours:.2f} ms",
                     f"{ours / base:.2f}×", "≤ 3×"))
    else:
        print("yearly report at scale: skipped (set TEST_DATABASE_URL to a PostgreSQL server)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        base, ours = web.bench_http(Path(folder), open_tasks=300, requests=100 if quick else 500,
                                    seconds=15 if quick else 60)
    rows.append(("HTTP", f"`GET {web.INBOX}` (25 rows) vs `GET /healthz`, keep-alive, werkzeug threaded",
                 f"{base:.0f} req/s", f"{ours:.1f} req/s", f"{ours / base * 100:.1f} %", "≥ 25 %"))

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Machine: {platform.node()} — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average at the end {load}")
    print()
    print("| bench | measure | baseline | measured | ratio | target |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
