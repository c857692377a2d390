"""One thread with a large stack per run: libcst's native parser and the deep recursions of the Python
reader need more stack than the main thread has.

``run(fn)`` calls ``fn`` on such a thread, in the caller's context (its context variables: the run's
resolved paths), with the cycle collector paused (``gcpause.paused``), and returns its result (or raises
its exception); called again on that thread (a parse inside a run), it calls ``fn`` directly, so a run
starts one thread, not one per file.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

from lrlint import gcpause

T = TypeVar("T")

STACK_SIZE = 256 * 1024 * 1024
_local = threading.local()


def run(fn: Callable[[], T]) -> T:
    """``fn()`` on a thread with a STACK_SIZE stack (the calling thread when it is one)."""
    if getattr(_local, "big", False):
        return fn()
    out: list[tuple[bool, object]] = []
    context = contextvars.copy_context()

    def target() -> None:
        _local.big = True
        try:
            with gcpause.paused():
                out.append((True, context.run(fn)))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            out.append((False, e))

    old = threading.stack_size()
    try:
        threading.stack_size(STACK_SIZE)
    except (ValueError, RuntimeError):  # pragma: no cover - platform without the setting
        with gcpause.paused():
            return fn()
    try:
        t = threading.Thread(target=target, name="lrlint-big-stack")
        t.start()
    finally:
        threading.stack_size(old)
    t.join()
    ok, val = out[0]
    if ok:
        return val  # type: ignore[return-value]
    raise val  # type: ignore[misc]
