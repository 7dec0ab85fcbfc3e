"""Bench "sandbox": what bounding scripts in time and memory costs on the hot path.

Two figures, each the median per-call time of repeated batches, with the spread (lowest
and highest batch):

- fast path: a gateway condition proved bounded, evaluated in-process by the sandbox,
  vs the same expression compiled once and run by plain ``eval`` (no sandbox at all);
- pool: a four-line script (from ``software_request.bpmn``) run in a sandbox process vs
  the same script run in-process by the sandbox's budgeted runner (how every script ran
  before the pool).
"""

from __future__ import annotations

import statistics
import time

from engine import workdays
from engine.sandbox import SandboxEnvironment

CONDITION = 'category == "VPN Bağlantısı"'
SCRIPT = """if reconsider_date <= datetime.now(timezone(timedelta(hours=3))).date().isoformat():
    raise ValueError('Yeniden değerlendirme tarihi bugünden sonra olmalı.')
reconsider_at = reconsider_date + 'T08:30:00+03:00'
reconsider_date_text = '.'.join(reversed(reconsider_date.split('-')))"""

# Task data of the size a request carries: the form's fields, the requester, a triage.
DATA = {
    "subject": "VPN bağlanmıyor", "category": "VPN Bağlantısı", "team": "network",
    "message": "Evden bağlanırken sertifika hatası alıyorum. " * 10,
    "requester": {"name": "Ayşe Yılmaz", "email": "ayse@example.edu.tr", "unit": "Fen Fakültesi"},
    "triage": {"note": "Ağ ekibine", "priority": "normal", "tags": ["vpn", "sertifika"]},
    "reconsider_date": "2099-01-15", "attempts": 2, "request_tracking_code": "ABCDEFGH23",
}


def _per_call_us(func, calls: int, batches: int) -> tuple[float, float, float]:
    """Median, lowest and highest per-call time in µs over ``batches`` batches of ``calls``."""
    samples = []
    for _ in range(batches):
        begin = time.perf_counter()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter() - begin) / calls * 1e6)
    return statistics.median(samples), min(samples), max(samples)


def bench_fast_path(calls: int, batches: int) -> tuple[tuple, tuple]:
    """A bounded condition: plain ``eval`` vs the sandbox's in-process fast path."""
    env = SandboxEnvironment(helpers=workdays.SCRIPT_HELPERS)
    code = compile(CONDITION, "<condition>", "eval")
    assert env.evaluate(CONDITION, DATA) is eval(code, dict(DATA)) is True
    plain = _per_call_us(lambda: eval(code, dict(DATA)), calls, batches)
    fast = _per_call_us(lambda: env.evaluate(CONDITION, DATA), calls, batches)
    return plain, fast


def bench_pool(calls: int, batches: int) -> tuple[tuple, tuple]:
    """A script that is not provably bounded: in-process (budgeted) vs in a sandbox process."""
    env = SandboxEnvironment(helpers=workdays.SCRIPT_HELPERS)

    def here():
        env.execute_in_process(SCRIPT, dict(DATA), {})

    def pooled():
        env.execute(SCRIPT, dict(DATA), {})

    before, after = dict(DATA), dict(DATA)
    env.execute_in_process(SCRIPT, before, {})
    env.execute(SCRIPT, after, {})  # also starts the sandbox process
    assert before == after and after["reconsider_date_text"] == "15.01.2099"
    return _per_call_us(here, calls, batches), _per_call_us(pooled, calls, batches)


def rows(quick: bool) -> list[tuple[str, ...]]:
    """The bench table's rows for ``python -m bench``."""
    batches = 7 if quick else 15
    plain, fast = bench_fast_path(2000 if quick else 10_000, batches)
    here, pooled = bench_pool(100 if quick else 500, batches)
    return [
        ("sandbox: fast path", f"`{CONDITION}` over a request's data, in-process after the bounded-code "
         "check, vs plain `eval`; median µs per call [lowest–highest batch]", _us(plain), _us(fast),
         f"{fast[0] / plain[0]:.2f}×", "—"),
        ("sandbox: pool", "a 4-line script (software_request) in a sandbox process vs in-process "
         "under the step budget; median µs per call [lowest–highest batch]", _us(here), _us(pooled),
         f"{pooled[0] / here[0]:.2f}×", "—"),
    ]


def _us(sample: tuple[float, float, float]) -> str:
    median, low, high = sample
    return f"{median:.1f} µs [{low:.1f}–{high:.1f}]"
