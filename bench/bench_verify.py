"""Benchmark: wall time of ``lrlint verify`` on the default proxy (one finding), as a user runs it.

Each command runs as a fresh subprocess (``python -m lrlint verify ...``), so the figure includes
Python and torch start-up, which dominate. Prints a Markdown table for docs/performance.md.

    python bench/bench_verify.py            # 5 repeats of the main command, 3 of the variants
    python bench/bench_verify.py --repeats 10 --quick
    python bench/bench_verify.py --figures  # the verdict tables of docs/verify.md (in one process)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAIN = ["--batch", "8:32", "--lr", "0.01", "--optimizer", "sgd"]
VARIANTS = [
    ("SGD x2 (most steps per candidate)", ["--batch", "8:16", "--lr", "0.01", "--optimizer", "sgd"]),
    ("SGD x7, momentum 0.9", ["--batch", "8:56", "--lr", "0.01", "--optimizer", "sgd", "--momentum", "0.9"]),
    ("AdamW x4", ["--batch", "8:32", "--lr", "3e-4", "--optimizer", "adamw"]),
    (
        "SGD x64 collapse (--proxy-lr user)",
        ["--batch", "8:512", "--lr", "0.05", "--momentum", "0.9", "--proxy-lr", "user"],
    ),
    ("SGD x4 with --noise-scale", MAIN + ["--noise-scale"]),
]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return wall, p.returncode


def row(label: str, walls: list[float], note: str = "") -> str:
    return f"| {label} | {len(walls)} | {min(walls):.2f} | {statistics.median(walls):.2f} | {max(walls):.2f} | {note} |"


FIGURES = [
    # (title, optimizer display, family, momentum, policy, reference lr, factors, proxy_lr)
    ("SGD, momentum 0, linear rule (proxy lr 0.01)", "SGD", "sgd", None, "linear", 0.01, [2, 3, 4, 5, 6, 7], None),
    ("SGD, momentum 0.9, linear rule (proxy lr 0.01)", "SGD", "sgd", 0.9, "linear", 0.01, [2, 3, 4, 5, 6, 7], None),
    ("Adam, sqrt rule (proxy lr 1e-3)", "Adam", "adaptive", None, "sqrt", 1e-3, [2, 4, 16], None),
    ("Adam, linear rule (proxy lr 1e-3)", "Adam", "adaptive", None, "linear", 1e-3, [2, 4, 16], None),
    ("SGD, momentum 0.9, lr 0.05 pinned (--proxy-lr user)", "SGD", "sgd", 0.9, "linear", 0.05, [8, 16, 32, 64], "user"),
    ("SGD, momentum 0, lr 0.05 pinned (--proxy-lr user)", "SGD", "sgd", None, "linear", 0.05, [16, 32, 64], "user"),
    (
        "SGD, momentum 0, the tutorial's lr 0.001 pinned (--proxy-lr user)",
        "SGD",
        "sgd",
        None,
        "linear",
        0.001,
        [2, 7],
        "user",
    ),
    ("SGD, momentum 0, factors below 1 (proxy lr 0.01)", "SGD", "sgd", None, "linear", 0.01, [0.25, 0.5], None),
]


def figures() -> int:
    sys.path.insert(0, str(ROOT))
    from lrlint.numbers import plain
    from lrlint.verify import experiment as E
    from lrlint.verify import question as Q
    from lrlint.verify.training import Options

    for title, display, family, momentum, policy, lr, ks, proxy_lr in FIGURES:
        t = time.perf_counter()
        qs = [Q.Question(8, 8 * k, lr, None, policy, Q.choose_optimizer(display, family, momentum)) for k in ks]
        results = E.run(qs, Options(proxy_lr=proxy_lr))
        print(f"\n**{title}** ({time.perf_counter() - t:.1f} s in one process)\n")
        roles = [c.role for c in results[0].candidates if c.role != "reference"]
        print("| k | floor | " + " | ".join(f"{r} median (acc)" for r in roles) + " | verdict | closest |")
        print("|---" * (len(roles) + 4) + "|")
        for r in results:
            cells = []
            for role in roles:
                c = r.candidate(role)
                acc = f"{c.final_acc:.3f}" if c.final_acc is not None else "-"
                cells.append(f"{plain(c.median, 2)} ({acc}{', ' + str(c.diverged) + ' div.' if c.diverged else ''})")
            print(
                f"| x{plain(r.k_run)} | {plain(r.floor, 2)} | " + " | ".join(cells) + f" | {r.verdict} | {r.best_fit} |"
            )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the main command (default 5)")
    ap.add_argument("--variant-repeats", type=int, default=3, help="repeats of each variant (default 3)")
    ap.add_argument("--quick", action="store_true", help="main command only")
    ap.add_argument("--figures", action="store_true", help="print the verdict tables instead of timing")
    args = ap.parse_args()
    if args.figures:
        return figures()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    py = sys.executable
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"CPU cores: {os.cpu_count()}; load average at start: {load:.2f}; python {sys.version.split()[0]}",
        "",
        "| command | runs | min s | median s | max s | exit |",
        "|---|---|---|---|---|---|",
    ]
    base = [timed([py, "-c", "pass"], env)[0] for _ in range(3)]
    lines.append(row("`python -c pass`", base))
    imp = [timed([py, "-c", "import torch"], env)[0] for _ in range(3)]
    lines.append(row("`python -c 'import torch'`", imp))
    walls, codes = [], set()
    for _ in range(args.repeats):
        w, c = timed([py, "-m", "lrlint", "verify", *MAIN], env)
        walls.append(w)
        codes.add(c)
    lines.append(row("`lrlint verify " + " ".join(MAIN) + "`", walls, ",".join(map(str, sorted(codes)))))
    if not args.quick:
        for label, argv in VARIANTS:
            ws, cs = [], set()
            for _ in range(args.variant_repeats):
                w, c = timed([py, "-m", "lrlint", "verify", *argv], env)
                ws.append(w)
                cs.add(c)
            lines.append(row(label, ws, ",".join(map(str, sorted(cs)))))
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += ["", f"load average at the end: {load_end:.2f}"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
