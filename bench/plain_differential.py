"""Check that the ``ast`` reader of plain Python configs (``lrlint/sources/py_plain.py``) gives the same
Documents as the libcst walk, file by file, on a tree (the real corpus by default), and time both.

    python bench/plain_differential.py [DIR ...]

For each ``.py`` file that the pre-filter keeps: the libcst walk's Documents, and the plain reader's when
it reads the file (values with their spans, raw text, provenance and reasons; comments). Prints the files
it reads, the files it leaves to the walk, the CPU time of each reader on the files the plain reader
reads, and every difference; exit 1 on a difference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lrlint import bigstack  # noqa: E402
from lrlint.python_rules import python_table  # noqa: E402
from lrlint.sources import Limits, SourceError, decode, py_plain  # noqa: E402
from lrlint.sources import python_source as P  # noqa: E402


def documents(source, plain: bool) -> object:
    try:
        return bigstack.run(lambda: P._parse(source, Limits(), python_table(), plain=plain))
    except SourceError as e:
        return ("error", e.code, str(e), e.line, e.col)


def main(argv: list[str]) -> int:
    dirs = [Path(a) for a in argv] or [ROOT / "bench" / "corpus" / "real-python"]
    files = sorted(p for d in dirs for p in d.rglob("*.py") if p.is_file())
    table = python_table()
    read = left = bad = 0
    t_plain = t_walk = 0.0
    for f in files:
        source = decode(str(f), "python", f.read_bytes())
        if not table.mentions_training_names(source.text):
            continue
        t0 = time.process_time()
        a = documents(source, True)
        t1 = time.process_time()
        b = documents(source, False)
        t2 = time.process_time()
        if py_plain.read(source, None, table, Limits()) is None:
            left += 1
            continue
        read += 1
        t_plain += t1 - t0
        t_walk += t2 - t1
        if a != b:
            bad += 1
            print(f"DIFFERENT: {f}")
            if isinstance(a, list) and isinstance(b, list):
                for da, db in zip(a, b, strict=False):
                    for k in sorted(set(da.values) | set(db.values)):
                        if da.values.get(k) != db.values.get(k):
                            print(f"  {k}:\n    plain {da.values.get(k)}\n    walk  {db.values.get(k)}")
                    if da.comments != db.comments:
                        print(f"  comments: plain {da.comments} walk {db.comments}")
    print(f"{len(files)} files; plain reader: {read}; left to the libcst walk: {left}; different: {bad}")
    if read:
        print(f"CPU on the files the plain reader reads: plain {t_plain:.2f} s, libcst walk {t_walk:.2f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
