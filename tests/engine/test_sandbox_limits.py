"""The sandbox's limits: time and memory stay bounded whatever a script calls, the server's
process is untouched, and the sandbox processes recover and keep today's semantics."""

from __future__ import annotations

import ast
import resource
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from engine import clock, sandbox_pool, sandbox_static, workdays
from engine.errors import ScriptError
from engine.sandbox import SandboxEnvironment, SandboxScriptEngine

TOO_LONG = "script stopped: ran longer than 2 seconds"
TOO_BIG = "script stopped: used more than 256 MB"

BOMBS = [
    ("x = 10**10**8", TOO_LONG),
    ("x = 'a'*10**9", TOO_BIG),
    ("x = len('a'*10**9)", TOO_BIG),
    ("m = re.match('(a+)+$', 'a'*30+'b')", TOO_LONG),
    ("x = bytes(10**10)", "name 'bytes' is not defined"),
    ("x = b'0' * 10**10", TOO_BIG),
    ("x = [0]*10**9", TOO_BIG),
    ("x = []\nwhile True:\n    x.append('a' * 10**6)", TOO_BIG),
    ("x = math.factorial(10**7)", TOO_LONG),
    ("x = '%*d' % (10**9, 1)", TOO_BIG),
]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(("script", "message"), BOMBS)
def test_a_script_that_would_take_the_server_down_is_stopped_quickly(script, message):
    env = SandboxScriptEngine().environment
    env.execute("warm = 1\nwarm += 1", {}, {})  # a sandbox process is running
    peak = _peak_rss_mb()
    context = {"ticket": "T-1"}
    began = time.monotonic()

    with pytest.raises(ScriptError) as info:
        env.execute(script, context, {})

    assert time.monotonic() - began < 6
    assert message in info.value.message
    assert context == {"ticket": "T-1"}
    assert _peak_rss_mb() - peak < 50  # the memory was the sandbox process's, not ours
    after = {"items": [3, 4]}  # the pool recovered
    env.execute("total = 0\nfor item in items:\n    total += item", after, {})
    assert after == {"items": [3, 4], "total": 7, "item": 4}


@pytest.mark.parametrize(("expression", "message"), [
    ("len('a'*10**9) > 0", TOO_BIG),
    ("re.match('(a+)+$', subject) is None", TOO_LONG),
    ("math.factorial(10**7) > 0", TOO_LONG),
])
def test_conditions_and_expressions_are_bounded_too(expression, message):
    env = SandboxScriptEngine().environment
    began = time.monotonic()
    with pytest.raises(ScriptError, match=message):
        env.evaluate(expression, {"subject": "a" * 30 + "b"})
    assert time.monotonic() - began < 6
    assert env.evaluate("subject.startswith('aaa')", {"subject": "a" * 30 + "b"}) is True


def test_the_memory_limit_is_a_setting():
    env = SandboxEnvironment()
    sandbox_pool.configure("64")
    try:
        with pytest.raises(ScriptError, match="script stopped: used more than 64 MB"):
            env.execute("x = 'a' * 100 * 2**20", {}, {})
        context = {}
        env.execute("x = len('a' * 10 * 2**20)", context, {})
        assert context == {"x": 10 * 2**20}
    finally:
        sandbox_pool.configure(None)
    with pytest.raises(ScriptError, match="used more than 256 MB"):
        env.execute("x = 'a' * 300 * 2**20", {}, {})
    with pytest.raises(ValueError, match="at least 32 MB"):
        sandbox_pool.configure(8)
    with pytest.raises(ValueError, match="not a whole number of MB"):
        sandbox_pool.configure("lots")


def test_a_script_bomb_in_one_thread_leaves_the_others_unharmed():
    env_results, errors = {}, []

    def work(n):
        env = SandboxScriptEngine().environment  # one per thread, as runtime.script_engine() gives
        for round_ in range(5):
            context = {"n": n, "round": round_}
            env.execute("parts = [n] * 3\ntotal = sum(parts) + round", context, {})
            env_results[(n, round_)] = context["total"]

    def bomb():
        try:
            SandboxEnvironment().execute("x = 10**10**8", {}, {})
        except ScriptError as exc:
            errors.append(exc.message)

    threads = [threading.Thread(target=bomb)] + [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [TOO_LONG]
    assert env_results == {(n, r): 3 * n + r for n in range(6) for r in range(5)}


# -- the sandbox process keeps the semantics ------------------------------------------------

def test_a_script_in_a_sandbox_process_updates_the_task_data_in_place():
    shared = [1]
    context = {"items": shared, "same": shared, "old": 1, "when": datetime(2026, 3, 2, 9, tzinfo=UTC)}
    data = context

    SandboxEnvironment().execute(
        "items.append(2)\ndel old\nlater = when + timedelta(days=1)\nf = lambda: 1\nm = math", context, {})

    assert data is context
    assert context == {"items": [1, 2], "same": [1, 2], "when": datetime(2026, 3, 2, 9, tzinfo=UTC),
                       "later": datetime(2026, 3, 3, 9, tzinfo=UTC)}
    assert context["items"] is context["same"]  # one list, as it was


def test_the_engine_clock_and_holidays_reach_the_sandbox_process():
    env = SandboxScriptEngine(helpers=workdays.SCRIPT_HELPERS).environment
    clock.set_shift(timedelta(days=40))
    workdays.configure("2031-01-02")
    try:
        context = {}
        env.execute("moment = datetime.now(timezone.utc)\nfor _ in range(2):\n    due = working_days(1)",
                    context, {})
        assert abs(context["moment"] - clock.now()) < timedelta(seconds=5)
        assert context["due"][:10] == workdays.working_days(1)[:10]
        assert env.evaluate("[is_working_day(day) for day in days]", {"days": ["2031-01-02", "2031-01-03"]}) \
            == [False, True]
    finally:
        clock.set_shift(timedelta(0))
        workdays.configure(None)


def test_a_clock_pinned_in_the_past_reaches_the_sandbox_process():
    env = SandboxScriptEngine(helpers=workdays.SCRIPT_HELPERS).environment
    clock.pin(datetime(2026, 11, 5, 10, tzinfo=UTC))   # a Thursday, as tests pin it
    try:
        context = {}
        env.execute("moment = datetime.now(timezone.utc)\nfor _ in range(2):\n    due = working_days(1)",
                    context, {})
        assert abs(context["moment"] - clock.now()) < timedelta(seconds=5)
        assert context["due"][:10] == "2026-11-06"
    finally:
        clock.set_shift(timedelta(0))


@pytest.mark.parametrize(("script", "message"), [
    ("m = re.match('a', 'a')\nok = bool(m)", "script result is not data: m holds a Match"),
    ("pattern = re.compile('a+')\nok = True", "script result holds something that is not data (re._compile)"),
])
def test_what_is_not_data_is_a_clear_script_error(script, message):
    context = {"n": 1}
    with pytest.raises(ScriptError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SandboxEnvironment().execute(script, context, {})
    assert context == {"n": 1}


def test_data_that_cannot_reach_a_sandbox_process_is_a_clear_script_error():
    with pytest.raises(ScriptError, match="cannot be sent to a sandbox process"):
        SandboxEnvironment().execute("n = 0\nfor x in values:\n    n += 1", {"values": (i for i in range(3))}, {})


# -- what runs in the calling process ---------------------------------------------------------

CALLS = sandbox_static.BOUNDED_CALLS | {"working_days"}


@pytest.mark.parametrize("source", [
    'category == "vpn"', '(category) == ("VPN Bağlantısı")', "outcome in ('lost', 'dropped')",
    "confirmation.get('ok') is True", "mac_check['status'] == 'ok'", "bool(notify_email)",
    "'network' if category == 'VPN' else 'helpdesk'", "working_days(3)", "'P7D'", "-amount < 0",
    "(datetime.now() + timedelta(days=3)).isoformat()", "f'{first} {last!r}'", "name.strip().lower()[:3]",
])
def test_conditions_cells_and_timers_are_proved_bounded(source):
    assert sandbox_static.is_bounded(ast.parse(source, mode="eval"), CALLS)


@pytest.mark.parametrize("source", [
    "'a' * 10", "2 ** 10", "1 << 5", "'%s' % x", "x // 2", "[i for i in items]", "(lambda: 1)()",
    "re.match('(a+)+$', text)", "sum(items)", "max(items, key=math.factorial)", "f'{x:>1000000}'",
    "group_of(user)", "(y := 1)", "math.factorial(5)", "f(*args)", "f(**options)",
])
def test_anything_that_repeats_multiplies_or_calls_the_unknown_is_not(source):
    assert not sandbox_static.is_bounded(ast.parse(source, mode="eval"), CALLS)


@pytest.mark.parametrize(("script", "bounded"), [
    ("note = reply.get('answer', '')", True),
    ("due_at = working_days(due_days)\nprevious = team", True),
    ("s = text + text\ns2 = s + s", False),  # each line doubling the last
    ("x = 1\nwhile True:\n    pass", False),
    ("d['a'] = 1", False),
    ("count += 1", False),
])
def test_scripts_are_bounded_only_as_independent_assignments(script, bounded):
    assert sandbox_static.is_bounded(ast.parse(script, mode="exec"), CALLS) is bounded


def test_only_small_plain_data_counts_as_small_input():
    small = {"subject": "VPN", "items": [1, 2.5, None, date(2026, 1, 1)], "nested": {"a": ("b",)}}
    assert sandbox_static.small_inputs(small, {"subject", "items", "nested", "missing"})
    assert not sandbox_static.small_inputs({"text": "a" * 70_000}, {"text"})
    assert sandbox_static.small_inputs({"text": "a" * 70_000, "n": 1}, {"n"})  # only what is read
    assert not sandbox_static.small_inputs({"rows": [["x" * 1000] * 100] * 100}, {"rows"})
    assert not sandbox_static.small_inputs({"amount": __import__("decimal").Decimal("1e999999")}, {"amount"})
    assert not sandbox_static.small_inputs({"when": type("Odd", (), {})()}, {"when"})


def test_a_bounded_condition_over_large_data_still_gives_its_answer():
    env = SandboxEnvironment()
    text = "A" * 200_000
    assert env.evaluate("text.lower().startswith('aaa') and len(text) > 10", {"text": text}) is True


def test_working_days_refuses_a_count_it_would_loop_over_for_long():
    with pytest.raises(ScriptError, match="working_days counts at most 2500 days"):
        SandboxScriptEngine(helpers=workdays.SCRIPT_HELPERS).environment.evaluate("working_days(n)", {"n": 10**9})


def test_a_script_cannot_hand_back_much_more_data_than_it_was_given():
    env = SandboxEnvironment()
    with pytest.raises(ScriptError, match="script stopped: its data grew by more than 16 MB"):
        env.execute("x = 'a' * 20 * 2**20", {}, {})
    context = {}
    env.execute("x = 'a' * 2**20", context, {})
    assert len(context["x"]) == 2**20
