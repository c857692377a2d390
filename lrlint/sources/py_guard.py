"""A bound on expression nesting, checked before libcst sees a piece of Python text.

libcst builds nested expressions recursively, and its time and memory grow faster than the nesting:
4,000 unary minus signs in a row take about 900 MB, a chain of conditional expressions or lambdas
three times that, a chain of subscripts minutes. Brackets are bounded elsewhere; this bounds the
nesting that needs none (``-``, ``+``, ``~``, ``not``, ``lambda:``, ``await``, ``f()()``, ``a[0][0]``,
``x if c else ...``, operator chains across lines).

Every nesting level of an expression has a structural token of its own (an operator, a bracket, a
dot, a comma, a colon or a keyword), so a statement whose text holds fewer of them than the limit
cannot be too deep. A piece with fewer in all is not looked at further. Otherwise CPython's parser
(C code: linear, and it executes nothing) reads the piece and the statements with enough tokens are
measured on its tree. A piece CPython cannot parse is measured per logical line on its tokens; when
one line could nest past the limit (or its tokens cannot be read), the syntax error is reported in
CPython's words and libcst is not run.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, SourceError
from lrlint.spans import LineIndex

# Measured on libcst 1.x (CPython 3.11): ordinary code parses at about 10 us and 600 bytes of memory per
# character, nesting below 30. At 100 levels a chain of lambdas needs 4x that memory per character, a
# chain of subscripts 10x that time; an operator chain (``a + b + ...``, flat in CPython's tree but
# nested in libcst's) costs less per level and is allowed 1,000 long, where it runs at 9x.
MAX_EXPRESSION_DEPTH = 100
MAX_OPERATOR_CHAIN = 1000
_CHAINS = (ast.BinOp, ast.BoolOp, ast.Compare)

_STRUCTURAL = re.compile(r"[-+~*/%@&|^<>=!.,:;(\[{]|\b(?:not|and|or|if|else|lambda|await|yield|for|in|is)\b")
_KEYWORDS = frozenset(("not", "and", "or", "if", "else", "lambda", "await", "yield", "for", "in", "is"))
_BODIES = (ast.stmt, ast.excepthandler, ast.match_case)


class Unparsable(SourceError):
    """CPython cannot parse the piece and it may nest too deeply for libcst: LR901 in CPython's words."""


def check(text: str, start: int, end: int, lines: LineIndex) -> ast.Module | None:
    """Raise LR905 when ``text[start:end]`` nests an expression deeper than the limit, :class:`Unparsable`
    when CPython cannot parse it and it could; return when libcst may parse it, with CPython's tree of the
    piece when it was parsed to measure it."""
    tokens = [m.start() for m in _STRUCTURAL.finditer(text, start, end)]
    if len(tokens) <= MAX_EXPRESSION_DEPTH:
        return None
    first_line = lines.line_col(start)[0]
    piece = text[start:end]
    try:
        tree = ast.parse(piece)
    except (RecursionError, MemoryError):  # past CPython's own limit (about 3,000 levels)
        raise SourceError(LIMIT_EXCEEDED, "an expression nested deeper than Python itself parses", first_line) from None
    except SyntaxError as e:
        if _logical_line_bound(piece) <= MAX_EXPRESSION_DEPTH:
            return None  # libcst reports the error in its words, within the bound
        line = first_line + (e.lineno or 1) - 1
        raise Unparsable(PARSE_ERROR, f"Python syntax error: {e.msg}", line, max(1, e.offset or 1)) from None
    except ValueError as e:  # NUL characters
        raise Unparsable(PARSE_ERROR, f"Python source cannot be parsed: {e}", first_line) from None
    starts = lines.line_starts

    def count(first: int, last: int) -> int:
        """Structural tokens on the piece's lines ``first``..``last`` (1-based, inclusive)."""
        a = starts[min(first_line + first - 2, len(starts) - 1)]
        b = starts[first_line + last - 1] if first_line + last - 1 < len(starts) else len(text)
        return bisect.bisect_left(tokens, b) - bisect.bisect_left(tokens, a)

    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        nested = [v for _, v in ast.iter_fields(stmt) if isinstance(v, list) and v and isinstance(v[0], _BODIES)]
        if nested:  # a compound statement: its bodies one statement at a time, its header whole
            for body in nested:
                stack.extend(body)
            if count(stmt.lineno, nested[0][0].lineno) > MAX_EXPRESSION_DEPTH:
                _measure([c for c in ast.iter_child_nodes(stmt) if not isinstance(c, _BODIES)], lines, first_line)
        elif count(stmt.lineno, stmt.end_lineno or stmt.lineno) > MAX_EXPRESSION_DEPTH:
            _measure([stmt], lines, first_line)
    return tree


def _measure(roots: list[ast.AST], lines: LineIndex, first_line: int) -> None:
    """Nesting below ``roots`` (iterative): operator-chain levels and the other expression levels apart;
    LR905 at the outermost expression of the path that goes past a limit."""
    stack: list[tuple[ast.AST, int, int, ast.expr | None]] = [(r, 0, 0, None) for r in roots]
    worst: tuple[int, int, ast.expr] | None = None  # (depth, chain, anchor) past a limit, the deepest
    while stack:
        node, depth, chain, anchor = stack.pop()
        if isinstance(node, ast.expr):
            anchor = anchor or node
            if isinstance(node, _CHAINS):
                chain += 1
            else:
                depth += 1
            if (depth > MAX_EXPRESSION_DEPTH or chain > MAX_OPERATOR_CHAIN) and (
                worst is None or depth + chain > worst[0] + worst[1]
            ):
                worst = (depth, chain, anchor)
        stack.extend((c, depth, chain, anchor) for c in ast.iter_child_nodes(node))
    if worst is None:
        return
    depth, chain, where = worst
    line = first_line + where.lineno - 1
    raw = lines.line_text(line).encode("utf-8", "surrogateescape")[: where.col_offset]
    col = len(raw.decode("utf-8", "replace")) + 1
    if depth > MAX_EXPRESSION_DEPTH:
        reason = f"an expression nested {depth} deep, over lrlint's limit of {MAX_EXPRESSION_DEPTH}"
    else:
        reason = f"an operator chain {chain} long, over lrlint's limit of {MAX_OPERATOR_CHAIN}"
    raise SourceError(LIMIT_EXCEEDED, reason, line, col)


def _logical_line_bound(piece: str) -> int:
    """The most structural tokens in one logical line (an upper bound of its nesting); past the limit
    when the tokens cannot be read."""
    best = count = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(piece).readline):
            if tok.type == tokenize.NEWLINE:
                best, count = max(best, count), 0
            elif tok.type == tokenize.OP or (tok.type == tokenize.NAME and tok.string in _KEYWORDS):
                count += 1
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return MAX_EXPRESSION_DEPTH + 1
    return max(best, count)
