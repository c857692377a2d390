"""Framework profiles and optimizer families: the declarative knowledge in ``rules/``, validated."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lrlint.keypaths import compile_pattern

Scalar = Union[bool, int, float, str, None]

ROLES = (
    "batch_per_device",  # per device per step
    "batch_global",      # across devices per step (accumulation multiplies it)
    "batch_total",       # the whole effective batch (accumulation and devices included)
    "grad_accum",
    "devices",           # devices per node (or all processes when nodes is absent)
    "nodes",
    "lr",
    "optimizer",
    "momentum",
    "warmup",            # any value > 0 means a warmup is configured
    "schedule_steps",    # step-based schedule lengths (rescaled by 1/k)
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(Strict):
    """A test on one key of the document."""

    key: str
    op: Literal["eq", "ne", "present", "absent", "truthy", "falsy"] = "truthy"
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
        if self.op == "eq":
            return x == self.value or (v.number is not None and v.number == self.value)
        if self.op == "ne":
            return not (x == self.value or (v.number is not None and v.number == self.value))
        truthy = bool(x) and str(x).lower() not in ("false", "0", "no", "off", "none", "null")
        return truthy if self.op == "truthy" else not truthy


class RuntimeScaling(Strict):
    """A framework that rescales the lr itself at run time, and when it does."""

    name: str
    when: list[Condition]
    rule: Literal["linear", "sqrt"] = "linear"
    reference_batch: Optional[str] = None   # key holding the batch the lr was written for
    description: str
    rescales_schedule: bool = False         # the framework also rescales step-based schedule lengths
    ignores: list[str] = Field(default_factory=list)  # batch roles the runtime rule leaves out (MMEngine: grad_accum)


class Inherit(Strict):
    """How a config names the configs it inherits from (issue 4)."""

    key: str                                   # "_BASE_", "_base_", "defaults"
    kind: Literal["path", "mmengine", "hydra_defaults"] = "path"
    delete_key: Optional[str] = None           # "_delete_": a child mapping with it replaces the base's
    config_root: list[str] = Field(default_factory=lambda: ["configs", "conf", "config"])  # hydra: conventional roots
    primary: list[str] = Field(default_factory=lambda: ["train.yaml", "config.yaml", "main.yaml"])  # hydra: primary configs, first wins


class NameTag(Strict):
    """A file-name pattern stating the batch: named groups ``devices``, ``per_device`` and/or ``batch``."""

    pattern: str
    description: str = ""

    @field_validator("pattern")
    @classmethod
    def _groups(cls, pattern: str) -> str:
        try:
            rx = re.compile(pattern)
        except re.error as e:
            raise ValueError(f"bad regex {pattern!r}: {e}") from None
        if not set(rx.groupindex) & {"devices", "per_device", "batch"}:
            raise ValueError(f"name tag {pattern!r} needs a named group devices, per_device or batch")
        return pattern


class Consistency(Strict):
    """``total`` must be a multiple of the product of ``factors`` (LR004); ``message`` is formatted with
    ``total``, ``factors`` (``a * b``), ``product`` and each key's last part."""

    total: str
    factors: list[str]
    message: str
    exact_when: list[str] = Field(default_factory=list)  # keys that, all present, make it an equality


class EpochFlag(Strict):
    """Schedule values matched by ``pattern`` count epochs (not steps) when the sibling ``key`` is true."""

    pattern: str
    key: str
    default: bool = False


class Detect(Strict):
    keys: list[str] = Field(default_factory=list)   # patterns; each present one scores a point
    min_score: int = 1
    files: list[str] = Field(default_factory=list)  # file-name globs that claim the file outright
    formats: list[Literal["yaml", "json", "python"]] = Field(default_factory=lambda: ["yaml", "json"])


class Profile(Strict):
    name: str
    title: str
    priority: int = 0
    detect: Detect = Detect()
    roles: dict[str, list[str]] = Field(default_factory=dict)
    defaults: dict[str, Scalar] = Field(default_factory=dict)   # framework defaults for absent roles
    runtime_scaling: list[RuntimeScaling] = Field(default_factory=list)
    inherit: Optional[Inherit] = None
    name_tags: list[NameTag] = Field(default_factory=list)
    declared_batch: list[str] = Field(default_factory=list)  # keys stating the batch the lr was tuned for
    consistency: list[Consistency] = Field(default_factory=list)
    epoch_flags: list[EpochFlag] = Field(default_factory=list)
    severity: Optional[Literal["error", "warning", "info"]] = None  # overrides finding severity
    note: str = ""                      # shown with every finding of this profile
    url: str = ""

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, list[str]]) -> dict[str, list[str]]:
        for role, patterns in roles.items():
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
            for p in patterns:
                compile_pattern(p)
        return roles

    def patterns(self, role: str) -> list[str]:
        return self.roles.get(role, [])


class Family(Strict):
    title: str
    fix: Literal["linear", "sqrt", "none"]
    band: tuple[float, float]
    safe: bool = True
    note: str = ""


class OptimizerEntry(Strict):
    display: str
    family: str
    names: list[str] = Field(default_factory=list)     # normalised names (lower case, last dotted part)
    patterns: list[str] = Field(default_factory=list)  # regexes searched in the normalised name


class OptimizerTable(Strict):
    families: dict[str, Family]
    optimizers: list[OptimizerEntry]

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
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise RulesError(f"{path}: {e}") from None


def _validation_message(path: Path, e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"{path}: {loc}: {err['msg']}")
    return "\n".join(lines)


def load_profile(path: Path) -> Profile:
    data = _load_yaml(path)
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        raise RulesError(_validation_message(path, e)) from None


@lru_cache(maxsize=8)
def builtin_profiles() -> tuple[Profile, ...]:
    d = rules_dir() / "frameworks"
    return tuple(load_profile(p) for p in sorted(d.glob("*.yaml")))


@lru_cache(maxsize=8)
def optimizer_table() -> OptimizerTable:
    path = rules_dir() / "optimizers.yaml"
    try:
        return OptimizerTable.model_validate(_load_yaml(path))
    except ValidationError as e:
        raise RulesError(_validation_message(path, e)) from None


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
