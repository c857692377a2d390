"""The experiment: training runs at matched samples seen, and the result per finding.

Per seed, the reference (old batch, reference lr) and every candidate (new batch; suggested lr,
unchanged lr, the other rule, the user's current lr) start from the same initial weights and see
the data in the same order (one permutation per epoch from a generator seeded by the seed; the
last incomplete batch of an epoch is dropped). A run trains until it has seen the sample budget;
the val loss is measured whenever the samples seen cross a grid point, and the curves are compared
on that grid (``lrlint.verify.verdict``).

torch is imported inside functions only; ``torch.set_num_threads(1)`` (measured: two threads on
two cores stalled under load, one thread never did).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from lrlint.numbers import plain
from lrlint.verify import proxy as proxy_mod
from lrlint.verify.question import (
    PROXY_B0,
    Candidate,
    OptimizerChoice,
    Question,
    RunError,
    UsageError,
    proxy_batches,
)
from lrlint.verify.verdict import capped, decide, interpolate, mismatch, seed_floor

#: Grid points for a user model's curve comparison.
USER_GRID_POINTS = 12
ADAPTIVE_NOTE = (
    'for adaptive optimizers a short proxy run separates "scaled" from "unchanged" but does not '
    "referee sqrt against linear: which of the two lands closer flips with the factor, the base lr and the "
    "run length (measured on this proxy: x2-x4 favour sqrt, x16 favours linear), so the closest rule above "
    "is no evidence for your model"
)


# --------------------------------------------------------------------------- options and data types


@dataclass
class Options:
    seeds: int = 3
    epochs: float = 3.0
    samples: int | None = None  # user model: sample budget (default: epochs x train set)
    max_seconds: float | None = None  # user model: cap on the training time (shrinks the budget)
    device: str = "auto"  # auto | cpu | cuda
    nproc: int = 1
    accum: int | None = None  # None: the config's accumulation (findings), else 1
    proxy_lr: str | None = None  # None (the proxy's own), "user", or a number as text
    noise_scale: bool = False
    model: str | None = None  # pkg.module:factory


@dataclass(frozen=True)
class RunKey:
    seed: int
    batch: int
    lr: float
    world: int
    accum: int
    budget: int
    optimizer: str  # torch name + kwargs, as text


@dataclass
class Curve:
    samples: list[int]
    loss: list[float]
    acc: list[float | None]
    diverged: bool
    seconds: float
    steps: int


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
    curves: list[list[float]]  # per seed, val loss on the grid (capped)


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
    grid: list[float]
    budget: int
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


Progress = Callable[[str, dict[str, Any]], None]


# --------------------------------------------------------------------------- the task (proxy or user model)


class Data:
    """Training batches and val passes on one device."""

    def __init__(self, train: Any, val: Any, device: Any, eval_batch: int = 1024) -> None:
        import torch

        self.device = device
        self.eval_batch = eval_batch
        self._train = self._as_tensors(train)
        self._val = self._as_tensors(val)
        self.train_ds = train
        self.val_ds = val
        self.n_train = len(train) if self._train is None else int(self._train[0].shape[0])
        self.n_val = len(val) if self._val is None else int(self._val[0].shape[0])
        self._torch = torch

    @staticmethod
    def _as_tensors(ds: Any) -> tuple[Any, Any] | None:
        import torch

        if isinstance(ds, tuple) and len(ds) == 2 and all(isinstance(t, torch.Tensor) for t in ds):
            return ds
        tensors = getattr(ds, "tensors", None)  # torch.utils.data.TensorDataset
        if isinstance(tensors, tuple) and len(tensors) == 2 and all(isinstance(t, torch.Tensor) for t in tensors):
            return tensors
        return None

    def _to(self, x: Any) -> Any:
        if hasattr(x, "to"):
            return x.to(self.device, non_blocking=True)
        if isinstance(x, (list, tuple)):
            return type(x)(self._to(v) for v in x)
        if isinstance(x, dict):
            return {k: self._to(v) for k, v in x.items()}
        return x

    def _collate(self, ds: Any, idx: Sequence[int]) -> tuple[Any, Any]:
        from torch.utils.data import default_collate

        x, y = default_collate([ds[int(i)] for i in idx])
        return x, y

    def train_batch(self, idx: Any) -> tuple[Any, Any]:
        if self._train is not None:
            x, y = self._train[0][idx], self._train[1][idx]
        else:
            x, y = self._collate(self.train_ds, idx.tolist())
        return self._to(x), self._to(y)

    def evaluate(self, model: Any, loss_fn: Callable[[Any, Any], Any]) -> tuple[float, float | None]:
        """Sample-weighted mean val loss, and accuracy when outputs are class logits."""
        torch = self._torch
        was_training = model.training
        model.eval()
        total, n, correct, acc_ok = 0.0, 0, 0, True
        with torch.no_grad():
            for start in range(0, self.n_val, self.eval_batch):
                stop = min(self.n_val, start + self.eval_batch)
                if self._val is not None:
                    x, y = self._val[0][start:stop], self._val[1][start:stop]
                else:
                    x, y = self._collate(self.val_ds, range(start, stop))
                x, y = self._to(x), self._to(y)
                out = model(x)
                m = stop - start
                total += float(loss_fn(out, y)) * m
                n += m
                if (
                    acc_ok
                    and isinstance(out, torch.Tensor)
                    and out.ndim == 2
                    and isinstance(y, torch.Tensor)
                    and y.ndim == 1
                    and not y.is_floating_point()
                ):
                    correct += int((out.argmax(1) == y).sum())
                else:
                    acc_ok = False
        if was_training:
            model.train()
        return total / n, (correct / n if acc_ok else None)


class Task:
    """What trains: the digits proxy or the user's factory; one initial state per seed."""

    def __init__(self, options: Options, device: Any) -> None:
        self.options = options
        self.device = device
        self.kind = "model" if options.model else "proxy"
        self._init: dict[int, dict[str, Any]] = {}
        self._templates: dict[int, Any] = {}
        self._init_eval: dict[int, tuple[float, float | None]] = {}
        self.eval_batch: int | None = None
        if self.kind == "proxy":
            d = proxy_mod.load()
            self.data = Data((d.x_train, d.y_train), (d.x_val, d.y_val), device, eval_batch=1024)
            self.loss_fn = _cross_entropy()
            self._factory = None
            self.description = proxy_mod.DESCRIPTION
            self.n_params = None
        else:
            from lrlint.verify import user_model

            self._factory = user_model.load_factory(options.model or "")
            setup = user_model.build(self._factory, 0, options.model or "--model")
            self.eval_batch = setup.eval_batch_size
            self.data = Data(setup.train, setup.val, device, eval_batch=setup.eval_batch_size or 256)
            self.loss_fn = setup.loss_fn
            self._store_init(0, setup.model)
            n_params = sum(p.numel() for p in setup.model.parameters())
            self.description = (
                f"your model {options.model} ({type(setup.model).__name__}, {n_params:,} parameters; "
                f"{self.data.n_train} train / {self.data.n_val} val samples)"
            )

    def _store_init(self, seed: int, model: Any) -> None:
        self._templates[seed] = model
        self._init[seed] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def model(self, seed: int) -> Any:
        """A fresh model holding seed ``seed``'s initial weights, on the task's device.

        The proxy is built under ``torch.manual_seed(seed)``; the user's factory is called once per
        seed (after ``torch.manual_seed(seed)``) and every run of that seed gets a deep copy.
        """
        import copy

        import torch

        if seed not in self._init:
            if self.kind == "proxy":
                torch.manual_seed(seed)
                self._store_init(seed, proxy_mod.make_model())
            else:
                from lrlint.verify import user_model

                setup = user_model.build(self._factory, seed, self.options.model or "--model")  # type: ignore[arg-type]
                self._store_init(seed, setup.model)
        m = copy.deepcopy(self._templates[seed])
        m.load_state_dict(self._init[seed])
        return m.to(self.device)

    def initial_eval(self, seed: int) -> tuple[float, float | None]:
        if seed not in self._init_eval:
            self._init_eval[seed] = self.data.evaluate(self.model(seed), self.loss_fn)
        return self._init_eval[seed]


def _cross_entropy() -> Callable[[Any, Any], Any]:
    from torch.nn import functional as F

    return F.cross_entropy


def resolve_device(name: str) -> Any:
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available here")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise UsageError(f"--device wants cpu, cuda or auto, got {name!r}")
    return torch.device(name)


def make_optimizer(choice: OptimizerChoice, params: Any, lr: float) -> Any:
    import torch

    cls = getattr(torch.optim, choice.torch_name, None)
    if cls is None:  # e.g. Adafactor on an older torch
        cls = torch.optim.AdamW
    return cls(params, lr=lr, **choice.kwargs)


def optimizer_key(choice: OptimizerChoice) -> str:
    return choice.torch_name + repr(sorted(choice.kwargs.items()))


# --------------------------------------------------------------------------- one training run


def train_curve(
    model: Any,
    opt: Any,
    data: Data,
    loss_fn: Callable[[Any, Any], Any],
    *,
    seed: int,
    batch: int,
    accum: int,
    budget: int,
    grid: Sequence[float],
    initial: tuple[float, float | None],
    rank: int = 0,
    world: int = 1,
    ddp: bool = False,
    snapshot_at: int | None = None,
    deadline: float | None = None,
) -> tuple[Curve, dict[str, Any] | None]:
    """Train until ``budget`` samples are seen; val loss at every grid crossing and at the end.

    With ``world > 1`` this is one rank of a data-parallel run: each rank takes its contiguous
    share of the global batch (the same permutation on every rank) and ``model`` is a
    DistributedDataParallel that averages the gradients; rank 0 evaluates and tells the others to
    stop when the run diverged. ``deadline`` (``time.perf_counter()`` value) stops early, for the
    ``--max-seconds`` calibration.
    """
    import torch

    module = model.module if ddp else model
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed * 1_000_003 + rank)  # dropout and other in-model randomness
    n = data.n_train
    per_epoch = n // batch
    if per_epoch < 1:
        raise UsageError(f"batch {batch} is larger than the training set ({n} samples)")
    micro = batch // (world * accum)
    xs: list[int] = [0]
    ls: list[float] = [initial[0]]
    accs: list[float | None] = [initial[1]]
    samples = steps = gi = 0
    diverged = False
    snapshot = None
    model.train()
    t0 = time.perf_counter()
    flag = torch.zeros(1) if world > 1 else None
    while samples < budget and not diverged:
        perm = torch.randperm(n, generator=gen)
        for s in range(per_epoch):
            base = s * batch + rank * micro * accum
            opt.zero_grad(set_to_none=True)
            for a in range(accum):
                idx = perm[base + a * micro : base + (a + 1) * micro]
                x, y = data.train_batch(idx)
                ctx = model.no_sync() if (ddp and a < accum - 1) else nullcontext()
                with ctx:
                    loss = loss_fn(model(x), y)
                    (loss / accum if accum > 1 else loss).backward()
            opt.step()
            steps += 1
            samples += batch
            if snapshot_at is not None and snapshot is None and samples >= snapshot_at and rank == 0:
                snapshot = {k: v.detach().clone() for k, v in module.state_dict().items()}
            due = samples >= budget or (gi < len(grid) and samples >= grid[gi])
            if deadline is not None and time.perf_counter() > deadline:
                due = True
            if due:
                while gi < len(grid) and grid[gi] <= samples:
                    gi += 1
                stop = False
                if rank == 0:
                    vl, va = data.evaluate(module, loss_fn)
                    xs.append(samples)
                    ls.append(vl)
                    accs.append(va)
                    stop = not math.isfinite(vl)
                    if deadline is not None and time.perf_counter() > deadline:
                        stop = True
                if flag is not None:
                    import torch.distributed as dist

                    flag[0] = 1.0 if stop else 0.0
                    dist.broadcast(flag, 0)
                    stop = bool(flag[0] > 0)
                if stop:
                    diverged = not math.isfinite(ls[-1]) if rank == 0 else True
                    break
            if samples >= budget:
                break
        if deadline is not None and time.perf_counter() > deadline:
            break
    seconds = time.perf_counter() - t0
    return Curve(xs, ls, accs, diverged, seconds, steps), snapshot


# --------------------------------------------------------------------------- planning


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


def plan(q: Question, task: Task, options: Options) -> Plan:
    choice = q.optimizer
    notes: list[str] = []
    if task.kind == "proxy":
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
                f"the proxy's reference lr for {choice.torch_name} ({plain(ref_lr)}) is torch's default, "
                "not measured like SGD's and Adam's"
            )
    else:
        if not (q.batch_old.is_integer() and q.batch_new.is_integer()):
            raise UsageError("--model needs whole-number batch sizes")
        b_old, b_new = int(q.batch_old), int(q.batch_new)
        k_run = q.k
        if q.lr_old is None:
            raise UsageError("--model trains at your real lrs: give the reference lr (--lr)")
        ref_lr = q.lr_old
        if options.proxy_lr is not None:
            notes.append("--proxy-lr is ignored with --model: your real lrs are used")
    if choice.stand_in:
        notes.append(choice.stand_in)
    accum = options.accum
    if accum is None:
        accum = 1
        if q.accum_new and options.nproc > 1:
            if b_new % (options.nproc * q.accum_new) == 0:
                accum = q.accum_new
            else:
                notes.append(
                    f"the config's {q.accum_new} accumulation steps do not divide batch {b_new} over "
                    f"{options.nproc} ranks: the runs use none"
                )
    (w_ref, a_ref), (w_new, a_new) = _layout(b_old, b_new, options.nproc, accum)
    if options.nproc > 1 or accum > 1:
        notes.append(
            f"reference: {w_ref} rank(s) x {a_ref} accumulation step(s) x {b_old // (w_ref * a_ref)} per device; "
            f"candidates: {w_new} rank(s) x {a_new} x {b_new // (w_new * a_new)} (real gradient averaging "
            f"with torch.distributed)"
            if options.nproc > 1
            else f"reference: accumulation {a_ref}; candidates: accumulation {a_new} x {b_new // a_new}"
        )
    planned = []
    for c in q.candidates():
        lr = ref_lr * (c.proxy_factor(k_run) if task.kind == "proxy" else c.factor)
        user_lr = q.lr_old * c.factor if q.lr_old is not None else None
        if c.at_new_batch:
            planned.append(PlannedCandidate(c, b_new, lr, user_lr, w_new, a_new))
        else:
            planned.append(PlannedCandidate(c, b_old, lr, user_lr, w_ref, a_ref))
    return Plan(q, choice, ref_lr, k_run, planned, notes)


def budget_and_grid(task: Task, options: Options, batches: Sequence[int]) -> tuple[int, list[float]]:
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
    return budget, _user_grid(budget)


def _user_grid(budget: int) -> list[float]:
    return [budget * i / USER_GRID_POINTS for i in range(1, USER_GRID_POINTS + 1)]


# --------------------------------------------------------------------------- running everything


def run(questions: Sequence[Question], options: Options, progress: Progress | None = None) -> list[Result]:
    """Train every run the questions need (each distinct run once) and judge each question."""
    import torch

    torch.set_num_threads(1)
    progress = progress or (lambda event, info: None)
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
        with _user_errors(task, "timing a few training steps"):
            budget, capped_note = _cap_budget(task, plans, options, budget)
        grid = _user_grid(budget)
    seeds = list(range(options.seeds))
    keys: dict[RunKey, tuple[Plan, PlannedCandidate]] = {}
    for p in plans:
        for pc in p.candidates:
            for s in seeds:
                key = RunKey(
                    s, pc.batch, float(f"{pc.lr:.12g}"), pc.world, pc.accum, budget, optimizer_key(p.optimizer)
                )
                keys.setdefault(key, (p, pc))
    ordered = sorted(keys, key=lambda k: (k.world, k.seed, k.batch, k.lr, k.optimizer))
    progress("start", {"total": len(ordered)})
    curves: dict[RunKey, Curve] = {}
    snapshots: dict[RunKey, dict[str, Any]] = {}
    want_snapshot = options.noise_scale
    local = [k for k in ordered if k.world == 1]
    remote = [k for k in ordered if k.world > 1]
    for key in local:
        p, pc = keys[key]
        model = task.model(key.seed)
        opt = make_optimizer(p.optimizer, model.parameters(), key.lr)
        snap_at = task.data.n_train if (want_snapshot and key.seed == 0 and pc.cand.role == "reference") else None
        progress(
            "begin",
            {
                "seed": key.seed,
                "label": pc.cand.label,
                "batch": key.batch,
                "lr": key.lr,
                "question": p.question.title(),
            },
        )
        with _user_errors(task, f"training at batch {key.batch}, lr {plain(key.lr)}"):
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
                snapshot_at=snap_at,
            )
        curves[key] = curve
        if snap is not None:
            snapshots[key] = snap
        progress(
            "run",
            {
                "seed": key.seed,
                "label": pc.cand.label,
                "batch": key.batch,
                "lr": key.lr,
                "seconds": curve.seconds,
                "question": p.question.title(),
            },
        )
    if remote:
        from lrlint.verify import distributed

        for world in sorted({k.world for k in remote}):
            group = [k for k in remote if k.world == world]
            results = distributed.launch(
                group,
                [keys[k][0].optimizer for k in group],
                task,
                options,
                grid,
                progress=lambda k, c: progress(
                    "run",
                    {
                        "seed": k.seed,
                        "label": keys[k][1].cand.label,
                        "batch": k.batch,
                        "lr": k.lr,
                        "seconds": c.seconds,
                        "question": keys[k][0].question.title(),
                    },
                ),
            )
            curves.update(results)
    out = []
    for p in plans:
        r = judge(p, task, options, curves, budget, grid)
        if capped_note:
            r.notes.append(capped_note)
        if options.noise_scale:
            from lrlint.verify import noise_scale

            ref = next(pc for pc in p.candidates if pc.cand.role == "reference")
            key0 = RunKey(
                0, ref.batch, float(f"{ref.lr:.12g}"), ref.world, ref.accum, budget, optimizer_key(p.optimizer)
            )
            progress("noise", {"question": p.question.title()})
            with _user_errors(task, "the noise-scale probes"):
                r.noise_scale = noise_scale.report(task, p, snapshots.get(key0), options)
        out.append(r)
    return out


@contextmanager
def _user_errors(task: Task, doing: str) -> Iterator[None]:
    """Turn an exception from the user's model, data or loss into a RunError (exit 2, no traceback)."""
    try:
        yield
    except (UsageError, RunError, KeyboardInterrupt):
        raise
    except Exception as e:
        if task.kind != "model":
            raise
        raise RunError(f"--model {task.options.model}: {doing} raised {type(e).__name__}: {e}") from None


def _cap_budget(task: Task, plans: Sequence[Plan], options: Options, budget: int) -> tuple[int, str | None]:
    """Shrink a user model's sample budget so that all runs fit in ``--max-seconds`` (measured)."""
    assert options.max_seconds
    n_runs_by_batch: dict[int, int] = {}
    for p in plans:
        for pc in p.candidates:
            n_runs_by_batch[pc.batch] = n_runs_by_batch.get(pc.batch, 0) + options.seeds
    per_sample: dict[int, float] = {}
    p0 = plans[0]
    for b in sorted(n_runs_by_batch):
        model = task.model(0)
        opt = make_optimizer(p0.optimizer, model.parameters(), p0.reference_lr)
        probe = min(budget, b * 20, task.data.n_train // b * b)
        c, _ = train_curve(
            model,
            opt,
            task.data,
            task.loss_fn,
            seed=0,
            batch=b,
            accum=1,
            budget=probe,
            grid=[],
            initial=(math.nan, None),
            deadline=time.perf_counter() + options.max_seconds / 10,
        )
        per_sample[b] = c.seconds / max(1, c.steps * b)
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


# --------------------------------------------------------------------------- judging one question


def judge(
    p: Plan, task: Task, options: Options, curves: dict[RunKey, Curve], budget: int, grid: Sequence[float]
) -> Result:
    q = p.question
    seeds = list(range(options.seeds))

    def curve(pc: PlannedCandidate, s: int) -> Curve:
        return curves[
            RunKey(s, pc.batch, float(f"{pc.lr:.12g}"), pc.world, pc.accum, budget, optimizer_key(p.optimizer))
        ]

    ref_pc = next(pc for pc in p.candidates if pc.cand.role == "reference")
    if task.kind == "proxy":
        cap = proxy_mod.LOSS_CAP
    else:
        finite = [v for s in seeds for v in curve(ref_pc, s).loss if math.isfinite(v)]
        cap = 1.1 * max(finite) if finite else math.inf
    on_grid: dict[str, list[list[float]]] = {}
    for pc in p.candidates:
        on_grid[pc.cand.role] = [capped(interpolate(curve(pc, s).samples, curve(pc, s).loss, grid), cap) for s in seeds]
    refs = on_grid["reference"]
    floor = seed_floor(refs)
    results: list[CandidateResult] = []
    for pc in p.candidates:
        role = pc.cand.role
        ms = [mismatch(on_grid[role][i], refs[i]) for i in range(len(seeds))]
        finals = [curve(pc, s) for s in seeds]
        final_loss = statistics.median(capped([c.loss[-1] for c in finals], cap))
        accs = [c.acc[-1] for c in finals]
        final_acc = statistics.median(accs) if all(a is not None for a in accs) else None
        div = sum(1 for c in finals if c.diverged or not math.isfinite(c.loss[-1]) or c.loss[-1] >= cap)
        med = statistics.median(ms)
        results.append(
            CandidateResult(
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
                final_loss=final_loss,
                final_acc=final_acc,
                diverged=div,
                curves=on_grid[role],
            )
        )
    by_role = {c.role: c for c in results}
    alt = q.alternative_role()
    alt_names = {
        "unchanged": "the unchanged lr",
        "current": "your current lr",
        "linear": "the linear rule",
        "sqrt": "the sqrt rule",
    }
    sug = by_role["suggested"]
    v = decide(
        sug.mismatch, by_role[alt].mismatch, floor=floor, sug_diverged=sug.diverged, alt_name=alt_names.get(alt, alt)
    )
    movers = [c for c in results if c.role != "reference"]
    best = min(movers, key=lambda c: (c.median, c.role))
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
            f"x{plain(p.k_run)} is past the proxy's calibrated range (x32): batch {int(by_role['suggested'].batch)} "
            f"has {task.data.n_train // by_role['suggested'].batch} steps per epoch, so a FAIL (the run "
            "collapsed or diverged) is meaningful but curve matching is coarse"
        )
    if floor is not None:
        notes.append(f"seed-to-seed floor (reference vs reference, different seeds): {plain(floor, 3)}")
    train_seconds = sum(curve(pc, s).seconds for pc in p.candidates for s in seeds)
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
        best_fit=best.role,
        floor=floor,
        grid=list(grid),
        budget=budget,
        seeds=options.seeds,
        epochs=options.epochs,
        candidates=results,
        notes=notes,
        train_seconds=train_seconds,
        initial_loss=[curve(ref_pc, s).loss[0] for s in seeds],
    )
