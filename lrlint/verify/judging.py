"""Judging: one question's curves on the common grid, the per-candidate figures and the verdict.

Every candidate's val-loss curve is interpolated onto the grid of samples seen (a diverged run's
loss capped) and compared with the reference of its own seed (``lrlint.verify.verdict``); the
suggested lr is judged against its alternative (normally the unchanged lr).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lrlint.numbers import plain
from lrlint.verify import proxy as proxy_mod
from lrlint.verify.planning import Plan, PlannedCandidate, RunKey, run_key
from lrlint.verify.question import Question
from lrlint.verify.training import Curve, Options, Task
from lrlint.verify.verdict import capped, decide, interpolate, mismatch, seed_floor

ADAPTIVE_NOTE = (
    'for adaptive optimizers a short proxy run separates "scaled" from "unchanged" but does not '
    "referee sqrt against linear: which of the two lands closer flips with the factor, the base lr and the "
    "run length (measured on this proxy: x2-x4 favour sqrt, x16 favours linear), so the closest rule above "
    "is no evidence for your model"
)
#: How the verdict names the candidate the suggested lr had to beat.
ALTERNATIVE_NAMES = {
    "unchanged": "the unchanged lr",
    "current": "your current lr",
    "linear": "the linear rule",
    "sqrt": "the sqrt rule",
}


@dataclass
class CandidateResult:
    role: str
    label: str
    batch: int
    lr: float  # the lr the runs used
    user_lr: float | None  # the user's lr it stands for (None: unknown)
    factor: float  # lr factor vs the reference lr (user's k)
    world: int
    accum: int
    mismatch: list[float]  # per seed (reference: 0)
    median: float
    vs_floor: float | None
    final_loss: float
    final_acc: float | None
    diverged: int  # seeds on which the run diverged or ended at the loss cap
    curves: list[list[float]]  # per seed, val loss at Result.curve_samples (capped)


@dataclass
class Result:
    question: Question
    task: str  # "proxy" | "model"
    task_description: str
    optimizer: str
    reference_lr: float  # the lr the reference run used
    k_run: float  # the batch factor the runs used
    verdict: str
    reason: str
    alternative: str  # role the suggested lr had to beat
    best_fit: str  # role of the candidate closest to the reference
    floor: float | None
    grid: list[float]  # samples seen where the mismatch compares the curves
    budget: int  # samples seen per run: where the runs end
    curve_samples: list[float]  # where the curves are reported: the grid, and the budget when it is past it
    seeds: int
    epochs: float
    candidates: list[CandidateResult]
    notes: list[str] = field(default_factory=list)
    noise_scale: dict[str, Any] | None = None
    train_seconds: float = 0.0
    initial_loss: list[float] = field(default_factory=list)  # per seed, at 0 samples (shared init)

    def candidate(self, role: str) -> CandidateResult:
        for c in self.candidates:
            if c.role == role:
                return c
        raise KeyError(role)


def _candidate(
    pc: PlannedCandidate,
    finals: Sequence[Curve],
    on_grid: list[list[float]],
    refs: list[list[float]],
    floor: float | None,
    cap: float,
) -> CandidateResult:
    role = pc.cand.role
    ms = [mismatch(c[: len(r)], r) for c, r in zip(on_grid, refs, strict=True)]
    accs = [c.acc[-1] for c in finals]
    med = statistics.median(ms)
    return CandidateResult(
        role=role,
        label=pc.cand.label,
        batch=pc.batch,
        lr=pc.lr,
        user_lr=pc.user_lr,
        factor=pc.cand.factor,
        world=pc.world,
        accum=pc.accum,
        mismatch=ms,
        median=med,
        vs_floor=(med / floor if floor and role != "reference" else None),
        final_loss=statistics.median(capped([c.loss[-1] for c in finals], cap)),
        final_acc=statistics.median(accs) if all(a is not None for a in accs) else None,  # type: ignore[type-var]
        diverged=sum(1 for c in finals if c.diverged or not math.isfinite(c.loss[-1]) or c.loss[-1] >= cap),
        curves=on_grid,
    )


def _notes(p: Plan, task: Task, results: list[CandidateResult], floor: float | None) -> tuple[str, list[str]]:
    """The role closest to the reference curve, and the notes under the verdict."""
    by_role = {c.role: c for c in results}
    sug = by_role["suggested"]
    best = min((c for c in results if c.role != "reference"), key=lambda c: (c.median, c.role))
    notes = list(p.notes)
    if best.role != "suggested":
        notes.append(
            f"closest to the reference curve: {best.label} (median mismatch {plain(best.median, 3)} vs "
            f"{plain(sug.median, 3)} for the suggested lr)"
        )
    else:
        notes.append("closest to the reference curve: the suggested lr")
    if p.optimizer.adaptive and task.kind == "proxy":
        notes.append(ADAPTIVE_NOTE)
    if task.kind == "proxy" and p.k_run > 32:
        notes.append(
            f"x{plain(p.k_run)} is past the proxy's calibrated range (x32): batch {int(sug.batch)} "
            f"has {task.data.n_train // sug.batch} steps per epoch, so a FAIL (the run "
            "collapsed or diverged) is meaningful but curve matching is coarse"
        )
    if floor is not None:
        notes.append(f"seed-to-seed floor (reference vs reference, different seeds): {plain(floor, 3)}")
    return best.role, notes


def judge(
    p: Plan, task: Task, options: Options, curves: dict[RunKey, Curve], budget: int, grid: Sequence[float]
) -> Result:
    """The verdict and figures of plan ``p`` from the trained ``curves``."""
    q = p.question
    seeds = list(range(options.seeds))
    runs = {pc.cand.role: [curves[run_key(p, pc, s, budget)] for s in seeds] for pc in p.candidates}
    if task.kind == "proxy":
        cap = proxy_mod.LOSS_CAP
    else:
        finite = [v for c in runs["reference"] for v in c.loss if math.isfinite(v)]
        cap = 1.1 * max(finite) if finite else math.inf
    points = list(grid) + ([float(budget)] if budget > grid[-1] else [])
    on_grid = {role: [capped(interpolate(c.samples, c.loss, points), cap) for c in cs] for role, cs in runs.items()}
    refs = [curve[: len(grid)] for curve in on_grid["reference"]]
    floor = seed_floor(refs)
    results = [_candidate(pc, runs[pc.cand.role], on_grid[pc.cand.role], refs, floor, cap) for pc in p.candidates]
    alt = q.alternative_role()
    sug = next(c for c in results if c.role == "suggested")
    alt_mismatch = next(c for c in results if c.role == alt).mismatch
    v = decide(
        sug.mismatch, alt_mismatch, floor=floor, sug_diverged=sug.diverged, alt_name=ALTERNATIVE_NAMES.get(alt, alt)
    )
    best, notes = _notes(p, task, results, floor)
    return Result(
        question=q,
        task=task.kind,
        task_description=task.description,
        optimizer=p.optimizer.describe(),
        reference_lr=p.reference_lr,
        k_run=p.k_run,
        verdict=v.verdict,
        reason=v.reason,
        alternative=alt,
        best_fit=best,
        floor=floor,
        grid=list(grid),
        budget=budget,
        curve_samples=points,
        seeds=options.seeds,
        epochs=options.epochs,
        candidates=results,
        notes=notes,
        train_seconds=sum(c.seconds for cs in runs.values() for c in cs),
        initial_loss=[c.loss[0] for c in runs["reference"]],
    )
