"""Editing YAML text: set a dotted key to a value in place, or insert it where it belongs.

The file is read with PyYAML's composer (nodes with their marks), never constructed; the edit is a byte
replacement (``Edit``) applied by ``--fix``.
"""

from __future__ import annotations

import yaml

from lrlint.findings import Edit
from lrlint.sources import Source
from lrlint.spans import Span


def _span_at(src: Source, char: int) -> Span:
    return src.lines.span(src.path, char, char)


def _indent_unit(node, default: int = 2) -> int:
    """The file's indentation step: the smallest child-minus-parent key column in block mappings."""
    best = None
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode) and not n.flow_style:
            for k, v in n.value:
                if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value:
                    step = v.value[0][0].start_mark.column - k.start_mark.column
                    if step > 0 and (best is None or step < best):
                        best = step
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return best or default


def _last_leaf_end(node) -> int:
    """Character offset where the last scalar (or flow collection) under ``node`` ends."""
    while True:
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
            node = node.value[-1][1]
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
            node = node.value[-1]
        else:
            return node.end_mark.index


def override(src: Source, dotted: str, content: str) -> Edit | None:
    """An edit that sets ``dotted`` (e.g. ``optimizer.lr``) to ``content`` in a YAML file.

    An existing key has its value replaced; a missing one is inserted under the right block mapping,
    after its last entry, with the file's indentation, creating the missing mappings. None where that
    cannot be done safely (flow mappings, a non-mapping in the way, several documents, a parse error).
    """
    text = src.text
    try:
        docs = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return None
    if len(docs) > 1:
        return None
    root = docs[0] if docs else None
    parts = dotted.split(".")
    unit = _indent_unit(root) if root is not None else 2
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == "" and root.tag.endswith(":null")):
        prefix = "" if not text or text.endswith("\n") else "\n"
        body = _nested(parts, content, 0, unit)
        return Edit(_span_at(src, len(text)), prefix + body)
    node = root
    for i, part in enumerate(parts):
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return None
        found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        if found is None:
            if not node.value:
                return None
            col = node.value[0][0].start_mark.column
            end = _last_leaf_end(node)
            nl = text.find("\n", end)
            if nl == -1:
                at, prefix = len(text), "\n"
            else:
                at, prefix = nl + 1, ""
            return Edit(_span_at(src, at), prefix + _nested(parts[i:], content, col, unit))
        if i == len(parts) - 1:
            if not isinstance(found, yaml.ScalarNode):
                return None
            s, e = found.start_mark.index, found.end_mark.index
            return Edit(src.lines.span(src.path, s, e), content)
        node = found
    return None


def _nested(parts: list[str], content: str, col: int, unit: int) -> str:
    lines = []
    for depth, part in enumerate(parts):
        pad = " " * (col + depth * unit)
        lines.append(f"{pad}{part}: {content}" if depth == len(parts) - 1 else f"{pad}{part}:")
    return "\n".join(lines) + "\n"
