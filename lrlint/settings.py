"""``[tool.lrlint]`` settings (pyproject.toml, lrlint.toml or .lrlint.toml), validated by pydantic.

Plain dataclasses (see :mod:`lrlint.validation`): with no table and no CLI overrides the defaults
are used as they are and pydantic is not imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lrlint.profiles import optimizer_table
from lrlint.validation import FieldError, Invalid, validate

CONFIG_FILES = (".lrlint.toml", "lrlint.toml", "pyproject.toml")
DEFAULT_OFF = frozenset({"LR008", "LR100"})  # style rules: only when selected by their exact code or ALL


def _families() -> tuple[str, ...]:
    """The optimizer families of ``rules/optimizers.yaml`` (a policy may name any of them)."""
    return tuple(optimizer_table().families)


class ConfigError(Exception):
    """Bad configuration: exit 2 with the key path and the reason."""


FORBID = {"extra": "forbid"}  # pydantic config: unknown keys are errors
# No generated __repr__ (repr=False) on these classes: every check builds them at import, and no output shows
# them (--show-settings formats the fields); each generated method costs start-up time.


@dataclass(kw_only=True, repr=False)
class PolicyRule:
    """A family's scaling rule as a user sets it (``[tool.lrlint.policy.FAMILY]``): ``fix`` and the exponent band."""

    __pydantic_config__ = FORBID
    fix: Literal["linear", "sqrt", "none"]
    band: tuple[float, float]

    def __post_init__(self) -> None:
        lo, hi = self.band
        if not (0 <= lo <= hi <= 2):
            raise FieldError("band", "band must be two exponents with 0 <= low <= high <= 2")


def _above(obj, name: str, bound: float) -> None:
    if not getattr(obj, name) > bound:
        raise FieldError(name, f"Input should be greater than {bound:g}")


POLICY_NAMES = {
    "linear": PolicyRule(fix="linear", band=(1.0, 1.0)),
    "sqrt": PolicyRule(fix="sqrt", band=(0.5, 0.5)),
    "none": PolicyRule(fix="none", band=(0.0, 0.0)),
    "sqrt-to-linear": PolicyRule(fix="sqrt", band=(0.5, 1.0)),
}


@dataclass(kw_only=True, repr=False)
class Thresholds:
    """The tolerances and limits the checks compare with (``[tool.lrlint.thresholds]``)."""

    __pydantic_config__ = FORBID
    __aliases__ = {
        "batch_tolerance": "batch-tolerance",
        "lr_tolerance": "lr-tolerance",
        "error_factor": "error-factor",
        "max_safe_batch": "max-safe-batch",
        "max_safe_factor": "max-safe-factor",
        "warmup_factor": "warmup-factor",
        "linear_regime_batch": "linear-regime-batch",
        "usual_lr": "usual-lr",
    }
    batch_tolerance: tuple[float, float] = (0.9, 1.11)
    lr_tolerance: tuple[float, float] = (0.8, 1.25)
    error_factor: float = 2.0
    max_safe_batch: float = 8192.0
    max_safe_factor: float = 16.0
    warmup_factor: float = 4.0
    linear_regime_batch: float = 8192.0
    # per optimizer family: the lr levels trained without a warmup (LR003), over rules/optimizers.yaml's
    usual_lr: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        families = _families() if self.usual_lr else ()
        for family, (lo, hi) in self.usual_lr.items():
            if family not in families:
                raise FieldError("usual_lr", f"unknown optimizer family {family!r} ({', '.join(families)})")
            if not 0 <= lo <= hi:
                raise FieldError("usual_lr", f"{family}: two lr levels with 0 <= low <= high")
        for name, bound in (
            ("error_factor", 1),
            ("max_safe_batch", 0),
            ("max_safe_factor", 1),
            ("warmup_factor", 1),
            ("linear_regime_batch", 0),
        ):
            _above(self, name, bound)


PARTS = ("per_device", "accum", "devices", "nodes", "global_batch", "total")


@dataclass(kw_only=True, repr=False)
class ScriptScaling:
    """``runtime-scaling = [{script = "main.py", reads = "blr", rule = "linear", per = 256}]``: the script
    scales the config key ``reads`` with the batch at run time (``per``: the batch the key's lr is for)."""

    __pydantic_config__ = FORBID
    script: str
    reads: str
    rule: Literal["linear", "sqrt"] = "linear"
    per: float | None = None
    covers: list[str] | None = None  # the batch parts the script reads (default: all)

    def __post_init__(self) -> None:
        for part in self.covers or ():
            if part not in PARTS:
                raise FieldError("covers", f"unknown batch part {part!r} (one of {', '.join(PARTS)})")
        if self.per is not None and not self.per > 0:
            raise FieldError("per", "Input should be greater than 0")


@dataclass(kw_only=True, repr=False)
class VerifySettings:
    """``lrlint verify``'s settings (``[tool.lrlint.verify]``): the proxy model, device, samples and time."""

    __pydantic_config__ = FORBID
    __aliases__ = {"max_seconds": "max-seconds"}
    model: str | None = None
    device: str | None = None
    samples: int | None = None
    max_seconds: float | None = None


@dataclass(kw_only=True, repr=False)
class Settings:
    """The ``[tool.lrlint]`` table, validated, with the defaults for what it leaves out."""

    __pydantic_config__ = FORBID
    __aliases__ = {
        "extend_select": "extend-select",
        "extend_ignore": "extend-ignore",
        "per_file_ignores": "per-file-ignores",
        "extend_exclude": "extend-exclude",
        "respect_gitignore": "respect-gitignore",
        "max_file_size": "max-file-size",
        "output_format": "output-format",
        "config_sets": "config-sets",
        "show_existing": "show-existing",
        "show_dependents": "show-dependents",
        "runtime_scaling": "runtime-scaling",
    }
    select: list[str] = field(default_factory=lambda: ["LR0", "LR9"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    include: list[str] = field(default_factory=lambda: ["*.yaml", "*.yml", "*.json", "*.py"])
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    base: str | None = None
    # in a run with a git base: list the findings already there at the base too (marked; they never fail)
    show_existing: bool = False
    max_file_size: int = 10 * 1024 * 1024
    profiles: list[str] = field(default_factory=list)
    # files one run merges in order, later ones overriding earlier ones (Lightning CLI's repeated
    # ``--config``): checked together as one recipe; paths relative to the config file
    config_sets: list[list[str]] = field(default_factory=list)
    policy: dict[str, str | PolicyRule] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    verify: VerifySettings = field(default_factory=VerifySettings)
    output_format: str | None = None
    # the hardware of the run about to be launched (``--devices``/``--nodes``): the devices per node and nodes
    # a checked recipe is read with, compared with the config as written
    devices: int | None = None
    nodes: int | None = None
    # a finding on a shared file names every config its change reaches, not the first few
    show_dependents: bool = False
    # scripts of the repository that scale a config's lr at run time (found automatically too)
    runtime_scaling: list[ScriptScaling] = field(default_factory=list)
    # set by the loader, not by users
    root: str = "."
    config_file: str | None = None

    def __post_init__(self) -> None:
        for name in ("select", "extend_select", "ignore", "extend_ignore"):
            for c in getattr(self, name):
                if c != "ALL" and not (c.startswith("LR") and c[2:].isdigit() and len(c) <= 5):
                    raise FieldError(name, f"{c!r} is not a rule code or prefix (like LR001, LR00, LR or ALL)")
        for group in self.config_sets:
            if len(group) < 2:
                raise FieldError(
                    "config_sets", f"a config set lists the files merged in order: {group!r} has fewer than two"
                )
        for name in ("devices", "nodes"):
            n = getattr(self, name)
            if n is not None and not n > 0:
                raise FieldError(name, "Input should be greater than 0")
        if not self.max_file_size > 0:
            raise FieldError("max_file_size", "Input should be greater than 0")
        families = _families() if self.policy else ()
        for family, rule in self.policy.items():
            if family not in families:
                raise FieldError("policy", f"unknown optimizer family {family!r} ({', '.join(families)})")
            if isinstance(rule, str) and rule not in POLICY_NAMES:
                raise FieldError(
                    "policy",
                    f"{family}: unknown policy {rule!r} (one of {', '.join(POLICY_NAMES)}, or a table with fix and "
                    "band)",
                )

    @classmethod
    def from_table(cls, table: dict) -> Settings:
        """Settings from a ``[tool.lrlint]``-style table (dashed keys), validated; raises ConfigError."""
        return _validated(table, "settings")

    def policy_for(self, family: str) -> PolicyRule | None:
        rule = self.policy.get(family)
        if rule is None:
            return None
        return POLICY_NAMES[rule] if isinstance(rule, str) else rule

    def relative(self, path: str) -> str:
        """``path`` (as shown: relative to the working directory, or absolute) relative to the root, as the
        globs read it; a path outside the root stays as it is."""
        import os

        try:
            full = Path(path).resolve()
        except (OSError, RuntimeError):  # a link loop
            full = Path(os.path.abspath(path))
        try:
            return full.relative_to(Path(self.root).resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def selected(self, code: str, path: str | None = None) -> bool:
        """ruff's rule selection: the longest matching prefix wins; ignore wins a tie."""

        def best(prefixes: list[str]) -> int:
            return max((len(p) if p != "ALL" else 0 for p in prefixes if p == "ALL" or code.startswith(p)), default=-1)

        selectors = self.select + self.extend_select
        if code in DEFAULT_OFF and code not in selectors and "ALL" not in selectors:
            return False
        sel = best(selectors)
        ign = best(self.ignore + self.extend_ignore)
        if path is not None and self.per_file_ignores:
            from lrlint import globs

            rel = self.relative(path)
            for pattern, codes in self.per_file_ignores.items():
                neg = pattern.startswith("!")
                if globs.matches(rel, [pattern.removeprefix("!")]) != neg:
                    ign = max(ign, best(codes))
        return sel >= 0 and sel > ign


def _validated(table: dict, source: str, cli_keys: frozenset[str] = frozenset()) -> Settings:
    """``table`` validated; an error names where its key was written: the config file (``source``), or
    ``--config`` for a key given on the command line (``cli_keys``)."""
    try:
        return validate(Settings, table)
    except Invalid as e:
        lines = []
        for loc, msg in e.errors:
            if loc.split(".")[0] in cli_keys:
                lines.append(f"--config: {loc}: {msg}")
            else:
                lines.append(f"{source}: tool.lrlint.{loc}: {msg}" if loc else f"{source}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def merged_tables(base: dict, top: dict) -> dict:
    """``top`` over ``base``, table by table (``thresholds.error-factor = 3`` keeps the other thresholds)."""
    out = dict(base)
    for k, v in top.items():
        out[k] = merged_tables(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def find_config(start: Path) -> tuple[Path, dict] | None:
    """The nearest config file with lrlint settings, searching upward (ruff's rule: closest wins)."""
    start = start.resolve()
    for d in (start, *start.parents):
        for name in CONFIG_FILES:
            f = d / name
            if not f.is_file():
                continue
            from lrlint.tomlfile import tomllib

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


def load(
    start: Path | None = None, config: str | None = None, overrides: dict | None = None, isolated: bool = False
) -> Settings:
    """Settings from the nearest config (or ``config``), with CLI ``overrides`` on top."""
    table: dict = {}
    root = Path.cwd()
    config_file = None
    if config:
        from lrlint.tomlfile import tomllib

        f = Path(config)
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{f}: config file not found") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{f}: cannot read TOML: {e}") from None
        table = (
            data.get("tool", {}).get("lrlint", data)
            if f.name == "pyproject.toml"
            else data.get("tool", {}).get("lrlint", data)
        )
        root, config_file = f.resolve().parent, str(f)
    elif not isolated:
        found = find_config(start or Path.cwd())
        if found:
            f, table = found
            root, config_file = f.parent, str(f)
    merged = merged_tables(table, overrides or {})
    # profiles are relative to the config file
    if "profiles" in table:
        merged["profiles"] = [str(root / p) if not Path(p).is_absolute() else p for p in table["profiles"]] + list(
            (overrides or {}).get("profiles", [])
        )
    if not merged:  # nothing to validate: the defaults, without importing pydantic
        return Settings(root=str(root), config_file=config_file)
    merged["root"] = str(root)
    merged["config_file"] = config_file
    # validated once per distinct table (pydantic's import alone outweighs a one-file check)
    from lrlint import cache

    key = cache.code_key(__name__, "lrlint.validation") + "\n" + repr(merged)
    cli_keys = frozenset(overrides or {})
    return cache.cached("settings", key, lambda: _validated(merged, config_file or "settings", cli_keys))
