"""Scaling math shared by every check, fix and verify: policies, expected lr, tolerance bands."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lrlint.records import Record

if TYPE_CHECKING:
    from lrlint.profiles import OptimizerTable
    from lrlint.settings import Settings, Thresholds

RULE_EXPONENT = {"linear": 1.0, "sqrt": 0.5, "none": 0.0}
RULE_TITLE = {"linear": "linear", "sqrt": "square-root", "none": "no-change"}


class Policy(Record):
    """How the lr should follow the batch for one optimizer family: lr factor = k**a."""

    family: str
    family_title: str
    fix: str  # rule a fix applies: linear | sqrt | none
    band: tuple[float, float]  # accepted exponents
    safe: bool  # whether a fix under this policy may be applied silently
    note: str = ""
    from_settings: bool = False
    usual_lr: tuple[float, float] | None = None  # lr levels trained without a warmup (LR003)

    @property
    def fix_exponent(self) -> float:
        return RULE_EXPONENT[self.fix]

    def describe(self) -> str:
        lo, hi = self.band
        if lo == hi:
            return f"{rule_for_exponent(lo)} rule"
        return f"{rule_for_exponent(lo)} to {rule_for_exponent(hi)} rule"


def rule_for_exponent(a: float) -> str:
    for name, e in RULE_EXPONENT.items():
        if math.isclose(a, e):
            return RULE_TITLE[name]
    return f"k^{a:g}"


def policy_for(family: str, settings: Settings | None, table: OptimizerTable) -> Policy:
    fam = table.families.get(family) or table.families["unknown"]
    override = settings.policy_for(family) if settings is not None else None
    usual = settings.thresholds.usual_lr.get(family, fam.usual_lr) if settings is not None else fam.usual_lr
    if override is not None:
        return Policy(family, fam.title, override.fix, override.band, fam.safe, fam.note, True, usual)
    return Policy(family, fam.title, fam.fix, fam.band, fam.safe, fam.note, usual_lr=usual)


def factor(k: float, exponent: float) -> float:
    return float(k**exponent)


def accepted_factors(k: float, policy: Policy) -> tuple[float, float]:
    a, b = factor(k, policy.band[0]), factor(k, policy.band[1])
    return (min(a, b), max(a, b))


class Assessment(Record):
    ok: bool
    deviation: float  # how far the lr factor is outside the tolerated band (1 = inside)
    wrong_direction: bool
    low: float  # accepted lr factor range
    high: float


def batch_changed(k: float, thresholds: Thresholds) -> bool:
    lo, hi = thresholds.batch_tolerance
    return not (lo <= k <= hi)


def assess(k: float, lr_factor: float, policy: Policy, thresholds: Thresholds) -> Assessment:
    """Whether an lr factor fits the policy for a batch factor ``k``, within tolerance."""
    low, high = accepted_factors(k, policy)
    tol_lo, tol_hi = thresholds.lr_tolerance
    if lr_factor <= 0:
        return Assessment(False, math.inf, True, low, high)
    if low * tol_lo <= lr_factor <= high * tol_hi:
        return Assessment(True, 1.0, False, low, high)
    deviation = low / lr_factor if lr_factor < low else lr_factor / high
    wrong = (k > 1 and lr_factor < 1) or (k < 1 and lr_factor > 1)
    return Assessment(False, deviation, wrong, low, high)


def same_number(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0)
