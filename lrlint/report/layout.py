"""Fitting text to a terminal: the width to write for, lines wrapped between words, source lines cut to
a window around their marks (the terminal never wraps a line in the middle of a word)."""

from __future__ import annotations

import os
import shutil

ELLIPSIS = "\u2026"
MIN_WIDTH = 40  # narrower than this, wrapping helps nobody: lines are written whole


def width_for(stream) -> int | None:
    """The columns to write for: ``COLUMNS`` when set, else the terminal's width on a terminal; None (no
    wrapping) for a pipe or a file, whose reader has no width."""
    raw = os.environ.get("COLUMNS", "")
    if raw.strip().isdigit():
        return max(int(raw), MIN_WIDTH)
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return max(shutil.get_terminal_size((100, 24)).columns, MIN_WIDTH)


def wrap(text: str, width: int | None, first: str = "", rest: str | None = None) -> list[str]:
    """``text`` after the prefix ``first``, broken at spaces so that no line is longer than ``width``;
    continuation lines start with ``rest`` (default: spaces as wide as ``first``). A word longer than a
    whole line (a long path) gets a line of its own. ``width`` None: one line."""
    rest = " " * len(first) if rest is None else rest
    if width is None or len(first) + len(text) <= width:
        return [first + text]
    lines: list[str] = []
    line = first
    fresh = True  # nothing but the prefix on the line yet
    for word in text.split(" "):
        if fresh:
            line += word
            fresh = False
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = rest + word
    lines.append(line)
    return lines


def window(text: str, avail: int | None, marks: list[tuple[int, int]]) -> tuple[str, int]:
    """The part of the source line ``text`` shown in ``avail`` columns, and how many columns were cut on
    the left: the whole line when it fits; else a window that keeps the ``marks`` ((start column, width
    needed) pairs, 0-based) in view, with an ellipsis where the line was cut."""
    if avail is None or len(text) <= avail:
        return text, 0
    need_end = max((s + n for s, n in marks), default=0)
    first = min((s for s, _ in marks), default=0)
    shift = 0
    if need_end > avail and first > 1:  # the marks do not fit from the line's start: cut on the left
        shift = min(max(1, need_end - avail), first - 1)
    shown = text if shift == 0 else ELLIPSIS + text[shift + 1 :]
    if len(shown) > avail:
        shown = shown[: avail - 1] + ELLIPSIS
    return shown, shift
