"""The one way to walk key paths: dotted keys, ``*`` for one part, ``**`` for any number."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from typing import Generic, TypeVar

V = TypeVar("V")


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``a.*.b`` matches ``a.x.b``; ``**.lr`` matches ``lr`` and ``x.y.lr``; anchored at both ends."""
    out: list[str] = []
    parts = pattern.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(r"(?:[^.]+(?:\.|$))*" if last else r"(?:[^.]+\.)*")
        else:
            piece = r"[^.]+" if part == "*" else re.escape(part)
            out.append(piece if last else piece + r"\.")
    return re.compile("".join(out) + r"\Z")


def matches(pattern: str, key: str) -> bool:
    if "*" not in pattern:
        return pattern == key
    if pattern.startswith("**.") and "*" not in pattern[3:]:
        tail = pattern[3:]
        return key == tail or key.endswith("." + tail)
    return compile_pattern(pattern).match(key) is not None


def first_match(patterns: list[str], keys: Iterable[str]) -> str | None:
    """The first key (in ``keys`` order) matched by the earliest pattern that matches any key."""
    seq: Collection[str] = keys if isinstance(keys, (list, tuple, dict)) else list(keys)
    for p in patterns:
        if "*" not in p:  # a plain path: a lookup, no regex
            if p in seq:
                return p
            continue
        if p.startswith("**.") and "*" not in p[3:]:  # a name anywhere: compare the tail
            tail = p[3:]
            dotted = "." + tail
            for k in seq:
                if k == tail or k.endswith(dotted):
                    return k
            continue
        rx = compile_pattern(p)
        for k in seq:
            if rx.match(k):
                return k
    return None


def parent(key: str) -> str:
    return key.rpartition(".")[0]


def join(*parts: str) -> str:
    return ".".join(p for p in parts if p != "")


def shared_depth(a: str, b: str) -> int:
    """Number of leading parts the two keys' parents share (how close two keys' scopes are)."""
    pa, pb = parent(a).split(".") if parent(a) else [], parent(b).split(".") if parent(b) else []
    n = 0
    for x, y in zip(pa, pb, strict=False):  # the keys' depths differ
        if x != y:
            break
        n += 1
    return n


def in_scope(key: str, scope: str) -> bool:
    """Whether ``key`` lies in the subtree ``scope`` (``""`` is the root)."""
    return scope == "" or key == scope or key.startswith(scope + ".")


class KeyIndex(Generic[V]):
    """A document's keys indexed by their last part, built once and shared by the profile matching and the
    recipe of every lr: a pattern whose last part is a name is tried only on the keys that end with it (a
    key matches a pattern only when their last parts agree). Lists keep the keys' order."""

    def __init__(self, values: dict[str, V]) -> None:
        self.values = values
        self._items = list(values.items())
        by_last: dict[str, list[tuple[str, V]]] = {}
        for item in self._items:  # the loop runs for every key of every document: kept to plain lookups
            k = item[0]
            last = k[k.rfind(".") + 1 :]
            bucket = by_last.get(last)
            if bucket is None:
                by_last[last] = [item]
            else:
                bucket.append(item)
        self._by_last = by_last
        self._by_first: dict[str, list[tuple[str, V]]] | None = None  # built on first use
        self._regex: dict[str, list[tuple[str, V]]] = {}
        self._matches: dict[str, list[tuple[str, V]]] = {}

    def _candidates(self, pattern: str) -> list[tuple[str, V]]:
        """The keys that can match: those ending with the pattern's last part when it is a name, else those
        starting with its first part when that is one (``optimizer.**``), else all."""
        last = pattern.rpartition(".")[2]
        if last not in ("*", "**"):
            return self._by_last.get(last, [])
        first = pattern.partition(".")[0]
        if first in ("*", "**") or first == pattern:
            return self._items
        if self._by_first is None:
            self._by_first = {}
            for k, v in self._items:
                self._by_first.setdefault(k.partition(".")[0], []).append((k, v))
        return self._by_first.get(first, [])

    def regex(self, pattern: str) -> list[tuple[str, V]]:
        """The (key, value) pairs ``compile_pattern(pattern)`` matches, in the document's order."""
        hit = self._regex.get(pattern)
        if hit is None:
            if "*" not in pattern:  # a plain path matches itself only: no regex to compile
                hit = [(k, v) for k, v in self._candidates(pattern) if k == pattern]
            else:
                rx = compile_pattern(pattern)
                hit = [(k, v) for k, v in self._candidates(pattern) if rx.match(k)]
            self._regex[pattern] = hit
        return hit

    def matching(self, pattern: str) -> list[tuple[str, V]]:
        """The (key, value) pairs ``matches(pattern, key)`` holds for, in the document's order."""
        hit = self._matches.get(pattern)
        if hit is None:
            if "*" not in pattern:
                hit = [(pattern, self.values[pattern])] if pattern in self.values else []
            else:
                hit = [(k, v) for k, v in self._candidates(pattern) if matches(pattern, k)]
            self._matches[pattern] = hit
        return hit

    def has(self, pattern: str) -> bool:
        """Whether ``first_match([pattern], keys)`` finds a key."""
        if "*" not in pattern:
            return pattern in self.values
        if pattern.startswith("**.") and "*" not in pattern[3:]:
            return bool(self.matching(pattern))
        return bool(self.regex(pattern))
