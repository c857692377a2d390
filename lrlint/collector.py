"""The cycle collector, paused while a run checks files.

A run allocates millions of small objects that live until it ends (parsed documents, their values, the
merged values of every base) and frees syntax trees by reference counting. The collector finds little to
collect there, but each full collection scans every live object: on a 1,000-file tree that was about a tenth
of the run's time. So it is off while runs are going on, and a run that drops its parsed files collects once
then (``collect``). Runs on several threads at once (the editor server) share one pause.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_runs = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """The collector off until the last of the runs that paused it ends (then as it was before the first)."""
    global _runs, _was_enabled
    with _lock:
        if _runs == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _was_enabled:
                gc.enable()


def collect() -> None:
    """One full collection now (a run that dropped what it had parsed)."""
    gc.collect()
