"""Training: the task (the digits proxy or the user's factory), its data, and one training run.

Per seed, every run of a question (the reference and each candidate) starts from the same initial
weights and sees the data in the same order (one permutation per epoch from a generator seeded by
the seed; the last incomplete batch of an epoch is dropped). A run trains until it has seen its
sample budget; the val loss is measured whenever the samples seen cross a grid point.

torch is imported inside functions only; ``torch.set_num_threads(1)`` is set by the caller
(measured: two threads on two cores stalled under load, one thread never did).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from lrlint.verify import proxy as proxy_mod
from lrlint.verify.question import OptimizerChoice, RunError, UsageError


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


@dataclass
class Curve:
    """One run's val loss (and accuracy) at the samples seen where it was measured; the first point
    is the shared initial weights' (0 samples)."""

    samples: list[int]
    loss: list[float]
    acc: list[float | None]
    diverged: bool
    seconds: float
    steps: int


Progress = Callable[[str, dict[str, Any]], None]


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


@contextmanager
def user_errors(task: Task, doing: str) -> Iterator[None]:
    """Turn an exception from the user's model, data or loss into a RunError (exit 2, no traceback)."""
    try:
        yield
    except (UsageError, RunError, KeyboardInterrupt):
        raise
    except Exception as e:
        if task.kind != "model":
            raise
        raise RunError(f"--model {task.options.model}: {doing} raised {type(e).__name__}: {e}") from None


# --------------------------------------------------------------------------- one training run


def _step(
    model: Any, opt: Any, data: Data, loss_fn: Callable[[Any, Any], Any], micro_batches: Sequence[Any], ddp: bool
) -> None:
    """One optimizer step over the rank's micro-batches (gradient accumulation; DDP syncs on the last)."""
    opt.zero_grad(set_to_none=True)
    accum = len(micro_batches)
    for a, idx in enumerate(micro_batches):
        x, y = data.train_batch(idx)
        with model.no_sync() if (ddp and a < accum - 1) else nullcontext():
            loss = loss_fn(model(x), y)
            (loss / accum if accum > 1 else loss).backward()
    opt.step()


def _agreed(stop: bool, flag: Any) -> bool:
    """Rank 0's decision to stop, broadcast to every rank of a data-parallel run."""
    if flag is None:
        return stop
    import torch.distributed as dist

    flag[0] = 1.0 if stop else 0.0
    dist.broadcast(flag, 0)
    return bool(flag[0] > 0)


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
    curve = Curve([0], [initial[0]], [initial[1]], False, 0.0, 0)
    samples = gi = 0
    snapshot = None
    model.train()
    t0 = time.perf_counter()
    flag = torch.zeros(1) if world > 1 else None

    def late() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    while samples < budget and not curve.diverged:
        perm = torch.randperm(n, generator=gen)
        for s in range(per_epoch):
            base = s * batch + rank * micro * accum
            _step(
                model, opt, data, loss_fn, [perm[base + a * micro : base + (a + 1) * micro] for a in range(accum)], ddp
            )
            curve.steps += 1
            samples += batch
            if snapshot_at is not None and snapshot is None and samples >= snapshot_at and rank == 0:
                snapshot = {k: v.detach().clone() for k, v in module.state_dict().items()}
            if not (samples >= budget or (gi < len(grid) and samples >= grid[gi]) or late()):
                continue
            while gi < len(grid) and grid[gi] <= samples:
                gi += 1
            stop = False
            if rank == 0:
                vl, va = data.evaluate(module, loss_fn)
                curve.samples.append(samples)
                curve.loss.append(vl)
                curve.acc.append(va)
                stop = not math.isfinite(vl) or late()
            if _agreed(stop, flag):
                curve.diverged = not math.isfinite(curve.loss[-1]) if rank == 0 else True
                break
            if samples >= budget:
                break
        if late():
            break
    curve.seconds = time.perf_counter() - t0
    return curve, snapshot
