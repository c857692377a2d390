"""The curve-mismatch metric, the seed-to-seed floor and the verdict rule (pure Python).

Measured on the proxy with a prototype before this was written:

- mismatch(candidate, reference) = mean |L_cand - L_ref| / mean(L_ref) over a common grid of
  samples seen, both val-loss curves linearly interpolated onto it; a diverged run's loss is capped;
- floor = the same metric between references of different seeds (mean over pairs);
- PASS when the suggested lr's mismatch is below the alternative's (normally: the unchanged lr) on
  every seed and the median per-seed ratio is <= 0.5; FAIL when it is below on no seed;
  otherwise INCONCLUSIVE. One addition to the measured rule: when the alternative's median
  mismatch is within twice the seed floor, the run could not separate the candidates at all
  (INCONCLUSIVE, not PASS).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from lrlint.numbers import plain

PASS = "PASS"
FAIL = "FAIL"
INCONCLUSIVE = "INCONCLUSIVE"
OUT_OF_RANGE = "OUT OF RANGE"

RATIO_MAX = 0.5
#: The alternative (unchanged lr) must move the curve by more than this many seed floors for the
#: comparison to say anything (e.g. at the tutorial's lr 0.001 the proxy barely learns in 3 epochs).
FLOOR_FACTOR = 2.0


def interpolate(xs: Sequence[float], ys: Sequence[float], grid: Sequence[float]) -> list[float]:
    """Piecewise-linear interpolation of (xs, ys) at ``grid``; constant beyond the ends."""
    out: list[float] = []
    j = 0
    n = len(xs)
    for g in grid:
        if g <= xs[0]:
            out.append(float(ys[0]))
            continue
        if g >= xs[-1]:
            out.append(float(ys[-1]))
            continue
        while j + 1 < n and xs[j + 1] < g:
            j += 1
        x0, x1, y0, y1 = xs[j], xs[j + 1], ys[j], ys[j + 1]
        out.append(float(y0 + (y1 - y0) * (g - x0) / (x1 - x0)) if x1 > x0 else float(y1))
    return out


def capped(losses: Sequence[float], cap: float) -> list[float]:
    """Losses with NaN/inf and values above ``cap`` replaced by ``cap`` (a diverged run)."""
    return [cap if (not math.isfinite(v) or v > cap) else float(v) for v in losses]


def mismatch(cand: Sequence[float], ref: Sequence[float]) -> float:
    """Relative mean |val loss difference| of two curves on the same grid."""
    if len(cand) != len(ref) or not ref:
        raise ValueError("curves must share a non-empty grid")
    den = sum(ref) / len(ref)
    return sum(abs(a - b) for a, b in zip(cand, ref, strict=True)) / len(ref) / den


def seed_floor(refs: Sequence[Sequence[float]]) -> float | None:
    """Mean mismatch between reference curves of different seeds (None with one seed)."""
    pairs = [mismatch(refs[i], refs[j]) for i in range(len(refs)) for j in range(i + 1, len(refs))]
    return sum(pairs) / len(pairs) if pairs else None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    ratios: tuple[float, ...]  # per seed m_suggested / m_alternative
    wins: int  # seeds where suggested < alternative


def decide(
    m_sug: Sequence[float],
    m_alt: Sequence[float],
    *,
    floor: float | None,
    sug_diverged: int = 0,
    alt_name: str = "the unchanged lr",
) -> Verdict:
    """PASS / FAIL / INCONCLUSIVE from per-seed mismatches of the suggested lr and its alternative."""
    n = len(m_sug)
    if n == 0 or len(m_alt) != n:
        raise ValueError("need one mismatch per seed for both candidates")
    ratios = tuple((s / a) if a > 0 else (math.inf if s > 0 else 1.0) for s, a in zip(m_sug, m_alt, strict=True))
    wins = sum(1 for s, a in zip(m_sug, m_alt, strict=True) if s < a)
    med_ratio = statistics.median(ratios)
    med_sug = statistics.median(m_sug)
    med_alt = statistics.median(m_alt)
    if wins == 0:
        why = f"the suggested lr is not closer to the reference curve than {alt_name} on any seed"
        if sug_diverged:
            why += f"; it diverged on {sug_diverged}/{n} seeds (loss capped)"
        why += f" (median mismatch {plain(med_sug, 3)} vs {plain(med_alt, 3)})"
        return Verdict(FAIL, why, ratios, wins)
    if floor is not None and med_alt <= FLOOR_FACTOR * floor:
        return Verdict(
            INCONCLUSIVE,
            f"{alt_name} moves the curve by little more than seed-to-seed noise (median mismatch "
            f"{plain(med_alt, 3)} <= {plain(FLOOR_FACTOR)} x floor {plain(floor, 3)}): the run is too short, "
            "or the lr too small, to tell the candidates apart",
            ratios,
            wins,
        )
    if wins == n and med_ratio <= RATIO_MAX:
        return Verdict(
            PASS,
            f"the suggested lr reproduces the reference curve and {alt_name} does not: closer on "
            f"{wins}/{n} seeds, median mismatch {plain(med_sug, 3)} vs {plain(med_alt, 3)} "
            f"(ratio {plain(med_ratio, 3)} <= {RATIO_MAX})",
            ratios,
            wins,
        )
    if wins < n:
        why = f"the suggested lr is closer than {alt_name} on only {wins}/{n} seeds"
    else:
        why = (
            f"the suggested lr is closer than {alt_name} on {n}/{n} seeds, but not by enough: "
            f"median ratio {plain(med_ratio, 3)} > {RATIO_MAX}"
        )
    if sug_diverged:
        why += f"; it diverged on {sug_diverged}/{n} seeds"
    return Verdict(INCONCLUSIVE, why, ratios, wins)
