"""The composed YAML tree (scalars, mappings, sequences, aliases of one document) and its flattening.

Flattening turns a document's tree into ``{dotted key path: Value}``, iteratively and with a budget:
more than ``limits.max_values`` leaves (an alias bomb) or paths deeper than ``limits.max_depth`` (alias
chains) raise LIMIT_EXCEEDED; a recursive alias is skipped and reported. Merge keys ``<<`` follow
PyYAML: explicit keys win, and earlier mappings of a ``<<`` sequence win over later ones.
"""

from __future__ import annotations

from typing import Any

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, Source, SourceError
from lrlint.values import LITERAL, STRING, Value

MERGE = "tag:yaml.org,2002:merge"

__all__ = ["MERGE", "Alias", "Doc", "Mapping", "Scalar", "Sequence", "flatten"]


class Scalar:
    __slots__ = ("text", "value", "tag", "start", "end", "bad")

    def __init__(self, text: str, value: object, tag: str | None, start: int, end: int, bad: bool) -> None:
        self.text = text  # the scalar's content, as a key part
        self.value = value  # the resolved value
        self.tag = tag  # resolved tag
        self.start = start  # the token (properties excluded), character offsets
        self.end = end
        self.bad = bad  # unsupported tag: skipped (already reported)


class Mapping:
    __slots__ = ("pairs", "start", "bad", "eff")

    def __init__(self, start: int, bad: bool) -> None:
        self.pairs: list[list] = []
        self.start = start
        self.bad = bad
        self.eff: dict | None = None  # key text -> value node, merges applied


class Sequence:
    __slots__ = ("items", "start", "bad")

    def __init__(self, start: int, bad: bool) -> None:
        self.items: list = []
        self.start = start
        self.bad = bad


class Alias:
    __slots__ = ("target", "name", "start")

    def __init__(self, target: object, name: str, start: int) -> None:
        self.target = target
        self.name = name
        self.start = start


class Doc:
    __slots__ = ("root", "start", "problems", "aliases")

    def __init__(self, start: int) -> None:
        self.root: object = None
        self.aliases = 0
        self.start = start
        self.problems: list[SourceError] = []


# --- flattening (iterative, bounded) ------------------------------------------------

_EXIT = object()


class _Context:
    """What flattening one document needs: the source, the limits, its problems, a work budget."""

    __slots__ = ("source", "limits", "problems", "work")

    def __init__(self, source: Source, limits: Limits, problems: list) -> None:
        self.source = source
        self.limits = limits
        self.problems = problems
        self.work = 4 * limits.max_values + 1000  # node visits and merged entries, for all of the document

    def error(self, code: str, reason: str, index: int) -> SourceError:
        line, col = self.source.lines.line_col(max(index, 0))
        return SourceError(code, reason, line, col)

    def spend(self, n: int, index: int) -> None:
        self.work -= n
        if self.work < 0:
            raise self.error(
                LIMIT_EXCEEDED,
                f"YAML aliases or merge keys expand this document beyond {self.limits.max_values} values; not analyzed",
                index,
            )


def flatten(doc: Doc, source: Source, limits: Limits, index: int) -> dict[str, Value]:
    values: dict[str, Value] = {}
    root = doc.root
    if root is None or root.__class__ is Scalar:
        return values  # empty, null or scalar document: no key paths
    ctx = _Context(source, limits, doc.problems)
    if doc.aliases:
        _measure(root, ctx)  # rejects an alias bomb before anything is expanded
    text = source.text
    span = source.lines.span
    path_name = source.path
    max_values = limits.max_values
    max_depth = limits.max_depth
    active: set[int] = set()  # collections on the current path (recursive aliases)
    reported: set[int] = set()
    stack: list = [(root, "", 0, -1)]
    while stack:
        node, path, depth, via = stack.pop()
        if node is _EXIT:
            active.discard(path)
            continue
        cls = node.__class__
        if cls is Alias:
            if id(node.target) in active:
                if id(node) not in reported:
                    reported.add(id(node))
                    doc.problems.append(
                        ctx.error(LIMIT_EXCEEDED, f"recursive YAML alias *{node.name}; value skipped", node.start)
                    )
                continue
            via = node.start
            node = node.target
            cls = node.__class__
        if node.bad:
            continue
        if cls is Scalar:
            s, e = node.start, node.end
            v = node.value
            values[path] = Value(path, v, span(path_name, s, e), STRING if v.__class__ is str else LITERAL, text[s:e])
            if len(values) > max_values:  # the values before this one are checked; it is said where reading stopped
                del values[path]
                doc.problems.append(
                    ctx.error(LIMIT_EXCEEDED, _PAST_LIMIT.format(f"YAML document {index}", max_values), s)
                )
                return values
            continue
        if depth >= max_depth:
            raise ctx.error(
                LIMIT_EXCEEDED,
                f"YAML aliases nest key paths deeper than {max_depth} levels; not analyzed",
                via if via >= 0 else node.start,
            )
        ctx.spend(1, via if via >= 0 else node.start)
        active.add(id(node))
        stack.append((_EXIT, id(node), 0, -1))
        prefix = path + "." if path else ""
        depth += 1
        if cls is Mapping:
            eff = node.eff if node.eff is not None else _effective(node, ctx)
            for k, v in reversed(eff.items()):
                stack.append((v, prefix + k, depth, via))
        else:
            items = node.items
            for i in range(len(items) - 1, -1, -1):
                stack.append((items[i], prefix + str(i), depth, via))
    return values


_PAST_LIMIT = (
    "{} has more than {} values: the values from this line on were not read, the checks saw only those before it"
)


# Below, nodes are told apart by their exact class (``n.__class__ is Mapping``, the fast test in these
# loops), which a type checker does not follow: a node is typed Any.


def _deref(node: Any) -> Any:
    return node.target if node.__class__ is Alias else node


def _children(node: Any, ctx: _Context) -> list[Any]:
    if node.bad:
        return []
    if node.__class__ is Mapping:
        eff = node.eff if node.eff is not None else _effective(node, ctx)
        return [_deref(v) for v in eff.values()]
    return [_deref(v) for v in node.items]


def _measure(root: Any, ctx: _Context) -> None:
    """Leaves, nodes and nesting of the expanded tree, computed over the shared (aliased) nodes.

    Linear in the composed document, so a billion-laughs file is rejected without
    being expanded. Recursive aliases count once (flattening skips them).
    """
    limits = ctx.limits
    cap = 1 << 62
    memo: dict[int, tuple[int, int, int]] = {}  # id -> (leaves, nodes, height)
    open_: set[int] = set()
    stack = [root]
    while stack:
        n = stack[-1]
        key = id(n)
        if key in memo:
            stack.pop()
            continue
        if n.__class__ is Scalar:
            memo[key] = (0 if n.bad else 1, 1, 0)
            stack.pop()
            continue
        if key not in open_:
            open_.add(key)
            kids = [k for k in _children(n, ctx) if id(k) not in memo and id(k) not in open_]
            if kids:
                stack.extend(kids)
                continue
        leaves = nodes = height = 0
        for k in _children(n, ctx):
            m = memo.get(id(k))
            if m is not None:
                leaves += m[0]
                nodes += m[1]
                height = max(height, m[2])
        leaves, nodes, height = min(leaves, cap), min(nodes + 1, cap), height + 1
        if leaves > limits.max_values or nodes > ctx.work:
            raise ctx.error(
                LIMIT_EXCEEDED,
                f"YAML aliases expand this document to more than {limits.max_values} values; not analyzed",
                n.start,
            )
        if height > limits.max_depth:
            raise ctx.error(
                LIMIT_EXCEEDED,
                f"YAML aliases nest key paths deeper than {limits.max_depth} levels; not analyzed",
                n.start,
            )
        memo[key] = (leaves, nodes, height)
        open_.discard(key)
        stack.pop()


def _effective(node: Mapping, ctx: _Context) -> dict:
    """``node``'s pairs (key text -> value node) with merge keys applied, as PyYAML's flatten_mapping.

    Iterative over chains of merges; each mapping's result is memoised in ``eff``.
    """
    todo = [node]
    visiting: set[int] = set()
    while todo:
        n = todo[-1]
        if n.eff is not None:
            todo.pop()
            continue
        if id(n) not in visiting:
            pending = [m for m in _merge_sources(n, None) if m.eff is None and id(m) not in visiting]
            if pending:
                visiting.add(id(n))
                todo.extend(pending)
                continue
        eff: dict = {}
        for m in _merge_sources(n, ctx):
            if m.eff is not None:  # None: a merge cycle; PyYAML drops the repeated merge too
                ctx.spend(len(m.eff), n.start)
                eff.update(m.eff)
        for k, v in n.pairs:
            k = _deref(k)
            if k.__class__ is Scalar:
                if not k.bad and k.tag != MERGE:
                    eff[k.text] = v  # an explicit key wins, in the merged key's place (as a dict update)
            elif not k.bad:
                ctx.problems.append(
                    ctx.error(
                        PARSE_ERROR, "a mapping or sequence as a mapping key is not supported; value skipped", k.start
                    )
                )
        n.eff = eff
        todo.pop()
    assert node.eff is not None  # the loop ends once every mapping on it has its eff
    return node.eff


def _merge_sources(n: Mapping, ctx: _Context | None) -> list[Mapping]:
    """The mappings merged into ``n``, in the order PyYAML applies them (later ones win).

    With ``ctx``, a merge of something other than mappings is reported there.
    """
    out: list[Mapping] = []
    for k, v in n.pairs:
        k = _deref(k)
        if k.__class__ is not Scalar or k.tag != MERGE or k.bad:
            continue
        v = _deref(v)
        if v.__class__ is Mapping:
            if not v.bad:
                out.append(v)
            continue
        if v.__class__ is Sequence and not v.bad:
            subs = [_deref(item) for item in v.items]
            if all(item.__class__ is Mapping for item in subs):
                out.extend(item for item in reversed(subs) if not item.bad)  # earlier mappings win
                continue
        if v.bad or ctx is None:
            continue
        ctx.problems.append(
            ctx.error(PARSE_ERROR, "expected a mapping or a list of mappings for merging (<<); merge skipped", v.start)
        )
    return out
