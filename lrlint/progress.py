"""A progress line on stderr for check runs that take a while.

Nothing is written for a run that ends within ``DELAY`` seconds, nor when the stream is not a terminal
(a pipe, a file, CI logs): the line exists only for a person watching. It is one line, redrawn in place
with a carriage return at most every ``INTERVAL`` seconds, never wider than the terminal, and erased
when the run ends, so the report that follows starts on a clean line.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

DELAY = 1.0  # seconds before the line first shows
INTERVAL = 0.1  # seconds between redraws


class Progress:
    """Files checked out of the files found: ``start(total)``, ``advance(n)`` as files are done, ``close()``."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        delay: float = DELAY,
        interval: float = INTERVAL,
    ) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty is not None and isatty())
        self.stream = stream
        self.clock = clock
        self.delay = delay
        self.interval = interval
        self.began = clock()
        self.total = 0
        self.done = 0
        self.drawn = 0  # characters of the line on screen (0: nothing shown)
        self.last = float("-inf")

    def start(self, total: int) -> None:
        """The run will check ``total`` files."""
        self.total = total
        self.done = 0
        self._draw()

    def advance(self, n: int = 1) -> None:
        """``n`` more files are checked."""
        self.done += n
        self._draw()

    def close(self) -> None:
        """Erase the line (if it was shown)."""
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0
        self.enabled = False

    def text(self) -> str:
        """What the line says: ``Checking 1,234/8,000 files (15%)``."""
        pct = 100 * self.done // self.total if self.total else 0
        return f"Checking {self.done:,}/{self.total:,} files ({pct}%)"

    def _draw(self) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.began < self.delay or now - self.last < self.interval:
            return
        self.last = now
        width = shutil.get_terminal_size((80, 24)).columns - 1  # the last column would wrap on some terminals
        line = self.text()[: max(width, 0)]
        pad = " " * max(self.drawn - len(line), 0)
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self.drawn = len(line)
