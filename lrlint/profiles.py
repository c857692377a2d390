"""Framework profiles and optimizer families: the declarative knowledge in ``rules/``.

Plain dataclasses (see :mod:`lrlint.validation`): the shipped files are built directly, a user's
profile file is validated by pydantic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from lrlint import cache
from lrlint.validation import FieldError, Invalid, build, validate
from lrlint.vocabulary import ROLES, Part, Severity

Scalar = bool | int | float | str | None


FORBID = {"extra": "forbid"}  # pydantic config: unknown keys are errors
# No generated __repr__ (repr=False) on these classes: every check builds them at import, and no output shows
# them (--show-settings formats the fields); each generated method costs start-up time.


@dataclass(kw_only=True, repr=False)
class Condition:
    """A test on one key of the document."""

    __pydantic_config__ = FORBID
    key: str
    op: Literal["eq", "ne", "present", "absent", "truthy", "falsy", "matches"] = (
        "truthy"  # matches: regex search, any case
    )
    value: Scalar = None

    def holds(self, values: dict) -> bool:
        v = values.get(self.key)
        if self.op == "present":
            return v is not None
        if self.op == "absent":
            return v is None or v.value is None
        if v is None:
            return self.op in ("ne", "falsy")
        x = v.value
        if self.op == "matches":
            return v.known and x is not None and re.search(str(self.value), str(x), re.IGNORECASE) is not None
        if self.op == "eq":
            return x == self.value or (v.number is not None and v.number == self.value)
        if self.op == "ne":
            return not (x == self.value or (v.number is not None and v.number == self.value))
        truthy = bool(x) and str(x).lower() not in ("false", "0", "no", "off", "none", "null")
        return truthy if self.op == "truthy" else not truthy


@dataclass(kw_only=True, repr=False)
class RuntimeScaling:
    """A framework that rescales the lr itself at run time, and when it does."""

    __pydantic_config__ = FORBID

    name: str
    when: list[Condition]
    rule: Literal["linear", "sqrt"] = "linear"
    reference_batch: str | None = None  # key holding the batch the lr was written for
    description: str
    rescales_schedule: bool = False  # the framework also rescales step-based schedule lengths
    ignores: list[str] = field(default_factory=list)  # batch roles the runtime rule leaves out (MMEngine: grad_accum)
    # batch parts whose changes the runtime compensates (per_device, accum, devices, nodes, global_batch,
    # total); None: every change. Detectron2 rescales from the file's own IMS_PER_BATCH/BASE_LR pair, so
    # only a different number of workers is compensated, never an edit of IMS_PER_BATCH.
    covers: list[Part] | None = None


@dataclass(kw_only=True, repr=False)
class Inherit:
    """How a config names the configs it inherits from."""

    __pydantic_config__ = FORBID

    key: str  # "_BASE_", "_base_", "defaults"
    kind: Literal["path", "mmengine", "hydra_defaults", "python_imports"] = "path"
    delete_key: str | None = None  # "_delete_": a child mapping with it replaces the base's
    config_root: list[str] = field(default_factory=lambda: ["configs", "conf", "config"])  # hydra: conventional roots
    primary: list[str] = field(
        default_factory=lambda: ["train.yaml", "config.yaml", "main.yaml"]
    )  # hydra: primary configs, first wins


@dataclass(kw_only=True, repr=False)
class NameTag:
    """A file-name pattern stating the batch: named groups ``devices``, ``per_device`` and/or ``batch``.

    ``scope``: ``recipe`` (the file trains that batch: its devices stand in, LR004 compares it with the
    content) or ``schedule`` (the file's lr and schedule were written for that batch, as a schedule fragment's
    ``bs256``: it only ties the lr written there to a batch; nothing is compared with it)."""

    __pydantic_config__ = FORBID

    pattern: str
    description: str = ""
    scope: Literal["recipe", "schedule"] = "recipe"

    def __post_init__(self) -> None:
        try:
            rx = re.compile(self.pattern)
        except re.error as e:
            raise FieldError("pattern", f"bad regex {self.pattern!r}: {e}") from None
        if not set(rx.groupindex) & {"devices", "per_device", "batch"}:
            raise FieldError("pattern", f"name tag {self.pattern!r} needs a named group devices, per_device or batch")


@dataclass(kw_only=True, repr=False)
class NotTrained:
    """Configs a framework keeps for something other than training a recipe (CI tests, deployment): a
    gitignore-style ``glob`` on the checked path, and ``why`` (shown by ``--explain``)."""

    __pydantic_config__ = FORBID

    glob: str
    why: str


@dataclass(kw_only=True, repr=False)
class Unread:
    """Keys the framework does not read when every condition in ``when`` holds (``why`` says so in the docs):
    lrlint reads the config without them."""

    __pydantic_config__ = FORBID

    when: list[Condition]
    keys: list[str]
    why: str = ""


@dataclass(kw_only=True, repr=False)
class Consistency:
    """``total`` must be a multiple of the product of ``factors`` (LR004); ``message`` is formatted with
    ``total``, ``factors`` (``a * b``), ``product`` and each key's last part."""

    __pydantic_config__ = FORBID

    total: str
    factors: list[str]
    message: str


@dataclass(kw_only=True, repr=False)
class EpochFlag:
    """Schedule values matched by ``pattern`` count epochs (not steps) when the sibling ``key`` is true."""

    __pydantic_config__ = FORBID

    pattern: str
    key: str
    default: bool = False


@dataclass(kw_only=True, repr=False)
class WarmupFix:
    """How ``--unsafe-fixes`` adds a warmup in this framework (LR003): ``key`` set to the literal ``value``,
    or, with ``item``, the literal ``item`` put first in the list assigned to ``key`` (MMEngine's
    ``param_scheduler``)."""

    __pydantic_config__ = FORBID

    key: str
    value: str = ""  # the literal written, in the file's syntax (YAML and Python agree for numbers)
    item: str = ""
    description: str = ""  # what the warmup does, for the fix's title

    def __post_init__(self) -> None:
        if bool(self.value) == bool(self.item):
            raise FieldError("warmup_fix", "give exactly one of value and item")


@dataclass(kw_only=True, repr=False)
class Detect:
    """How a profile claims a config: the key patterns that score (``min_score`` of them needed), the file-name
    globs that claim a file outright, and the formats it reads."""

    __pydantic_config__ = FORBID

    keys: list[str] = field(default_factory=list)  # patterns; each present one scores a point
    min_score: int = 1
    files: list[str] = field(default_factory=list)  # file-name globs that claim the file outright
    formats: list[Literal["yaml", "json", "python"]] = field(default_factory=lambda: ["yaml", "json"])


@dataclass(kw_only=True, repr=False)
class Profile:
    """A framework's knowledge (``rules/*.yaml``): how its configs are recognised, which keys hold the batch,
    the lr and the optimizer, how it inherits, and what it does with them at run time."""

    __pydantic_config__ = FORBID

    name: str
    title: str
    description: str = ""  # what the framework does with batch and lr (docs/profiles.md)
    priority: int = 0
    detect: Detect = field(default_factory=Detect)
    roles: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, Scalar] = field(default_factory=dict)  # framework defaults for absent roles
    runtime_scaling: list[RuntimeScaling] = field(default_factory=list)
    inherit: Inherit | None = None
    name_tags: list[NameTag] = field(default_factory=list)
    declared_batch: list[str] = field(default_factory=list)  # keys stating the batch the lr was tuned for
    not_trained: list[NotTrained] = field(default_factory=list)  # configs that are not training recipes
    warmup_when: list[Condition] = field(default_factory=list)  # a hook that warms up by default (LR003)
    unread: list[Unread] = field(default_factory=list)  # keys the framework does not read, and when
    consistency: list[Consistency] = field(default_factory=list)
    epoch_flags: list[EpochFlag] = field(default_factory=list)
    warmup_fix: WarmupFix | None = None  # how an unsafe fix adds a warmup (LR003)
    severity: Severity | None = None  # overrides finding severity
    note: str = ""  # shown with every finding of this profile
    url: str = ""

    def __post_init__(self) -> None:
        for role in self.roles:
            if role not in ROLES:
                raise FieldError("roles", f"unknown role {role!r} (known: {', '.join(ROLES)})")

    def patterns(self, role: str) -> list[str]:
        return self.roles.get(role, [])

    def unread_keys(self, values: dict) -> list[str]:
        """The key patterns the framework does not read in a document with these ``values``."""
        return [k for u in self.unread if all(c.holds(values) for c in u.when) for k in u.keys]


@dataclass(kw_only=True, repr=False)
class Family:
    """An optimizer family (``rules/optimizers.yaml``): how its lr follows the batch (``fix`` and the exponent
    ``band``), and the lr levels it trains without a warmup."""

    __pydantic_config__ = FORBID

    title: str
    fix: Literal["linear", "sqrt", "none"]
    band: tuple[float, float]
    safe: bool = True
    note: str = ""
    usual_lr: tuple[float, float] | None = None  # lr levels trained without a warmup (LR003)

    def __post_init__(self) -> None:
        if self.usual_lr is not None and not 0 <= self.usual_lr[0] <= self.usual_lr[1]:
            raise FieldError("usual_lr", "usual_lr must be two lr levels with 0 <= low <= high")


@dataclass(kw_only=True, repr=False)
class TorchOptimizer:
    """The torch.optim class ``lrlint verify`` trains with for an optimizer, and the proxy model's lr for it."""

    __pydantic_config__ = FORBID

    name: str  # attribute of torch.optim
    proxy_lr: float
    calibrated: bool = False  # the proxy lr was measured, not guessed


@dataclass(kw_only=True, repr=False)
class OptimizerEntry:
    """One optimizer: its display name, family, the names and patterns that mean it, its Python classes and the
    torch class ``lrlint verify`` trains with."""

    __pydantic_config__ = FORBID

    display: str
    family: str
    names: list[str] = field(default_factory=list)  # normalised names (lower case, last dotted part)
    patterns: list[str] = field(default_factory=list)  # regexes searched in the normalised name
    classes: list[str] = field(default_factory=list)  # Python classes of this optimizer, as imported
    torch: TorchOptimizer | None = None


@dataclass(kw_only=True, repr=False)
class OptimizerClasses:
    """How the Python reader tells an optimizer class from other callables (``rules/optimizers.yaml``)."""

    __pydantic_config__ = FORBID
    modules: list[str] = field(default_factory=list)  # every capitalised name in these modules is one ...
    not_suffixes: list[str] = field(default_factory=list)  # ... unless it ends with one of these
    not_parts: list[str] = field(default_factory=list)  # a dotted part that makes a callable no optimizer
    classes: list[str] = field(default_factory=list)  # more classes, of a family the table does not know


@dataclass(kw_only=True, repr=False)
class OptimizerTable:
    """The one optimizer table (``rules/optimizers.yaml``): families, optimizers, and their Python classes."""

    __pydantic_config__ = FORBID

    families: dict[str, Family]
    optimizers: list[OptimizerEntry]
    python: OptimizerClasses = field(default_factory=OptimizerClasses)

    def __post_init__(self) -> None:
        for e in self.optimizers:
            if e.family not in self.families:
                raise FieldError("optimizers", f"{e.display}: unknown family {e.family!r}")

    def class_names(self) -> frozenset[str]:
        """Every optimizer class the Python reader recognises by its name."""
        return frozenset(c for e in self.optimizers for c in e.classes) | frozenset(self.python.classes)

    def torch_classes(self) -> dict[str, TorchOptimizer]:
        """Display name -> the torch.optim class ``lrlint verify`` trains with for it."""
        return {e.display: e.torch for e in self.optimizers if e.torch is not None}

    def lookup(self, name: str | None) -> tuple[str, str]:
        """(display name, family) for an optimizer name as written in a config."""
        if not name:
            return "", "unknown"
        norm = normalise_optimizer(name)
        for e in self.optimizers:
            if norm in e.names:
                return e.display, e.family
        for e in self.optimizers:
            if any(re.search(p, norm) for p in e.patterns):
                return e.display, e.family
        return name, "unknown"


def normalise_optimizer(name: str) -> str:
    return str(name).strip().strip("'\"").rsplit(".", 1)[-1].lower().replace("-", "_")


class RulesError(Exception):
    """A profile or the optimizer table is invalid; the message names the file and key."""


def rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (here / "rules", here.parent / "rules"):
        if (cand / "optimizers.yaml").is_file():
            return cand
    raise RulesError(f"cannot find lrlint's rules/ directory near {here}")


def _load_yaml(path: Path) -> object:
    import yaml

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise RulesError(f"{path}: {e}") from None


def _checked(cls: type, path: Path, data: object):
    """A user's file: validated by pydantic, errors name the file and key."""
    try:
        return validate(cls, data)
    except Invalid as e:
        raise RulesError(
            "\n".join(f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}" for loc, msg in e.errors)
        ) from None


def load_profile(path: Path) -> Profile:
    """A user's profile file, validated (once per content: the result is cached)."""
    try:
        text = path.read_bytes()
    except OSError as e:
        raise RulesError(f"{path}: {e}") from None
    key = (
        cache.code_key(__name__, "lrlint.validation")
        + f"\n{path.resolve()}\n"
        + text.decode("utf-8", "surrogateescape")
    )
    return cache.cached("profile", key, lambda: _checked(Profile, path, _user_data(path)))


def _user_data(path: Path) -> object:
    data = _load_yaml(path)
    if isinstance(data, dict) and "python" in data:
        raise RulesError(
            f"{path}: python: the Python reader reads the python sections of lrlint's own rules/ only; "
            "a user profile cannot add to it"
        )
    return data


def shipped(cls: type, path: Path, data: Any = None):
    """A file of lrlint's own ``rules/`` (or its ``data``): built without validation (tests validate every one)."""
    data = _load_yaml(path) if data is None else data
    try:
        return build(cls, data)
    except (TypeError, ValueError, AttributeError, KeyError):  # a broken install: say where, with pydantic's detail
        return _checked(cls, path, data)


# Parts of a profile file that no check reads, kept apart from the Profile: the Python reader's knowledge
# (``python:``, merged into its own table by :mod:`lrlint.python_rules`) and the examples (tests and docs).
APART = ("python", "examples")


def profile_file(path: Path) -> tuple[Profile, dict[str, Any]]:
    """A shipped profile file: the Profile checks run with, and its parts kept apart (as written)."""
    data = _load_yaml(path)
    apart = {k: data.pop(k) for k in APART if k in data} if isinstance(data, dict) else {}
    return shipped(Profile, path, data), apart


def shipped_profile_files() -> list[tuple[Profile, dict[str, Any]]]:
    """Every ``rules/frameworks/*.yaml``, read now (the Python reader's table and the docs are built from it)."""
    return [profile_file(p) for p in sorted((rules_dir() / "frameworks").glob("*.yaml"))]


def _build_shipped() -> tuple[tuple[Profile, ...], OptimizerTable]:
    return tuple(p for p, _ in shipped_profile_files()), shipped(OptimizerTable, rules_dir() / "optimizers.yaml")


@lru_cache(maxsize=1)
def _shipped_rules() -> tuple[tuple[Profile, ...], OptimizerTable]:
    """The shipped profiles and optimizer table, from the cache when the rule files and this module
    are unchanged (a pre-commit run then reads no YAML rules)."""
    return cache.cached("rules", rules_key(), _build_shipped)


def rules_key(*modules: str) -> str:
    """What the shipped rules are built from: lrlint's code (and ``modules``') and the rule files."""
    d = rules_dir()
    files = sorted((d / "frameworks").glob("*.yaml")) + [d / "optimizers.yaml"]
    return (
        cache.code_key(__name__, "lrlint.validation", *modules)
        + f"\n{d}\n"
        + "".join(f"{f.name} {st.st_size} {st.st_mtime_ns}\n" for f in files for st in (f.stat(),))
    )


def builtin_profiles() -> tuple[Profile, ...]:
    return _shipped_rules()[0]


def optimizer_table() -> OptimizerTable:
    """The one optimizer table: families and their policies, names, Python classes, verify's torch classes."""
    return _shipped_rules()[1]


def all_profiles(extra_paths: tuple[str, ...] = ()) -> tuple[Profile, ...]:
    """Built-in profiles plus the user's (a user profile with a built-in's name replaces it)."""
    profiles = {p.name: p for p in builtin_profiles()}
    for raw in extra_paths:
        path = Path(raw)
        if not path.is_file():
            raise RulesError(f"{path}: profile file not found")
        p = load_profile(path)
        profiles[p.name] = p
    return tuple(sorted(profiles.values(), key=lambda p: (-p.priority, p.name)))
