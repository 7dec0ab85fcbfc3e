"""Timing shared by the benches: the median of repeated runs, in milliseconds."""

from __future__ import annotations

import statistics
import time


def timed(func, rounds: int) -> float:
    """Run ``func`` ``rounds`` times; the median duration in ms."""
    samples = []
    for _ in range(rounds):
        begin = time.perf_counter()
        func()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1000
