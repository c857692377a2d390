"""One file never aborts a run: each per-file step (read, parse, resolve, check, fix) runs under ``per_file``,
which turns an unexpected exception into an LR907 finding for that file; the run goes on.

Exceptions a run must stop on (a bad --base or --reference: exit 2) pass through, and so does everything
under ``LRLINT_DEBUG=1`` (the traceback, for a bug report).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from lrlint.checks.lr9xx_input import input_finding
from lrlint.findings import Finding
from lrlint.sources import INTERNAL_ERROR, SourceError

MAX_MESSAGE = 300  # characters of the exception's message kept in the finding


def describe(e: BaseException) -> str:
    """``Type: message``, the message cut to MAX_MESSAGE characters (a message that fails to print says so)."""
    try:
        text = str(e)
    except Exception:
        text = "<the message cannot be shown>"
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def internal_error(path: str, e: BaseException, step: str = "checking") -> Finding:
    """The LR907 finding for an unexpected exception while ``step`` (checking, fixing) ``path``."""
    reason = f"internal error while {step} this file: {describe(e)}; please report it (LRLINT_DEBUG=1 shows where)"
    return input_finding(path, SourceError(INTERNAL_ERROR, reason))


@contextmanager
def per_file(path: str, findings: list[Finding], passthrough: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Run a step of ``path``; an unexpected exception adds its LR907 finding to ``findings`` (the findings the
    step made before it are kept). ``passthrough``: exceptions that stop the run (exit 2)."""
    try:
        yield
    except passthrough:
        raise
    except SourceError as e:  # an input problem raised past the step that reports it: still its own finding
        findings.append(input_finding(path, e))
    except Exception as e:
        if os.environ.get("LRLINT_DEBUG"):
            raise
        findings.append(internal_error(path, e))
