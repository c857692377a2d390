"""Check that a change keeps lrlint's output byte for byte: run ``lrlint check`` from two source trees on
the real corpora (``bench/realworld/corpus.py`` builds them) and compare stdout and stderr.

    python bench/same_output.py --before /work/main [--after .] [--jobs 1 --jobs 2] [--fix]

Each run is ``python -m lrlint check --isolated --output-format json --explain <corpus>`` with
``PYTHONPATH`` set to the tree (``--fix``: on a copy of the corpus, then the diff of the copy is compared
too). Exit 1 on the first difference, naming the corpus and the mode.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "bench" / "corpus"


def run(tree: Path, corpus: Path, extra: list[str], fix: bool) -> tuple[bytes, bytes, bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1"}
    env.pop("LRLINT_OUTPUT_FORMAT", None)
    work = corpus
    tmp = None
    if fix:  # the same path for every run: the reports name files by absolute path
        tmp = Path(tempfile.gettempdir()) / "lrlint-same-output"
        shutil.rmtree(tmp, ignore_errors=True)
        work = tmp / corpus.name
        shutil.copytree(corpus, work, symlinks=True)
    try:
        cmd = [sys.executable, "-m", "lrlint", "check", "--isolated", "--output-format", "json", "--explain"]
        p = subprocess.run([*cmd, *extra, *(["--fix"] if fix else []), "."], cwd=work, env=env, capture_output=True)
        diff = subprocess.run(["git", "diff"], cwd=work, capture_output=True).stdout if fix else b""
        return p.stdout, p.stderr, diff
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="source tree of the reference (e.g. /work/main)")
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--jobs", action="append", default=None, help="--jobs values to run the after tree with")
    ap.add_argument("--fix", action="store_true", help="also compare --fix runs (output and diff)")
    ap.add_argument("--corpus", action="append", default=None, help="corpus folder names (default: real-*)")
    a = ap.parse_args()
    corpora = [CORPORA / c for c in a.corpus] if a.corpus else sorted(p for p in CORPORA.glob("real-*") if p.is_dir())
    if not corpora:
        print("no corpus: run python bench/realworld/corpus.py first", file=sys.stderr)
        return 2
    failed = False
    for corpus in corpora:
        for fix in (False, True) if a.fix else (False,):
            ref = run(a.before, corpus, [], fix)
            for jobs in a.jobs or [None]:
                extra = ["--jobs", jobs] if jobs else []
                got = run(a.after, corpus, extra, fix)
                mode = f"{corpus.name} {'--fix ' if fix else ''}{' '.join(extra)}".strip()
                same = [x == y for x, y in zip(ref, got, strict=True)]
                print(f"{mode}: {'same' if all(same) else 'DIFFERENT (stdout, stderr, diff: ' + str(same) + ')'}")
                failed |= not all(same)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
