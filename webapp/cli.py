"""The ``sek`` command line (contract in DESIGN.md).

Each command is one transaction. Exit codes: 0 success, 1 refused (invalid input,
conflict, permission), 2 usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

import processes
from engine import audit, definitions, runtime, tasks, users, validation, worker
from engine.db import make_engine, make_session_factory, transaction
from engine.errors import EngineError, ValidationError
from processes import duplicates

from .config import apply_engine_settings, db_settings, load_config, worker_settings

MAX_ID = 2**31 - 1  # INTEGER primary keys; a larger number would fail inside the database driver
DATA_HELP = "a JSON object; @FILE reads it from a file, - from standard input (for large data)"


class Context:
    """The configuration, engine and session factory of one CLI call."""

    def __init__(self, config: dict):
        self.config = config
        try:
            apply_engine_settings(config)
        except ValueError as exc:
            raise EngineError(str(exc)) from None
        processes.install()
        self.engine = make_engine(config["DATABASE_URL"], db_settings(config))
        self.factory = make_session_factory(self.engine)

    def ensure_schema(self) -> None:
        if inspect(self.engine).has_table("process_instance"):
            return
        if self.engine.dialect.name == "sqlite":
            from engine import migrate

            migrate.upgrade(self.engine)  # the embedded default just works
            return
        raise EngineError("the database has no schema yet: run `sek db upgrade`")

    def transaction(self):
        return transaction(self.factory)


def _json_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _json_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _data_text(text: str, what: str) -> str:
    """The JSON text of a ``--data`` value: itself, ``@FILE``'s content, or standard input's for ``-``."""
    if text != "-" and not text.startswith("@"):
        return text
    source = "standard input" if text == "-" else text[1:]
    try:
        if text == "-":
            content = sys.stdin.buffer.read()
        else:
            with open(text[1:], "rb") as handle:   # a pipe too: --data @<(command)
                content = handle.read()
    except OSError as exc:
        raise EngineError(f"{what} {text}: {source} cannot be read: {exc.strerror or exc}") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EngineError(f"{what} {text}: {source} is not UTF-8 text") from None


def _json_arg(text: str | None, what: str = "--data") -> dict:
    if text is None:
        return {}
    text = _data_text(text, what)
    try:
        # NaN, Infinity and 1e999 are not JSON: PostgreSQL refuses them, SQLite would keep them.
        value = json.loads(text, parse_float=_json_number, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise EngineError(f"{what} is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError as exc:
        raise EngineError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise EngineError(f"{what} is not valid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise EngineError(f"{what} must be a JSON object")
    return value


def _row_id(text: str) -> int:
    """An id argument: a positive integer that fits the database's INTEGER columns."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid id: {text!r}") from None
    if not 0 < value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"invalid id: {text} (ids go from 1 to {MAX_ID})")
    return value


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, sort_keys=True))


def cmd_db_upgrade(ctx: Context, args) -> None:
    from engine import migrate

    migrate.upgrade(ctx.engine)
    print("database schema is up to date")


def cmd_validate(ctx: Context, args) -> int:
    """Say what ``sek deploy`` would do with the files: the same rule, the same checks."""
    from engine import services

    files = validation.load_paths(args.paths)
    plan = validation.plan_deployment(files, known_operators=services.operator_names())
    for problem in plan.problems:
        print(problem)
    if plan.problems:
        print(f"{len(plan.problems)} problem(s) in {len(files)} file(s): sek deploy would refuse them",
              file=sys.stderr)
        return 1
    left_out = f"; left out, not executable: {', '.join(plan.left_out)}" if plan.left_out else ""
    print(f"ok: {len(files)} file(s), processes: {', '.join(plan.process_ids)}{left_out}")
    return 0


def cmd_deploy(ctx: Context, args) -> int:
    files = validation.load_paths(args.paths)
    from engine import services

    with ctx.transaction() as session:
        # --as USER: deployed as that user, who may deploy only their group's processes;
        # without it the operator at the console deploys anything (as `sek demo` does).
        actor = users.acting_user(session, args.as_user) if args.as_user else None
        results = definitions.deploy(session, files, actor=actor, note=args.note or "",
                                     known_operators=services.operator_names())
    for result in results:
        print(f"{result.key} {result.version}{'' if result.created else ' (unchanged)'}")
    return 0


def cmd_start(ctx: Context, args) -> int:
    data = _json_arg(args.data)
    with ctx.transaction() as session:
        actor = users.acting_user(session, args.as_user) if args.as_user else None
        instance = runtime.start_instance(session, args.key, data=data, actor=actor, version=args.version)
        result = {"id": instance.id, "tracking_code": instance.tracking_code, "status": instance.status}
    if args.json:
        _print_json(result)
    else:
        print(f"started instance {result['id']} (tracking code {result['tracking_code']}, {result['status']})")
    return 0


def cmd_tasks(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        rows = [tasks.task_dict(t) for t in tasks.list_tasks(session, group=args.group, state=args.state)]
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        print(f"{row['id']:>6}  {row['state']:<9} {row['group']:<12} {row['assignee'] or '-':<12} "
              f"instance {row['instance_id']:<6} {row['bpmn_id']}: {row['name']}")
    if not rows:
        print("no tasks", file=sys.stderr)
    return 0


def cmd_claim(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        task = tasks.claim_task(session, args.task_id, users.acting_user(session, args.as_user))
        print(f"task {task.id} claimed by {task.assignee}")
    return 0


def cmd_unclaim(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        task = tasks.unclaim_task(session, args.task_id, users.acting_user(session, args.as_user))
        print(f"task {task.id} is back in group {task.group_name}")
    return 0


def cmd_complete(ctx: Context, args) -> int:
    data = _json_arg(args.data)
    with ctx.transaction() as session:
        task = tasks.complete_task(session, args.task_id, users.acting_user(session, args.as_user), data)
        instance = tasks.task_instance(session, task)
        print(f"task {task.id} completed; instance {instance.id} is {instance.status}")
    return 0


def cmd_cancel(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        runtime.cancel_instance(session, args.instance_id, actor=users.acting_user(session, args.as_user),
                                reason=args.reason or "")
        duplicates.release_duplicates(session, args.instance_id, "cancelled")   # they go back to their teams
    print(f"instance {args.instance_id} cancelled")
    return 0


def cmd_message(ctx: Context, args) -> int:
    data = _json_arg(args.data)
    with ctx.transaction() as session:
        actor = users.acting_user(session, args.as_user) if args.as_user else None
        ids = runtime.deliver_message(session, args.name, data, instance_id=args.instance,
                                      correlation_key=args.correlation, actor=actor)
    print(f"message {args.name} delivered to instance(s) {', '.join(map(str, ids))}")
    return 0


def cmd_hooks_add(ctx: Context, args) -> int:
    from engine import hooks

    from .config import secret_key

    mapping = _json_arg(args.map, "--map")
    mode = "correlate" if args.correlate else "start"
    with ctx.transaction() as session:
        _hook, secret = hooks.create_hook(session, args.name, args.message, mapping=mapping, mode=mode,
                                          correlation_pointer=args.correlate, actor=None,
                                          master_key=secret_key(ctx.config))
    print(secret)   # shown once: SEK keeps no copy
    return 0


def cmd_hooks_list(ctx: Context, args) -> int:
    from engine import hooks

    with ctx.transaction() as session:
        for hook in hooks.list_hooks(session):
            target = f"correlate {hook.correlation_pointer}" if hook.mode == "correlate" else "start"
            state = "active" if hook.active else "inactive"
            print(f"{hook.name}\t{hook.message}\t{target}\t{state}\t"
                  f"{json.dumps(hook.mapping, ensure_ascii=False, sort_keys=True)}")
    return 0


def cmd_worker(ctx: Context, args) -> int:
    count = worker.run_worker(ctx.factory, worker_settings(ctx.config), once=args.once)
    if args.once:
        print(f"{count} job(s) run")
    return 0


def cmd_users_add(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        user = users.add_user(session, args.username, groups=args.group or [], roles=args.role or ["staff"],
                              password=args.password, email=args.email)
        print(f"user {user.username}: roles {', '.join(user.roles)}; "
              f"groups {', '.join(sorted(user.group_slugs)) or '-'}")
    return 0


def cmd_users_token(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        print(users.create_token(session, args.username))
    return 0


def cmd_audit_verify(ctx: Context, args) -> int:
    with ctx.transaction() as session:
        result = audit.verify(session) if args.instance is None else audit.verify_instance(session, args.instance)
    print(result, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_audit_export(ctx: Context, args) -> int:
    """Stream the period's events (CSV, JSON or XES) to stdout or ``--output``."""
    from zoneinfo import ZoneInfo

    from engine import audit_export

    start, end = audit_export.period(args.date_from, args.date_to, ZoneInfo(ctx.config["SEK_TIMEZONE"]))
    with ctx.transaction() as session:
        out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
        try:
            for chunk in audit_export.export(session, args.format, start, end):
                out.write(chunk)
        finally:
            if args.output:
                out.close()
    return 0


def cmd_jobs_retry(ctx: Context, args) -> int:
    from engine import jobs

    with ctx.transaction() as session:
        job = jobs.retry_job(session, args.job_id, actor=None)
    print(f"job {job.id} queued again")
    return 0


def cmd_demo(ctx: Context, args) -> int:
    from processes import demo

    from .config import secret_key

    with ctx.transaction() as session:
        summary = demo.load_demo(session, hook_key=secret_key(ctx.config))
    print(summary)
    if args.year is not None:
        from processes import demo_year

        with ctx.transaction() as session:
            print(demo_year.load_year(session, args.year))
    return 0


def cmd_retention_apply(ctx: Context, args) -> int:
    from pathlib import Path

    from engine import retention

    if args.years < 1:
        raise EngineError("--years must be at least 1")
    with ctx.transaction() as session:
        result = retention.apply(session, args.years, dry_run=args.dry_run,
                                 attachments_dir=Path(ctx.config["SEK_DATA_DIR"]) / "attachments")
    retention.delete_files(result)
    print(result)
    return 0


def cmd_search_reindex(ctx: Context, args) -> int:
    from engine import search

    with ctx.transaction() as session:
        print(f"requests indexed: {search.rebuild(session)}")
    return 0


def cmd_run(ctx: Context, args) -> int:
    from engine import migrate

    from . import create_app

    migrate.upgrade(ctx.engine)
    app = create_app(ctx.config)
    thread, stop = worker.start_embedded_worker(ctx.factory, worker_settings(ctx.config))
    try:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        stop.set()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sek", description="SEK process automation")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(name, func, help_text, parent=sub):
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = command("run", cmd_run, "web app + embedded worker")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p = command("worker", cmd_worker, "run due jobs (timers, mail, services)")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    db = command("db", None, "database schema").add_subparsers(metavar="ACTION")
    command("upgrade", cmd_db_upgrade, "create / migrate the schema", db)
    p = command("deploy", cmd_deploy, "deploy BPMN/DMN/form files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--note", help="change note for the new version(s)")
    p.add_argument("--as", dest="as_user", metavar="USER",
                   help="deploy as this user: only processes owned by their group (admins: any); "
                        "without --as the operator deploys any process")
    p = command("validate", cmd_validate, "check files without deploying")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = command("start", cmd_start, "start an instance of a process")
    p.add_argument("key")
    p.add_argument("--data", metavar="JSON", help=DATA_HELP)
    p.add_argument("--as", dest="as_user", metavar="USER")
    p.add_argument("--version", type=_row_id, help="a specific version (default: the latest)")
    p.add_argument("--json", action="store_true")
    p = command("tasks", cmd_tasks, "list user tasks")
    p.add_argument("--group")
    p.add_argument("--state", default="ready", choices=["ready", "claimed", "completed", "cancelled", "open", "all"])
    p.add_argument("--json", action="store_true")
    for name, func, text in (("claim", cmd_claim, "claim a task"), ("unclaim", cmd_unclaim, "give a task back")):
        p = command(name, func, text)
        p.add_argument("task_id", type=_row_id, metavar="TASK_ID")
        p.add_argument("--as", dest="as_user", metavar="USER", required=True)
    p = command("complete", cmd_complete, "complete a task with form data")
    p.add_argument("task_id", type=_row_id, metavar="TASK_ID")
    p.add_argument("--data", metavar="JSON", help=DATA_HELP)
    p.add_argument("--as", dest="as_user", metavar="USER", required=True)
    p = command("cancel", cmd_cancel, "cancel a running instance")
    p.add_argument("instance_id", type=_row_id, metavar="INSTANCE_ID")
    p.add_argument("--reason")
    p.add_argument("--as", dest="as_user", metavar="USER", required=True)
    p = command("message", cmd_message, "deliver a message to waiting instance(s)")
    p.add_argument("name")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--instance", type=_row_id, metavar="ID")
    target.add_argument("--correlation", metavar="KEY", help="correlation key or tracking code")
    p.add_argument("--data", metavar="JSON", help=DATA_HELP)
    p.add_argument("--as", dest="as_user", metavar="USER")
    hooks_cmd = command("hooks", None, "webhooks that start or reach processes").add_subparsers(metavar="ACTION")
    p = command("add", cmd_hooks_add, "add a webhook; prints its secret (once)", hooks_cmd)
    p.add_argument("name")
    p.add_argument("--message", required=True, help="the message name it sends")
    p.add_argument("--correlate", metavar="POINTER",
                   help="reach waiting instances by the correlation key at this JSON pointer (default: start)")
    p.add_argument("--map", required=True, metavar="JSON",
                   help='start-data field -> JSON pointer or {"const": value}, e.g. {"host": "/host"}')
    command("list", cmd_hooks_list, "list webhooks", hooks_cmd)
    users_cmd = command("users", None, "accounts").add_subparsers(metavar="ACTION")
    p = command("add", cmd_users_add, "add or update a user", users_cmd)
    p.add_argument("username")
    p.add_argument("--group", action="append", metavar="G")
    p.add_argument("--role", action="append", metavar="R")
    p.add_argument("--password")
    p.add_argument("--email")
    p = command("token", cmd_users_token, "print a new API token", users_cmd)
    p.add_argument("username")
    audit_cmd = command("audit", None, "audit trail").add_subparsers(metavar="ACTION")
    p = command("verify", cmd_audit_verify, "recompute the hash chains", audit_cmd)
    p.add_argument("--instance", type=_row_id, metavar="ID", help="only this instance's chain")
    p = command("export", cmd_audit_export, "export a period's events (both days included)", audit_cmd)
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["csv", "json", "xes"], default="csv")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    jobs_cmd = command("jobs", None, "background jobs").add_subparsers(metavar="ACTION")
    p = command("retry", cmd_jobs_retry, "queue a failed job again", jobs_cmd)
    p.add_argument("job_id", type=_row_id)
    retention_cmd = command("retention", None, "personal data (KVKK)").add_subparsers(metavar="ACTION")
    p = command("apply", cmd_retention_apply, "anonymize requests closed more than N years ago", retention_cmd)
    p.add_argument("--years", type=int, required=True, metavar="N")
    p.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    search_cmd = command("search", None, "staff search index").add_subparsers(metavar="ACTION")
    command("reindex", cmd_search_reindex, "index every request again for the staff search", search_cmd)
    p = command("demo", cmd_demo, "load demo users, groups and sample requests")
    p.add_argument("--year", type=int, choices=[2023], help="also a year of help-desk requests with seed 000's totals")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_usage(sys.stderr)
        return 2
    try:
        ctx = Context(load_config())
        if args.func is cmd_worker and not args.once:
            worker.wait_for_database(ctx.engine, worker_settings(ctx.config))  # not exit: wait for it
        if args.func is not cmd_db_upgrade:
            ctx.ensure_schema()
        return args.func(ctx, args) or 0
    except ValidationError as exc:
        lines = [str(p) for p in exc.problems] or [exc.message]
        if args.func is cmd_validate or args.func is cmd_deploy:
            for line in lines:
                print(line)
            print(exc.message, file=sys.stderr)
        else:
            print(f"error: {exc.message}" + (f": {'; '.join(lines)}" if exc.problems else ""), file=sys.stderr)
        return 1
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"error: database: {_first_line(exc.orig)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the contract: one line, never a traceback
        print(f"error: {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


if __name__ == "__main__":
    sys.exit(main())
