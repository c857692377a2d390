"""Benchmark ``lrlint check`` against ``yamllint`` on a generated 2,000-config git repository.

What it measures, every command as a fresh process, pinned to one core
(``taskset -c 0``) when taskset is available, repetitions interleaved round-robin so
that a busy machine slows every command alike:

* ``python -c pass``: the interpreter floor;
* ``lrlint check --base HEAD~1 --output-format concise <repo>``: the whole repo (files/s);
* ``yamllint -d relaxed <the same files>``;
* ``lrlint check --base HEAD~1 <one file>`` (default full output, as pre-commit runs it),
  and the same with ``--output-format concise``;
* ``yamllint -d relaxed <that file>``;
* the single-file check with a settings table (``--config``): validated by pydantic once, then
  read from lrlint's cache; and the same with the cache off (``LRLINT_CACHE_DIR=``).

Wall time and CPU time (user + sys) come from ``os.wait4`` on each process, peak memory
(max RSS of the process and the children it waited for, e.g. git) from the same rusage.
Then one ``python -X importtime`` run of the single-file check breaks the import cost
down by top-level package.

The table is printed and written to ``docs/performance.md`` between
``<!-- bench_check:start -->`` and ``<!-- bench_check:end -->`` (the rest of the file is
left alone; the file is created with a short intro if absent).

Usage::

    python bench/bench_check.py [--files 2000] [--reps 5] [--single-reps 15] [--keep] [--no-write]

``--keep`` builds the corpus in ``bench/corpus/`` (git-ignored) and reuses it when it
is there; otherwise a temporary directory is used and removed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import gen_config_corpus  # noqa: E402

START, END = "<!-- bench_check:start -->", "<!-- bench_check:end -->"
INTRO = """# lrlint performance

Figures from the scripts in `bench/`. Each section is written by the script named in
its markers; rerun the script to refresh it (other sections are left as they are).

"""

SETTINGS = """\
# a typical project table: validated by pydantic once, then read from lrlint's cache
extend-select = ["LR008"]
ignore = ["LR005"]
per-file-ignores = {"legacy/*" = ["LR9"]}

[policy]
adaptive = "sqrt-to-linear"

[thresholds]
error-factor = 2.5
"""

TARGET_FPS = 500.0
TARGET_RSS_MB = 150.0


def _script(name: str) -> list[str]:
    """The console script installed beside this interpreter (not a pyenv/asdf shim, whose
    own start-up would be timed), else ``python -m``."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    if found and "shims" not in found:
        return [found]
    return [sys.executable, "-m", name]


@dataclass
class Cmd:
    label: str
    argv: list[str]
    cwd: Path
    files: int = 0
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # on top of the children's environment

    def wall(self) -> float:
        return statistics.median(self.walls)

    def cpu(self) -> float:
        return statistics.median(self.cpus)

    def rss_mb(self) -> float:
        return max(self.rss_kb) / 1024


def child_env(pycache: str | None) -> dict[str, str]:
    """The children's environment: no colors, no inherited output format, and a bytecode cache
    (``PYTHONDONTWRITEBYTECODE=1`` would recompile every module of every run, ~80 ms for lrlint's
    own; an installed wheel has its .pyc files). The cache goes to a private ``PYTHONPYCACHEPREFIX``
    so nothing is written into the checkout or site-packages."""
    env = {**os.environ, "NO_COLOR": "1"}
    for k in ("LRLINT_OUTPUT_FORMAT", "FORCE_COLOR", "PYTHONDONTWRITEBYTECODE"):
        env.pop(k, None)
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


ENV: dict[str, str] = child_env(None)


def run_once(cmd: Cmd, pin: list[str], stdout=subprocess.DEVNULL) -> None:
    env = {**ENV, **cmd.env}
    t0 = time.perf_counter()
    p = subprocess.Popen(pin + cmd.argv, cwd=cmd.cwd, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    cmd.walls.append(wall)
    cmd.cpus.append(ru.ru_utime + ru.ru_stime)
    cmd.rss_kb.append(ru.ru_maxrss)
    cmd.codes.append(p.returncode)


def import_breakdown(
    argv_py: list[str], cwd: Path, pin: list[str], runs: int = 3
) -> tuple[float, list[tuple[str, float]]]:
    """``python -X importtime`` of a run; self time summed by top-level package (best of ``runs``)."""
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(runs):
        p = subprocess.run(
            pin + [sys.executable, "-X", "importtime", *argv_py], cwd=cwd, capture_output=True, text=True, env=ENV
        )
        per: dict[str, float] = {}
        for line in p.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if not m:
                continue
            top = m.group(4).split(".")[0]
            per[top] = per.get(top, 0.0) + int(m.group(1)) / 1e6
        total = sum(per.values())
        if best is None or total < best[0]:
            best = (total, per)
    assert best is not None
    groups: dict[str, float] = {}
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"_frozen_importlib", "_frozen_importlib_external"}
    for top, t in best[1].items():
        key = top if top not in stdlib and not top.startswith("_") else "stdlib"
        if top.startswith("_") and top.lstrip("_") not in stdlib and top not in stdlib:
            key = top  # e.g. _yaml, _ruamel
        groups[key] = groups.get(key, 0.0) + t
    return best[0], sorted(groups.items(), key=lambda kv: -kv[1])


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv + ["--version"], capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def build_corpus(args) -> tuple[Path, dict, tempfile.TemporaryDirectory | None]:
    if args.keep:
        repo = HERE / "corpus"
        manifest_path = repo / gen_config_corpus.MANIFEST
        if manifest_path.is_file():
            m = json.loads(manifest_path.read_text())
            if (m["files"], m["seed"], m["changed_fraction"], m.get("generator")) == (
                args.files,
                args.seed,
                args.changed,
                gen_config_corpus.VERSION,
            ):
                return repo, m, None
            shutil.rmtree(repo)
        return repo, gen_config_corpus.generate(repo, args.files, args.seed, args.changed), None
    tmp = tempfile.TemporaryDirectory(prefix="lrlint-bench-")
    repo = Path(tmp.name) / "repo"
    return repo, gen_config_corpus.generate(repo, args.files, args.seed, args.changed), tmp


def count_findings(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in re.findall(r":\d+:\d+: (LR\d+) ", text):
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def markdown(res: dict) -> str:
    rows, t = res["rows"], res["targets"]
    out = [
        START,
        "",
        "## `lrlint check` vs `yamllint` (bench/bench_check.py)",
        "",
        f"Corpus: `bench/gen_config_corpus.py` (seed {res['seed']}), a git repository of {res['files']} configs "
        f"({res['kinds']}); commit 2 changes the batch in {res['changed']} of them, half with the lr scaled. "
        f"Findings of the whole-repo run: {res['findings']}.",
        "",
        f"Machine: {res['machine']}. {res['pin']}. Load average before/after: {res['load']}. "
        f"{res['lrlint']}, {res['yamllint']}, Python {res['python']}. {res['date']}.",
        "",
        "Each command is a fresh process; median of the repetitions (min in brackets); CPU = user + sys; "
        "RSS = peak resident memory of the process and its children (git). "
        f"Bytecode: {res['bytecode']}.",
        "",
        "| command | files | reps | wall s | CPU s | files/s (wall) | files/s (CPU) | peak RSS MB | vs yamllint "
        "(wall) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fps_w = f"{r['files'] / r['wall']:.0f}" if r["files"] > 1 else ""
        fps_c = f"{r['files'] / r['cpu']:.0f}" if r["files"] > 1 else ""
        out.append(
            f"| `{r['label']}` | {r['files'] or ''} | {r['reps']} | {r['wall']:.3f} ({r['wall_min']:.3f}) | "
            f"{r['cpu']:.3f} | {fps_w} | {fps_c} | {r['rss']:.0f} | {r.get('ratio', '')} |"
        )
    out += ["", "| target | measured | met |", "|---|---|---|"]
    for name, measured, ok in t:
        out.append(f"| {name} | {measured} | {'yes' if ok else '**no**'} |")
    out += [
        "",
        f"Imports of the single-file run (`python -X importtime`, self time by top-level package, best of 3): "
        f"{res['import_total'] * 1000:.0f} ms in all.",
        "",
        "| package | ms |",
        "|---|---:|",
    ]
    for name, secs in res["imports"]:
        if secs * 1000 >= 1:
            out.append(f"| {name} | {secs * 1000:.0f} |")
    out += ["", END]
    return "\n".join(out)


def write_doc(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else INTRO
    if START in text and END in text and text.index(START) < text.index(END):
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--changed", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the whole-repo commands")
    ap.add_argument("--single-reps", type=int, default=15, help="repetitions of the single-file commands and the floor")
    ap.add_argument("--keep", action="store_true", help="build (or reuse) the corpus in bench/corpus/")
    ap.add_argument("--no-taskset", action="store_true", help="do not pin to one core")
    ap.add_argument("--no-pycache", action="store_true", help="run with the caller's environment's bytecode settings")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    args = ap.parse_args(argv)

    pin = ["taskset", "-c", "0"] if shutil.which("taskset") and not args.no_taskset else []
    lrlint, yamllint = _script("lrlint"), _script("yamllint")
    if yamllint[0] == sys.executable and subprocess.run(yamllint + ["--version"], capture_output=True).returncode != 0:
        print("yamllint is not installed: pip install yamllint", file=sys.stderr)
        return 2

    global ENV
    pycache = tempfile.TemporaryDirectory(prefix="lrlint-bench-pycache-")
    ENV = child_env(None if args.no_pycache else pycache.name)
    lrcache = tempfile.TemporaryDirectory(prefix="lrlint-bench-cache-")
    ENV["LRLINT_CACHE_DIR"] = lrcache.name  # lrlint's own cache (rules, validated settings): private, warmed up
    settings = Path(tempfile.mkdtemp(prefix="lrlint-bench-settings-")) / "settings.toml"
    settings.write_text(SETTINGS, encoding="utf-8")
    load_before = _loadavg()
    t0 = time.perf_counter()
    repo, manifest, tmp = build_corpus(args)
    print(f"corpus: {repo} ({time.perf_counter() - t0:.1f} s to build)", file=sys.stderr)
    try:
        files = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
        files = [f for f in files if Path(f).suffix in (".yaml", ".yml", ".json")]
        # a changed HF YAML file without the lr change (a finding), else any changed file
        changed = sorted(manifest["changed"], key=lambda c: (c["kind"] != "hf_yaml", c["lr_scaled"], c["path"]))
        one = changed[0]["path"]
        n = len(files)
        whole = [
            Cmd(
                "lrlint check --base HEAD~1 --output-format concise <repo>",
                lrlint + ["check", "--base", "HEAD~1", "--output-format", "concise", str(repo)],
                repo,
                n,
            ),
            Cmd("yamllint -d relaxed <the same files>", yamllint + ["-d", "relaxed", *files], repo, n),
        ]
        single = [
            Cmd("python -c pass", [sys.executable, "-c", "pass"], repo, 0),
            Cmd("lrlint check --base HEAD~1 <one file>", lrlint + ["check", "--base", "HEAD~1", one], repo, 1),
            Cmd(
                "lrlint check --base HEAD~1 --output-format concise <one file>",
                lrlint + ["check", "--base", "HEAD~1", "--output-format", "concise", one],
                repo,
                1,
            ),
            Cmd("yamllint -d relaxed <one file>", yamllint + ["-d", "relaxed", one], repo, 1),
            Cmd(
                "lrlint check --config settings.toml --base HEAD~1 <one file> (a settings table, validated once)",
                lrlint + ["check", "--config", str(settings), "--base", "HEAD~1", one],
                repo,
                1,
            ),
            Cmd(
                "the same with LRLINT_CACHE_DIR= (no cache: pydantic validates every run)",
                lrlint + ["check", "--config", str(settings), "--base", "HEAD~1", one],
                repo,
                1,
                env={"LRLINT_CACHE_DIR": ""},
            ),
        ]
        # warm-up: page cache, .pyc files; also the whole run's findings
        with tempfile.TemporaryFile("w+") as f:
            run_once(Cmd("warm-up", whole[0].argv, repo), pin, stdout=f)
            f.seek(0)
            findings = count_findings(f.read())
        if not findings.get("LR001"):
            raise SystemExit(
                f"the whole-repo run found no LR001 in {repo}: the corpus was not checked as intended "
                f"(an enclosing project's config excluding it?); findings: {findings}"
            )
        for c in whole + single:
            run_once(Cmd("warm-up", c.argv, repo), pin)
        for i in range(max(args.reps, args.single_reps)):
            for c in (whole if i < args.reps else []) + single:
                run_once(c, pin)
            print(f"  repetition {i + 1} done", file=sys.stderr)
        imp_total, imports = import_breakdown(
            ["-c", f"import sys; from lrlint.cli import main; sys.exit(main(['check', '--base', 'HEAD~1', {one!r}]))"],
            repo,
            pin,
        )
    finally:
        load_after = _loadavg()
        if tmp is not None:
            tmp.cleanup()
        pycache.cleanup()
        lrcache.cleanup()
        shutil.rmtree(settings.parent, ignore_errors=True)

    lw, yw = whole
    floor, ls, lsc, ys, lset, lnocache = single
    rows = []
    for c, ratio_to in (
        (lw, yw),
        (yw, None),
        (floor, None),
        (ls, ys),
        (lsc, ys),
        (ys, None),
        (lset, ys),
        (lnocache, ys),
    ):
        r = {
            "label": c.label,
            "files": c.files,
            "reps": len(c.walls),
            "wall": c.wall(),
            "wall_min": min(c.walls),
            "cpu": c.cpu(),
            "rss": c.rss_mb(),
        }
        if ratio_to is not None:
            r["ratio"] = f"{c.wall() / ratio_to.wall():.2f}x"
        rows.append(r)
    fps = lw.files / lw.wall()
    targets = [
        (
            "single file: wall <= yamllint's",
            f"{ls.wall():.3f} s vs {ys.wall():.3f} s ({ls.wall() / ys.wall():.2f}x); "
            f"with a settings table {lset.wall():.3f} s ({lset.wall() / ys.wall():.2f}x)",
            max(ls.wall(), lset.wall()) <= ys.wall(),
        ),
        (
            f"whole repo >= {TARGET_FPS:.0f} files/s on one core",
            f"{fps:.0f} files/s wall, {lw.files / lw.cpu():.0f} files/s CPU",
            fps >= TARGET_FPS,
        ),
        (
            f"peak memory < {TARGET_RSS_MB:.0f} MB",
            f"{max(lw.rss_mb(), ls.rss_mb()):.0f} MB",
            max(lw.rss_mb(), ls.rss_mb()) < TARGET_RSS_MB,
        ),
    ]
    unscaled = sum(1 for c in manifest["changed"] if not c["lr_scaled"])
    res = {
        "rows": rows,
        "targets": targets,
        "seed": manifest["seed"],
        "files": n,
        "kinds": ", ".join(f"{k} {v}" for k, v in manifest["kinds"].items()),
        "changed": f"{len(manifest['changed'])} ({unscaled} without the lr change)",
        "findings": ", ".join(f"{k} {v}" for k, v in findings.items()) + f" (exit {lw.codes[0]})",
        "machine": f"{_cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "pin": "pinned to one core with `taskset -c 0`" if pin else "not pinned (no taskset)",
        "load": f"{load_before} / {load_after}",
        "lrlint": _version(lrlint),
        "yamllint": _version(yamllint),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "bytecode": "cached .pyc files (a private PYTHONPYCACHEPREFIX, warmed up)"
        if not args.no_pycache
        else (
            "as the caller's environment (PYTHONDONTWRITEBYTECODE="
            f"{os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')})"
        ),
        "import_total": imp_total,
        "imports": imports,
    }
    block = markdown(res)
    print(block)
    if not args.no_write:
        write_doc(args.doc, block)
        print(f"written to {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
