"""``--watch``: check, then poll the checked files (and the settings file) twice a second and check again
when one changed, appeared or went away. Polling needs no inotify and works on every file system."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

INTERVAL_S = 0.5

Snapshot = dict[str, tuple[int, int]]


def snapshot(paths: list[Path]) -> Snapshot:
    """(mtime in ns, size) per path; a path that cannot be read has none (its disappearance is a change)."""
    out: Snapshot = {}
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        out[str(p)] = (st.st_mtime_ns, st.st_size)
    return out


def watch(run: Callable[[], int], files: Callable[[], list[Path]], interval: float = INTERVAL_S) -> int:
    """``run()`` now and after each change of ``files()`` (asked again each round: new files count);
    returns when interrupted (Ctrl-C)."""
    err = sys.stderr
    try:
        while True:
            before = snapshot(files())
            run()
            sys.stdout.flush()
            print(f"[{time.strftime('%H:%M:%S')}] Watching for file changes (Ctrl-C stops).", file=err, flush=True)
            while snapshot(files()) == before:
                time.sleep(interval)
            print(f"[{time.strftime('%H:%M:%S')}] File change detected: checking again.", file=err, flush=True)
    except KeyboardInterrupt:
        return 0
