"""Run lrlint over real repositories (mirrored locally) and measure it against hand labels.

For each repository of ``manifest.yaml`` (or the ones named with ``--repo``):

1. **HEAD run**: materialise the repository at its pinned commit in a git work tree (a
   ``git clone --shared`` of the local mirror, outside this checkout) and run
   ``lrlint check <config folders> --output-format json`` there, as a user would on a clean
   checkout (the git reference is the work tree itself, so only declared and inheritance
   references can produce findings).
2. **Replays**: take the last N commits (no merges) that change a config file under the
   manifest's folders, and at each commit C run ``lrlint check --base C^ -- <changed config
   files>`` with C checked out, as CI would on that change. A finding is *pre-existing* when the
   same finding (rule, path, message modulo line numbers) is produced at C^ by the same command
   on the files as they were there; lrlint's own ``pre_existing`` flag wins when its JSON has one
   (then ``--show-existing`` is passed when lrlint offers it, so the pre-existing ones are listed).
3. **Figures**: per repository and overall: files, time, findings by rule, pre-existing vs
   caused, precision against ``labels.yaml`` ((true + defensible) / labelled), unlabelled
   findings, commits flagged (exit 1) and flagged by caused findings, and recall on the labelled
   real changes (``misses:`` plus the true lr findings of the replays).

Results go to ``bench/out/realworld/<name>.json`` (raw records) and ``summary.json``;
``--report`` recomputes the figures from those files without running lrlint (after editing
labels), ``--unlabelled`` prints label stubs for findings not labelled yet.

Mirrors are a local cache, never committed: ``<mirrors>/<owner>+<name>/repo`` (a bare git
directory with history), where ``<mirrors>`` is ``--mirrors``, ``$LRLINT_MIRRORS`` or
``/work/.mirror``. Get one with the search tool's ``fetch github:<owner>/<name>``. Nothing is
fetched by this script and no test uses the mirrors.

Usage::

    nice python bench/realworld/run.py [--repo mmpose ...] [--replays N] [--no-head] [--no-replays]
    python bench/realworld/run.py --report
    python bench/realworld/run.py --unlabelled --repo mmpose

The machine is shared: run it niced, one repository at a time (the script never runs two lrlint
processes at once).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import harness  # noqa: E402

MANIFEST = HERE / "manifest.yaml"
LABELS = HERE / "labels.yaml"
OUT = ROOT / "bench" / "out" / "realworld"
SUFFIXES = (".py", ".yaml", ".yml", ".json")  # lrlint's default include


class MirrorMissing(Exception):
    pass


@dataclass
class Repo:
    name: str
    repo: str
    commit: str
    folders: list[str]
    replays: int
    kinds: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # older commits replayed too (known real changes)

    @classmethod
    def from_manifest(cls, item: dict[str, Any], default_replays: int) -> Repo:
        return cls(
            name=str(item["name"]),
            repo=str(item["repo"]),
            commit=str(item["commit"]),
            folders=[str(f) for f in item["folders"]],
            replays=int(item.get("replays", default_replays)),
            kinds=[str(k) for k in item.get("kinds", [])],
            extra=[str(e["commit"]) for e in item.get("extra_replays", [])],
        )


def load_manifest(path: Path = MANIFEST) -> tuple[dict[str, Any], list[Repo]]:
    doc = yaml.safe_load(path.read_text())
    default = int(doc.get("defaults", {}).get("replays", 40))
    return doc, [Repo.from_manifest(item, default) for item in doc["repositories"]]


@dataclass
class Labels:
    findings: list[dict[str, Any]] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    bulk: list[dict[str, Any]] = field(default_factory=list)


def load_labels(path: Path = LABELS) -> Labels:
    if not path.exists():
        return Labels()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(path.read_text(), Loader=loader) or {}  # noqa: S506 (a safe loader)
    return Labels(list(doc.get("findings") or []), list(doc.get("misses") or []), list(doc.get("bulk") or []))


# ---------------------------------------------------------------- git


def git(tree: Path, *args: str, check: bool = True) -> str:
    out = subprocess.run(["git", *args], cwd=tree, capture_output=True, text=True, env=_git_env())
    if check and out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["LC_ALL"] = "C"
    return env


def mirror_of(repo: Repo, mirrors: Path) -> Path:
    owner, name = repo.repo.split("/", 1)
    path = mirrors / f"{owner}+{name}" / "repo"
    how = (
        f"get it with the search tool's fetch (source github:{repo.repo}), which puts it at "
        f"{path}; or point --mirrors / LRLINT_MIRRORS at the folder that holds '{owner}+{name}/repo'"
    )
    if not path.is_dir():
        raise MirrorMissing(f"{repo.name}: no mirror of {repo.repo} at {path}: {how}")
    has = subprocess.run(["git", "cat-file", "-e", f"{repo.commit}^{{commit}}"], cwd=path, capture_output=True)
    if has.returncode != 0:
        raise MirrorMissing(f"{repo.name}: the mirror at {path} lacks the pinned commit {repo.commit}: {how}")
    return path


def materialise(repo: Repo, mirror: Path, work: Path) -> Path:
    """A git work tree of the repository (a shared clone of the mirror), reused across runs."""
    tree = work / repo.name
    if not (tree / ".git").exists():
        if tree.exists():
            shutil.rmtree(tree)
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(tree)],
            check=True,
            env=_git_env(),
        )
    checkout(tree, repo.commit)
    return tree


def checkout(tree: Path, commit: str) -> None:
    """Check ``commit`` out; blobs the mirror lacks (snapshots leave out very large files) are left out
    of the work tree with a sparse checkout instead of failing."""
    try:
        git(tree, "checkout", "--quiet", "--force", "--detach", commit)
    except RuntimeError as exc:
        if "unable to read" not in str(exc) and "invalid object" not in str(exc):
            raise
        missing = missing_blobs(tree, commit)
        git(tree, "config", "core.sparseCheckout", "true")
        info = tree / ".git" / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "sparse-checkout").write_text("/*\n" + "".join(f"!/{_glob_escape(p)}\n" for p in missing))
        git(tree, "checkout", "--quiet", "--force", "--detach", commit)
    git(tree, "clean", "-qffdx")


def missing_blobs(tree: Path, commit: str) -> list[str]:
    """Paths at ``commit`` whose blobs the object store lacks."""
    listing = git(tree, "ls-tree", "-r", "-z", "--full-tree", commit).split("\0")
    paths: dict[str, list[str]] = {}
    for entry in listing:
        if "\t" in entry:
            meta, path = entry.split("\t", 1)
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob":
                paths.setdefault(parts[2], []).append(path)
    check = subprocess.run(
        ["git", "cat-file", "--batch-check"],
        cwd=tree,
        input="\n".join(paths),
        capture_output=True,
        text=True,
        env=_git_env(),
    )
    gone = [line.split()[0] for line in check.stdout.splitlines() if line.endswith(" missing")]
    return sorted(p for sha in gone for p in paths.get(sha, []))


def _glob_escape(path: str) -> str:
    return "".join("\\" + ch if ch in "*?[]!#\\" else ch for ch in path)


def expand_folders(tree: Path, folders: list[str]) -> list[str]:
    """The manifest's folders (globs allowed) that exist in the tree, as relative paths."""
    found: list[str] = []
    for pattern in folders:
        if any(ch in pattern for ch in "*?["):
            found.extend(sorted(p.relative_to(tree).as_posix() for p in tree.glob(pattern) if p.is_dir()))
        elif (tree / pattern).exists():
            found.append(pattern)
    return found


def tracked_config_files(tree: Path, folders: list[str]) -> list[str]:
    if not folders:
        return []
    names = git(tree, "ls-files", "-z", "--", *folders).split("\0")
    return [n for n in names if n and n.lower().endswith(SUFFIXES)]


def config_commits(tree: Path, repo: Repo, limit: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    """The last ``limit`` non-merge commits that add or change a config file under the folders, plus the
    manifest's ``extra_replays``, oldest first; ``only``: just these commits."""
    commits: list[dict[str, Any]] = []
    if only is None:
        specs = [spec for f in repo.folders for spec in (f":(glob){f.rstrip('/')}", f":(glob){f.rstrip('/')}/**")]
        out = git(tree, "rev-list", "--no-merges", f"--max-count={limit * 4}", repo.commit, "--", *specs)
        for sha in out.split():
            item = replay_item(tree, repo, sha)
            if item is not None:
                commits.append(item)
            if len(commits) >= limit:
                break
        wanted = [e for e in repo.extra if not any(c["commit"].startswith(e) for c in commits)]
    else:
        wanted = only
    for sha in wanted:
        item = replay_item(tree, repo, git(tree, "rev-parse", f"{sha}^{{commit}}").strip())
        if item is not None:
            item["extra"] = True
            commits.append(item)
    return sorted(commits, key=lambda c: (c["date"], c["order"]))


def replay_item(tree: Path, repo: Repo, sha: str) -> dict[str, Any] | None:
    """What a replay of ``sha`` needs: its parent and its changed config files (None: root commit or none)."""
    parents = git(tree, "rev-list", "--parents", "-n", "1", sha).split()[1:]
    if not parents:
        return None
    changes = changed_configs(tree, parents[0], sha, repo.folders)
    if not changes:
        return None
    meta = git(tree, "show", "-s", "--format=%cs%x00%s%x00%ct", sha).rstrip("\n").split("\0", 2)
    return {
        "commit": sha,
        "parent": parents[0],
        "date": meta[0],
        "subject": meta[1],
        "order": int(meta[2]),
        "changes": changes,
    }


def changed_configs(tree: Path, parent: str, commit: str, folders: list[str]) -> list[list[str | None]]:
    """``[[new path, old path or None], ...]`` for config files added, changed or renamed (deletions left out)."""
    out = git(tree, "diff-tree", "-r", "-M", "--name-status", "-z", "--no-commit-id", parent, commit)
    items = out.split("\0")
    changes: list[list[str | None]] = []
    i = 0
    while i < len(items) and items[i]:
        status = items[i]
        if status[0] in "RC":
            old, new = items[i + 1], items[i + 2]
            i += 3
        else:
            old = new = items[i + 1]
            i += 2
            if status[0] == "A":
                old = None
        if status[0] == "D":
            continue
        if harness.is_config_path(new, folders, SUFFIXES):
            changes.append([new, old])
    return changes


# ---------------------------------------------------------------- lrlint


@dataclass
class Lrlint:
    command: list[str]
    timeout: float
    show_existing: bool = False

    @classmethod
    def make(cls, spec: str | None, timeout: float) -> Lrlint:
        cmd = shlex.split(spec) if spec else [sys.executable, "-m", "lrlint"]
        probe = subprocess.run([*cmd, "check", "--help"], capture_output=True, text=True, env=_lrlint_env(), timeout=60)
        return cls(cmd, timeout, "--show-existing" in probe.stdout)

    def check(self, cwd: Path, args: list[str], paths: list[str]) -> dict[str, Any]:
        """One ``lrlint check``: rc, wall time, the JSON findings, or an error (timeout, crash, bad JSON)."""
        extra = ["--show-existing"] if self.show_existing and "--base" in args else []
        cmd = [*self.command, "check", "--output-format", "json", *args, *extra, "--", *paths]
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_lrlint_env(),
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"rc": None, "wall_s": round(time.perf_counter() - start, 3), "error": f"timeout {self.timeout}s"}
        wall = round(time.perf_counter() - start, 3)
        res: dict[str, Any] = {"rc": proc.returncode, "wall_s": wall, "findings": []}
        text = out.decode("utf-8", "replace")
        try:
            res["findings"] = json.loads(text) if text.strip() else []
        except json.JSONDecodeError:
            try:  # text after the JSON array (e.g. explanations) is not the report
                res["findings"], _end = json.JSONDecoder().raw_decode(text.lstrip())
                res["note"] = "text after the JSON report"
            except json.JSONDecodeError:
                res["error"] = "not JSON: " + text[:300]
        if proc.returncode not in (0, 1):
            res["error"] = f"exit {proc.returncode}: " + err.decode("utf-8", "replace")[-2000:]
        return res


def _lrlint_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LRLINT_OUTPUT"))}
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


# ---------------------------------------------------------------- one repository


def head_run(repo: Repo, tree: Path, lrlint: Lrlint) -> dict[str, Any]:
    folders = expand_folders(tree, repo.folders)
    files = tracked_config_files(tree, folders)
    res = lrlint.check(tree, [], folders) if folders else {"error": "no config folder in the tree", "findings": []}
    recs = [harness.record(f, repo=repo.name, commit=repo.commit, root=str(tree)) for f in res.pop("findings", [])]
    return {**res, "folders": folders, "files": len(files), "findings": harness.mark_pre_existing(recs, None)}


def replay_commit(
    repo: Repo, tree: Path, lrlint: Lrlint, item: dict[str, Any], cross_check: bool = False
) -> dict[str, Any]:
    sha, parent = item["commit"], item["parent"]
    paths = [new for new, _old in item["changes"]]
    checkout(tree, sha)
    res = lrlint.check(tree, ["--base", parent], paths)
    recs = [harness.record(f, repo=repo.name, commit=sha, root=str(tree)) for f in res.pop("findings", [])]
    out: dict[str, Any] = {**{k: v for k, v in item.items() if k != "changes"}, **res, "files": paths}
    out["renamed"] = {old: new for new, old in item["changes"] if old and old != new}
    parent_recs = None
    if recs and (cross_check or not all(isinstance(r.get("lrlint_pre_existing"), bool) for r in recs)):
        old_paths = [old for _new, old in item["changes"] if old]
        parent_recs = []
        if old_paths:
            checkout(tree, parent)
            pres = lrlint.check(tree, [], old_paths)
            out["parent_wall_s"] = pres.get("wall_s")
            if pres.get("error"):
                out["parent_error"] = pres["error"]
            parent_recs = [
                harness.record(f, repo=repo.name, commit=parent, root=str(tree)) for f in pres.get("findings", [])
            ]
    out["findings"] = harness.mark_pre_existing(recs, parent_recs, out["renamed"])
    out["parent_findings"] = parent_recs  # kept so --report can recompute what is pre-existing
    if cross_check and parent_recs is not None:  # the harness's own judgement beside lrlint's flag
        alone = [{**r, "lrlint_pre_existing": None} for r in recs]
        marked = harness.mark_pre_existing(alone, parent_recs, out["renamed"])
        out["harness_pre_existing"] = [m["pre_existing"] for m in marked]
    return out


def run_repo(repo: Repo, args: argparse.Namespace, lrlint: Lrlint) -> dict[str, Any]:
    result: dict[str, Any] = {"name": repo.name, "repo": repo.repo, "commit": repo.commit, "errors": []}
    try:
        mirror = mirror_of(repo, Path(args.mirrors))
        tree = materialise(repo, mirror, Path(args.work))
    except (MirrorMissing, RuntimeError, subprocess.CalledProcessError) as exc:
        result["errors"].append(str(exc))
        print(f"[{repo.name}] {exc}", file=sys.stderr)
        return result
    if not args.no_head:
        print(f"[{repo.name}] HEAD {repo.commit[:10]}: lrlint over {', '.join(repo.folders)}", file=sys.stderr)
        result["head"] = head_run(repo, tree, lrlint)
        if result["head"].get("error"):
            result["errors"].append("HEAD: " + result["head"]["error"])
    if not args.no_replays:
        n = args.replays if args.replays is not None else repo.replays
        commits = config_commits(tree, repo, n, args.commit)
        result["replays"] = []
        for k, item in enumerate(commits, 1):
            try:
                r = replay_commit(repo, tree, lrlint, item, args.cross_check)
            except Exception as exc:  # one commit never aborts the run
                r = {"commit": item["commit"], "subject": item["subject"], "error": f"{type(exc).__name__}: {exc}"}
            if r.get("error"):
                result["errors"].append(f"{item['commit'][:10]}: {r['error']}")
            result["replays"].append(r)
            print(
                f"[{repo.name}] replay {k}/{len(commits)} {item['commit'][:10]} files={len(item['changes'])} "
                f"findings={len(r.get('findings', []))} {r.get('wall_s', '')}s",
                file=sys.stderr,
            )
        checkout(tree, repo.commit)
    return result


# ---------------------------------------------------------------- figures


def repo_figures(result: dict[str, Any], labels: Labels) -> dict[str, Any]:
    fig: dict[str, Any] = {"name": result["name"], "errors": len(result.get("errors", []))}
    head = result.get("head")
    if head:
        hf = head.get("findings", [])
        counts = harness.verdict_counts(hf, labels.findings, labels.bulk)
        fig["head"] = {
            "files": head.get("files"),
            "wall_s": head.get("wall_s"),
            "findings": len(hf),
            "by_rule": harness.rule_counts(hf),
            "verdicts": counts,
            "precision": harness.precision(counts),
            "verdicts_by_rule": _by_rule(hf, labels),
        }
    reps = result.get("replays")
    if reps is not None:
        for r in reps:
            if "findings" in r:
                r["findings"] = harness.mark_pre_existing(r["findings"], parent_findings(r), r.get("renamed"))
        allf = [f for r in reps for f in r.get("findings", [])]
        caused = [f for f in allf if not f.get("pre_existing")]
        counts_all = harness.verdict_counts(allf, labels.findings, labels.bulk)
        counts_caused = harness.verdict_counts(caused, labels.findings, labels.bulk)
        mine = [m for m in labels.misses if m.get("repo") == result["name"]]
        true_caught = _true_caught(caused, labels)
        fig["replays"] = {
            "commits": len(reps),
            "files": sum(len(r.get("files", [])) for r in reps),
            "wall_s": round(sum((r.get("wall_s") or 0) + (r.get("parent_wall_s") or 0) for r in reps), 2),
            "flagged": sum(1 for r in reps if r.get("rc") == 1),
            "flagged_by_caused": sum(1 for r in reps if _fails_by_caused(r.get("findings", []))),
            "findings": len(allf),
            "pre_existing": len(allf) - len(caused),
            "caused": len(caused),
            "by_rule": harness.rule_counts(allf),
            "caused_by_rule": harness.rule_counts(caused),
            "verdicts": counts_all,
            "precision": harness.precision(counts_all),
            "verdicts_by_rule": _by_rule(allf, labels),
            "verdicts_caused": counts_caused,
            "precision_caused": harness.precision(counts_caused),
            "baseline_disagreements": _disagreements(reps),
            "misses_labelled": len(mine),
            "misses_caught": sum(1 for m in mine if harness.miss_caught(m, caused)),
            "true_changes_caught": true_caught,
        }
    return fig


def _disagreements(reps: list[dict[str, Any]]) -> dict[str, int] | None:
    """With ``--cross-check``: how often lrlint's pre-existing flag and the harness's parent-run judgement
    agree and differ (None when no replay was cross-checked)."""
    out = {"agree": 0, "lrlint_caused_harness_pre": 0, "lrlint_pre_harness_caused": 0}
    checked = False
    for r in reps:
        theirs = r.get("harness_pre_existing")
        if not isinstance(theirs, list):
            continue
        checked = True
        for f, h in zip(r.get("findings", []), theirs, strict=False):
            own = f.get("lrlint_pre_existing")
            if own is None or own == h:
                out["agree"] += 1
            elif h:
                out["lrlint_caused_harness_pre"] += 1
            else:
                out["lrlint_pre_harness_caused"] += 1
    return out if checked else None


def _by_rule(findings: list[dict], labels: Labels) -> dict[str, dict[str, int]]:
    """Verdict counts per rule code."""
    out: dict[str, dict[str, int]] = {}
    for f, v in zip(findings, harness.verdicts(findings, labels.findings, labels.bulk), strict=True):
        row = out.setdefault(f["rule"], {k: 0 for k in (*harness.VERDICTS, "unlabelled")})
        row[v] += 1
    return dict(sorted(out.items()))


def parent_findings(replay: dict[str, Any]) -> list[dict] | None:
    """The findings of the parent run saved with a replay (None: no parent run was needed)."""
    recs = replay.get("parent_findings")
    if recs is None and isinstance(replay.get("parent"), list):  # results of an earlier harness version
        recs = replay["parent"]
    return recs if isinstance(recs, list) else None


def _fails_by_caused(findings: list[dict]) -> bool:
    return any(not f["pre_existing"] and f["severity"] in harness.FAILING for f in findings)


def _true_caught(caused: list[dict], labels: Labels) -> int:
    """Distinct (commit, path) real changes the replays caught: caused lr findings labelled true."""
    lr = [f for f in caused if f["rule"] in harness.LR_RULES]
    found = harness.verdicts(lr, labels.findings, labels.bulk)
    return len({(f["commit"], f["path"]) for f, v in zip(lr, found, strict=True) if v == "true"})


def overall(figs: list[dict[str, Any]]) -> dict[str, Any]:
    tot: dict[str, Any] = {"head": {}, "replays": {}}
    for part in ("head", "replays"):
        rows = [f[part] for f in figs if part in f]
        keys = ("findings", "files", "wall_s", "commits", "flagged", "flagged_by_caused", "pre_existing", "caused")
        keys += ("misses_labelled", "misses_caught", "true_changes_caught")
        for key in keys:
            vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
            if vals:
                tot[part][key] = round(sum(vals), 2)
        for vkey, pkey in (("verdicts", "precision"), ("verdicts_caused", "precision_caused")):
            counts: dict[str, int] = {}
            for r in rows:
                for k, v in (r.get(vkey) or {}).items():
                    counts[k] = counts.get(k, 0) + v
            if counts:
                tot[part][vkey] = counts
                tot[part][pkey] = harness.precision(counts)
        for name in ("by_rule", "caused_by_rule"):
            acc: dict[str, int] = {}
            for r in rows:
                for k, v in (r.get(name) or {}).items():
                    acc[k] = acc.get(k, 0) + v
            if acc or name == "by_rule":
                tot[part][name] = dict(sorted(acc.items()))
        vbr: dict[str, dict[str, int]] = {}
        for r in rows:
            for code, row in (r.get("verdicts_by_rule") or {}).items():
                acc = vbr.setdefault(code, dict.fromkeys(row, 0))
                for k, v in row.items():
                    acc[k] = acc.get(k, 0) + v
        tot[part]["verdicts_by_rule"] = {
            code: {**row, "precision": harness.precision(row)} for code, row in sorted(vbr.items())
        }
    rep = tot["replays"]
    if "misses_labelled" in rep:
        known = rep.get("misses_labelled", 0) + rep.get("true_changes_caught", 0)
        rep["recall"] = (rep.get("true_changes_caught", 0) + rep.get("misses_caught", 0)) / known if known else None
    return tot


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _rules(d: dict[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in d.items()) or "-"


def print_figures(figs: list[dict[str, Any]], tot: dict[str, Any]) -> None:
    print("\nHEAD runs")
    print(f"{'repo':<26}{'files':>6}{'time s':>8}{'found':>7}  {'T/D/F/unl':<14}{'prec':>6}  by rule")
    for f in figs:
        h = f.get("head")
        if not h:
            continue
        v = h["verdicts"]
        tdf = f"{v['true']}/{v['defensible']}/{v['false']}/{v['unlabelled']}"
        print(
            f"{f['name']:<26}{h['files'] or 0:>6}{h['wall_s'] or 0:>8.1f}{h['findings']:>7}  {tdf:<14}"
            f"{_pct(h['precision']):>6}  {_rules(h['by_rule'])}"
        )
    print("\nReplays (lrlint check --base C^ -- <changed config files>)")
    print(
        f"{'repo':<26}{'commits':>8}{'flag':>6}{'flag*':>6}{'found':>7}{'pre':>6}{'caused':>7}"
        f"  {'T/D/F/unl':<14}{'prec':>6}{'prec*':>7}{'miss':>7}  caused by rule"
    )
    for f in figs:
        r = f.get("replays")
        if not r:
            continue
        v = r["verdicts"]
        tdf = f"{v['true']}/{v['defensible']}/{v['false']}/{v['unlabelled']}"
        print(
            f"{f['name']:<26}{r['commits']:>8}{r['flagged']:>6}{r['flagged_by_caused']:>6}{r['findings']:>7}"
            f"{r['pre_existing']:>6}{r['caused']:>7}  {tdf:<14}{_pct(r['precision']):>6}"
            f"{_pct(r['precision_caused']):>7}{r['misses_caught']:>3}/{r['misses_labelled']:<3}"
            f"  {_rules(r['caused_by_rule'])}"
        )
    print("\nflag: commits whose CI run exits 1; flag*: ... because of a caused error/warning; prec*: caused only")
    for line in cross_check_lines(figs):
        print(line)
    print(json.dumps(tot, indent=1))


def cross_check_lines(figs: list[dict[str, Any]]) -> list[str]:
    """One line per repository replayed with ``--cross-check``: lrlint's flag against the harness's judgement."""
    out = []
    for f in figs:
        d = (f.get("replays") or {}).get("baseline_disagreements")
        if d:
            out.append(
                f"{f['name']}: pre-existing per lrlint vs the harness's parent runs: {d['agree']} agree, "
                f"{d['lrlint_caused_harness_pre']} caused per lrlint only, {d['lrlint_pre_harness_caused']} "
                "pre-existing per lrlint only"
            )
    return out


def _tdf(v: dict[str, int]) -> str:
    return f"{v['true']}/{v['defensible']}/{v['false']}"


def print_markdown(figs: list[dict[str, Any]], tot: dict[str, Any]) -> None:
    """The tables of docs/accuracy.md (paste them under a dated heading)."""
    print("| repository | files | time s | findings | T/D/F | precision | by rule |")
    print("|---|---:|---:|---:|---|---:|---|")
    for f in figs:
        h = f.get("head")
        if h:
            print(
                f"| {f['name']} | {h['files']} | {h['wall_s']:.1f} | {h['findings']} | {_tdf(h['verdicts'])} | "
                f"{_pct(h['precision'])} | {_rules(h['by_rule'])} |"
            )
    h = tot["head"]
    print(
        f"| **all** | {h.get('files', 0)} | {h.get('wall_s', 0):.1f} | {h.get('findings', 0)} | "
        f"{_tdf(h.get('verdicts', {'true': 0, 'defensible': 0, 'false': 0}))} | {_pct(h.get('precision'))} | "
        f"{_rules(h.get('by_rule', {}))} |"
    )
    print()
    print(
        "| repository | commits | flagged | flagged by caused | findings | pre-existing | caused | T/D/F | precision "
        "| precision (caused) | misses caught | caused by rule |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|")
    for f in figs:
        r = f.get("replays")
        if r:
            print(
                f"| {f['name']} | {r['commits']} | {r['flagged']} | {r['flagged_by_caused']} | {r['findings']} | "
                f"{r['pre_existing']} | {r['caused']} | {_tdf(r['verdicts'])} | {_pct(r['precision'])} | "
                f"{_pct(r['precision_caused'])} | {r['misses_caught']}/{r['misses_labelled']} | "
                f"{_rules(r['caused_by_rule'])} |"
            )
    r = tot["replays"]
    print(
        f"| **all** | {r.get('commits', 0)} | {r.get('flagged', 0)} | {r.get('flagged_by_caused', 0)} | "
        f"{r.get('findings', 0)} | {r.get('pre_existing', 0)} | {r.get('caused', 0)} | "
        f"{_tdf(r.get('verdicts', {'true': 0, 'defensible': 0, 'false': 0}))} | {_pct(r.get('precision'))} | "
        f"{_pct(r.get('precision_caused'))} | {r.get('misses_caught', 0)}/{r.get('misses_labelled', 0)} | "
        f"{_rules(r.get('caused_by_rule', {}))} |"
    )
    print()
    print("| rule | HEAD T/D/F | HEAD precision | replays T/D/F | replays precision |")
    print("|---|---|---:|---|---:|")
    codes = sorted({*tot["head"].get("verdicts_by_rule", {}), *tot["replays"].get("verdicts_by_rule", {})})
    for code in codes:
        hv = tot["head"].get("verdicts_by_rule", {}).get(code)
        rv = tot["replays"].get("verdicts_by_rule", {}).get(code)
        print(
            f"| {code} | {_tdf(hv) if hv else '-'} | {_pct(hv['precision']) if hv else '-'} | "
            f"{_tdf(rv) if rv else '-'} | {_pct(rv['precision']) if rv else '-'} |"
        )
    known = r.get("true_changes_caught", 0) + r.get("misses_labelled", 0)
    print()
    print(
        f"Recall on the known real changes: {r.get('true_changes_caught', 0) + r.get('misses_caught', 0)}/{known} "
        f"({_pct(r.get('recall'))}); labelled misses caught: {r.get('misses_caught', 0)}/{r.get('misses_labelled', 0)}."
    )
    for line in cross_check_lines(figs):
        print(f"\n{line}.")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", action="append", help="only this repository (manifest name); repeatable")
    ap.add_argument("--replays", type=int, help="commits to replay per repository (default: the manifest's)")
    ap.add_argument(
        "--commit",
        action="append",
        help="replay only this commit (repeatable; with one --repo) and merge it into the saved results",
    )
    ap.add_argument(
        "--cross-check",
        action="store_true",
        help="also run each replay's parent and judge pre-existing findings as the harness does, beside lrlint's "
        "own flag (the figures count where the two disagree)",
    )
    ap.add_argument("--no-head", action="store_true")
    ap.add_argument("--no-replays", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per lrlint run (default 600)")
    ap.add_argument("--mirrors", default=os.environ.get("LRLINT_MIRRORS", "/work/.mirror"))
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lrlint-realworld"))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--lrlint", help="the lrlint command (default: this checkout, python -m lrlint)")
    ap.add_argument("--report", action="store_true", help="recompute the figures from saved results only")
    ap.add_argument("--unlabelled", action="store_true", help="print label stubs for unlabelled findings")
    ap.add_argument("--markdown", action="store_true", help="print the figures as the tables of docs/accuracy.md")
    ap.add_argument("--no-nice", action="store_true")
    args = ap.parse_args(argv)

    _doc, repos = load_manifest()
    if args.repo:
        unknown = set(args.repo) - {r.name for r in repos}
        if unknown:
            ap.error(f"not in the manifest: {', '.join(sorted(unknown))}")
        repos = [r for r in repos if r.name in args.repo]
    labels = load_labels()
    problems = harness.label_problems(labels.findings, labels.misses, labels.bulk)
    for p in problems:
        print(f"labels.yaml: {p}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    results = []
    if args.report or args.unlabelled:
        for repo in repos:
            path = out / f"{repo.name}.json"
            if path.exists():
                results.append(json.loads(path.read_text()))
    else:
        if not args.no_nice:
            os.nice(10)
        lrlint = Lrlint.make(args.lrlint, args.timeout)
        if args.commit:
            if len(repos) != 1:
                ap.error("--commit needs exactly one --repo")
            args.no_head = True
        for repo in repos:  # one repository at a time: the machine is shared
            res = run_repo(repo, args, lrlint)
            if args.commit:
                res = merge_replays(out / f"{repo.name}.json", res)
            (out / f"{repo.name}.json").write_text(json.dumps(res, indent=1))
            results.append(res)
    if args.unlabelled:
        print_unlabelled(results, labels)
        return 0
    figs = [repo_figures(r, labels) for r in results]
    tot = overall(figs)
    if not args.report:
        for r in results:
            for e in r.get("errors", []):
                print(f"[{r['name']}] error: {e}", file=sys.stderr)
    if args.markdown:
        print_markdown(figs, tot)
    else:
        print_figures(figs, tot)
    summary = {"repositories": figs, "overall": tot, "label_problems": problems}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0


def merge_replays(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """The saved results with the replays of ``new`` added or replaced (by commit)."""
    if not path.exists():
        return new
    saved = json.loads(path.read_text())
    fresh = {r["commit"]: r for r in new.get("replays", [])}
    kept = [r for r in saved.get("replays", []) if r["commit"] not in fresh]
    saved["replays"] = sorted([*kept, *fresh.values()], key=lambda r: (r.get("date", ""), r.get("order", 0)))
    saved["errors"] = [*saved.get("errors", []), *new.get("errors", [])]
    return saved


def print_unlabelled(results: list[dict[str, Any]], labels: Labels) -> None:
    for res in results:
        runs = []
        if res.get("head"):
            runs.append(("HEAD", res["head"].get("findings", [])))
        for r in res.get("replays") or []:
            marked = harness.mark_pre_existing(r.get("findings", []), parent_findings(r), r.get("renamed"))
            runs.append((r.get("subject", ""), marked))
        for title, findings in runs:
            for f, verdict in zip(findings, harness.verdicts(findings, labels.findings, labels.bulk), strict=True):
                if verdict != "unlabelled":
                    continue
                pre = " pre-existing" if f.get("pre_existing") else ""
                print(f"# {title[:70]}{pre}\n#   {f['message']}")
                anchor = f["anchor"] or "''"
                print(
                    f"- {{repo: {f['repo']}, commit: {f['commit'][:12]}, path: {f['path']}, line: {f['line']}, "
                    f"rule: {f['rule']}, anchor: {anchor}, verdict: , reason: }}"
                )


if __name__ == "__main__":
    sys.exit(main())
