"""Hydra defaults lists (lightning-hydra-template layout): a config composed from config-group options.

A defaults list (``- optimizer: adamw``, ``_self_``, ``override /data: x``, ``optional``,
``group@pkg``) names options in config groups under the config root (the nearest ``configs/``-style
directory, plus ``file://`` entries of ``hydra.searchpath``). An experiment (a group file with
``# @package _global_``) is composed into the primary config (``train.yaml``) and compared with the
primary config alone; a group option composes its own defaults in its package; a primary config is
composed and has no inheritance reference.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from lrlint import keypaths
from lrlint.discover import resolved
from lrlint.inherit.model import Loaded, Problem, Resolved, is_key, mark, merge, problem, with_values
from lrlint.profiles import Inherit
from lrlint.sources import Source, SourceError
from lrlint.values import Document, Value

Entry = tuple[str | None, object, Value | None, tuple[str, ...]]  # (group or None, option, its value, flags)


def package_of(source: Source) -> str | None:
    """The ``# @package X`` header of a Hydra config (``_global_`` -> "")."""
    for line in source.text.splitlines()[:10]:
        m = re.match(r"\s*#\s*@package\s+(\S+)", line)
        if m:
            pkg = m.group(1)
            return "" if pkg == "_global_" else pkg.replace("_global_.", "")
    return None


def option_file(choice: object) -> str:
    """The file name of a group option: ``default`` -> ``default.yaml``; Hydra 1.0 defaults lists name the
    file with its extension (``trainer: default.yaml``), which Hydra also resolves."""
    text = str(choice)
    return text if text.endswith((".yaml", ".yml")) else f"{text}.yaml"


def _prefix(values: dict[str, Value], package: str) -> dict[str, Value]:
    if not package:
        return dict(values)
    return {f"{package}.{k}": replace(v, key=f"{package}.{k}") for k, v in values.items()}


def defaults_list(doc: Document, key: str) -> list[Entry]:
    """A Hydra defaults list (under ``key``) as (group or None, option, value, flags) in order."""
    out: dict[int, Entry] = {}
    head = key + "."
    for k, v in doc.values.items():
        if not k.startswith(head):
            continue
        idx, _, name = k[len(head) :].partition(".")
        if not idx.isdigit():
            continue
        i = int(idx)
        if not name:
            out[i] = (None, v.value, v, ())
            continue
        flags = []
        words = name.split()
        while len(words) > 1 and words[0] in ("override", "optional"):
            flags.append(words.pop(0))
        out[i] = (" ".join(words), v.value, v, tuple(flags))
    return [out[i] for i in sorted(out)]


def _group(group: str | None, here: str, package: str) -> tuple[str, str]:
    """(the group's directory under the root, the package its option is placed in) for a defaults entry."""
    if group is None:  # a config of the same group: `- base_option`
        return here, package
    g, _, at = group.partition("@")
    abs_group = (
        g[1:] if g.startswith("/") else keypaths.join(*[x for x in (here.replace("/", "."), g) if x]).replace(".", "/")
    )
    pkg = at if at else abs_group.replace("/", ".")
    return abs_group, "" if at == "_global_" else pkg


class _Composition:
    """One composition: the resolver, the roots searched, the options overridden, what was read."""

    def __init__(self, r, inh: Inherit, root: Path, roots: list[Path], overrides: dict, problems: list, read: dict):
        self.r, self.inh, self.root, self.roots = r, inh, root, roots
        self.overrides, self.problems, self.read = overrides, problems, read

    def compose(self, me: Loaded, package: str, stack: list[Path], group_dir: str | None) -> dict[str, Value]:
        """``me``'s defaults list composed with its own values (``_self_``) placed in ``package``."""
        key = self.inh.key
        own = _prefix({k: v for k, v in me.doc.values.items() if not is_key(k, key)}, package)
        entries = defaults_list(me.doc, key)
        if not any(g is None and o == "_self_" for g, o, _v, _f in entries):
            entries.append((None, "_self_", None, ()))
        merged: dict[str, Value] = {}
        here = group_dir if group_dir is not None else ""
        for group, option, v, flags in entries:
            if group is None and option == "_self_":
                merged = merge(merged, own)
                continue
            if "override" in flags:
                continue
            abs_group, pkg = _group(group, here, package)
            choice = self.overrides.get(abs_group, option) if group is not None else option
            if isinstance(choice, tuple):  # the checked experiment itself
                child = choice[1]
                merged = merge(merged, self.compose(child, "", stack + [child.fs], abs_group))
                continue
            if choice is None or (isinstance(choice, str) and choice.lower() == "null"):
                continue
            loaded = self._option(abs_group, choice, v, flags, stack)
            if loaded is not None:
                header = package_of(loaded.source)
                sub = self.compose(loaded, pkg if header is None else header, stack + [loaded.fs], abs_group)
                merged = merge(merged, sub)
        return merged

    def _option(self, abs_group: str, choice: object, v: Value | None, flags: tuple, stack: list[Path]):
        """The file of a group option, read (None, with a problem unless optional, when it cannot be)."""
        name = option_file(choice)
        target = next((c for r in self.roots if self.r.is_file(c := resolved(r / abs_group / name))), None)
        if target is None:
            if "optional" not in flags:
                where = f"{self.r.display(self.roots[0] / abs_group)}/{name}"
                what = (
                    f"Hydra config group '{abs_group}' has no option '{choice}'"
                    if abs_group
                    else f"Hydra config '{choice}' does not exist"
                )
                self.problems.append(problem(v, f"{what} ({where} not found)"))
            return None
        why = self.r.chain_problem(target, stack)
        if why:
            self.problems.append(problem(v, why))
            return None
        try:
            loaded = self.r.load(target)
        except SourceError as e:
            self.problems.append(problem(v, f"config {choice!r} cannot be read: {e.reason}"))
            return None
        self.read[loaded.source.path] = loaded.source
        return loaded


class HydraDefaults:
    """A Hydra config resolved through its defaults list (``inherit.key``, usually ``defaults``)."""

    def resolve(self, r, me: Loaded, inh: Inherit) -> Resolved | None:
        doc, fs = me.doc, me.fs
        root = self._root(fs, inh)
        problems: list[Problem] = []
        read: dict[str, Source] = {}
        rel_dir = fs.parent.relative_to(root).as_posix() if fs.parent != root else ""
        if not rel_dir:  # a primary config: compose it; nothing to compare it with by inheritance
            c = _Composition(r, inh, root, self._search_roots(root, me), {}, problems, read)
            return self._result(doc, c.compose(me, "", [fs], None), read, problems, inh)
        package = package_of(me.source)
        primary = self._primary(r, root, inh) if package == "" else None
        if primary is None:  # a group option (data/mnist.yaml), or no primary: compose its own defaults
            values = _Composition(r, inh, root, [root], {}, problems, read).compose(me, "", [fs], rel_dir)
            if package != "" and not read:
                return Resolved(doc, None, problems=problems) if problems else None
            return self._result(doc, values, read, problems, inh)
        # an experiment (@package _global_): compose the primary config with this option selected
        read[primary.source.path] = primary.source
        roots = self._search_roots(root, primary)
        overrides: dict = {
            group.lstrip("/"): option
            for group, option, _v, flags in defaults_list(me.doc, inh.key)
            if "override" in flags and group
        }
        overrides[rel_dir] = ("__child__", me)
        values = _Composition(r, inh, root, roots, overrides, problems, read).compose(primary, "", [primary.fs], None)
        base = _Composition(r, inh, root, roots, {}, [], {}).compose(primary, "", [primary.fs], None)
        read.pop(me.source.path, None)
        return Resolved(
            with_values(doc, mark(values, doc.path, r.marks), inh.key),
            Document(primary.source.path, "yaml", mark(base, "", r.marks), lines=None),
            primary.source.path,
            [primary.fs.name],
            list(read.values()),
            problems,
        )

    @staticmethod
    def _result(doc: Document, values: dict, read: dict, problems: list, inh: Inherit) -> Resolved:
        return Resolved(
            with_values(doc, mark(values, doc.path), inh.key), None, sources=list(read.values()), problems=problems
        )

    @staticmethod
    def _root(fs: Path, inh: Inherit) -> Path:
        for parent in fs.parents:
            if parent.name in inh.config_root:
                return parent
        return fs.parent

    @staticmethod
    def _search_roots(root: Path, primary: Loaded | None) -> list[Path]:
        roots = [root]
        if primary is not None:
            for k, v in primary.doc.values.items():
                if (
                    keypaths.matches("hydra.searchpath.*", k)
                    and isinstance(v.value, str)
                    and v.value.startswith("file://")
                ):
                    p = Path(v.value[len("file://") :])
                    roots.append(resolved(p if p.is_absolute() else root.parent / p))
        return roots

    @staticmethod
    def _primary(r, root: Path, inh: Inherit) -> Loaded | None:
        for name in inh.primary:
            p = root / name
            if r.is_file(p):
                try:
                    return r.load(p)
                except SourceError:
                    return None
        return None
