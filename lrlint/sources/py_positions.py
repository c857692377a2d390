"""Character offsets of a few libcst nodes, and the file's comments, in one code-generation pass.

libcst's ``PositionProvider`` records a position for every node (about 2x a parse
on its own). We only need the nodes our Values point at: a ``CodegenState`` that
records the token count when one of those nodes starts and ends, then turns
token counts into character offsets with one ``accumulate`` over the token lengths.
The generated code is the file's text (libcst round-trips exactly), so the offsets
index ``Source.text``.
"""

from __future__ import annotations

from itertools import accumulate, compress, repeat
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState


class _Null:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


_NULL = _Null()


class _Recorder:
    __slots__ = ("state", "node", "start")

    def __init__(self, state: _OffsetState, node: Any) -> None:
        self.state = state
        self.node = node
        self.start = 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc: Any) -> None:
        self.state.found[id(self.node)] = (self.start, len(self.state.tokens))


class _OffsetState(CodegenState):
    """Code generation that remembers token indexes for the target nodes only."""

    def __init__(self, module: cst.Module, targets: set) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.found: dict[Any, tuple[int, int]] = {}
        # per-token and per-node hooks as C callables: the pass runs them ~10^5 times per file
        self.add_token = self.tokens.append  # type: ignore[assignment]  # list.append for the method: same call

    before_codegen = staticmethod(id)  # type: ignore[assignment]
    after_codegen = staticmethod(id)  # type: ignore[assignment]

    def record_syntactic_position(self, node: Any, *, start_node: Any = None, end_node: Any = None):
        if id(node) in self.targets:
            return _Recorder(self, node)
        return _NULL


def locate(
    module: cst.Module, targets: set, want_comments: bool
) -> tuple[dict[Any, tuple[int, int]], list[tuple[int, str]], int]:
    """(id(node) -> (start, end) character offsets, [(offset, comment text)], total length).

    ``targets`` holds ``id()``s: libcst nodes are frozen dataclasses whose hash walks the whole subtree.
    """
    state = _OffsetState(module, targets)
    module._codegen(state)
    tokens = state.tokens
    cum = list(accumulate(map(len, tokens), initial=0))
    last = len(cum) - 1
    spans = {node: (cum[min(a, last)], cum[min(b, last)]) for node, (a, b) in state.found.items()}
    comments: list[tuple[int, str]] = []
    if want_comments:
        n = len(tokens)
        for i in compress(range(n), map(str.startswith, tokens, repeat("#"))):
            # a comment token starts with '#', holds no newline, and ends its line
            # (an f-string's literal part can start with '#', but never ends a line)
            t = tokens[i]
            if "\n" not in t:
                nxt = tokens[i + 1] if i + 1 < n else "\n"
                if nxt[:1] in ("\n", "\r", ""):
                    comments.append((cum[i], t))
    return spans, comments, cum[-1]
