"""Waiting for something another process does (a worker, a server), with a deadline."""

from __future__ import annotations

import time


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    """Call ``condition`` until it returns something true, and return that.

    :raises AssertionError: naming ``what``, when ``timeout`` seconds pass first
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")
