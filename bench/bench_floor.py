"""The floor of the Python reader, measured in one process on the real Python corpus: ``libcst.parse_module``
against the standard library's ``ast.parse`` (what reading values with ``ast`` would cost), lrlint's textual
pre-filter (how many files it proves cannot hold a recipe), and lrlint's whole reader (``python_source.parse``).

    python bench/realworld/corpus.py --corpus python   # once
    python bench/bench_floor.py [--reps 3]

Best of ``--reps`` for each, the garbage collector collected before each loop.
"""

from __future__ import annotations

import argparse
import ast
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=ROOT / "bench" / "corpus" / "real-python")
    a = ap.parse_args()
    import libcst

    from lrlint import bigstack
    from lrlint.sources import Limits, decode
    from lrlint.sources.python_source import mentions_training_names, parse

    paths = sorted(p for p in a.corpus.rglob("*.py") if ".git" not in p.parts)
    texts = [(p, p.read_bytes()) for p in paths]
    strs = [b.decode("utf-8") for _, b in texts]
    passing = [s for s in strs if mentions_training_names(s)]
    rows = [
        (
            "pre-filter (mentions_training_names), all files",
            best(lambda: [mentions_training_names(s) for s in strs], a.reps),
        ),
        ("ast.parse, all files", best(lambda: [ast.parse(s) for s in strs], a.reps)),
        ("libcst.parse_module, all files", best(lambda: [libcst.parse_module(s) for s in strs], a.reps)),
        ("libcst.parse_module, pre-filtered files", best(lambda: [libcst.parse_module(s) for s in passing], a.reps)),
        (
            "lrlint python_source.parse (parse, analysis, positions), all files",
            best(
                lambda: bigstack.run(lambda: [parse(decode(p.name, "python", b), Limits()) for p, b in texts]), a.reps
            ),
        ),
    ]
    print(f"{len(paths)} files, {len(passing)} pass the pre-filter; best of {a.reps}")
    print("| step | s | ms per file |\n|---|---:|---:|")
    for name, secs in rows:
        n = len(passing) if "pre-filtered" in name else len(paths)
        print(f"| {name} | {secs:.2f} | {1000 * secs / n:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
