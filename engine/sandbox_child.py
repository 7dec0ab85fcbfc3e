"""The sandbox process: runs the scripts :mod:`engine.sandbox_pool` sends, one at a time.

Started as ``python -c ... main(memory_mb)``. It reads requests on stdin and writes
answers on stdout, which it first moves aside so that nothing else can write into the
answers. A request is the tuple::

    (mode, source, data, external_context, helpers, max_steps, max_seconds, settings)

``mode`` ``"eval"``: ``data`` is the scope, the answer the expression's value;
``"exec"``: ``data`` is the task data, the answer that data after the script.
``settings`` are the engine clock's shift and the configured holidays, applied here
first, so that ``datetime.now()`` and ``working_days`` agree with the parent. An
answer is ``(outcome, value, retire)``: ``("ok", result, False)`` or
``("error", message, retire)``; after a ``MemoryError`` the process retires.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
import resource
import signal

from . import clock, sandbox, workdays
from .errors import ScriptError
from .sandbox_pool import read_frame, write_frame


class _Applied:
    settings = None


def main(memory_mb: int) -> None:
    """Serve requests until the parent closes the pipe.

    :param memory_mb: what a script may allocate beyond what this process holds once started.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; it ends us by closing the pipe
    requests, answers = _take_pipes()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _limit_memory(memory_mb)
    write_frame(answers, b"ready")
    while (payload := read_frame(requests)) is not None:
        answer, retire = _serve(payload, memory_mb)
        write_frame(answers, answer)
        if retire:
            return


def _take_pipes() -> tuple[int, int]:
    requests, answers = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # print() and warnings go to stderr, never into the answers
    return requests, answers


def _limit_memory(memory_mb: int) -> None:
    # Linux: the address space this process already maps, plus the script's allowance.
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = size + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _limit_cpu(max_seconds: float) -> None:
    # A backstop should the parent not kill us in time: the CPU used so far, plus the budget.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + max_seconds) + 2
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _apply(settings: tuple) -> None:
    if settings != _Applied.settings:
        shift, holidays = settings
        clock.adopt_shift(shift)
        workdays.configure(",".join(sorted(day.isoformat() for day in holidays)))
        _Applied.settings = settings


def _serve(payload: bytes, memory_mb: int) -> tuple[bytes, bool]:
    out_of_memory = f"script stopped: used more than {memory_mb} MB"
    try:
        mode, source, data, external_context, helpers, max_steps, max_seconds, settings = pickle.loads(payload)
        _apply(settings)
        _limit_cpu(max_seconds)
        environment = _environment(tuple(helpers.items()), max_steps, max_seconds, memory_mb)
        if mode == "eval":
            result = environment.evaluate_in_process(source, data, external_context)
        else:
            environment.execute_in_process(source, data, external_context)
            result = data
        return _answer("ok", result, False)
    except ScriptError as err:
        return _answer("error", err.message, isinstance(err.__cause__, MemoryError))
    except MemoryError:
        return _answer("error", out_of_memory, True)
    except BaseException as err:  # not the script's doing (a request that does not unpickle)
        return _answer("error", f"script not run: {type(err).__name__}: {err}", True)


@functools.lru_cache(maxsize=32)
def _environment(helpers: tuple, max_steps: int, max_seconds: float, memory_mb: int) -> sandbox.SandboxEnvironment:
    # Helpers unpickle to the same module-level functions each time, so this is reused.
    return sandbox.SandboxEnvironment(dict(helpers), max_steps, max_seconds, memory_mb)


def _answer(outcome: str, value, retire: bool) -> tuple[bytes, bool]:
    try:
        return pickle.dumps((outcome, value, retire), protocol=pickle.HIGHEST_PROTOCOL), retire
    except MemoryError:
        return pickle.dumps(("error", "script stopped: its result does not fit in memory", True)), True
    except Exception:
        message = f"script result is not data: {_not_data(value)}"
        return pickle.dumps(("error", message, retire), protocol=pickle.HIGHEST_PROTOCOL), retire


def _not_data(value) -> str:
    if isinstance(value, dict):
        for key, item in value.items():
            try:
                pickle.dumps(item)
            except Exception:
                return f"{key} holds a {type(item).__name__}"
    return f"a {type(value).__name__}"
