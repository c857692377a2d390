"""The long fuzz run, by hand: ``python tests/fuzz/run.py --minutes 20`` (run it with ``nice``).

Mutates the bundled examples and fixtures in batches, checks each batch with the CLI (bounded in time and
address space, with a control file), every fourth batch also with ``--fix --unsafe-fixes``, and prints the
counts docs/security.md records: inputs, runs, crashes, hangs, memory blow-ups, lost control findings,
unparsable fixes, the slowest input. Failing inputs are saved under ``--out`` (one directory per failure,
with the file and what happened) and named on stdout; ``--seed`` replays a run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_harness as harness  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--batch", type=int, default=16, help="mutated files per run")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default="fuzz-failures", help="where failing inputs are saved")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    rnd = random.Random(seed)
    pool = harness.seeds()
    stats = harness.Stats()
    end = time.monotonic() + a.minutes * 60
    started = time.monotonic()
    print(f"seed {seed}; {len(pool)} seed files; batches of {a.batch}", flush=True)
    slowest_files: dict[str, bytes] = {}
    while time.monotonic() < end:
        files = harness.batch(pool, rnd, a.batch)
        fix = stats.runs % 4 == 3
        out = harness.check(files, fix=fix)
        stats.runs += 1
        stats.inputs += len(files)
        per_file = out.seconds / (len(files) + 1)
        if per_file > stats.slowest[0]:
            stats.slowest, slowest_files = (per_file, f"batch {stats.runs}"), files
        if out.kind == "ok":
            continue
        blamed = harness.culprits(files, fix) or [("(the batch together)", out)]
        for name, o in blamed:
            stats.count(o.kind)
            where = Path(a.out) / f"{o.kind}-{stats.runs:05}-{name}"
            where.mkdir(parents=True, exist_ok=True)
            for n, data in files.items() if name.startswith("(") else [(name, files[name])]:
                (where / n).write_bytes(data)
            (where / "outcome.txt").write_text(f"{o.kind} (fix={fix}): {o.detail}\n", encoding="utf-8")
            print(f"FAIL {o.kind}: {where}", flush=True)
    slow_files = _slowest_file(slowest_files)
    if slow_files["name"]:
        where = Path(a.out) / "slowest"
        where.mkdir(parents=True, exist_ok=True)
        (where / slow_files["name"]).write_bytes(slowest_files[slow_files["name"]])
        slow_files["saved"] = str(where / slow_files["name"])
    summary = {
        "seed": seed,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "runs": stats.runs,
        "inputs": stats.inputs,
        "crashes": stats.failures.get("crash", 0),
        "hangs": stats.failures.get("hang", 0),
        "memory_blowups": stats.failures.get("memory", 0),
        "control_lost": stats.failures.get("control", 0),
        "fix_unparsable": stats.failures.get("fix", 0),
        "slowest_batch_seconds_per_file": round(stats.slowest[0], 2),
        "slowest_single_input": slow_files,
    }
    print(json.dumps(summary, indent=2))
    return 1 if stats.failures else 0


def _slowest_file(files: dict[str, bytes]) -> dict[str, object]:
    """The slowest file of the slowest batch, each checked alone: its seconds past a run of the control
    file alone (the interpreter's start and imports)."""
    base = min(harness.check({}).seconds for _ in range(3))
    worst: tuple[float, str] = (0.0, "")
    for name, data in files.items():
        t = harness.check({name: data}).seconds - base
        if t > worst[0]:
            worst = (t, name)
    return {"seconds_past_start": round(worst[0], 2), "name": worst[1], "start_seconds": round(base, 2)}


if __name__ == "__main__":
    sys.exit(main())
