"""The cycle collector, paused while lrlint starts and while a run checks files.

Starting allocates what lives for the whole run (modules, classes, functions, the rules), and a run
allocates millions of small objects that live until it ends (parsed documents, their values, the merged
values of every base) and frees syntax trees by reference counting. The collector, triggered by the number
of allocations, finds nothing to free there, but each full collection walks every live object: a tenth of
a one-file check's time, and 15% of a 10,000-file run's. Runs make no reference cycles
(tests/test_speed_paths.py checks it), so nothing piles up while it is off.

``pause`` turns it off when a check starts and ``resume`` on again when the check ends (only a pause of
this module is resumed: a caller that turned the collector off keeps it off). ``paused`` holds it off for
one run (``lrlint.bigstack.run``; runs on several threads at once, in the editor server, share the pause);
``tick``, once per parsed file, collects when a run has still grown by many objects since the last
collection (a bound on what a cycle nobody knows of could keep).

``exiting`` is for the program's last step: what is alive then stays alive until the process ends, so it
is frozen (``gc.freeze``) and the collections of the interpreter's shutdown, which walk every object,
skip it; they cost a one-file check as much as its own garbage collection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False
_lock = threading.Lock()
_runs = 0
_run_was_enabled = False
GROWTH = 1_000_000  # container objects a run may add before ``tick`` collects (a 1,000-file run adds ~200,000)


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    global _paused
    if _paused:
        _paused = False
        gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """The collector off until the last of the runs that paused it ends (then as it was before the first)."""
    global _runs, _run_was_enabled
    with _lock:
        if _runs == 0:
            _run_was_enabled = gc.isenabled()
            gc.disable()
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _run_was_enabled:
                gc.enable()


def tick() -> None:
    """A file was parsed: collect when the collector is off and the objects grew past GROWTH since the last
    collection."""
    if not gc.isenabled() and gc.get_count()[0] > GROWTH:
        gc.collect()


def exiting() -> None:
    """The process ends next (``lrlint.cli.main`` run as the program): nothing alive now is collected."""
    gc.freeze()
