"""Regular expressions compiled on first use.

A module names its expressions' text at import (a constant) and compiles each when a run first matches
with it: ``pattern(TEXT, flags).search(...)``. Compiling every expression of every module at import cost
a one-file check milliseconds for expressions it never used (the Python reader's, the launch commands',
the suppression comments' when a file has none). One compiled object per (text, flags), kept for the run.
"""

from __future__ import annotations

import functools
import re
from typing import AnyStr


@functools.cache
def _compiled(source: str | bytes, flags: int) -> re.Pattern:
    return re.compile(source, flags)


def pattern(source: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(source, flags)``, compiled once per run."""
    return _compiled(source, flags)
