"""The experiment: plan every question, train each distinct run once, judge each question.

Planning is :mod:`lrlint.verify.planning`, one training run :mod:`lrlint.verify.training`
(``--nproc N`` runs :mod:`lrlint.verify.distributed`), the verdict :mod:`lrlint.verify.judging`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lrlint.numbers import plain
from lrlint.verify import distributed, noise_scale
from lrlint.verify.judging import Result, judge
from lrlint.verify.planning import (
    Plan,
    PlannedCandidate,
    RunKey,
    budget_and_grid,
    cap_budget,
    plan,
    run_key,
    user_grid,
)
from lrlint.verify.question import Question, UsageError
from lrlint.verify.training import (
    Curve,
    Options,
    Progress,
    Task,
    make_optimizer,
    resolve_device,
    train_curve,
    user_errors,
)

Runs = dict[RunKey, tuple[Plan, PlannedCandidate]]


def _runs(plans: Sequence[Plan], seeds: int, budget: int) -> Runs:
    """Every distinct run the plans need, with the first plan and candidate that needs it."""
    keys: Runs = {}
    for p in plans:
        for pc in p.candidates:
            for s in range(seeds):
                keys.setdefault(run_key(p, pc, s, budget), (p, pc))
    return keys


def _info(keys: Runs, key: RunKey, **more: Any) -> dict[str, Any]:
    p, pc = keys[key]
    return {
        "seed": key.seed,
        "label": pc.cand.label,
        "batch": key.batch,
        "lr": key.lr,
        "question": p.question.title(),
        **more,
    }


def _train_local(
    task: Task, keys: Runs, local: Sequence[RunKey], grid: Sequence[float], options: Options, progress: Progress
) -> tuple[dict[RunKey, Curve], dict[RunKey, dict[str, Any]]]:
    """The single-process runs; a snapshot after one epoch of seed 0's reference for ``--noise-scale``."""
    curves: dict[RunKey, Curve] = {}
    snapshots: dict[RunKey, dict[str, Any]] = {}
    for key in local:
        p, pc = keys[key]
        model = task.model(key.seed)
        opt = make_optimizer(p.optimizer, model.parameters(), key.lr)
        wants = options.noise_scale and key.seed == 0 and pc.cand.role == "reference"
        progress("begin", _info(keys, key))
        with user_errors(task, f"training at batch {key.batch}, lr {plain(key.lr)}"):
            curve, snap = train_curve(
                model,
                opt,
                task.data,
                task.loss_fn,
                seed=key.seed,
                batch=key.batch,
                accum=key.accum,
                budget=key.budget,
                grid=grid,
                initial=task.initial_eval(key.seed),
                snapshot_at=task.data.n_train if wants else None,
            )
        curves[key] = curve
        if snap is not None:
            snapshots[key] = snap
        progress("run", _info(keys, key, seconds=curve.seconds))
    return curves, snapshots


def _train_remote(
    task: Task, keys: Runs, remote: Sequence[RunKey], grid: Sequence[float], options: Options, progress: Progress
) -> dict[RunKey, Curve]:
    """The data-parallel runs, one group of worker processes per world size."""
    curves: dict[RunKey, Curve] = {}
    for world in sorted({k.world for k in remote}):
        group = [k for k in remote if k.world == world]
        curves.update(
            distributed.launch(
                group,
                [keys[k][0].optimizer for k in group],
                task,
                options,
                grid,
                progress=lambda k, c: progress("run", _info(keys, k, seconds=c.seconds)),
            )
        )
    return curves


def run(questions: Sequence[Question], options: Options, progress: Progress | None = None) -> list[Result]:
    """Train every run the questions need (each distinct run once) and judge each question."""
    import torch

    torch.set_num_threads(1)
    report: Progress = progress or (lambda event, info: None)
    device = resolve_device(options.device)
    if options.nproc < 1 or (options.accum is not None and options.accum < 1) or options.seeds < 1:
        raise UsageError("--nproc, --accum and --seeds must be at least 1")
    task = Task(options, device)
    plans = [plan(q, task, options) for q in questions]
    batches = [pc.batch for p in plans for pc in p.candidates]
    budget, grid = budget_and_grid(task, options, batches)
    for b in batches:
        if b > task.data.n_train:
            raise UsageError(f"batch {b} is larger than the training set ({task.data.n_train} samples)")
    capped_note = None
    if task.kind == "model" and options.max_seconds:
        with user_errors(task, "timing a few training steps"):
            budget, capped_note = cap_budget(task, plans, options, budget)
        grid = user_grid(budget)
    keys = _runs(plans, options.seeds, budget)
    ordered = sorted(keys, key=lambda k: (k.world, k.seed, k.batch, k.lr, k.optimizer))
    report("start", {"total": len(ordered)})
    curves, snapshots = _train_local(task, keys, [k for k in ordered if k.world == 1], grid, options, report)
    curves.update(_train_remote(task, keys, [k for k in ordered if k.world > 1], grid, options, report))
    out = []
    for p in plans:
        r = judge(p, task, options, curves, budget, grid)
        if capped_note:
            r.notes.append(capped_note)
        if options.noise_scale:
            report("noise", {"question": p.question.title()})
            with user_errors(task, "the noise-scale probes"):
                r.noise_scale = noise_scale.report(
                    task, p, snapshots.get(run_key(p, p.reference(), 0, budget)), options
                )
        out.append(r)
    return out
