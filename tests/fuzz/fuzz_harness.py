"""Run lrlint on mutated configs, the way a user's run meets them: the CLI in a subprocess, bounded in time
and address space, with a control file whose finding must survive whatever the other files hold.

An outcome is one of OK or a failure kind: ``crash`` (a traceback, "internal error", an LR907 finding, an
exit code other than 0/1/2 or a signal), ``hang`` (past the time bound), ``memory`` (MemoryError under the
address-space bound), ``control`` (the control file's finding is missing) and ``fix`` (``--fix`` left a file
that no longer parses). A batch that fails is run again file by file to name the input.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = (".yaml", ".yml", ".json", ".py")
MAX_SEED_BYTES = 64 * 1024
CONTROL_NAME = "zz_control.yaml"
CONTROL = "# lrlint: reference batch=256 lr=0.1\ntrain:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
CONTROL_FINDING = (CONTROL_NAME, "LR001", 3)
PER_FILE_S = 10.0  # the time one file may take
START_S = 10.0  # the interpreter's start and imports, on a loaded machine
MEMORY_BYTES = 2_000_000_000  # the address space a run may take (prlimit --as)


def seeds() -> list[tuple[str, bytes]]:
    """The bundled examples and test fixtures (YAML, JSON, Python), by path."""
    out = []
    for top in ("examples", "tests/fixtures"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and p.suffix in SUFFIXES and p.stat().st_size <= MAX_SEED_BYTES:
                out.append((p.relative_to(ROOT).as_posix(), p.read_bytes()))
    return out


@dataclass
class Outcome:
    kind: str  # "ok" or a failure kind
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Stats:
    inputs: int = 0
    runs: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    slowest: tuple[float, str] = (0.0, "")  # seconds per file of the slowest batch, and a name

    def count(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_lrlint(cwd: Path, *args: str, timeout: float) -> tuple[int | None, str, str, float]:
    """(exit code or None when killed at ``timeout``, stdout, stderr, seconds)."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "LRLINT_JOBS": "1"}
    for k in ("LRLINT_DEBUG", "LRLINT_OUTPUT_FORMAT", "FORCE_COLOR", "CI"):
        env.pop(k, None)
    t = time.perf_counter()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "lrlint", *args],
            cwd=cwd,
            capture_output=True,
            env=env,
            timeout=timeout,
            preexec_fn=_limit,
        )
    except subprocess.TimeoutExpired:
        return None, "", "", time.perf_counter() - t
    out = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    return r.returncode, *out, time.perf_counter() - t


def _findings(stdout: str) -> list[tuple[str, str, int]] | None:
    try:
        return [(os.path.basename(f["filename"]), f["code"], f["location"]["row"]) for f in json.loads(stdout)]
    except (ValueError, KeyError, TypeError):
        return None


def check(files: dict[str, bytes], fix: bool = False) -> Outcome:
    """Check ``files`` (name -> bytes) and the control file in a fresh directory; with ``fix``, also
    ``--fix --unsafe-fixes`` them and check that every file that parsed still parses."""
    with tempfile.TemporaryDirectory(prefix="lrlint-fuzz-") as d:
        tmp = Path(d)
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / CONTROL_NAME).write_text(CONTROL, encoding="utf-8")
        timeout = START_S + PER_FILE_S * (len(files) + 1)
        args = ("check", "--isolated", "--no-cache", "--output-format", "json", "--select", "ALL", ".")
        first = run_lrlint(tmp, *args, timeout=timeout)
        out = _judge(*first)
        if out.kind != "ok" or not fix:
            return out
        before = _findings(first[1]) or []
        fixed = _judge(*run_lrlint(tmp, *args[:-1], "--fix", "--unsafe-fixes", ".", timeout=timeout), control=False)
        if fixed.kind != "ok":
            return fixed
        after = run_lrlint(tmp, *args, timeout=timeout)
        judged = _judge(*after, control=False)  # the control's finding is fixed now
        if judged.kind != "ok":
            return judged
        broke = {n for n, c, _ in _findings(after[1]) or [] if c == "LR901"} - {n for n, c, _ in before if c == "LR901"}
        if broke:
            return Outcome("fix", f"--fix left {sorted(broke)} unparsable", out.seconds)
        return out


def _judge(rc: int | None, stdout: str, stderr: str, seconds: float, control: bool = True) -> Outcome:
    if rc is None:
        return Outcome("hang", f"killed after {seconds:.1f} s", seconds)
    text = stdout + stderr
    if "MemoryError" in text:
        return Outcome("memory", stderr[-500:] or stdout[-500:], seconds)
    if rc not in (0, 1, 2) or "Traceback" in text or "internal error" in text or '"LR907"' in stdout:
        return Outcome("crash", f"exit {rc}: {stderr[-800:]}{stdout[-800:] if 'LR907' in stdout else ''}", seconds)
    if control:
        found = _findings(stdout)
        if found is None or CONTROL_FINDING not in found:
            return Outcome("control", f"exit {rc}: the control file's LR001 is missing: {stdout[-300:]}", seconds)
    return Outcome("ok", "", seconds)


def batch(pool: list[tuple[str, bytes]], rnd: random.Random, size: int) -> dict[str, bytes]:
    """``size`` mutated seeds, named after their seeds (a name tag such as ``8xb32`` matters)."""
    from fuzz_mutate import mutate

    out = {}
    for i in range(size):
        path, data = rnd.choice(pool)
        out[f"f{i:02}_{Path(path).name}"] = mutate(data, rnd)
    return out


def culprits(files: dict[str, bytes], fix: bool) -> list[tuple[str, Outcome]]:
    """The files of a failed batch that fail alone (each with the control file)."""
    return [(n, o) for n, data in files.items() if (o := check({n: data}, fix)).kind != "ok"]
