"""Pace Python's cyclic garbage collector for a worker that keeps every key's state in memory.

A worker holds one decoded state per host and group (tens of thousands of models, dicts and
datetimes): with CPython's default thresholds (700, 10, 10) the collector re-walks that live
heap over and over, and measured ~40 % of stage 1 + 2's CPU at 20,000 hosts (bench/core.py:
404 -> 260 us/event). The cores make next to no reference cycles (after bench/core.py's 26,627
events a full collection found 1,132 unreachable objects): reference counting frees their garbage.
A larger young generation lets a batch's short-lived objects die before any collection, and
full collections become rare instead of following every quarter of the heap renewed.
"""

from __future__ import annotations

import gc

# (young, middle, old): a collection of the young generation per 100k allocations; a full one
# after 50 x 1000 of those (minutes at full speed), so cycles from libraries are still reclaimed.
THRESHOLDS = (100_000, 50, 1_000)


def pace_collector() -> None:
    """Raise the collector's thresholds, and exempt what exists now (code, settings, inventory)."""
    gc.collect()
    gc.freeze()  # startup objects live as long as the process: never walk them again
    gc.set_threshold(*THRESHOLDS)
