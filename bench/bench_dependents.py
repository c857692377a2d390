"""What the reverse index of the tree (dependents, lrlint/dependents.py) and the script scan
(lrlint/script_scaling.py) cost a pre-commit run, on a real 2,000-config tree.

The tree: ``bench/corpus/real-python`` (the configs/ folders of mmpretrain, detectron2 and mmdetection3d,
built by ``bench/realworld/corpus.py``) plus a second copy of its mmpretrain and mmdetection3d folders
(2,138 files), committed in a temporary git repository. Each row runs a fresh process, this checkout
against a baseline checkout without the index (``--baseline``: a directory holding an lrlint package, e.g.
a ``git worktree`` of main before the change), in alternating pairs so that a busy machine slows both alike:

* a leaf config changed (a child no config inherits): ``lrlint check <leaf>`` as pre-commit runs it;
* a shared dataset base changed (its batch halved; many configs inherit it): ``lrlint check <base>``;
* the whole tree, nothing changed: ``lrlint check .`` (default jobs).

    python bench/realworld/corpus.py --corpus python      # once
    nice python bench/bench_dependents.py --baseline /path/to/main [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "real-python"
LEAF = "mmpretrain/configs/resnet/resnet50_8xb32-fp16_in1k.py"  # no config inherits it
SHARED = "mmpretrain/configs/_base_/datasets/imagenet_bs32.py"


def build(dest: Path) -> Path:
    tree = dest / "tree"
    shutil.copytree(CORPUS, tree, ignore=shutil.ignore_patterns(".git"))
    for name in ("mmpretrain", "mmdetection3d"):
        shutil.copytree(tree / name, tree / f"{name}-2")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b"}
    env["GIT_COMMITTER_EMAIL"] = "b@b"
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "tree"]):
        subprocess.run(["git", *args], cwd=tree, check=True, env=env)
    return tree


def timed(src: Path, args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall time, CPU time (user + sys of the process and the git processes it waited for), stdout."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "lrlint", *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


def pair(name: str, args: list[str], tree: Path, base: Path, reps: int) -> None:
    """Median wall and CPU time of ``reps`` alternating runs (the first pair warms the cache of both)."""
    mine: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    out = ""
    for i in range(reps + 1):
        order = [(ROOT, mine), (base, theirs)] if i % 2 == 0 else [(base, theirs), (ROOT, mine)]
        for src, times in order:
            wall, cpu, o = timed(src, args, tree)
            if i:
                times.append((wall, cpu))
            if src == ROOT:
                out = o
    cells = []
    for k in (0, 1):
        a, b = statistics.median(t[k] for t in mine), statistics.median(t[k] for t in theirs)
        cells.append(f"{a * 1000:.0f} ms | {b * 1000:.0f} ms | {100 * (a - b) / b:+.0f}%")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    print(f"| {name} | {' | '.join(cells)} | {last} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="a directory holding the lrlint package to compare with")
    ap.add_argument("--reps", type=int, default=7)
    opts = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit("bench/corpus/real-python is missing: run python bench/realworld/corpus.py --corpus python")
    with tempfile.TemporaryDirectory() as d:
        tree = build(Path(d))
        files = sum(1 for _ in tree.rglob("*.py"))
        print(f"{files} config files; medians of {opts.reps} alternating runs after a warm-up pair\n")
        print(
            "| run | wall, this checkout | wall, baseline | change | CPU, this checkout | CPU, baseline | change "
            "| last line |\n|---|---:|---:|---:|---:|---:|---:|---|"
        )
        leaf = tree / LEAF
        leaf.write_text(leaf.read_text() + "\n# edited\n")
        pair("pre-commit, a leaf config changed", ["check", LEAF], tree, Path(opts.baseline), opts.reps)
        shared = tree / SHARED
        shared.write_text(shared.read_text().replace("batch_size=32", "batch_size=16"))
        pair("pre-commit, a shared dataset base changed", ["check", SHARED], tree, Path(opts.baseline), opts.reps)
        subprocess.run(["git", "checkout", "-q", "."], cwd=tree, check=True)
        pair("whole tree, nothing changed", ["check", "."], tree, Path(opts.baseline), max(3, opts.reps // 2))


if __name__ == "__main__":
    main()
