"""Benchmark ``lrlint check`` on 2,000 generated Python training scripts and configs, next to
Fixit (``fixit lint``), TorchFix (``torchfix``) and a bare libcst parse loop, in the same run.

Setup (the tools pin libcst differently from lrlint's environment, so they live in a venv):

    python -m venv /tmp/lrlint-bench-venv
    /tmp/lrlint-bench-venv/bin/pip install "fixit==2.2.1" "libcst>=1.5,<1.6" flake8 pydantic rich pyyaml
    /tmp/lrlint-bench-venv/bin/pip install --no-deps "torchfix==0.7.0"    # no torch pulled in

    python bench/bench_python.py [--files 2000] [--reps 3] [--venv /tmp/lrlint-bench-venv] [--no-write]

Every command is a fresh process; repetitions are interleaved round-robin so a busy machine
slows them alike; wall and CPU time (user+sys, children included) come from ``os.wait4``.
Rows: lrlint (with ``--base HEAD``: git reads included) under the venv's python (libcst 1.5)
and under this python; ``fixit lint``; ``torchfix``; ``python -c 'import libcst; parse each
file'`` over all files and over the files that pass lrlint's pre-filter (the floor). A second,
in-process table compares lrlint's Python reader (``python_source.parse``) with
``libcst.parse_module`` on the pre-filtered files, both measured in one process.

Results go to the bench_python block of ``docs/performance.md`` (unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_python_corpus import make_git_corpus  # noqa: E402

FLOOR = (
    "import sys, libcst\n"
    "paths = open(sys.argv[1]).read().split('\\n')\n"
    "for p in paths:\n"
    "    libcst.parse_module(open(p, encoding='utf-8').read())\n"
)


def run(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, int]:
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{err[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, p.returncode


def in_process(paths: list[Path], reps: int) -> tuple[float, float, int]:
    """(bare libcst parse s, lrlint python_source.parse s, files) over the pre-filtered files, best of reps."""
    import gc

    import libcst

    from lrlint.sources import Limits, decode
    from lrlint.sources.python_source import mentions_training_names, parse

    texts = [(p, p.read_bytes()) for p in paths]
    passing = [(p, b) for p, b in texts if mentions_training_names(b.decode("utf-8"))]
    bare, ours = [], []
    for _ in range(reps):
        gc.collect()
        t = time.perf_counter()
        for _, b in passing:
            libcst.parse_module(b.decode("utf-8"))
        bare.append(time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        for p, b in passing:
            parse(decode(p.name, "python", b), Limits())
        ours.append(time.perf_counter() - t)
    return min(bare), min(ours), len(passing)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/lrlint-bench-venv"))
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()

    vpy = a.venv / "bin" / "python"
    fixit = a.venv / "bin" / "fixit"
    torchfix = a.venv / "bin" / "torchfix"
    for tool in (vpy, fixit, torchfix):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: see the setup lines at the top of {Path(__file__).name}")

    tmp = Path(tempfile.mkdtemp(prefix="lrlint-pybench-"))
    try:
        corpus = tmp / "corpus"
        corpus.mkdir()
        paths = make_git_corpus(corpus, a.files)
        from lrlint.sources.python_source import mentions_training_names

        passing = [p for p in paths if mentions_training_names(p.read_text(encoding="utf-8"))]
        lst_all, lst_pass = tmp / "all.txt", tmp / "pass.txt"
        lst_all.write_text("\n".join(str(p) for p in paths))
        lst_pass.write_text("\n".join(str(p) for p in passing))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        env.pop("LRLINT_OUTPUT_FORMAT", None)
        venv_env = {**env, "PATH": f"{a.venv / 'bin'}:{env.get('PATH', '')}"}
        cmds = {
            "lrlint check (venv python, libcst 1.5)": (
                [str(vpy), "-m", "lrlint", "check", "--base", "HEAD", "--output-format", "concise", "."],
                venv_env,
            ),
            f"lrlint check (this python, libcst {_libcst_version(sys.executable)})": (
                [sys.executable, "-m", "lrlint", "check", "--base", "HEAD", "--output-format", "concise", "."],
                env,
            ),
            "fixit lint": ([str(fixit), "lint", "."], venv_env),
            "torchfix": ([str(torchfix), "."], venv_env),
            "libcst parse, all files (venv)": ([str(vpy), "-c", FLOOR, str(lst_all)], venv_env),
            "libcst parse, pre-filtered files (venv)": ([str(vpy), "-c", FLOOR, str(lst_pass)], venv_env),
        }
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
        for _ in range(a.reps):
            for name, (cmd, e) in cmds.items():
                wall, cpu, _rc = run(cmd, corpus, e)
                times[name].append((wall, cpu))
        bare, ours, npass = in_process(passing, a.reps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(paths)
    rows = []
    for name, ts in times.items():
        wall = statistics.median(t[0] for t in ts)
        cpu = statistics.median(t[1] for t in ts)
        files = npass if "pre-filtered" in name else n
        rows.append((name, files, wall, cpu, files / wall))
    fixit_rate = next(r[4] for r in rows if r[0] == "fixit lint")
    lines = [
        "## Python scripts and configs",
        "",
        f"Corpus: {n} generated files (`bench/gen_python_corpus.py`: "
        "argparse training scripts 30%, MMEngine configs 30%,",
        "Lightning modules 20%, HF TrainingArguments scripts 5%, utility modules 15%), "
        "committed in a git repository with",
        f"10% of the training files given a batch change; {npass} files pass lrlint's textual pre-filter.",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; median of "
        f"{a.reps} interleaved runs,",
        "every command a fresh process (imports included).",
        "",
        "| command | files | wall s | CPU s | files/s (wall) | vs fixit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, files, wall, cpu, rate in rows:
        lines.append(f"| {name} | {files} | {wall:.2f} | {cpu:.2f} | {rate:.0f} | {rate / fixit_rate:.1f}x |")
    lines += [
        "",
        f"In one process, on the {npass} pre-filtered files (best of {a.reps}): `libcst.parse_module` {bare:.2f} s,",
        f"lrlint's Python reader (`python_source.parse`: parse + analysis + positions + comments) {ours:.2f} s:",
        f"**{ours / bare:.2f}x the bare parse** (target: within 1.5x).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not a.no_write:
        out = ROOT / "docs" / "performance.md"
        doc = out.read_text(encoding="utf-8")
        start, end = "<!-- bench_python:start -->", "<!-- bench_python:end -->"
        block = f"{start}\n\n{text.rstrip()}\n\n{end}"
        if start in doc:
            doc = doc[: doc.index(start)] + block + doc[doc.index(end) + len(end) :]
        else:
            doc = doc.rstrip() + "\n\n" + block + "\n"
        out.write_text(doc, encoding="utf-8")
        print(f"written to {out} (its bench_python block)")


def _libcst_version(py: str) -> str:
    try:
        return subprocess.run(
            [py, "-c", "import importlib.metadata as m; print(m.version('libcst'))"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
