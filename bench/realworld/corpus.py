"""Build the real-tree benchmark corpora from the local mirrors into ``bench/corpus/`` (git-ignored).

The corpora are listed under ``corpora:`` in ``manifest.yaml``: for each corpus, the
repositories (by manifest name) and their folders; files are taken at the repository's pinned
commit, read with ``git archive`` from the mirror (``<mirrors>/<owner>+<name>/repo``, see the
manifest), never fetched. Each corpus becomes a git repository with one commit, so lrlint's git
mode works on it as on a real checkout::

    bench/corpus/real-python/<repo name>/<folder>/...   the configs/ folders of mmpretrain, detectron2, mmdetection3d
    bench/corpus/real-yaml/<repo name>/<folder>/...     YAML of detectron2, LLaMA-Factory, axolotl,
                                                        lightning-hydra-template

plus ``bench/corpus/<corpus>.json``: the repositories, commits, folders and file counts.
Files are copied as they are (the corpus is a local cache of public files, never committed).

Usage::

    python bench/realworld/corpus.py [--corpus python|yaml] [--mirrors DIR] [--dest bench/corpus]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
import run  # noqa: E402


def archive_members(mirror: Path, commit: str, folders: list[str], suffixes: tuple[str, ...]) -> tarfile.TarFile:
    """A ``git archive`` of the files under ``folders`` (globs allowed) with ``suffixes`` at ``commit``."""
    names = run.git(mirror, "ls-tree", "-r", "--name-only", "-z", commit).split("\0")
    wanted = [n for n in names if n and harness.is_config_path(n, folders, suffixes)]
    if not wanted:
        raise RuntimeError(f"no file under {folders} at {commit}")
    data = subprocess.run(
        ["git", "archive", "--format=tar", commit, "--", *wanted],
        cwd=mirror,
        capture_output=True,
        check=True,
        env=run._git_env(),
    ).stdout
    return tarfile.open(fileobj=io.BytesIO(data))


def build(corpus: str, spec: dict, repos: dict[str, run.Repo], mirrors: Path, dest: Path) -> dict:
    suffixes = tuple(s.lower() for s in spec["suffixes"])
    out = dest / f"real-{corpus}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    info: dict = {"corpus": corpus, "description": spec.get("description", ""), "sources": [], "files": 0}
    for src in spec["sources"]:
        repo = repos[src["name"]]
        mirror = run.mirror_of(repo, mirrors)
        folders = [str(f) for f in src["folders"]]
        count = 0
        with archive_members(mirror, repo.commit, folders, suffixes) as tar:
            for member in tar.getmembers():
                if not member.isfile() or not member.name.lower().endswith(suffixes):
                    continue
                target = out / repo.name / member.name
                if not target.resolve().is_relative_to(out.resolve()):
                    continue  # a path that would leave the corpus folder
                target.parent.mkdir(parents=True, exist_ok=True)
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                target.write_bytes(fh.read())
                count += 1
        info["sources"].append({"name": repo.name, "repo": repo.repo, "commit": repo.commit, "folders": folders})
        info["sources"][-1]["files"] = count
        info["files"] += count
        print(f"[{corpus}] {repo.name} @ {repo.commit[:10]}: {count} files", file=sys.stderr)
    env = {**run._git_env(), "GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "corpus@example.invalid"}
    env.update(GIT_COMMITTER_NAME="corpus", GIT_COMMITTER_EMAIL="corpus@example.invalid")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", f"real {corpus} corpus"]):
        subprocess.run(["git", *args], cwd=out, check=True, env=env)
    (dest / f"real-{corpus}.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the real-tree benchmark corpora from the mirrors.")
    ap.add_argument("--corpus", action="append", choices=["python", "yaml"], help="default: both")
    ap.add_argument("--mirrors", default=os.environ.get("LRLINT_MIRRORS", "/work/.mirror"))
    ap.add_argument("--dest", default=str(ROOT / "bench" / "corpus"))
    args = ap.parse_args(argv)
    doc, repos = run.load_manifest()
    by_name = {r.name: r for r in repos}
    corpora = doc["corpora"]
    failed = False
    for name in args.corpus or list(corpora):
        try:
            info = build(name, corpora[name], by_name, Path(args.mirrors), Path(args.dest))
            print(f"real-{name}: {info['files']} files in {Path(args.dest) / ('real-' + name)}")
        except (run.MirrorMissing, RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"real-{name}: not built: {exc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
