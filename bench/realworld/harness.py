"""The pure parts of the real-repository harness: finding records, pre-existing findings, label matching, figures.

Nothing here runs git or lrlint; ``run.py`` does, and feeds lrlint's JSON (a list of ruff-shaped
findings with lrlint's ``data``) through these functions. ``tests/test_realworld_harness.py``
checks them on synthetic JSON.

A finding record is a plain dict::

    {"repo": "mmpose", "commit": "<40 hex>", "path": "configs/a/b.py", "line": 12, "rule": "LR001",
     "anchor": "optim_wrapper.optimizer.lr", "message": "...", "severity": "error",
     "lrlint_pre_existing": None}   # lrlint's own flag when its JSON has one

:func:`mark_pre_existing` adds ``pre_existing`` and ``pre_existing_source`` ("lrlint" or "harness").

``anchor`` is the key path of the flagged value as lrlint's JSON gives it (``data.lr_key`` for lr
findings, ``data.key`` for batch and schedule keys, ``data.tag`` for a file-name tag), so a label
survives a line move and a rewording of the message.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any

VERDICTS = ("true", "defensible", "false")
FAILING = ("error", "warning")  # severities that make ``lrlint check`` exit 1
LR_RULES = ("LR001", "LR002")  # what counts as catching an unscaled change


def anchor_of(raw: Mapping[str, Any]) -> str:
    """The key path of the flagged value, independent of the message wording ('' when the JSON has none)."""
    data = raw.get("data") or {}
    if not isinstance(data, Mapping):
        return ""
    for name in ("lr_key", "key", "tag", "target", "base"):
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def relative_path(filename: str, root: str) -> str:
    """``filename`` relative to the tree root ``root`` (POSIX form); unchanged when outside it."""
    name = filename.replace("\\", "/")
    top = root.replace("\\", "/").rstrip("/") + "/"
    if name.startswith(top):
        return name[len(top) :]
    return name[2:] if name.startswith("./") else name


def lrlint_pre_existing(raw: Mapping[str, Any]) -> bool | None:
    """lrlint's own ``pre_existing`` flag (top level or in ``data``), None when lrlint does not report one."""
    for holder in (raw, raw.get("data") or {}):
        if isinstance(holder, Mapping) and isinstance(holder.get("pre_existing"), bool):
            return holder["pre_existing"]
    return None


def record(raw: Mapping[str, Any], *, repo: str, commit: str, root: str) -> dict[str, Any]:
    """One lrlint JSON finding as a harness record (see the module docstring)."""
    loc = raw.get("location") or {}
    return {
        "repo": repo,
        "commit": commit,
        "path": relative_path(str(raw.get("filename", "")), root),
        "line": int(loc.get("row") or 0),
        "rule": str(raw.get("code", "")),
        "anchor": anchor_of(raw),
        "message": str(raw.get("message", "")),
        "severity": str(raw.get("severity", "")),
        "lrlint_pre_existing": lrlint_pre_existing(raw),
        "ref": reference_of(raw),
    }


def reference_of(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference that decided the finding and the numbers it gave (None when the JSON has none)."""
    data = raw.get("data") or {}
    ref = data.get("reference") if isinstance(data, Mapping) else None
    if not isinstance(ref, Mapping):
        return None
    out = {"kind": str(ref.get("kind", "")), "label": str(ref.get("label", ""))}
    for name in ("batch_old", "batch_new", "lr_new", "old"):
        if isinstance(data.get(name), (int, float)):
            out[name] = data[name]
    return out


_LINE_REFS = (
    re.compile(r"\blines? \d+(?:\s*[-,]\s*\d+)*"),  # "line 12", "lines 3-5"
    re.compile(r"(?<=\w)(?::\d+){1,2}\b"),  # "a.py:12", "a.py:12:3"
)
# what only a run with a git change says: the git reference beside a declared one that won, and the
# devices assumption made for the comparison with git
_GIT_ONLY = (
    re.compile(r";? ?git [0-9a-f]{7,40}(?: \(merge base [0-9a-f]+\))? had [^;\]]*(?:; the declared reference wins)?"),
    re.compile(r";? ?devices not in the file: assumed unchanged"),
)


def normalize_message(message: str, renames: Mapping[str, str] | None = None) -> str:
    """The message without line numbers, with old paths written as their new paths (``renames``: old -> new)."""
    text = message
    for old, new in sorted((renames or {}).items(), key=lambda kv: -len(kv[0])):
        if old != new:
            text = text.replace(old, new)
    for pattern in (*_GIT_ONLY, *_LINE_REFS):
        text = pattern.sub("", text)
    return " ".join(text.split())


def finding_identity(rec: Mapping[str, Any], renames: Mapping[str, str] | None = None) -> tuple:
    """What makes two findings the same across two revisions.

    Rule, path (as renamed), the flagged key, and: the reference that decided it with its numbers
    when the JSON gives one (a finding decided by the same declared or inherited reference with the
    same batches and lr is the same finding, whatever else the message says about git), else the
    message modulo line numbers and git-only clauses.
    """
    path = str(rec["path"])
    if renames:
        path = renames.get(path, path)
    ref = rec.get("ref")
    if isinstance(ref, Mapping) and ref.get("kind"):
        label = normalize_message(str(ref.get("label", "")), renames)
        nums = tuple(sorted((k, float(v)) for k, v in ref.items() if k not in ("kind", "label")))
        return (str(rec["rule"]), path, str(rec.get("anchor") or ""), str(ref["kind"]), label, nums)
    return (str(rec["rule"]), path, str(rec.get("anchor") or ""), normalize_message(str(rec["message"]), renames))


def mark_pre_existing(
    current: Sequence[dict[str, Any]],
    parent: Sequence[Mapping[str, Any]] | None,
    renames: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Set ``pre_existing`` on each current finding; ``renames`` maps paths at the parent to paths now.

    lrlint's own flag wins where the JSON carries one. Otherwise a finding is pre-existing when the
    parent run produced the same finding (:func:`finding_identity`); each parent finding is used
    once, so two identical findings now against one before count one as caused. ``parent`` None:
    no parent run was made (nothing to compare), every finding without lrlint's flag is caused.
    """
    before: Counter[tuple[str, str, str]] = Counter()
    for rec in parent or ():
        before[finding_identity(rec, renames)] += 1
    out = []
    for rec in current:
        rec = dict(rec)
        own = rec.get("lrlint_pre_existing")
        if isinstance(own, bool):
            rec["pre_existing"], rec["pre_existing_source"] = own, "lrlint"
        else:
            key = finding_identity(rec)
            rec["pre_existing"], rec["pre_existing_source"] = before[key] > 0, "harness"
            if before[key] > 0:
                before[key] -= 1
        out.append(rec)
    return out


def label_key(item: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    """The stable part of a label or a finding: repo, commit, path, rule, anchor (the line is matched loosely)."""
    return (
        str(item["repo"]),
        str(item["commit"]),
        str(item["path"]),
        str(item["rule"]),
        str(item.get("anchor") or ""),
    )


def commit_matches(label_commit: str, commit: str) -> bool:
    """A label may abbreviate the commit (at least 7 hex digits)."""
    return len(label_commit) >= 7 and commit.startswith(label_commit)


def match_labels(
    findings: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int | None]]:
    """Pair each finding with at most one label: same key (commit prefixes allowed), nearest line first.

    Returns ``(finding index, label index or None)`` for every finding, in finding order. Each
    label is used once, so two findings of the same key (two recipes of a file) need two labels.
    A pre-existing finding left without a label of its own commit takes the verdict of the same
    finding (repo, path, rule, anchor; nearest line) labelled at another commit: it is the finding
    its parent already had.
    """
    pairs = _match_same_commit(findings, labels)
    by_key: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for j, lab in enumerate(labels):
        repo, _commit, path, rule, anchor = label_key(lab)
        by_key[(repo, path, rule, anchor)].append(j)
    out = []
    for i, j in pairs:
        f = findings[i]
        if j is None and f.get("pre_existing"):
            repo, _commit, path, rule, anchor = label_key(f)
            cands = by_key.get((repo, path, rule, anchor), [])
            if cands:
                j = min(cands, key=lambda c: abs(int(f["line"]) - int(labels[c].get("line") or 0)))
        out.append((i, j))
    return out


def _match_same_commit(
    findings: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int | None]]:
    by_key: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for j, lab in enumerate(labels):
        repo, _commit, path, rule, anchor = label_key(lab)
        by_key[(repo, path, rule, anchor)].append(j)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        groups[label_key(f)].append(i)
    result: dict[int, int | None] = {}
    for key, idxs in groups.items():
        repo, commit, path, rule, anchor = key
        cands = [
            j for j in by_key.get((repo, path, rule, anchor), []) if commit_matches(str(labels[j]["commit"]), commit)
        ]
        pairs = sorted(
            (abs(int(findings[i]["line"]) - int(labels[j].get("line") or 0)), i, j) for i in idxs for j in cands
        )
        used_f: set[int] = set()
        used_l: set[int] = set()
        for _dist, i, j in pairs:
            if i in used_f or j in used_l:
                continue
            result[i] = j
            used_f.add(i)
            used_l.add(j)
        for i in idxs:
            result.setdefault(i, None)
    return [(i, result.get(i)) for i in range(len(findings))]


def bulk_match(finding: Mapping[str, Any], bulk: Sequence[Mapping[str, Any]]) -> int | None:
    """The first bulk label that covers ``finding``: repo, rule, commit prefix, a path glob and a message regex.

    Bulk labels judge a fact repeated over many findings of one commit (one folder move breaking
    hundreds of ``_base_`` links, one parser bug hit by every file) in one entry.
    """
    for j, b in enumerate(bulk):
        if b.get("repo") != finding["repo"] or b.get("rule") != finding["rule"]:
            continue
        if b.get("commit") and not commit_matches(str(b["commit"]), str(finding["commit"])):
            continue
        if b.get("path") and not fnmatchcase(str(finding["path"]), str(b["path"])):
            continue
        if b.get("message") and not re.search(str(b["message"]), str(finding["message"])):
            continue
        return j
    return None


def verdicts(
    findings: Sequence[Mapping[str, Any]],
    labels: Sequence[Mapping[str, Any]],
    bulk: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """The verdict of each finding ('unlabelled' when neither a label nor a bulk label covers it)."""
    out = []
    for i, j in match_labels(findings, labels):
        if j is not None:
            verdict = str(labels[j].get("verdict"))
        else:
            b = bulk_match(findings[i], bulk)
            verdict = str(bulk[b].get("verdict")) if b is not None else "unlabelled"
        out.append(verdict if verdict in VERDICTS else "unlabelled")
    return out


def verdict_counts(
    findings: Sequence[Mapping[str, Any]],
    labels: Sequence[Mapping[str, Any]],
    bulk: Sequence[Mapping[str, Any]] = (),
) -> dict[str, int]:
    """Counts of true / defensible / false / unlabelled among ``findings``."""
    counts = {v: 0 for v in VERDICTS}
    counts["unlabelled"] = 0
    for verdict in verdicts(findings, labels, bulk):
        counts[verdict] += 1
    return counts


def precision(counts: Mapping[str, int]) -> float | None:
    """(true + defensible) / labelled; None when nothing is labelled."""
    labelled = sum(counts.get(v, 0) for v in VERDICTS)
    if not labelled:
        return None
    return (counts.get("true", 0) + counts.get("defensible", 0)) / labelled


def miss_caught(miss: Mapping[str, Any], findings: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a replay reported a caused lr finding for a labelled real change (its commit, its path)."""
    rules = tuple(miss.get("rules") or LR_RULES)
    paths = {str(miss["path"]), *(str(p) for p in miss.get("also_paths") or ())}
    for f in findings:
        if f.get("pre_existing"):
            continue
        if f["rule"] in rules and f["path"] in paths and commit_matches(str(miss["commit"]), str(f["commit"])):
            return True
    return False


def rule_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(str(f["rule"]) for f in findings).items()))


def label_problems(
    labels: Sequence[Mapping[str, Any]],
    misses: Sequence[Mapping[str, Any]],
    bulk: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """What is wrong with labels.yaml: missing fields, unknown verdicts, duplicate keys at the same line."""
    problems = []
    for n, b in enumerate(bulk):
        for name in ("repo", "rule", "verdict", "reason"):
            if not b.get(name):
                problems.append(f"bulk[{n}]: no {name}")
        if b.get("verdict") not in VERDICTS:
            problems.append(f"bulk[{n}]: verdict {b.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
    seen: set[tuple] = set()
    for n, lab in enumerate(labels):
        for name in ("repo", "commit", "path", "line", "rule", "verdict", "reason"):
            if name not in lab or lab[name] in (None, ""):
                problems.append(f"findings[{n}]: no {name}")
        if lab.get("verdict") not in VERDICTS:
            problems.append(f"findings[{n}]: verdict {lab.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
        key = (*label_key(lab), lab.get("line")) if all(k in lab for k in ("repo", "commit", "path", "rule")) else None
        if key in seen:
            problems.append(f"findings[{n}]: duplicate of an earlier label {key}")
        seen.add(key)
    for n, miss in enumerate(misses):
        for name in ("repo", "commit", "path", "kind", "change", "why"):
            if not miss.get(name):
                problems.append(f"misses[{n}]: no {name}")
    return problems


def is_config_path(path: str, folders: Sequence[str], suffixes: Sequence[str]) -> bool:
    """Whether ``path`` lies in one of ``folders`` ('.' = anywhere) and ends with one of ``suffixes``."""
    p = PurePosixPath(path)
    if p.suffix.lower() not in suffixes:
        return False
    for folder in folders:
        f = folder.strip("/")
        if f in ("", ".") or fnmatchcase(path, f) or fnmatchcase(path, f + "/*"):
            return True
    return False
