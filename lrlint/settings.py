"""``[tool.lrlint]`` settings (pyproject.toml, lrlint.toml or .lrlint.toml), validated by pydantic."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILES = (".lrlint.toml", "lrlint.toml", "pyproject.toml")
DEFAULT_OFF = frozenset({"LR008"})  # style rules: only when selected by their exact code or ALL


class ConfigError(Exception):
    """Bad configuration: exit 2 with the key path and the reason."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class PolicyRule(_Model):
    fix: Literal["linear", "sqrt", "none"]
    band: tuple[float, float]

    @model_validator(mode="after")
    def _band_order(self) -> "PolicyRule":
        lo, hi = self.band
        if not (0 <= lo <= hi <= 2):
            raise ValueError("band must be two exponents with 0 <= low <= high <= 2")
        return self


POLICY_NAMES = {
    "linear": PolicyRule(fix="linear", band=(1.0, 1.0)),
    "sqrt": PolicyRule(fix="sqrt", band=(0.5, 0.5)),
    "none": PolicyRule(fix="none", band=(0.0, 0.0)),
    "sqrt-to-linear": PolicyRule(fix="sqrt", band=(0.5, 1.0)),
}


class Thresholds(_Model):
    batch_tolerance: tuple[float, float] = Field((0.9, 1.11), alias="batch-tolerance")
    lr_tolerance: tuple[float, float] = Field((0.8, 1.25), alias="lr-tolerance")
    error_factor: float = Field(2.0, alias="error-factor", gt=1)
    max_safe_batch: float = Field(8192, alias="max-safe-batch", gt=0)
    max_safe_factor: float = Field(16, alias="max-safe-factor", gt=1)
    warmup_factor: float = Field(4, alias="warmup-factor", gt=1)
    linear_regime_batch: float = Field(8192, alias="linear-regime-batch", gt=0)


class VerifySettings(_Model):
    model: Optional[str] = None
    device: Optional[str] = None
    samples: Optional[int] = None
    max_seconds: Optional[float] = Field(None, alias="max-seconds")


class Settings(_Model):
    select: list[str] = Field(default_factory=lambda: ["LR0", "LR9"])
    extend_select: list[str] = Field(default_factory=list, alias="extend-select")
    ignore: list[str] = Field(default_factory=list)
    extend_ignore: list[str] = Field(default_factory=list, alias="extend-ignore")
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    include: list[str] = Field(default_factory=lambda: ["*.yaml", "*.yml", "*.json", "*.py"])
    exclude: list[str] = Field(default_factory=list)
    extend_exclude: list[str] = Field(default_factory=list, alias="extend-exclude")
    respect_gitignore: bool = Field(True, alias="respect-gitignore")
    base: Optional[str] = None
    max_file_size: int = Field(10 * 1024 * 1024, alias="max-file-size", gt=0)
    profiles: list[str] = Field(default_factory=list)
    policy: dict[str, Union[str, PolicyRule]] = Field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    verify: VerifySettings = VerifySettings()
    output_format: Optional[str] = Field(None, alias="output-format")
    # set by the loader, not by users
    root: str = Field(".", exclude=True)
    config_file: Optional[str] = Field(None, exclude=True)

    @field_validator("select", "extend_select", "ignore", "extend_ignore")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        for c in codes:
            if c != "ALL" and not (c.startswith("LR") and c[2:].isdigit() and len(c) <= 5):
                raise ValueError(f"{c!r} is not a rule code or prefix (like LR001, LR00, LR or ALL)")
        return codes

    @field_validator("policy")
    @classmethod
    def _policy(cls, policy: dict) -> dict:
        for family, rule in policy.items():
            if family not in ("sgd", "adaptive", "sign", "unknown"):
                raise ValueError(f"unknown optimizer family {family!r} (sgd, adaptive, sign, unknown)")
            if isinstance(rule, str) and rule not in POLICY_NAMES:
                raise ValueError(f"{family}: unknown policy {rule!r} (one of {', '.join(POLICY_NAMES)}, or a table with fix and band)")
        return policy

    def policy_for(self, family: str) -> PolicyRule | None:
        rule = self.policy.get(family)
        if rule is None:
            return None
        return POLICY_NAMES[rule] if isinstance(rule, str) else rule

    def selected(self, code: str, path: str | None = None) -> bool:
        """ruff's rule selection: the longest matching prefix wins; ignore wins a tie."""
        def best(prefixes: list[str]) -> int:
            return max((len(p) if p != "ALL" else 0 for p in prefixes if p == "ALL" or code.startswith(p)), default=-1)

        selectors = self.select + self.extend_select
        if code in DEFAULT_OFF and code not in selectors and "ALL" not in selectors:
            return False
        sel = best(selectors)
        ign = best(self.ignore + self.extend_ignore)
        if path is not None:
            from fnmatch import fnmatch
            for pattern, codes in self.per_file_ignores.items():
                neg = pattern.startswith("!")
                hit = fnmatch(path, pattern.lstrip("!")) or fnmatch(Path(path).name, pattern.lstrip("!"))
                if hit != neg:
                    ign = max(ign, best(codes))
        return sel >= 0 and sel > ign


def _error_text(source: str, e: ValidationError) -> str:
    out = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        out.append(f"{source}: tool.lrlint.{loc}: {err['msg']}" if loc else f"{source}: {err['msg']}")
    return "\n".join(out)


def find_config(start: Path) -> tuple[Path, dict] | None:
    """The nearest config file with lrlint settings, searching upward (ruff's rule: closest wins)."""
    start = start.resolve()
    for d in (start, *start.parents):
        for name in CONFIG_FILES:
            f = d / name
            if not f.is_file():
                continue
            try:
                data = tomllib.loads(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"{f}: cannot read TOML: {e}") from None
            if name == "pyproject.toml":
                table = data.get("tool", {}).get("lrlint")
                if table is None:
                    continue
                return f, table
            return f, data.get("tool", {}).get("lrlint", data)
    return None


def load(start: Path | None = None, config: str | None = None, overrides: dict | None = None, isolated: bool = False) -> Settings:
    """Settings from the nearest config (or ``config``), with CLI ``overrides`` on top."""
    table: dict = {}
    root = Path.cwd()
    config_file = None
    if config:
        f = Path(config)
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{f}: config file not found") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{f}: cannot read TOML: {e}") from None
        table = data.get("tool", {}).get("lrlint", data) if f.name == "pyproject.toml" else data.get("tool", {}).get("lrlint", data)
        root, config_file = f.resolve().parent, str(f)
    elif not isolated:
        found = find_config(start or Path.cwd())
        if found:
            f, table = found
            root, config_file = f.parent, str(f)
    merged = {**table, **(overrides or {})}
    # profiles are relative to the config file
    if "profiles" in table:
        merged["profiles"] = [str((root / p)) if not Path(p).is_absolute() else p for p in table["profiles"]] + list((overrides or {}).get("profiles", []))
    merged["root"] = str(root)
    merged["config_file"] = config_file
    try:
        return Settings.model_validate(merged)
    except ValidationError as e:
        raise ConfigError(_error_text(config_file or "settings", e)) from None
