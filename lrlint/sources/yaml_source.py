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
* The composed tree (:mod:`lrlint.sources.yaml_tree`) is flattened there, iteratively and with a
  budget; anchors/aliases: an alias's leaves carry the anchored definition's spans; merge keys ``<<``
  follow PyYAML.
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
from lrlint.sources.yaml_tree import MERGE, Alias, Doc, Mapping, Scalar, Sequence, flatten
from lrlint.spans import lf_breaks
from lrlint.values import Document

# libyaml's loader; the pure-Python one when PyYAML was built without libyaml
DEFAULT_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["parse", "parse_with", "DEFAULT_LOADER"]

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
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
        values = flatten(d, source, limits, i)
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
    if tag == _T + "python/object/apply:eval" and kind == "sequence":
        reason = (
            f"{shown} (Detectron2's computed-value idiom): yacs evaluates the expression when it loads the file; "
            "lrlint does not, and skips the value"
        )
        return SourceError(UNSAFE_TAG, reason, *source.lines.line_col(index), info=True)
    if tag.startswith(_T + "python/"):
        reason = f"unsafe YAML tag {shown} is not loaded"
    elif tag[len(_T) :] in _CORE and tag.startswith(_T):
        reason = f"YAML tag {shown} on a {kind} is not supported; value skipped"
    else:
        reason = f"YAML tag {shown} is not supported; value skipped"
    return SourceError(UNSAFE_TAG, reason, line, col)


def _compose(loader, source: Source, limits: Limits, ranges: list[tuple[int, int]], text: str) -> list[Doc]:
    """``text``: the source's text with LF line breaks only (as :func:`lrlint.spans.lf_breaks` gives)."""
    max_depth = limits.max_depth
    max_nodes = 3 * limits.max_values + 1000
    resolve = loader.resolve
    constructors = loader.yaml_constructors
    get_event = loader.get_event
    cache: dict[tuple[str, Any], tuple[str, object]] = {}
    docs: list[Doc] = []
    doc = Doc(0)  # replaced at each document start (the first event after the stream's start)
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
            if tag is None and ev.anchor is None and stack and keys[-1] is None and stack[-1].__class__ is Mapping:
                # a mapping key: only its text and whether it is a merge key ``<<`` matter
                tag = MERGE if value == "<<" and ev.implicit[0] else STR
                resolved = value
            elif tag is None or tag == "!":
                key = (value, ev.implicit)
                hit = cache.get(key)
                if hit is None:
                    rtag = resolve(ScalarNode, value, ev.implicit)
                    try:
                        hit = cache[key] = (rtag, _construct(constructors, loader, rtag, value))
                    except ValueError:  # an integer past the digits Python converts (4,300)
                        line, col = source.lines.line_col(s)
                        reason = f"an integer of {len(value)} characters is past what lrlint reads; value skipped"
                        doc.problems.append(SourceError(LIMIT_EXCEEDED, reason, line, col))
                        hit, bad = (rtag, None), True
                tag, resolved = hit
            elif tag in _SCALAR_TAGS:
                try:
                    resolved = _construct(constructors, loader, tag, value)
                except (ValueError, TypeError, KeyError, yaml.YAMLError):
                    line, col = source.lines.line_col(s)
                    doc.problems.append(
                        SourceError(
                            PARSE_ERROR, f"{_short(value)} is not a valid {_show_tag(tag)}; value skipped", line, col
                        )
                    )
                    resolved, bad = None, True
            else:
                doc.problems.append(_tag_problem(tag, "scalar", ev.start_mark.index, source))
                resolved, bad = None, True
            node: object = Scalar(value, resolved, tag, s, e, bad)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if len(stack) >= max_depth:
                raise limit(f"YAML nesting deeper than {max_depth} levels", ev.start_mark.index)
            tag = ev.tag
            is_map = cls is MappingStartEvent
            bad = tag not in (_MAPPING_TAGS if is_map else _SEQUENCE_TAGS)
            if bad:
                doc.problems.append(_tag_problem(tag, "mapping" if is_map else "sequence", ev.start_mark.index, source))
            node = Mapping(ev.start_mark.index, bad) if is_map else Sequence(ev.start_mark.index, bad)
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            stack.pop()
            keys.pop()
            continue
        elif cls is AliasEvent:
            target = anchors.get(ev.anchor)
            if target is None:
                line, col = source.lines.line_col(ev.start_mark.index)
                raise SourceError(PARSE_ERROR, f"found undefined alias {ev.anchor!r}", line, col)
            node = Alias(target, ev.anchor, ev.start_mark.index)
            doc.aliases += 1
        elif cls is DocumentStartEvent:
            doc = Doc(ev.start_mark.index)
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
            if top.__class__ is Sequence:
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


def _short(value: str) -> str:
    """A scalar's text for a message: its repr, cut short past 40 characters."""
    return repr(value) if len(value) <= 40 else f"{value[:20]!r}...<{len(value)} characters>"


def _construct(constructors: dict, loader, tag: str, value: str) -> object:
    if tag == STR or tag in _KEEP_TEXT:
        return value
    return constructors[tag](loader, ScalarNode(tag, value))
