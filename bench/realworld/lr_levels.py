"""The lr levels the benchmark repositories train at, per optimizer family, with and without a warmup.

The survey behind ``usual_lr`` in rules/optimizers.yaml (LR003's usual range). For each repository of
manifest.yaml at its pinned commit (the mirrors and work trees of run.py), every recipe lrlint reads
from the config folders: its optimizer family, lr, effective batch and whether a warmup is configured.
Recipes that repeat the same numbers (children inheriting a base's) count once per repository.

    nice python bench/realworld/lr_levels.py                 # all repositories
    nice python bench/realworld/lr_levels.py --repo mmpretrain --repo axolotl

Prints, per family: how many recipes train with and without a warmup, their lr quantiles, the recipes
without a warmup above the family's usual range (what LR003 would flag if the level alone decided), and
the raises against a reference by the warmup factor or more (what LR003 looks at).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as rw  # noqa: E402

from lrlint.api import check_paths  # noqa: E402
from lrlint.checks.lr003_missing_warmup import has_warmup  # noqa: E402
from lrlint.profiles import optimizer_table  # noqa: E402
from lrlint.settings import Settings  # noqa: E402

QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def survey(repo: rw.Repo, mirrors: Path, work: Path) -> tuple[list[dict], list[dict]]:
    """(recipes, raises) of one repository at its pinned commit."""
    tree = rw.materialise(repo, rw.mirror_of(repo, mirrors), work)
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        settings = Settings()
        result = check_paths(rw.expand_folders(tree, repo.folders), settings)
    finally:
        os.chdir(cwd)
    recipes: dict[tuple, dict] = {}
    warm: dict[tuple[str, str], bool] = {}
    for path, recs in result.recipes.items():
        for r in recs:
            if r.unknown or not r.lr_value or not r.effective_batch or r.lr_value <= 0 or r.effective_batch <= 0:
                continue
            item = {
                "repo": repo.name,
                "path": path,
                "optimizer": r.optimizer_display,
                "family": r.family,
                "lr": r.lr_value,
                "batch": r.effective_batch,
                "warmup": has_warmup(r),
            }
            warm[(path, r.lr.key)] = item["warmup"]
            recipes.setdefault((r.optimizer_display, r.lr_value, r.effective_batch, item["warmup"]), item)
    raises = []
    factor = settings.thresholds.warmup_factor
    for e in result.explanations:
        ref = e.reference
        if ref is None or not ref.lr or not e.lr or ref.lr <= 0 or e.lr / ref.lr < factor:
            continue
        raises.append(
            {
                "repo": repo.name,
                "path": e.filename,
                "family": e.family,
                "lr": e.lr,
                "ref_lr": ref.lr,
                "warmup": warm.get((e.filename, e.lr_key)),
            }
        )
    return list(recipes.values()), raises


def quantiles(values: list[float]) -> str:
    xs = sorted(values)
    return " ".join(f"{xs[min(len(xs) - 1, int(q * len(xs)))]:.3g}" for q in QUANTILES) if xs else "-"


def report(recipes: list[dict], raises: list[dict]) -> None:
    table = optimizer_table()
    print(f"{len(recipes)} distinct recipes; quantiles {' '.join(f'{q:g}' for q in QUANTILES)}")
    for name, fam in table.families.items():
        mine = [r for r in recipes if r["family"] == name]
        if not mine:
            continue
        print(f"\n{name} (usual_lr {fam.usual_lr})")
        for warm in (False, True):
            rs = [r for r in mine if r["warmup"] == warm]
            over = "" if fam.usual_lr is None else f", {sum(r['lr'] > fam.usual_lr[1] for r in rs)} above the range"
            print(f"  {'with' if warm else 'without'} warmup: {len(rs)}{over}  lr {quantiles([r['lr'] for r in rs])}")
        if fam.usual_lr is None:
            continue
        above = sorted((r for r in mine if not r["warmup"] and r["lr"] > fam.usual_lr[1]), key=lambda r: r["lr"])
        print(f"  without warmup above {fam.usual_lr[1]:g}: {len(above)}")
        for r in above:
            print(f"    {r['lr']:g} {r['optimizer']} batch {r['batch']:g}  {r['repo']} {r['path']}")
    print(f"\nraises by the warmup factor or more against a reference: {len(raises)}")
    for x in raises:
        fam = table.families.get(x["family"])
        top = fam.usual_lr[1] if fam is not None and fam.usual_lr is not None else None
        where = "no range" if top is None else ("above" if x["lr"] > top else "within")
        print(
            f"  {x['ref_lr']:g} -> {x['lr']:g} ({x['family']}, {where}, warmup {x['warmup']})  {x['repo']} {x['path']}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", action="append", help="only this repository (manifest name); repeatable")
    ap.add_argument("--mirrors", default=os.environ.get("LRLINT_MIRRORS", "/work/.mirror"))
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lrlint-lr-levels"))
    args = ap.parse_args()
    _, repos = rw.load_manifest()
    recipes: list[dict] = []
    raises: list[dict] = []
    for repo in repos:
        if args.repo and repo.name not in args.repo:
            continue
        try:
            got, up = survey(repo, Path(args.mirrors), Path(args.work))
        except rw.MirrorMissing as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        recipes.extend(got)
        raises.extend(up)
    report(recipes, raises)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
