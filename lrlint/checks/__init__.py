"""The rule registry: every check with its code, name, docs and examples."""

from __future__ import annotations

import importlib
from functools import lru_cache

from lrlint.checks.base import Rule

# Modules defining RULE (a scaling check) or RULES (several rules without a check function).
MODULES = (
    "lrlint.checks.lr001_unscaled_lr",
    "lrlint.checks.lr002_misscaled_lr",
    "lrlint.checks.lr003_missing_warmup",
    "lrlint.checks.lr004_inconsistent_batch",
    "lrlint.checks.lr005_beyond_linear_regime",
    "lrlint.checks.lr006_schedule_not_rescaled",
    "lrlint.checks.lr007_auto_scale_mismatch",
    "lrlint.checks.lr008_batch_not_power_of_two",
    "lrlint.checks.lr9xx_input",
)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for name in MODULES:
        mod = importlib.import_module(name)
        for rule in getattr(mod, "RULES", ()) or (mod.RULE,):
            rules[rule.code] = rule
    return dict(sorted(rules.items()))


def rule(code: str) -> Rule | None:
    return all_rules().get(code.upper())


def recipe_checks() -> list[Rule]:
    return [r for r in all_rules().values() if r.check is not None]
