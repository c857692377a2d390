"""Benchmark ``lrlint check --fix`` next to ``lrlint check`` on a 2,000-file corpus, 10% needing fixes.

The corpus is a git repository of YAML and JSON training configs (Hugging Face TrainingArguments,
nested SGD configs, DeepSpeed-style JSON). Every file is committed, then 10% get a batch change
without the lr change (and ~half of those get an unrelated edit too), so ``--base HEAD`` sees them.

    python bench/bench_fix.py                 # 2,000 files, 10% to fix, 3 repeats
    python bench/bench_fix.py --files 500 --repeats 1
    python bench/bench_fix.py --json out.json

Each measured run starts from the same corpus state (``git checkout -- .`` + re-applying the
batch changes), runs the real CLI in a subprocess, and checks afterwards that the fixed files
re-check clean and that the unfixed files are byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HF_YAML = """\
# {name}
model_name_or_path: meta-llama/Llama-3.2-1B
output_dir: out/{name}
per_device_train_batch_size: {bs}
gradient_accumulation_steps: {acc}
learning_rate: {lr}  # tuned
num_train_epochs: 3
warmup_ratio: 0.03
optim: adamw_torch
seed: {seed}
"""

SGD_YAML = """\
# {name}
model:
  arch: resnet50
  num_classes: 1000
train:
  epochs: 90
  batch_size: {bs}
  optimizer:
    name: sgd
    lr: {lr}
    momentum: 0.9
    weight_decay: 0.0001
data:
  root: /data/imagenet
  workers: 8
"""

HF_JSON = """\
{{
  "output_dir": "out/{name}",
  "per_device_train_batch_size": {bs},
  "gradient_accumulation_steps": {acc},
  "learning_rate": {lr},
  "num_train_epochs": 3,
  "logging_steps": 10,
  "seed": {seed}
}}
"""

KINDS = [
    ("yaml", HF_YAML, ["2e-5", "1.0e-5", "3e-4", "5e-5"]),
    ("yaml", SGD_YAML, ["0.1", "0.05", "0.2"]),
    ("json", HF_JSON, ["2e-5", "0.0001", "3e-4"]),
]


def run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def build(dest: Path, n: int, frac: float, seed: int) -> list[str]:
    """Write and commit ``n`` configs; return the relative paths chosen to get a batch change."""
    rng = random.Random(seed)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "bench@example.com")
    git(dest, "config", "user.name", "bench")
    git(dest, "config", "commit.gpgsign", "false")
    files = []
    for i in range(n):
        ext, tmpl, lrs = KINDS[i % len(KINDS)]
        name = f"exp{i:04d}"
        rel = f"configs/group{i % 20:02d}/{name}.{ext}"
        p = dest / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            tmpl.format(
                name=name,
                bs=rng.choice([8, 16, 32]),
                acc=rng.choice([1, 2, 4]),
                lr=rng.choice(lrs),
                seed=rng.randrange(1000),
            )
        )
        files.append(rel)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "corpus")
    return sorted(rng.sample(files, max(1, int(n * frac))))


def mutate(dest: Path, chosen: list[str]) -> None:
    """Batch x4 (per-device) without the lr change, in each chosen file."""
    for rel in chosen:
        p = dest / rel
        t = p.read_text()
        for key in ("per_device_train_batch_size", "batch_size"):
            for sep in (": ", '": '):
                marker = f"{key}{sep}"
                i = t.find(marker)
                if i >= 0:
                    j = i + len(marker)
                    k = j
                    while t[k].isdigit():
                        k += 1
                    t = t[:j] + str(int(t[j:k]) * 4) + t[k:]
                    break
            else:
                continue
            break
        p.write_text(t)


def reset(dest: Path, chosen: list[str]) -> None:
    git(dest, "checkout", "-q", "--", ".")
    mutate(dest, chosen)


def lrlint(dest: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    r = run([sys.executable, "-m", "lrlint", "check", "--output-format", "concise", *args, "."], dest, env=env)
    return time.perf_counter() - t0, r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--fraction", type=float, default=0.10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the corpus directory")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="lrlint-bench-fix-"))
    try:
        chosen = build(tmp, args.files, args.fraction, args.seed)
        check_t, fix_t = [], []
        for _ in range(args.repeats):
            reset(tmp, chosen)
            dt, r = lrlint(tmp)
            assert r.returncode == 1, r.stderr
            check_t.append(dt)
            n_findings = sum(1 for line in r.stdout.splitlines() if ": LR0" in line)
            reset(tmp, chosen)
            before = {
                p: (tmp / p).read_bytes()
                for p in subprocess.run(["git", "ls-files"], cwd=tmp, capture_output=True, text=True).stdout.split()
            }
            dt, r = lrlint(tmp, "--fix")
            fix_t.append(dt)
            assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
            changed = [p for p, b in before.items() if (tmp / p).read_bytes() != b]
            assert sorted(changed) == chosen, (len(changed), len(chosen))
            _, r2 = lrlint(tmp)  # the fixed tree checks clean
            assert r2.returncode == 0, r2.stdout[-2000:]
        res = {
            "files": args.files,
            "needing_fix": len(chosen),
            "findings": n_findings,
            "repeats": args.repeats,
            "check_s": statistics.median(check_t),
            "fix_s": statistics.median(fix_t),
            "check_files_per_s": args.files / statistics.median(check_t),
            "fix_files_per_s": args.files / statistics.median(fix_t),
            "fix_overhead_s": statistics.median(fix_t) - statistics.median(check_t),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        }
        print(f"corpus: {args.files} files (YAML and JSON), {len(chosen)} needing a fix ({n_findings} findings)")
        print(
            f"check:       {res['check_s']:.2f} s  {res['check_files_per_s']:.0f} files/s  (median of {args.repeats})"
        )
        print(
            f"check --fix: {res['fix_s']:.2f} s  {res['fix_files_per_s']:.0f} files/s  (fix overhead "
            f"{res['fix_overhead_s']:.2f} s = {1000 * res['fix_overhead_s'] / max(1, len(chosen)):.1f} ms per fixed "
            "file)"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        return 0
    finally:
        if args.keep:
            print(f"corpus kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
