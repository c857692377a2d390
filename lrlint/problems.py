"""A problem with one input file (bad syntax, bytes that are not text, a limit reached, a missing base).

Raised by the readers and parsers, kept in ``Document.problems`` when the rest of the file is still
checked, and reported as an LR9xx finding. Defined below ``values`` and ``sources`` so both can name it;
``lrlint.sources`` re-exports it beside the LR9xx codes.
"""

from __future__ import annotations


class SourceError(Exception):
    """A problem with one input file; becomes an LR9xx finding at ``line``/``col`` (1-based)."""

    def __init__(
        self,
        code: str,
        reason: str,
        line: int = 1,
        col: int = 1,
        end_line: int | None = None,
        end_col: int | None = None,
        info: bool = False,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.info = info  # information, not an error (a documented idiom lrlint does not evaluate)
        self.line = line
        self.col = col
        self.end_line = end_line or line
        self.end_col = end_col or col

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Copies and pickles carry every field (a copy has no traceback: see ``Resolver.load``)."""
        return (type(self), (self.code, self.reason, self.line, self.col, self.end_line, self.end_col, self.info))


class Missing(SourceError):
    """The path names nothing (deleted, or a link to nothing)."""
