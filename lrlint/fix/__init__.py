"""Applying fixes: byte edits, re-parse and re-check in memory, then an atomic write.

The loop (ruff's shape, capped at ``MAX_ITERATIONS``):

1. pick the applicable fixes (safe; unsafe too with ``unsafe=True``; never display-only),
   one non-overlapping set per file;
2. apply their edits to the file's bytes (``Span.start:end`` are byte offsets into
   ``Source.data``, BOM included), checking that each new literal loads as the same type
   as the old one;
3. re-parse the new bytes (a file that no longer parses is reverted and reported) and
   re-check it in memory, with the same base and reference;
4. repeat while fixes remain, then write each changed file atomically (temporary file in
   the same directory, fsync, rename, mode kept) unless it changed on disk since it was read.

Nothing here writes when ``write=False`` (``--diff``). ``edits``: which fixes a round applies and how
their bytes change; ``loop``: the rounds; ``files``: the diff and the atomic write.
"""

from __future__ import annotations

from lrlint.fix.edits import applicable, apply_edits, newline_of, select, type_kept
from lrlint.fix.files import fsync_dir, read_current, unified_diff, write_atomic
from lrlint.fix.loop import MAX_ITERATIONS, Fixed, FixOutcome, apply

__all__ = [
    "MAX_ITERATIONS",
    "FixOutcome",
    "Fixed",
    "applicable",
    "apply",
    "apply_edits",
    "fsync_dir",
    "newline_of",
    "read_current",
    "select",
    "type_kept",
    "unified_diff",
    "write_atomic",
]
