"""Planning: which runs a question needs (batches, lrs, ranks, accumulation) and the sample budget.

A question becomes a :class:`Plan`: the reference (old batch, reference lr) and every candidate
(new batch; suggested lr, unchanged lr, the other rule, the user's current lr), each as one
:class:`PlannedCandidate`. On the default proxy the batches are ``PROXY_B0`` and ``PROXY_B0 * k``
(rounded) and each candidate keeps its lr exponent; with ``--model`` the user's batches and lrs
are used as they are. A run is identified by its :class:`RunKey`, so two questions that need the
same run train it once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from lrlint.numbers import plain
from lrlint.verify import proxy as proxy_mod
from lrlint.verify.question import PROXY_B0, Candidate, OptimizerChoice, Question, UsageError, proxy_batches
from lrlint.verify.training import Options, Task, make_optimizer, optimizer_key, train_curve

#: Grid points for a user model's curve comparison.
USER_GRID_POINTS = 12


@dataclass
class PlannedCandidate:
    cand: Candidate
    batch: int
    lr: float
    user_lr: float | None
    world: int
    accum: int


@dataclass
class Plan:
    question: Question
    optimizer: OptimizerChoice
    reference_lr: float
    k_run: float
    candidates: list[PlannedCandidate]
    notes: list[str]

    def reference(self) -> PlannedCandidate:
        return next(pc for pc in self.candidates if pc.cand.role == "reference")


@dataclass(frozen=True)
class RunKey:
    seed: int
    batch: int
    lr: float
    world: int
    accum: int
    budget: int
    optimizer: str  # torch name + kwargs, as text


def run_key(p: Plan, pc: PlannedCandidate, seed: int, budget: int) -> RunKey:
    """The run behind candidate ``pc`` of plan ``p`` for ``seed`` (lrs equal to 12 digits are one run)."""
    return RunKey(seed, pc.batch, float(f"{pc.lr:.12g}"), pc.world, pc.accum, budget, optimizer_key(p.optimizer))


def _layout(batch_old: int, batch_new: int, nproc: int, accum: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(world, accum) for the reference and the candidates.

    Candidates run on ``nproc`` ranks with ``accum`` micro-batches of ``batch_new / (nproc * accum)``
    each. The reference keeps that micro-batch when it can (a pure world-size change: the same
    per-device batch on fewer ranks), else it runs on one rank without accumulation.
    """
    if batch_new % (nproc * accum):
        raise UsageError(f"batch {batch_new} does not split into {nproc} ranks x {accum} accumulation steps")
    micro = batch_new // (nproc * accum)
    m, rem = divmod(batch_old, micro)
    if rem == 0 and m >= 1:
        world = max(w for w in range(1, min(nproc, m) + 1) if m % w == 0)
        return (world, m // world), (nproc, accum)
    return (1, 1), (nproc, accum)


def _proxy_setup(q: Question, options: Options, notes: list[str]) -> tuple[int, int, float, float]:
    """(reference batch, candidate batch, batch factor, reference lr) on the proxy."""
    choice = q.optimizer
    b_old, b_new = proxy_batches(q.k)
    k_run = b_new / b_old
    if options.proxy_lr is None:
        ref_lr = choice.proxy_lr
        notes.append(
            f"your absolute lr does not transfer to the proxy: the proxy trains {choice.torch_name} at its own "
            f"reference lr {plain(ref_lr)} (batch {PROXY_B0}) and applies each candidate's lr factor"
        )
    elif options.proxy_lr == "user":
        if q.lr_old is None:
            raise UsageError("--proxy-lr user needs the reference lr (--lr)")
        ref_lr = q.lr_old
        notes.append(
            f"--proxy-lr user: the proxy trains at your reference lr {plain(ref_lr)} (batch {PROXY_B0}); "
            "this probes where the proxy's training breaks at these lrs, not where your model's does"
        )
    else:
        ref_lr = float(options.proxy_lr)
        notes.append(f"--proxy-lr: the proxy trains at reference lr {plain(ref_lr)} (batch {PROXY_B0})")
    if abs(k_run / q.k - 1) > 1e-9:
        notes.append(
            f"the proxy's batch {b_old} -> {b_new} (x{plain(k_run)}) stands for x{plain(q.k)}; each candidate keeps "
            "its lr exponent a (lr factor k^a)"
        )
    if not choice.calibrated and options.proxy_lr is None:
        notes.append(
            f"the proxy's reference lr for {choice.torch_name} ({plain(ref_lr)}) is an unmeasured default, "
            "not calibrated like SGD's and Adam's"
        )
    return b_old, b_new, k_run, ref_lr


def _model_setup(q: Question, options: Options, notes: list[str]) -> tuple[int, int, float, float]:
    """(reference batch, candidate batch, batch factor, reference lr) on the user's model: their own."""
    if not (q.batch_old.is_integer() and q.batch_new.is_integer()):
        raise UsageError("--model needs whole-number batch sizes")
    if q.lr_old is None:
        raise UsageError("--model trains at your real lrs: give the reference lr (--lr)")
    if options.proxy_lr is not None:
        notes.append("--proxy-lr is ignored with --model: your real lrs are used")
    return int(q.batch_old), int(q.batch_new), q.k, q.lr_old


def _accumulation(q: Question, options: Options, b_new: int, notes: list[str]) -> int:
    """``--accum``, else the config's accumulation when it splits over ``--nproc`` ranks, else 1."""
    if options.accum is not None:
        return options.accum
    if not (q.accum_new and options.nproc > 1):
        return 1
    if b_new % (options.nproc * q.accum_new) == 0:
        return q.accum_new
    notes.append(
        f"the config's {q.accum_new} accumulation steps do not divide batch {b_new} over "
        f"{options.nproc} ranks: the runs use none"
    )
    return 1


def plan(q: Question, task: Task, options: Options) -> Plan:
    """The runs question ``q`` needs on ``task``."""
    notes: list[str] = []
    setup = _proxy_setup if task.kind == "proxy" else _model_setup
    b_old, b_new, k_run, ref_lr = setup(q, options, notes)
    if q.optimizer.stand_in:
        notes.append(q.optimizer.stand_in)
    accum = _accumulation(q, options, b_new, notes)
    (w_ref, a_ref), (w_new, a_new) = _layout(b_old, b_new, options.nproc, accum)
    if options.nproc > 1:
        notes.append(
            f"reference: {w_ref} rank(s) x {a_ref} accumulation step(s) x {b_old // (w_ref * a_ref)} per device; "
            f"candidates: {w_new} rank(s) x {a_new} x {b_new // (w_new * a_new)} (real gradient averaging "
            f"with torch.distributed)"
        )
    elif accum > 1:
        notes.append(f"reference: accumulation {a_ref}; candidates: accumulation {a_new} x {b_new // a_new}")
    planned = []
    for c in q.candidates():
        lr = ref_lr * (c.proxy_factor(k_run) if task.kind == "proxy" else c.factor)
        user_lr = q.lr_old * c.factor if q.lr_old is not None else None
        if c.at_new_batch:
            planned.append(PlannedCandidate(c, b_new, lr, user_lr, w_new, a_new))
        else:
            planned.append(PlannedCandidate(c, b_old, lr, user_lr, w_ref, a_ref))
    return Plan(q, q.optimizer, ref_lr, k_run, planned, notes)


def budget_and_grid(task: Task, options: Options, batches: Sequence[int]) -> tuple[int, list[float]]:
    """Samples seen per run and the grid of samples seen the curves are compared on."""
    n = task.data.n_train
    if task.kind == "proxy":
        budget = int(round(options.epochs * n))
        grid = [float(g) for g in range(proxy_mod.GRID_STEP, budget + 1, proxy_mod.GRID_STEP)]
        if not grid:
            raise UsageError(f"--epochs {plain(options.epochs)} is too short: less than {proxy_mod.GRID_STEP} samples")
        return budget, grid
    budget = int(options.samples) if options.samples else int(round(options.epochs * n))
    if budget < max(batches):
        raise UsageError(f"the sample budget {budget} is smaller than the largest batch {max(batches)}")
    return budget, user_grid(budget)


def user_grid(budget: int) -> list[float]:
    return [budget * i / USER_GRID_POINTS for i in range(1, USER_GRID_POINTS + 1)]


def _seconds_per_sample(task: Task, p0: Plan, batch: int, budget: int, limit: float) -> float:
    """Training time per sample at ``batch``, measured on a few steps (at most ``limit`` seconds)."""
    model = task.model(0)
    opt = make_optimizer(p0.optimizer, model.parameters(), p0.reference_lr)
    probe = min(budget, batch * 20, task.data.n_train // batch * batch)
    c, _ = train_curve(
        model,
        opt,
        task.data,
        task.loss_fn,
        seed=0,
        batch=batch,
        accum=1,
        budget=probe,
        grid=[],
        initial=(math.nan, None),
        deadline=time.perf_counter() + limit,
    )
    return c.seconds / max(1, c.steps * batch)


def cap_budget(task: Task, plans: Sequence[Plan], options: Options, budget: int) -> tuple[int, str | None]:
    """Shrink a user model's sample budget so that all runs fit in ``--max-seconds`` (measured)."""
    assert options.max_seconds
    n_runs_by_batch: dict[int, int] = {}
    for p in plans:
        for pc in p.candidates:
            n_runs_by_batch[pc.batch] = n_runs_by_batch.get(pc.batch, 0) + options.seeds
    per_sample = {
        b: _seconds_per_sample(task, plans[0], b, budget, options.max_seconds / 10) for b in sorted(n_runs_by_batch)
    }
    eval_s = time.perf_counter()
    task.data.evaluate(task.model(0), task.loss_fn)
    eval_s = time.perf_counter() - eval_s
    total = sum(n * (budget * per_sample[b] + (USER_GRID_POINTS + 1) * eval_s) for b, n in n_runs_by_batch.items())
    if total <= options.max_seconds:
        return budget, None
    fixed = sum(n * (USER_GRID_POINTS + 1) * eval_s for n in n_runs_by_batch.values())
    per_budget = sum(n * per_sample[b] for b, n in n_runs_by_batch.items())
    new = int(max(0.0, options.max_seconds - fixed) / per_budget) if per_budget > 0 else budget
    new = max(new, max(n_runs_by_batch) * 2)
    if new >= budget:
        return budget, None
    return new, (
        f"the sample budget was cut from {budget} to {new} samples to fit --max-seconds "
        f"{plain(options.max_seconds)} (measured speed: about {plain(total, 3)} s for the full budget); "
        "timing-dependent, so a rerun on another machine may differ"
    )
