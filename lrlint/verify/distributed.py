"""``--nproc N``: real data-parallel runs with torch.distributed.

lrlint launches N worker processes the way ``torchrun`` does (environment variables ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``; rendezvous
``env://``), one per rank, with the gloo backend on CPU and nccl on CUDA (rank r on ``cuda:r``).
Each worker builds the same task and, per run, the same initial weights; the model is wrapped in
``DistributedDataParallel``, so gradients are averaged by all-reduce as in real training. Every
rank takes its contiguous share of the same global batch (the permutation is seeded identically
on all ranks), with ``--accum`` micro-batches under ``no_sync``. Rank 0 evaluates and streams
each finished curve back on stdout (lines starting with ``@@lrlint-run``).

Run a worker by hand: ``python -m lrlint.verify.distributed JOB.json`` under ``torchrun``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from lrlint.verify.question import OptimizerChoice, RunError

MARK = "@@lrlint-run "
#: Launch attempts when the rendezvous port was taken by another process meanwhile.
RENDEZVOUS_TRIES = 3
#: Seconds a collective may wait for another rank before the run is abandoned.
COLLECTIVE_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    keys: Sequence[Any],
    optimizers: Sequence[OptimizerChoice],
    task: Any,
    options: Any,
    grid: Sequence[float],
    progress: Callable[[Any, Any], None] | None = None,
) -> dict[Any, Any]:
    """Run ``keys`` (all with the same world size) on that many worker processes; their curves."""
    from lrlint.verify.question import UsageError

    world = keys[0].world
    device = str(task.device)
    if device.startswith("cuda"):
        import torch

        if torch.cuda.device_count() < world:
            raise UsageError(f"--nproc {world} needs {world} CUDA devices; {torch.cuda.device_count()} visible")
    job = {
        "model": options.model,
        "device": "cuda" if device.startswith("cuda") else "cpu",
        "cwd": os.getcwd(),
        "grid": list(grid),
        "runs": [
            {
                "seed": k.seed,
                "batch": k.batch,
                "lr": k.lr,
                "accum": k.accum,
                "budget": k.budget,
                "optimizer": {"torch_name": o.torch_name, "kwargs": o.kwargs},
            }
            for k, o in zip(keys, optimizers, strict=True)
        ],
    }
    with tempfile.TemporaryDirectory(prefix="lrlint-verify-") as tmp:
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w", encoding="utf-8") as fh:
            json.dump(job, fh)
        for attempt in range(RENDEZVOUS_TRIES):
            out, error = _launch_once(job_path, tmp, world, keys, progress, attempt)
            if error is None:
                return out
            # another process took the free port between our probe and the workers' bind: retry
            if out or attempt + 1 == RENDEZVOUS_TRIES or "address already in use" not in error.lower():
                raise RunError(error)
    raise AssertionError("unreachable")


def _start_ranks(job_path: str, tmp: str, world: int, attempt: int) -> tuple[list[subprocess.Popen[str]], list[Any]]:
    """One worker process per rank, torchrun's environment; rank 0's stdout is piped, each stderr to a file."""
    port = _free_port()
    procs: list[subprocess.Popen[str]] = []
    errs: list[Any] = []
    for rank in range(world):
        env = dict(os.environ)
        env.update(
            {
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "WORLD_SIZE": str(world),
                "LOCAL_WORLD_SIZE": str(world),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(port),
                "OMP_NUM_THREADS": "1",
            }
        )
        err = open(os.path.join(tmp, f"rank{rank}.{attempt}.err"), "w+", encoding="utf-8")  # noqa: SIM115
        errs.append(err)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "lrlint.verify.distributed", job_path],
                env=env,
                cwd=os.getcwd(),
                stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
                stderr=err,
                text=True,
            )
        )
    return procs, errs


def _collect(
    procs: list[subprocess.Popen[str]], keys: Sequence[Any], progress: Callable[[Any, Any], None] | None
) -> dict[Any, Any]:
    """The curves rank 0 streams back, until its stdout closes or a rank fails."""
    from lrlint.verify.training import Curve

    out: dict[Any, Any] = {}
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert procs[0].stdout is not None
        for line in procs[0].stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if any(p.poll() not in (None, 0) for p in procs):
                return out
            continue
        if line is None:
            return out
        if line.startswith(MARK):
            rec = json.loads(line[len(MARK) :])
            key = keys[rec["index"]]
            loss = [_num(v) for v in rec["loss"]]
            curve = Curve(rec["samples"], loss, rec["acc"], rec["diverged"], rec["seconds"], rec["steps"])
            out[key] = curve
            if progress is not None:
                progress(key, curve)


def _failure(world: int, procs: list[subprocess.Popen[str]], errs: list[Any], complete: bool) -> str | None:
    """What went wrong (the last lines of each rank's stderr), or None when every curve came back."""
    failed = [(r, p.returncode) for r, p in enumerate(procs) if p.returncode != 0]
    # Rank 0 only reports a curve once every rank took part in its all-reduces, so a rank that
    # aborts in gloo's teardown after the last curve ("terminate called without an active
    # exception", SIGABRT) has not changed any result: keep them.
    if complete and all(rc < 0 for _, rc in failed):
        return None
    tails = []
    for r, err in enumerate(errs):
        err.seek(0)
        text = err.read().strip()
        if text:
            tails.append(f"rank {r}: " + "\n".join(text.splitlines()[-15:]))
    what = ", ".join(f"rank {r} exited {rc}" for r, rc in failed) or "a rank stopped early"
    return f"--nproc {world}: the data-parallel run failed ({what})\n" + "\n".join(tails)


def _launch_once(
    job_path: str, tmp: str, world: int, keys: Sequence[Any], progress: Callable[[Any, Any], None] | None, attempt: int
) -> tuple[dict[Any, Any], str | None]:
    procs: list[subprocess.Popen[str]] = []
    errs: list[Any] = []
    try:
        procs, errs = _start_ranks(job_path, tmp, world, attempt)
        out = _collect(procs, keys, progress)
        deadline = time.monotonic() + 60
        for p in procs:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    error = _failure(world, procs, errs, complete=len(out) == len(keys))
    for err in errs:
        err.close()
    return out, error


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _clean(v: float) -> float | None:
    return v if math.isfinite(v) else None


def worker(job_path: str) -> int:
    import datetime

    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from lrlint.verify.training import Options, Task, make_optimizer, train_curve

    torch.set_num_threads(1)
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    if job["cwd"] not in sys.path:
        sys.path.insert(0, job["cwd"])
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    cuda = job["device"] == "cuda"
    if cuda:
        torch.cuda.set_device(local)
        device = torch.device(f"cuda:{local}")
    else:
        device = torch.device("cpu")
    dist.init_process_group(
        "nccl" if cuda else "gloo", init_method="env://", timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S)
    )
    try:
        task = Task(Options(model=job["model"]), device)
        grid = job["grid"]
        for i, r in enumerate(job["runs"]):
            choice = OptimizerChoice(r["optimizer"]["torch_name"], r["optimizer"]["kwargs"], r["lr"], True, "", "")
            model = task.model(r["seed"])
            ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)
            opt = make_optimizer(choice, ddp.parameters(), r["lr"])
            initial = task.initial_eval(r["seed"]) if rank == 0 else (math.nan, None)
            curve, _ = train_curve(
                ddp,
                opt,
                task.data,
                task.loss_fn,
                seed=r["seed"],
                batch=r["batch"],
                accum=r["accum"],
                budget=r["budget"],
                grid=grid,
                initial=initial,
                rank=rank,
                world=world,
                ddp=True,
            )
            if rank == 0:
                rec = {
                    "index": i,
                    "samples": curve.samples,
                    "loss": [_clean(v) for v in curve.loss],
                    "acc": curve.acc,
                    "diverged": curve.diverged,
                    "seconds": curve.seconds,
                    "steps": curve.steps,
                }
                sys.stdout.write(MARK + json.dumps(rec) + "\n")
                sys.stdout.flush()
    finally:
        with contextlib.suppress(Exception):
            dist.barrier()  # leave together: a rank tearing down early can abort the other
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(worker(sys.argv[1]))
