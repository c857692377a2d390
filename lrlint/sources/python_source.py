"""Python training scripts and Python configs, read through libcst (parsed, never executed); a plain config
(only assignments of literals, names, operators, lists, tuples and dicts) is read from CPython's ``ast`` by
:mod:`~lrlint.sources.py_plain` into the same Values.

``parse(source, limits)`` returns one Document (``format="python"``) whose
``values`` use the same flattened key view as YAML. What it reads, in order of
assignment (module level first, then function bodies in source order); every name of a
framework below comes from the ``python:`` sections of ``rules/frameworks/*.yaml`` and the
optimizer classes from ``rules/optimizers.yaml`` (:mod:`lrlint.python_rules`):

* literals and constant folding (``+ - * / // % **``, ``math.sqrt``, ``int()``,
  ``float()``, ``round``, ``min``/``max``, names bound to constants); f-strings are
  not evaluated;
* argparse ``add_argument`` defaults -> ``args.<dest>`` (dest as argparse derives
  it: ``--batch-size`` -> ``batch_size``; ``dest=`` wins; a string default goes
  through ``type=int/float``), click ``@click.option`` and typer ``Option(...)``
  defaults -> ``args.<name>``; ``args.X``/``opt.X``/``cfg.X`` (and ``self.hparams.X``)
  resolve to those defaults, and the Value keeps the default literal's span;
* dataclass-style config classes (``@dataclass``, pydantic models, names ending in
  Arguments/Args/Config/...) -> ``<ClassName>.<field>``; fields of classes named
  ``*Arguments``/``*Args`` (HF-style CLI dataclasses) are argparse defaults and also
  resolve ``training_args.<field>``;
* the rules' constructors (``torch.optim.*``, bitsandbytes/transformers/timm optimizers,
  ``DataLoader``, ``TrainingArguments`` family, Lightning ``Trainer``/``Fabric``,
  accelerate ``Accelerator``, MMEngine ``Runner``) anywhere in an expression, with the
  framework's defaults for arguments not given (``TrainingArguments`` trains with AdamW);
* ``dict(...)``/``{...}``/lists assigned to names -> nested keys (MMEngine), and
  Detectron2 LazyConfig ``L(x)(...)`` objects and attribute assignments.

Key conventions are listed in :mod:`lrlint.sources.py_analyze` (the statement walk); expressions
are evaluated by :mod:`~lrlint.sources.py_eval`, command-line options and config classes read by
:mod:`~lrlint.sources.py_cli`, the rules' callables matched by :mod:`~lrlint.sources.py_ctors`.

An lr that depends on a batch-like name (``batch_size``, ``bs``, ``world_size``,
``accum_iter``, ``args.batch_size``, ``dist.get_world_size()``...) carries
``Value.scaling`` (an :class:`lrlint.values.ExprScaling`: exponent, batch keys, factors,
text; the alternatives when the script picks the rule at run time, ``conditional`` when
only some branch scales). A Value read through another key (``optimizer.lr`` from
``args.lr``) has ``Value.alias_of``.

Guards: files nested deeper than ``limits.max_depth`` brackets (CPython itself
stops at 200), holding an expression chain libcst parses in quadratic time, or an
expression nested deeper than :mod:`lrlint.sources.py_guard` allows are LR905;
syntax errors (Python 2 included) are LR901 with the parser's line and
column. The parse runs on a thread with a large stack (:mod:`lrlint.bigstack`: one per run), so
libcst's native parser cannot overflow the interpreter's stack.
"""

from __future__ import annotations

import re
import sys
from itertools import accumulate
from typing import Any

from lrlint import bigstack
from lrlint.python_rules import PythonTable, python_table
from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, Source, SourceError
from lrlint.values import EXPRESSION, UNKNOWN, Document, ExprScaling, Value

_BRACKETS = re.compile(r"[^()\[\]{}]+")
_DELTA = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_LONG_LINE = re.compile(r"^.{2000,}$", re.MULTILINE)
_BIN_OP = re.compile(r"(?<=[\w)\]'\"])\s*(?:\*\*|//|<<|>>|[-+*/%@&|^])\s*(?=[\w(\['\"])")
_ATTR_DOT = re.compile(r"(?<=[A-Za-z_)\]])\.(?=[A-Za-z_])")
_PY2_HINT = re.compile(
    r"^\s*(?:print\s+[^(\s=]|exec\s+['\"]|except\s+[\w.]+\s*,\s*\w+\s*:|raise\s+\w+\s*,)|`|\b0[0-7]+\b|\bur['\"]|<>"
)
MAX_CHAIN = 1000
DEEP_RECURSION = 30_000


def mentions_training_names(text: str) -> bool:
    """Cheap textual pre-filter: does the file mention a batch/lr/optimizer name (or its bases) at all?

    The words are the rules' ``python.prefilter`` (a config that only names its bases is parsed too:
    its bases hold the recipe)."""
    return python_table().mentions_training_names(text)


def warm() -> None:
    """Import libcst and the reader's modules and build the rules' Python knowledge (``sources.preload``)."""
    import libcst  # noqa: F401

    from lrlint.sources import py_analyze, py_positions  # noqa: F401

    python_table()


def _max_depth(text: str) -> int:
    """Deepest bracket nesting, counting brackets only (C-speed: no Python loop per character)."""
    brackets = _BRACKETS.sub("", text)
    if not brackets:
        return 0
    return max(accumulate(map(_DELTA.__getitem__, brackets)))


def _depth_at(text: str, limit: int) -> int:
    """Character offset where the nesting first exceeds ``limit``."""
    depth = 0
    for m in re.finditer(r"[()\[\]{}]", text):
        depth += 1 if m.group() in "([{" else -1
        if depth > limit:
            return m.start()
    return 0


def _guard(source: Source, limits: Limits) -> None:
    text = source.text
    best = _max_depth(text)
    if best > limits.max_depth:
        line, col = source.lines.line_col(_depth_at(text, limits.max_depth))
        raise SourceError(
            LIMIT_EXCEEDED,
            f"brackets nested {best} deep, over the limit of {limits.max_depth} (Python itself allows 200)",
            line,
            col,
        )
    for m in _LONG_LINE.finditer(text):
        seg = m.group()
        n = max(len(_BIN_OP.findall(seg)), len(_ATTR_DOT.findall(seg)))
        if n > MAX_CHAIN:
            line, col = source.lines.line_col(m.start())
            raise SourceError(
                LIMIT_EXCEEDED, f"a line holds a chain of {n} operators, over lrlint's limit of {MAX_CHAIN}", line, col
            )


_ERROR_AT = re.compile(r"error at (\d+):(\d+): (.*)")


def _syntax_error(source: Source, e: Any) -> SourceError:
    """LR901 at the parser's position (libcst's ``error at L:C`` detail, else its raw line)."""
    full = str(e)
    m = _ERROR_AT.search(full)
    if m:
        line, col, detail = int(m.group(1)), int(m.group(2)), m.group(3).strip()
    else:
        line, col = int(getattr(e, "raw_line", 1) or 1), int(getattr(e, "raw_column", 0) or 0) + 1
        detail = (str(getattr(e, "message", "")) or full).strip().splitlines()[0]
    if detail.startswith("expected one of ") and len(detail) > 90:
        detail = detail[:87].rsplit(",", 1)[0] + ", ..."
    nlines = len(source.lines.line_starts)
    line = max(1, min(line, nlines))
    col = max(1, col)
    reason = f"Python syntax error: {detail}"
    window = [source.lines.line_text(n) for n in range(max(1, line - 2), line + 1)]
    if any(_PY2_HINT.search(x) for x in window):
        reason += " (this looks like Python 2; lrlint reads Python 3 only)"
    return SourceError(PARSE_ERROR, reason, line, col)


def parse(source: Source, limits: Limits, table: PythonTable | None = None) -> list[Document]:
    """The file's one Document (none when it mentions no training name); ``table``: the rules' Python
    knowledge (default: the shipped profiles')."""
    table = table or python_table()
    if not table.mentions_training_names(source.text):
        return []
    _guard(source, limits)
    return bigstack.run(lambda: _parse(source, limits, table))


CHUNK_CHARS = 128 * 1024
_TOP_STMT = re.compile(r"^(?!(?:else|elif|except|finally|case)\b)[A-Za-z_@]", re.MULTILINE)


def _chunks(text: str) -> list[tuple[int, int]]:
    """Character ranges of whole top-level statements, about CHUNK_CHARS each.

    libcst's parser slows down more than linearly with the size of one module (a
    5 MB generated file takes minutes in one piece), so big files are cut at lines
    that start a top-level statement, with brackets balanced and triple quotes
    paired before them (counted incrementally: linear in the file). A wrong cut
    that slips through makes a piece fail to parse, and the file is then parsed whole.
    """
    n = len(text)
    if n <= 2 * CHUNK_CHARS:
        return [(0, n)]
    out: list[tuple[int, int]] = []
    begin = 0
    pos = CHUNK_CHARS
    scanned = 0  # text[:scanned] is counted in depth/dq/sq
    depth = dq = sq = 0
    while n - begin > 2 * CHUNK_CHARS:
        m = _TOP_STMT.search(text, pos)
        if m is None:
            break
        off = m.start()
        seg = text[scanned:off]
        depth += sum(map(_DELTA.__getitem__, _BRACKETS.sub("", seg)))
        dq += seg.count('"""')
        sq += seg.count("'''")
        scanned = off
        prev = text[text.rfind("\n", 0, off - 1) + 1 : off].rstrip()
        if depth or dq % 2 or sq % 2 or prev.startswith("@") or prev.endswith("\\"):
            pos = off + 1
            continue
        out.append((begin, off))
        begin, pos = off, off + CHUNK_CHARS
    out.append((begin, n))
    return out


def _parse(source: Source, limits: Limits, table: PythonTable, plain: bool = True) -> list[Document]:
    """The Documents of ``source``; ``plain``: read a plain config with :mod:`py_plain` (False: always the
    libcst walk, as the tests that compare the two ask)."""
    from lrlint.sources import py_guard, py_plain

    text = source.text
    lines = source.lines
    ranges = _chunks(text)
    checked = False
    if plain and len(ranges) == 1:
        # a plain config (assignments of literals, names, operators and dicts) is read with CPython's parser
        tree = py_guard.check(text, 0, len(text), lines)
        checked = True
        found = py_plain.read(source, tree, table, limits)
        if found is not None:
            values = _values(source, found[0], found[1], table)
            return [Document(source.path, "python", values, 0, lines, _comment_map(lines, found[2]))]
    import libcst as cst

    from lrlint.sources.py_positions import locate

    # the cycle collector is paused during a run (bigstack.run): collecting while the CST grows would make
    # the parse quadratic
    modules = []
    try:
        parsed_ranges = []
        for a, b in ranges:
            # in a big file, pieces that mention no training name are not parsed at all
            if len(ranges) > 1 and not table.mentions_training_names(text[a:b]):
                continue
            if not checked:
                py_guard.check(text, a, b, lines)  # nesting libcst would need too much time or memory for
            modules.append(cst.parse_module(text[a:b]))
            parsed_ranges.append((a, b))
        ranges = parsed_ranges
    except (cst.ParserSyntaxError, py_guard.Unparsable) as e:
        if len(ranges) == 1:
            raise (e if isinstance(e, SourceError) else _syntax_error(source, e)) from None
        try:  # a cut fell inside a string: parse the file whole
            py_guard.check(text, 0, len(text), lines)
            modules, ranges = [cst.parse_module(text)], [(0, len(text))]
        except cst.ParserSyntaxError as e2:
            raise _syntax_error(source, e2) from None
    except RecursionError:
        raise SourceError(LIMIT_EXCEEDED, "expression nested too deeply for the Python parser") from None
    except (ValueError, UnicodeError) as e:  # e.g. a coding cookie libcst re-reads
        raise SourceError(PARSE_ERROR, f"Python source cannot be parsed: {e}") from None
    variants = _analyse(modules, limits, table)
    targets = {id(s.node) for _, syms in variants for s in syms.values() if s.node is not None}
    syms = variants[0][1]
    spans: dict = {}
    comments: list[tuple[int, str]] = []
    total = 0
    for (a, _), module in zip(ranges, modules, strict=True):
        sp, cm, length = _locate(locate, module, targets, bool(syms))
        for node, (x, y) in sp.items():
            spans[node] = (x + a, y + a)
        comments.extend((off + a, t) for off, t in cm)
        total += length
    if total != sum(b - a for a, b in ranges):  # pragma: no cover - libcst round-trips exactly
        raise SourceError(PARSE_ERROR, "libcst did not reproduce the file's text; positions would be wrong")
    cmap = _comment_map(lines, comments)
    return [
        Document(source.path, "python", _values(source, syms, spans, table), i, lines, cmap, variant=variant)
        for i, (variant, syms) in enumerate(variants)
    ]


def _comment_map(lines: Any, comments: list[tuple[int, str]]) -> dict[int, str]:
    """Line -> the text of its comment, without the ``#``."""
    cmap: dict[int, str] = {}
    for off, t in comments:
        line, _ = lines.line_col(off)
        cmap[line] = t[1:]
    return cmap


def _analyse(modules: list, limits: Limits, table: PythonTable) -> list[tuple[str | None, dict]]:
    """The walk's keys: one set, or one per branch of the first ``if`` lrlint cannot decide whose branches
    set a batch or lr setting differently (``if ddp: ... else: gradient_accumulation_steps *= 8``), named by
    the branch's condition (``ddp``, ``not ddp``)."""
    from lrlint.sources.py_analyze import Analyzer

    def walk(forced: dict[str, bool] | None) -> tuple[dict, list[str]]:
        a = Analyzer(modules, limits, table, forced)
        try:
            return a.run(), a.splits
        finally:
            a.release()

    try:
        syms, splits = walk(None)
        if not splits:
            return [(None, syms)]
        cond = splits[0]
        return [(cond if taken else f"not {cond}", walk({cond: taken})[0]) for taken in (True, False)]
    except RecursionError:
        raise SourceError(LIMIT_EXCEEDED, "statements or expressions nested too deeply to analyse") from None
    except OverflowError as e:
        raise SourceError(
            LIMIT_EXCEEDED, f"{e}: the file was not checked (no batch or lr change was looked for)"
        ) from None


def _values(source: Source, syms: dict, spans: dict, table: PythonTable) -> dict[str, Value]:
    """The walk's Syms as Values: exact spans and raw text, why, aliases and the lr's batch dependence."""
    text, lines = source.text, source.lines
    values: dict[str, Value] = {}
    for key, s in syms.items():
        pos = spans.get(id(s.node)) if s.node is not None else None
        span = lines.span(source.path, pos[0], pos[1]) if pos else None
        raw = text[pos[0] : pos[1]] if pos else ""
        names = (s.extra or {}).get("names")
        alias_of = s.origin if s.origin and s.origin != key else None
        scaling = None
        why = s.why
        if s.prov == EXPRESSION and not why:
            why = f"computed from {_short(raw)}"
        if s.scale is not None and not table.batch_like(key):
            sc = s.scale
            exps = sc.alternatives
            scaling = ExprScaling(
                exponent=max(exps) if exps else sc.exponent(),
                batch_keys=tuple(dict.fromkeys(k for (_, k) in sc.deps if k)),
                factors=tuple(dict.fromkeys(label for (label, _) in sc.deps)),
                text=raw,
                alternatives=tuple(exps),
                conditional=bool(sc.conditional),
            )
        value = s.value if s.prov != UNKNOWN else None
        values[key] = Value(
            key,
            value,
            span,
            s.prov,
            raw,
            why,
            scaling=scaling,
            alias_of=alias_of,
            names=tuple(names) if names else None,
        )
    return values


def _locate(locate: Any, module: Any, targets: set, want_comments: bool) -> tuple:
    """Positions; a very deep expression gets a higher recursion limit (we run on a big stack)."""
    try:
        return locate(module, targets, want_comments)
    except RecursionError:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, DEEP_RECURSION))
        try:
            return locate(module, targets, want_comments)
        except RecursionError:
            raise SourceError(LIMIT_EXCEEDED, "an expression is nested too deeply to locate its values") from None
        finally:
            sys.setrecursionlimit(old)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
