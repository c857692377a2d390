"""Recipes: one training setup read from a Document through a framework profile."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import PurePath

from lrlint import keypaths, numbers
from lrlint.profiles import OptimizerTable, Profile
from lrlint.spans import Span
from lrlint.values import Document, Value
from lrlint.vocabulary import BATCH_ROLES, EVAL_SCOPES, PART_OF_ROLE, SINGLE_ROLES

UNKNOWN_STRINGS = {"auto", "none", "null", "???", ""}


@dataclass
class ActiveScaling:
    """The lr follows the batch at run time (a framework marker or an lr expression)."""

    name: str
    exponent: float
    description: str
    reference_batch: Value | None = None
    value: Value | None = None  # the marker's value (for spans)
    covers: frozenset[str] | None = None  # batch parts whose changes it compensates (None: all)


@dataclass
class Recipe:
    doc: Document
    profile: Profile
    lr: Value
    roles: dict[str, Value | None]
    warmup: list[Value]
    schedule: list[Value]
    optimizer_display: str
    family: str
    optimizer_is_default: bool
    effective_batch: float | None
    parts: dict[str, float]  # the numbers behind the effective batch
    unknown: list[str]  # why the effective batch or lr is unknown
    assumptions: list[str]
    scaling: ActiveScaling | None
    tag: Tag | None = None  # the file-name batch tag (``8xb2``), when the profile defines one

    @property
    def key(self) -> str:
        return self.lr.key

    @property
    def lr_value(self) -> float | None:
        """The lr as a number the checks can use (positive, finite, in range), else None."""
        n = self.lr.number if self.lr.known else None
        return n if n is not None and not numbers.unusable(n) else None

    @property
    def momentum(self) -> float | None:
        v = self.roles.get("momentum")
        return v.number if v is not None else None

    def batch_values(self) -> list[Value]:
        return [v for r in BATCH_ROLES if (v := self.roles.get(r)) is not None]


@dataclass(frozen=True)
class Tag:
    """A batch stated in a file name: ``8xb2`` (8 devices x 2 per device), ``bs256``."""

    text: str
    devices: int | None = None
    per_device: int | None = None
    batch: int | None = None
    inherited_from: str | None = None  # the base file whose name it is (a child without a tag of its own)

    @property
    def total(self) -> int | None:
        if self.batch is not None:
            return self.batch
        if self.devices is not None and self.per_device is not None:
            return self.devices * self.per_device
        return None

    def describe(self) -> str:
        if self.devices is not None and self.per_device is not None:
            return f"{self.text}: {self.devices} devices x {self.per_device} per device = {self.total}"
        return f"{self.text}: batch {self.total}"

    def transposed(self, per_device: Value | None, path: str) -> bool:
        """A ``1xbN`` tag on a file that writes 1 per device: mmdet's ``Nx1`` (N devices x 1 image) renamed
        backwards, so the tag matches the content only read the other way round. Its device count is then
        unknown: never read backwards. Only the one-per-device case: a per-device batch edited to equal a
        larger tag's device count (``8xb2`` set to 8) is a batch change, and a per-device batch a base file
        writes says nothing about how this file's name was spelled."""
        if self.inherited_from is not None or self.devices != 1 or not self.per_device or self.per_device == 1:
            return False
        if per_device is None or per_device.span is None or per_device.span.path != path or not per_device.known:
            return False
        return per_device.number == 1


def name_tag(profile: Profile, filename: str, scope: str = "recipe") -> Tag | None:
    """The first of the profile's ``name_tags`` of ``scope`` that matches the file name."""
    import re

    name = PurePath(filename).name
    for nt in profile.name_tags:
        if nt.scope != scope:
            continue
        m = re.search(nt.pattern, name)
        if m:
            g = {k: int(v) for k, v in m.groupdict().items() if v is not None and v.isdigit()}
            if not g:
                continue
            return Tag(m.group(0), g.get("devices"), g.get("per_device"), g.get("batch"))
    return None


def inherited_tag(recipe: Recipe, nearest: Tag | None, base_names: list[str]) -> Tag | None:
    """The tag a child without one of its own trains under: the tag of the base file its per-device batch
    is written in, else ``nearest`` (the nearest direct base's tag, of ``base_names``, nearest last)."""
    from dataclasses import replace

    v = recipe.roles.get("batch_per_device")
    if v is not None and v.span is not None and v.span.path != recipe.doc.path:
        t = name_tag(recipe.profile, v.span.path)
        if t is not None:
            return replace(t, inherited_from=v.span.path)
    if nearest is None:
        return None
    where = next((n for n in reversed(base_names) if name_tag(recipe.profile, n) == nearest), None)
    return replace(nearest, inherited_from=where or "a base")


def select_profile(
    doc: Document, profiles: tuple[Profile, ...], index: keypaths.KeyIndex[Value] | None = None
) -> Profile | None:
    """The profile that claims a document: a file-name match, else the best key score (``index``: the
    document's keys, when they are already indexed)."""
    name = PurePath(doc.path).name
    index = index or keypaths.KeyIndex(doc.values)
    best: tuple[int, int] | None = None
    chosen = None
    for p in profiles:
        if doc.format not in p.detect.formats:
            continue
        score = 1000 if any(fnmatch(name, g) for g in p.detect.files) else 0
        score += sum(1 for pat in p.detect.keys if index.has(pat))
        if score < p.detect.min_score or (score == 0 and p.detect.min_score > 0):
            continue
        rank = (score if p.detect.min_score > 0 else -1, p.priority)
        if best is None or rank > best:
            best, chosen = rank, p
    return chosen


def _present(v: Value | None) -> bool:
    """Set in the file: a non-null value, or one lrlint cannot know (kept so --explain can say why)."""
    return v is not None and (v.value is not None or not v.known)


def _pick(patterns: list[str], index: keypaths.KeyIndex[Value], anchor: str) -> Value | None:
    """The value for a role nearest to ``anchor`` (longest shared scope), then by pattern order."""
    best = None
    best_rank = None
    for i, pat in enumerate(patterns):
        for k, v in index.regex(pat):
            if not _present(v):
                continue
            rank = (keypaths.shared_depth(anchor, k), -i)
            if best_rank is None or rank > best_rank:
                best, best_rank = v, rank
    return best


def _device_list(patterns: list[str], values: dict[str, Value], anchor: str) -> Value | None:
    """A device list such as ``devices: [0, 1, 2, 3]`` read as its length (a synthesized Value)."""
    groups: dict[str, list[Value]] = {}
    for k, v in values.items():
        head, _, last = k.rpartition(".")
        if last.isdigit() and head and any(keypaths.matches(p, head) for p in patterns):
            groups.setdefault(head, []).append(v)
    if not groups:
        return None
    head = max(groups, key=lambda h: keypaths.shared_depth(anchor, h + ".x"))
    items = groups[head]
    first, final = items[0].span, items[-1].span
    span = None
    if first is not None and final is not None:
        span = Span(first.path, first.start, final.end, first.line, first.col, final.end_line, final.end_col)
    return Value(head, len(items), span, items[0].provenance, raw="", why=f"{len(items)} devices listed")


def _count(v: Value) -> tuple[float | None, str]:
    """A device/node count: ints, numeric strings, lists like ``[0, 1]`` or ``"0,1"``."""
    x = v.value
    if not v.known:
        return None, v.why or f"{v.key} is not known statically"
    if isinstance(x, bool):
        return None, f"{v.key} = {x} is not a count"
    if isinstance(x, str):
        s = x.strip().strip("[]")
        if s.lower() in UNKNOWN_STRINGS:
            return None, f'{v.key} is "{x}", decided at run time'
        if "," in s:
            return float(len([p for p in s.split(",") if p.strip()])), ""
    n = v.float_value
    if n is None:
        return None, f"{v.key} = {shown(v)} is not a number"
    if n < 0 and math.isfinite(n):
        return None, f"{v.key} = {shown(v)} means all available devices, which lrlint cannot know"
    return _usable(v, n)


def _number(v: Value) -> tuple[float | None, str]:
    if not v.known:
        return None, v.why or f"{v.key} is not known statically"
    if isinstance(v.value, str) and v.value.strip().lower() in UNKNOWN_STRINGS:
        return None, f'{v.key} is "{v.value}", filled in at run time'
    n = v.float_value
    if n is None:
        return None, f"{v.key} = {shown(v)} is not a number"
    return _usable(v, n)


def _usable(v: Value, n: float) -> tuple[float | None, str]:
    """``n`` (the number of ``v``), or None and why the checks cannot compute with it."""
    why = numbers.unusable(n)
    if math.isinf(n) and isinstance(v.value, int):  # an integer past a float: finite, just too large
        why = numbers.unusable(math.copysign(numbers.LARGEST * 10, n))
    if why:
        return None, f"{v.key} = {shown(v)} is {why}: the checks cannot compute with it"
    return n, ""


def shown(v: Value) -> str:
    """The value as written, cut short when long (a 5,000-digit integer is named by its length)."""
    text = v.raw.strip()
    if not text:
        x = v.value
        if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**40:
            return f"<an integer of {len(str(abs(x))) if abs(x) < 10**4000 else 'over 4000'} digits>"
        text = repr(x)
    return text if len(text) <= 40 else f"{text[:20]}...<{len(text)} characters>"


def effective_batch(
    profile: Profile, roles: dict[str, Value | None], values: dict[str, Value]
) -> tuple[float | None, dict[str, float], list[str], list[str]]:
    """(effective batch, parts, reasons it is unknown, assumptions)."""
    unknown: list[str] = []
    assumptions: list[str] = []
    parts: dict[str, float] = {}

    def num(role: str, default: float | None = None) -> float | None:
        v = roles.get(role)
        if v is None:
            d = profile.defaults.get(role, default)
            return float(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else default
        if role in ("devices", "nodes"):
            n, why = _count(v)
        else:
            n, why = _number(v)
        if n is None:
            unknown.append(why)
        return n

    total = roles.get("batch_total")
    if total is not None:
        n, why = _number(total)
        if n is not None:
            parts["total"] = n
            return n, parts, [], []
        if roles.get("batch_per_device") is None and roles.get("batch_global") is None:
            return None, parts, [why], []
    accum = num("grad_accum", 1.0)
    if roles.get("batch_global") is not None:
        g = num("batch_global")
        if g is None or accum is None:
            return None, parts, unknown, []
        parts.update(global_batch=g, accum=accum)
        return g * accum, parts, [], []
    if roles.get("batch_per_device") is not None:
        pd = num("batch_per_device")
        repeats = num("repeats", 1.0) if roles.get("repeats") is not None else None
        devices = num("devices")
        nodes = num("nodes", 1.0)
        dv = roles.get("devices")
        if dv is None:
            assumptions.append("devices not in the file: assumed unchanged")
            devices = 1.0 if devices is None else devices
        elif dv.from_tag:
            assumptions.append(dv.why)
        if pd is None or accum is None or devices is None or nodes is None:  # a devices value that is not a number
            return None, parts, unknown, []
        if devices == 0 and dv is not None:  # Lightning's gpus: 0 trains in one process on the CPU
            devices = 1.0
            assumptions.append(f"{dv.key} = 0: one process on the CPU")
        parts.update(per_device=pd, accum=accum, devices=devices, nodes=nodes)
        if roles.get("repeats") is not None:
            if repeats is None:
                return None, parts, unknown, []
            parts["repeats"] = repeats
            pd *= repeats
        return pd * accum * devices * nodes, parts, [], assumptions
    return None, parts, ["no batch size found"], []


def _scaling(
    profile: Profile, lr: Value, values: dict[str, Value], roles: dict[str, Value | None]
) -> ActiveScaling | None:
    expr = lr.scaling
    if expr is not None:
        # the expression follows the batch values it reads (``lr = base * args.batch_size / 256``): a change
        # of another part (accumulation, devices) is not compensated
        keys = set(expr.batch_keys)
        covers = frozenset(
            PART_OF_ROLE[r]
            for r, v in roles.items()
            if r in PART_OF_ROLE and v is not None and (v.key in keys or v.alias_of in keys)
        )
        return ActiveScaling(
            "expression",
            float(expr.exponent),
            f"the lr is computed from the batch: {expr.text}",
            value=lr,
            covers=covers or None,
        )
    for rs in profile.runtime_scaling:
        if all(c.holds(values) for c in rs.when):
            ref = values.get(rs.reference_batch) if rs.reference_batch else None
            marker = values.get(rs.when[0].key)
            return ActiveScaling(
                rs.name,
                1.0 if rs.rule == "linear" else 0.5,
                rs.description,
                ref,
                marker,
                None if rs.covers is None else frozenset(rs.covers),
            )
    return None


def _lrs(profile: Profile, index: keypaths.KeyIndex[Value]) -> list[Value]:
    """The lr of each scope: the first lr pattern that matches there (a word that is no number is no lr)."""
    lr_by_scope: dict[str, Value] = {}
    for pat in profile.patterns("lr"):
        for k, v in index.regex(pat):
            if _present(v) and not (
                isinstance(v.value, str)
                and v.float_value is None
                and v.known
                and v.value.strip().lower() not in UNKNOWN_STRINGS
            ):
                lr_by_scope.setdefault(keypaths.parent(k), v)
    return list(lr_by_scope.values())


def _schedule(profile: Profile, index: keypaths.KeyIndex[Value]) -> list[Value]:
    """Step-based schedule lengths; a length under an evaluation scope (``eval.max_iters``) is none."""
    return [
        v
        for p in profile.patterns("schedule_steps")
        for k, v in index.matching(p)
        if EVAL_SCOPES.isdisjoint(k.lower().split(".")[:-1])
    ]


def _tag_devices(roles: dict[str, Value | None], tag: Tag | None, path: str) -> str:
    """Set the devices role from the file-name tag where the config states none; when the tag matches the
    per-device batch of its own file only read the other way round, leave it unset and say why ('' otherwise)."""
    pdv = roles["batch_per_device"]
    if roles["devices"] is not None or tag is None or tag.devices is None or pdv is None:
        return ""
    if tag.transposed(pdv, path):
        return (
            f"the file name's {tag.text} matches {pdv.key} = {numbers.plain(pdv.number or 0)} only read the other "
            f"way round ({tag.per_device} devices x {tag.devices}): the device count is unknown"
        )
    roles["devices"] = Value(
        "devices",
        tag.devices,
        None,
        why=(
            f"{tag.devices} devices from the file name ({tag.text})"
            if tag.inherited_from is None
            else f"{tag.devices} devices from the base's file name ({tag.text}, {PurePath(tag.inherited_from).name})"
        ),
        from_tag=tag.text,
    )
    return ""


def _read_values(
    profile: Profile, values: dict[str, Value], index: keypaths.KeyIndex[Value] | None
) -> tuple[dict[str, Value], keypaths.KeyIndex[Value]]:
    """The document's values the framework reads, indexed: without the keys it does not read there (the
    profile's ``unread``: an MMEngine config's mmcv 1.x keys)."""
    index = index or keypaths.KeyIndex(values)
    unread = {k for p in profile.unread_keys(values) for k, _v in index.matching(p)}
    if not unread:
        return values, index
    kept = {k: v for k, v in values.items() if k not in unread}
    return kept, keypaths.KeyIndex(kept)


def build(
    doc: Document,
    profile: Profile,
    optimizers: OptimizerTable,
    tag: Tag | None | bool = True,
    index: keypaths.KeyIndex[Value] | None = None,
) -> list[Recipe]:
    """One recipe per lr (one lr per scope: the first lr pattern that matches there).

    ``tag``: the file-name tag (True: read it from ``doc.path``); its device count stands in where the
    config has none. ``index``: the document's keys, when they are already indexed.
    """
    values, index = _read_values(profile, doc.values, index)
    if tag is True:
        tag = name_tag(profile, doc.path)
    tag = tag or None
    recipes = []
    seen_spans: set[tuple[str, int, int]] = set()
    for lr in _lrs(profile, index):
        # one literal read through two names (``args.lr`` and ``optimizer.lr``) is one recipe
        if lr.span is not None:
            if (lr.span.path, lr.span.start, lr.span.end) in seen_spans:
                continue
            seen_spans.add((lr.span.path, lr.span.start, lr.span.end))
        roles = {r: _pick(profile.patterns(r), index, lr.key) for r in SINGLE_ROLES}
        if roles["devices"] is None:
            roles["devices"] = _device_list(profile.patterns("devices"), values, lr.key)
        backwards = _tag_devices(roles, tag, doc.path)
        warmup = [v for p in profile.patterns("warmup") for _k, v in index.matching(p)]
        schedule = _schedule(profile, index)
        opt = roles.get("optimizer")
        default = profile.defaults.get("optimizer")
        opt_name = str(opt.value) if opt is not None and opt.known else None if default is None else str(default)
        display, family = optimizers.lookup(opt_name)
        eff, parts, unknown, assumptions = effective_batch(profile, roles, values)
        if backwards and roles["devices"] is None:
            eff, assumptions = None, []
            unknown.append(backwards)
        if not lr.known:
            unknown.append(lr.why or f"{lr.key} is not known statically")
        elif lr.float_value is None:
            unknown.append(f'{lr.key} is "{lr.value}", filled in at run time')
        else:
            unknown.extend(why for _n, why in [_usable(lr, lr.float_value)] if why)
        recipes.append(
            Recipe(
                doc=doc,
                profile=profile,
                lr=lr,
                roles=roles,
                warmup=list({id(w): w for w in warmup}.values()),
                schedule=list({id(s): s for s in schedule}.values()),
                optimizer_display=display,
                family=family,
                optimizer_is_default=opt is None and opt_name is not None,
                effective_batch=eff,
                parts=parts,
                unknown=unknown,
                assumptions=assumptions,
                scaling=_scaling(profile, lr, values, roles),
                tag=tag,
            )
        )
    return recipes
