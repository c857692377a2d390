"""Real-tree benchmark: lrlint against its peers on the real corpora, in one run, with alternating pairs.

The corpora come from ``bench/realworld/corpus.py`` (the configs/ folders of mmpretrain, detectron2 and
mmdetection3d: Python; YAML of detectron2, LLaMA-Factory, axolotl, lightning-hydra-template; the
repositories and commits are listed in ``bench/realworld/manifest.yaml`` and ``bench/corpus/real-*.json``).
Every command is a fresh process; each pair (lrlint, peer) runs back to back, the order alternating from
one repetition to the next, so a busy machine slows both alike; wall time, CPU time (user + sys, the
process and the children it waited for) and peak RSS (of the process or its largest child) come from
``os.wait4``.

Rows:

* Python tree: ``lrlint check`` (default jobs) vs a bare ``libcst.parse_module`` loop over the same files,
  vs TorchFix on copies with a ``# torch`` line appended (TorchFix skips files without the word), vs
  ``fixit lint``, vs ``ruff check``; ``lrlint check --jobs 1``; ``lrlint check --fix`` on a fresh copy,
  paired with the check (default jobs, and ``--jobs 1``);
* YAML tree: ``lrlint check`` vs ``yamllint -d relaxed``;
* one real YAML config (the corpus file nearest 50 lines) vs yamllint, one Python config vs yamllint's
  time on the YAML file, and ``python -c pass``; lrlint as pre-commit runs it (the ``lrlint`` console script
  beside the interpreter, with the hook's ``check --force-exclude``), and ``python -m lrlint check`` on the
  YAML file for comparison;
* scaling: trees of 1,000 / 3,000 / 10,000 files made of copies of both corpora (default jobs; peak RSS).

    python bench/realworld/corpus.py            # once: builds bench/corpus/real-python, real-yaml
    python bench/bench_realtree.py [--reps 3] [--slow-reps 1] [--single-reps 15] [--fix-reps 7] [--no-write]

Results go to the bench_realtree block of ``docs/performance.md`` (unless ``--no-write``).
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
CORPUS = ROOT / "bench" / "corpus"
START, END = "<!-- bench_realtree:start -->", "<!-- bench_realtree:end -->"
FLOOR = (
    "import sys, libcst\n"
    "for p in open(sys.argv[1]).read().split('\\n'):\n"
    "    libcst.parse_module(open(p, encoding='utf-8').read())\n"
)


def tool(name: str) -> list[str]:
    beside = Path(sys.executable).parent / name
    return [str(beside)] if beside.exists() else [shutil.which(name) or name]


ENV = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
ENV.pop("LRLINT_OUTPUT_FORMAT", None)
ENV.pop("LRLINT_JOBS", None)
# byte-compiled as an installed package is: .pyc files in a private cache, written by a warm-up run
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="lrlint-realtree-pyc-")


def once(argv: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, exit code) of one fresh process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


class Row:
    def __init__(self, label: str, argv: list[str], cwd: Path, files: int, prepare=None):
        self.label, self.argv, self.cwd, self.files, self.prepare = label, argv, cwd, files, prepare
        self.runs: list[tuple[float, float, float, int]] = []

    def run(self) -> None:
        if self.prepare:
            self.prepare()
        self.runs.append(once(self.argv, self.cwd))

    def med(self, i: int) -> float:
        return statistics.median(r[i] for r in self.runs)


def pairs(a: Row, b: Row, reps: int) -> list[float]:
    """Alternating pairs; the ratio b/a of each pair's wall times."""
    ratios = []
    for i in range(reps):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        first.run()
        second.run()
        ratios.append(b.runs[-1][0] / a.runs[-1][0])
    return ratios


def files_of(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes and ".git" not in p.parts)


def scaled_tree(dest: Path, n: int) -> Path:
    """About ``n`` files: copies of both corpora (each copy a folder of its own), cut to ``n``."""
    out = dest / f"tree-{n}"
    if out.exists():
        return out
    srcs = files_of(CORPUS / "real-python", (".py",)) + files_of(CORPUS / "real-yaml", (".yaml", ".yml"))
    i = 0
    while i < n:
        copy = i // len(srcs)
        src = srcs[i % len(srcs)]
        rel = src.relative_to(CORPUS)
        dst = out / f"copy{copy}" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        i += 1
    return out


def nearest_lines(files: list[Path], lines: int) -> Path:
    return min(files, key=lambda p: (abs(len(p.read_text(encoding="utf-8", errors="replace").splitlines()) - lines), p))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--slow-reps", type=int, default=1, help="pairs with TorchFix and Fixit")
    ap.add_argument("--single-reps", type=int, default=15)
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--fix-reps", type=int, default=7, help="pairs of --fix and the check")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    py_root, yaml_root = CORPUS / "real-python", CORPUS / "real-yaml"
    if not py_root.is_dir() or not yaml_root.is_dir():
        print("run python bench/realworld/corpus.py first", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="lrlint-realtree-"))
    load_before = os.getloadavg()
    try:
        lr = [sys.executable, "-m", "lrlint", "check", "--isolated", "--output-format", "concise", "-q"]
        py_files = files_of(py_root, (".py",))
        yaml_files = files_of(yaml_root, (".yaml", ".yml"))
        listing = tmp / "py.txt"
        listing.write_text("\n".join(str(p) for p in py_files))
        torch_copy = tmp / "torch"
        shutil.copytree(py_root, torch_copy, ignore=shutil.ignore_patterns(".git"))
        for p in files_of(torch_copy, (".py",)):
            with open(p, "a", encoding="utf-8") as fh:
                fh.write("\n# torch\n")
        fix_copy = tmp / "fix"

        def fresh_fix_copy() -> None:
            shutil.rmtree(fix_copy, ignore_errors=True)
            shutil.copytree(py_root, fix_copy, symlinks=True)
            # the copy on disk before the run, as a tree written earlier is: --fix's disk syncs of the files
            # it writes would otherwise also write out the whole copy (ext4 commits its journal whole)
            os.sync()

        n_py, n_yaml = len(py_files), len(yaml_files)
        once([*lr, "."], yaml_root)  # warm-up: the .pyc files of lrlint and its imports
        lrl_py = Row("lrlint check (default jobs)", [*lr, "."], py_root, n_py)
        table: list[tuple[str, Row, Row, list[float]]] = []
        for peer, reps in (
            (Row("libcst.parse_module loop", [sys.executable, "-c", FLOOR, str(listing)], py_root, n_py), a.reps),
            (
                Row(
                    "ruff check --no-cache",
                    [*tool("ruff"), "check", "--no-cache", "--isolated", "-q", "."],
                    py_root,
                    n_py,
                ),
                a.reps,
            ),
            (Row("torchfix (every file: `# torch` appended)", [*tool("torchfix"), "."], torch_copy, n_py), a.slow_reps),
            (Row("fixit lint", [*tool("fixit"), "lint", "."], py_root, n_py), a.slow_reps),
        ):
            table.append(("python", lrl_py, peer, pairs(lrl_py, peer, reps)))
        serial = Row("lrlint check --jobs 1", [*lr, "--jobs", "1", "."], py_root, n_py)
        fix = Row("lrlint check --fix (a fresh copy each run)", [*lr, "--fix", "."], fix_copy, n_py, fresh_fix_copy)
        fix1 = Row(
            "lrlint check --fix --jobs 1 (a fresh copy each run)",
            [*lr, "--fix", "--jobs", "1", "."],
            fix_copy,
            n_py,
            fresh_fix_copy,
        )
        # --fix against the check in back-to-back pairs, alternating order: the machine's speed drifts
        check_p = Row("lrlint check (default jobs)", [*lr, "."], py_root, n_py)
        fix_pairs = (pairs(check_p, fix, a.fix_reps), pairs(serial, fix1, a.fix_reps))
        lrl_yaml = Row("lrlint check (default jobs)", [*lr, "."], yaml_root, n_yaml)
        yl = Row("yamllint -d relaxed", [*tool("yamllint"), "-d", "relaxed", *map(str, yaml_files)], yaml_root, n_yaml)
        table.append(("yaml", lrl_yaml, yl, pairs(lrl_yaml, yl, a.reps)))
        one_yaml = nearest_lines(yaml_files, 50)
        one_py = nearest_lines(py_files, 50)
        # what pre-commit runs: the console script with the hook's entry (.pre-commit-hooks.yaml)
        single_lr = [*tool("lrlint"), "check", "--force-exclude"]
        s_yaml = Row(
            f"lrlint check --force-exclude {one_yaml.relative_to(CORPUS)}", [*single_lr, str(one_yaml)], yaml_root, 1
        )
        s_yaml_m = Row("python -m lrlint check (same file)", [*lr[:4], str(one_yaml)], yaml_root, 1)
        s_yl = Row("yamllint -d relaxed (same file)", [*tool("yamllint"), "-d", "relaxed", str(one_yaml)], yaml_root, 1)
        s_py = Row(f"lrlint check --force-exclude {one_py.relative_to(CORPUS)}", [*single_lr, str(one_py)], py_root, 1)
        floor = Row("python -c pass", [sys.executable, "-c", "pass"], yaml_root, 1)
        for r in (s_yaml, s_yl, s_yaml_m, s_py, floor):  # warm-up: the .pyc files
            once(r.argv, r.cwd)
        single_pairs = pairs(s_yaml, s_yl, a.single_reps)
        py_vs_yl = []
        for _ in range(a.single_reps):
            s_py.run()
            s_yaml_m.run()
            floor.run()
            py_vs_yl.append(s_py.runs[-1][0])
        scaling = []
        for n in (int(x) for x in a.sizes.split(",") if x):
            tree = scaled_tree(tmp, n)
            row = Row(f"lrlint check, {n} files", [*lr, "."], tree, n)
            row.run()
            scaling.append(row)
    finally:
        load_after = os.getloadavg()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ENV["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    text = report(
        table,
        serial,
        (fix, fix1, check_p, fix_pairs),
        lrl_py,
        (s_yaml, s_yl, s_yaml_m, s_py, floor, single_pairs),
        scaling,
        a,
        load_before,
        load_after,
    )
    print(text)
    if not a.no_write:
        doc = ROOT / "docs" / "performance.md"
        body = doc.read_text(encoding="utf-8")
        block = f"{START}\n\n{text.rstrip()}\n\n{END}"
        if START in body:
            body = body[: body.index(START)] + block + body[body.index(END) + len(END) :]
        else:
            body = body.rstrip() + "\n\n" + block + "\n"
        doc.write_text(body, encoding="utf-8")
        print(f"written to {doc}", file=sys.stderr)
    return 0


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run([*argv, "--version"], capture_output=True, text=True, env=ENV, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception:  # noqa: BLE001 - a version is only shown
        return "?"


def report(table, serial, fix, lrl_py, single, scaling, a, load_before, load_after) -> str:
    s_yaml, s_yl, s_yaml_m, s_py, floor, single_pairs = single
    fix, fix1, check_p, (fix_ratios, fix1_ratios) = fix
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    names = (
        [ln.split(":", 1)[1].strip() for ln in info.read_text().splitlines() if ln.startswith("model name")]
        if info.exists()
        else []
    )
    cpu = names[0] if names else cpu
    lines = [
        "## Real trees (bench/bench_realtree.py)",
        "",
        f"Machine: {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}; load "
        f"average before / after: {' '.join(f'{x:.2f}' for x in load_before)} / "
        f"{' '.join(f'{x:.2f}' for x in load_after)}. {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Peers: {version(tool('ruff'))}; {version(tool('yamllint'))}; fixit {version(tool('fixit'))}; "
        f"torchfix {version(tool('torchfix'))}.",
        "",
        f"Command: `python bench/bench_realtree.py --reps {a.reps} --slow-reps {a.slow_reps} --single-reps "
        f"{a.single_reps} --fix-reps {a.fix_reps}`. Medians; each pair runs back to back, alternating order; "
        "ratio = the peer's wall time over lrlint's in the same pair (median of the pairs); `--fix` is paired "
        f"the same way with the check ({a.fix_reps} pairs for each --jobs setting; --fix / check CPU: "
        f"{fix.med(1) / check_p.med(1):.2f}x, --jobs 1: {fix1.med(1) / serial.med(1):.2f}x; each `--fix` run on a "
        "fresh copy of the tree, written to disk before it starts). CPU = user + sys of the process and its "
        "workers.",
        "",
        "| tree | command | files | wall s | CPU s | files/s (wall) | peak RSS MB | peer / lrlint (wall) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(tree: str, r, ratio: str = "") -> str:
        return (
            f"| {tree} | {r.label} | {r.files} | {r.med(0):.2f} | {r.med(1):.2f} | {r.files / r.med(0):.0f} | "
            f"{max(x[2] for x in r.runs):.0f} | {ratio} |"
        )

    shown = set()
    for tree, lrl, peer, ratios in table:
        if not ratios:
            continue
        if id(lrl) not in shown:
            shown.add(id(lrl))
            lines.append(row(tree, lrl))
        lines.append(row(tree, peer, f"{statistics.median(ratios):.2f}x"))
    lines.append(row("python", serial))
    lines.append(row("python", fix, f"(--fix / check: {statistics.median(fix_ratios):.2f}x)"))
    lines.append(row("python", fix1, f"(--fix / check, --jobs 1: {statistics.median(fix1_ratios):.2f}x)"))
    lines += [
        "",
        "One file (pre-commit's case: the `lrlint` console script with the hook's entry; the package byte-compiled:",
        ".pyc files written by an earlier run):",
        "",
        "| command | wall s (median) | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for r in (s_yaml, s_yl, s_yaml_m, s_py, floor):
        lines.append(f"| `{r.label}` | {r.med(0):.3f} | {r.med(1):.3f} | {max(x[2] for x in r.runs):.0f} |")
    lines += [
        "",
        f"YAML file: yamllint / lrlint = {statistics.median(single_pairs):.2f}x (median of {len(single_pairs)} "
        f"pairs; above 1: lrlint is faster); Python file: {s_py.med(0) / s_yl.med(0):.2f}x yamllint's time on "
        "the YAML file.",
        "",
        "Scaling (copies of both corpora, default jobs, one run each):",
        "",
        "| files | wall s | CPU s | ms CPU per file | peak RSS MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in scaling:
        lines.append(
            f"| {r.files} | {r.med(0):.2f} | {r.med(1):.2f} | {1000 * r.med(1) / r.files:.2f} | "
            f"{max(x[2] for x in r.runs):.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
