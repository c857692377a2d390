"""YAML -> Documents: every scalar leaf under its dotted key path, with its exact span.

How it reads (nothing is ever constructed from a tag):

* PyYAML's *event* stream (libyaml's C parser where present, else the pure
  parser) is composed here, iteratively, into a small tree. PyYAML's own
  composer is recursive: the pure one raises RecursionError near 1,000 levels
  and the C one (Cython) overflows the C stack and segfaults near 30,000
  levels, so it is not used. Nesting beyond ``limits.max_depth`` stops the
  parse there (LIMIT_EXCEEDED), which also bounds libyaml's quadratic cost on
  deep flow collections.
* Scalars are resolved with PyYAML's resolver and SafeConstructor (YAML 1.1:
  ``1e-5`` is a str, ``0x10`` and ``1_000`` are ints), so values match what a
  framework loading the file with ``yaml.safe_load`` sees.
* Flattening is iterative too, with a budget: more than ``limits.max_values``
  leaves (an alias bomb) or paths deeper than ``limits.max_depth`` (alias
  chains) raise LIMIT_EXCEEDED; a recursive alias is skipped and reported.
* Anchors/aliases: an alias's leaves carry the anchored definition's spans.
  Merge keys ``<<`` follow PyYAML: explicit keys win, and earlier mappings of a
  ``<<`` sequence win over later ones.
* Tags outside the YAML core set (``!!python/...``, ``!include``, ``!ref``, ...)
  are reported in ``Document.problems`` (UNSAFE_TAG) and their subtree skipped.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, UNSAFE_TAG, Limits, Source, SourceError
from lrlint.sources.comments import find_comments
from lrlint.spans import lf_breaks
from lrlint.values import LITERAL, STRING, Document, Value

# libyaml's loader; the pure-Python one when PyYAML was built without libyaml
DEFAULT_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["parse", "parse_with", "DEFAULT_LOADER"]

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
MERGE = _T + "merge"
_KEEP_TEXT = {_T + "timestamp", _T + "binary", _T + "value", MERGE}  # no Scalar type: kept as their text
_SCALAR_TAGS = {None, "!", STR, INT, FLOAT, BOOL, NULL} | _KEEP_TEXT
_MAPPING_TAGS = {None, "!", _T + "map", _T + "set"}
_SEQUENCE_TAGS = {None, "!", _T + "seq", _T + "omap", _T + "pairs"}
_CORE = {
    "str",
    "int",
    "float",
    "bool",
    "null",
    "timestamp",
    "binary",
    "value",
    "merge",
    "map",
    "set",
    "seq",
    "omap",
    "pairs",
}


class _Scalar:
    __slots__ = ("text", "value", "tag", "start", "end", "bad")

    def __init__(self, text: str, value: object, tag: str | None, start: int, end: int, bad: bool) -> None:
        self.text = text  # the scalar's content, as a key part
        self.value = value  # the resolved value
        self.tag = tag  # resolved tag
        self.start = start  # the token (properties excluded), character offsets
        self.end = end
        self.bad = bad  # unsupported tag: skipped (already reported)


class _Mapping:
    __slots__ = ("pairs", "start", "bad", "eff")

    def __init__(self, start: int, bad: bool) -> None:
        self.pairs: list[list] = []
        self.start = start
        self.bad = bad
        self.eff: dict | None = None  # key text -> value node, merges applied


class _Sequence:
    __slots__ = ("items", "start", "bad")

    def __init__(self, start: int, bad: bool) -> None:
        self.items: list = []
        self.start = start
        self.bad = bad


class _Alias:
    __slots__ = ("target", "name", "start")

    def __init__(self, target: object, name: str, start: int) -> None:
        self.target = target
        self.name = name
        self.start = start


class _Doc:
    __slots__ = ("root", "start", "problems", "aliases")

    def __init__(self, start: int) -> None:
        self.root: object = None
        self.aliases = 0
        self.start = start
        self.problems: list[SourceError] = []


def parse(source: Source, limits: Limits) -> list[Document]:
    """Parse a YAML source: one Document per YAML document (one empty Document for an empty file)."""
    return parse_with(source, limits, DEFAULT_LOADER)


def parse_with(source: Source, limits: Limits, loader_class: type) -> list[Document]:
    """:func:`parse` with a chosen PyYAML loader class (``CSafeLoader`` or ``SafeLoader``)."""
    text = lf_breaks(source.text)  # offsets unchanged; every line break is an LF for the scanners here
    lines = source.lines
    ranges: list[tuple[int, int]] = []
    loader = None
    try:
        loader = loader_class(text)  # the pure reader checks the characters here already
        docs = _compose(loader, source, limits, ranges, text)
    except yaml.MarkedYAMLError as e:
        if _is_libyaml(loader_class) and "maximum nesting depth" in (e.problem or ""):
            # libyaml >= 0.2.6 stops deep flow nesting in its scanner, which reads ahead of the events:
            # the pure parser reaches lrlint's own depth limit first and reports it at the same place
            # whatever the PyYAML build (LR905, not a parse error)
            return parse_with(source, limits, yaml.SafeLoader)
        mark = e.problem_mark or e.context_mark
        index = mark.index if mark is not None else 0
        reason = e.problem or e.context or "invalid YAML"
        if e.context and e.problem:
            reason = f"{e.problem} ({e.context})"
        line, col = lines.line_col(min(max(index, 0), len(text)))
        raise SourceError(PARSE_ERROR, reason, line, col) from None
    except yaml.reader.ReaderError as e:
        pos = e.position
        if _is_libyaml(loader_class):
            # libyaml reports a byte offset into the UTF-8 text, the pure reader a character offset
            pos = len(text.encode("utf-8", "surrogatepass")[:pos].decode("utf-8", "ignore"))
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "\0")
        line, col = lines.line_col(min(max(pos, 0), len(text)))
        raise SourceError(PARSE_ERROR, f"unacceptable character #x{char:04x}: {e.reason}", line, col) from None
    except yaml.YAMLError as e:  # anything else PyYAML raises
        raise SourceError(PARSE_ERROR, str(e).splitlines()[0] if str(e) else "invalid YAML") from None
    finally:
        if loader is not None:
            loader.dispose()

    ranges.sort()
    comments = find_comments(text, ranges)
    doc_lines = [lines.line_col(d.start)[0] for d in docs]
    out: list[Document] = []
    for i, d in enumerate(docs):
        values = _flatten(d, source, limits, i)
        if len(docs) > 1:
            lo = 1 if i == 0 else doc_lines[i]
            hi = doc_lines[i + 1] if i + 1 < len(docs) else None
            doc_comments = {k: v for k, v in comments.items() if k >= lo and (hi is None or k < hi)}
        else:
            doc_comments = comments
        out.append(Document(source.path, "yaml", values, i, lines, doc_comments, d.problems))
    if not out:
        out.append(Document(source.path, "yaml", {}, 0, lines, comments, []))
    return out


def _is_libyaml(loader_class: type) -> bool:
    try:
        from yaml.cyaml import CParser  # type: ignore[attr-defined]  # PyYAML's name, not re-exported by the stubs
    except ImportError:
        return False
    return issubclass(loader_class, CParser)


# --- composing (iterative) -------------------------------------------------------


def _token_start(text: str, start: int, end: int) -> int:
    """Skip node properties (anchor, tag) and the space/comments after them."""
    p = start
    n = len(text)
    while p < end:
        c = text[p]
        if c == "&":
            p += 1
            while p < n and (text[p].isalnum() or text[p] in "-_"):  # PyYAML's and libyaml's anchor characters
                p += 1
        elif c == "!":
            if p + 1 < n and text[p + 1] == "<":
                q = text.find(">", p)
                p = q + 1 if q != -1 else end
            else:
                while p < n and text[p] not in " \t\r\n,[]{}":
                    p += 1
        else:
            return p
        while p < end:  # spaces, line breaks and comments between properties and the token
            c = text[p]
            if c in " \t\r\n":
                p += 1
            elif c == "#":
                q = text.find("\n", p)
                p = q + 1 if q != -1 else end
            else:
                break
    return min(p, end)


def _block_end(text: str, start: int, end: int) -> int:
    """End of a block scalar's last non-blank line (PyYAML's end mark includes trailing blank lines)."""
    stripped = text[start:end].rstrip(" \t\r\n")
    last = start + len(stripped)
    nl = text.find("\n", last, end)
    e = nl if nl != -1 else end
    if e > last and text[e - 1] == "\r":
        e -= 1
    return e


def _block_body(text: str, start: int, end: int) -> int:
    """Where a block scalar's body starts (after its header line, whose comment is a real comment)."""
    nl = text.find("\n", start, end)
    return nl + 1 if nl != -1 else end


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def _tag_problem(tag: str, kind: str, index: int, source: Source) -> SourceError:
    shown = _show_tag(tag)
    line, col = source.lines.line_col(index)
    if tag.startswith(_T + "python/"):
        reason = f"unsafe YAML tag {shown} is not loaded"
    elif tag[len(_T) :] in _CORE and tag.startswith(_T):
        reason = f"YAML tag {shown} on a {kind} is not supported; value skipped"
    else:
        reason = f"YAML tag {shown} is not supported; value skipped"
    return SourceError(UNSAFE_TAG, reason, line, col)


def _compose(loader, source: Source, limits: Limits, ranges: list[tuple[int, int]], text: str) -> list[_Doc]:
    """``text``: the source's text with LF line breaks only (as :func:`lrlint.spans.lf_breaks` gives)."""
    max_depth = limits.max_depth
    max_nodes = 3 * limits.max_values + 1000
    resolve = loader.resolve
    constructors = loader.yaml_constructors
    get_event = loader.get_event
    cache: dict[tuple[str, Any], tuple[str, object]] = {}
    docs: list[_Doc] = []
    doc = _Doc(0)  # replaced at each document start (the first event after the stream's start)
    anchors: dict[str, object] = {}
    stack: list = []  # open collections
    keys: list = []  # per open mapping: the pending key node (or None)
    nodes = 0

    def limit(reason: str, index: int) -> SourceError:
        line, col = source.lines.line_col(index)
        return SourceError(LIMIT_EXCEEDED, reason, line, col)

    while True:
        ev = get_event()
        if ev is None:
            break
        cls = ev.__class__
        if cls is ScalarEvent:
            s, e = ev.start_mark.index, ev.end_mark.index
            if ev.anchor is not None or ev.tag is not None:
                s = _token_start(text, s, e)
            style = ev.style
            value = ev.value
            tag = ev.tag
            bad = False
            if style == "|" or style == ">":
                ranges.append((_block_body(text, s, e), e))
                e = _block_end(text, s, e)
            else:
                ranges.append((s, e))
            if tag is None and ev.anchor is None and stack and keys[-1] is None and stack[-1].__class__ is _Mapping:
                # a mapping key: only its text and whether it is a merge key ``<<`` matter
                tag = MERGE if value == "<<" and ev.implicit[0] else STR
                resolved = value
            elif tag is None or tag == "!":
                key = (value, ev.implicit)
                hit = cache.get(key)
                if hit is None:
                    rtag = resolve(ScalarNode, value, ev.implicit)
                    hit = cache[key] = (rtag, _construct(constructors, loader, rtag, value))
                tag, resolved = hit
            elif tag in _SCALAR_TAGS:
                try:
                    resolved = _construct(constructors, loader, tag, value)
                except (ValueError, TypeError, yaml.YAMLError):
                    line, col = source.lines.line_col(s)
                    doc.problems.append(
                        SourceError(PARSE_ERROR, f"{value!r} is not a valid {_show_tag(tag)}; value skipped", line, col)
                    )
                    resolved, bad = None, True
            else:
                doc.problems.append(_tag_problem(tag, "scalar", ev.start_mark.index, source))
                resolved, bad = None, True
            node: object = _Scalar(value, resolved, tag, s, e, bad)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if len(stack) >= max_depth:
                raise limit(f"YAML nesting deeper than {max_depth} levels", ev.start_mark.index)
            tag = ev.tag
            is_map = cls is MappingStartEvent
            bad = tag not in (_MAPPING_TAGS if is_map else _SEQUENCE_TAGS)
            if bad:
                doc.problems.append(_tag_problem(tag, "mapping" if is_map else "sequence", ev.start_mark.index, source))
            node = _Mapping(ev.start_mark.index, bad) if is_map else _Sequence(ev.start_mark.index, bad)
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            stack.pop()
            keys.pop()
            continue
        elif cls is AliasEvent:
            target = anchors.get(ev.anchor)
            if target is None:
                line, col = source.lines.line_col(ev.start_mark.index)
                raise SourceError(PARSE_ERROR, f"found undefined alias {ev.anchor!r}", line, col)
            node = _Alias(target, ev.anchor, ev.start_mark.index)
            doc.aliases += 1
        elif cls is DocumentStartEvent:
            doc = _Doc(ev.start_mark.index)
            anchors = {}
            continue
        elif cls is DocumentEndEvent:
            docs.append(doc)
            continue
        elif cls is StreamEndEvent:
            break
        else:  # StreamStartEvent
            continue

        nodes += 1
        if nodes > max_nodes:
            raise limit(f"YAML document has more than {max_nodes} nodes", ev.start_mark.index)
        anchor = getattr(ev, "anchor", None) if cls is not AliasEvent else None
        if anchor is not None:
            if anchor in anchors:
                line, col = source.lines.line_col(ev.start_mark.index)
                raise SourceError(PARSE_ERROR, f"found duplicate anchor {anchor!r}", line, col)
            anchors[anchor] = node
        if not stack:
            doc.root = node
        else:
            top = stack[-1]
            if top.__class__ is _Sequence:
                top.items.append(node)
            elif keys[-1] is None:
                keys[-1] = node
            else:
                top.pairs.append((keys[-1], node))
                keys[-1] = None
        if cls is MappingStartEvent or cls is SequenceStartEvent:
            stack.append(node)
            keys.append(None)
    return docs


def _construct(constructors: dict, loader, tag: str, value: str) -> object:
    if tag == STR or tag in _KEEP_TEXT:
        return value
    return constructors[tag](loader, ScalarNode(tag, value))


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


def _flatten(doc: _Doc, source: Source, limits: Limits, index: int) -> dict[str, Value]:
    values: dict[str, Value] = {}
    root = doc.root
    if root is None or root.__class__ is _Scalar:
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
        if cls is _Alias:
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
        if cls is _Scalar:
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
        if cls is _Mapping:
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


# Below, nodes are told apart by their exact class (``n.__class__ is _Mapping``, the fast test in these
# loops), which a type checker does not follow: a node is typed Any.


def _deref(node: Any) -> Any:
    return node.target if node.__class__ is _Alias else node


def _children(node: Any, ctx: _Context) -> list[Any]:
    if node.bad:
        return []
    if node.__class__ is _Mapping:
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
        if n.__class__ is _Scalar:
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


def _effective(node: _Mapping, ctx: _Context) -> dict:
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
            if k.__class__ is _Scalar:
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


def _merge_sources(n: _Mapping, ctx: _Context | None) -> list[_Mapping]:
    """The mappings merged into ``n``, in the order PyYAML applies them (later ones win).

    With ``ctx``, a merge of something other than mappings is reported there.
    """
    out: list[_Mapping] = []
    for k, v in n.pairs:
        k = _deref(k)
        if k.__class__ is not _Scalar or k.tag != MERGE or k.bad:
            continue
        v = _deref(v)
        if v.__class__ is _Mapping:
            if not v.bad:
                out.append(v)
            continue
        if v.__class__ is _Sequence and not v.bad:
            subs = [_deref(item) for item in v.items]
            if all(item.__class__ is _Mapping for item in subs):
                out.extend(item for item in reversed(subs) if not item.bad)  # earlier mappings win
                continue
        if v.bad or ctx is None:
            continue
        ctx.problems.append(
            ctx.error(PARSE_ERROR, "expected a mapping or a list of mappings for merging (<<); merge skipped", v.start)
        )
    return out
