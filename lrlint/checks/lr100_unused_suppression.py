"""LR100 unused-suppression: a ``# lrlint: ignore`` comment that hides no finding (ruff's RUF100)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lrlint import directives
from lrlint.checks.base import Example, Rule
from lrlint.checks.data import SuppressionData
from lrlint.findings import SAFE, WARNING, Edit, Finding, Fix

if TYPE_CHECKING:
    from lrlint.results import Result
    from lrlint.settings import Settings
    from lrlint.sources import Source

DOC = """\
## What it does
Flags a suppression comment (`# lrlint: ignore`, `# lrlint: ignore[LR001]`,
`# noqa: LR001`) that hides no finding on its line, or a code in it that hides
none. A `# noqa` without lrlint codes belongs to other tools and is left alone;
so is a code of a rule that is not selected.

Off by default, as ruff's RUF100 is: lrlint's findings compare with a
reference (by default the file at `HEAD`), so a suppression written for a
batch change stops hiding anything once the change is committed. Enable it
with `extend-select = ["LR100"]` where the reference stays put (CI against
`--base origin/main`) or to clean up old comments.

## Why is this bad?
A stale suppression hides the next real finding on that line: the next batch
change there goes unreported.

## Example
```yaml
per_device_train_batch_size: 32  # lrlint: ignore[LR001]
learning_rate: 2.0e-5
```

Use instead:
```yaml
per_device_train_batch_size: 32
learning_rate: 2.0e-5
```

## Fix safety
Safe: the fix removes the comment, or the codes in it that hide nothing; a
comment that says more than the suppression is shown, not edited.
"""


def _hash_at(text: str, comment: str) -> int:
    """The column (0-based) of the ``#`` that starts ``comment`` in the line ``text``; -1 when not found."""
    return text.rfind("#" + comment)


def _edit(src: Source, path: str, line: int, d: directives.Suppression, keep: list[str]) -> Edit | None:
    """The edit that removes the directive (``keep`` empty) or leaves only ``keep`` in its brackets; None
    where the comment says more than the suppression, or stands on a line of its own."""
    lines = src.lines
    text = lines.line_text(line)
    hash_at = _hash_at(text, d.comment)
    if hash_at < 0:
        return None
    base = lines.offset(line, 1)
    if keep:
        if d.codes_at is None:
            return None
        s, e = d.codes_at
        return Edit(lines.span(path, base + hash_at + 1 + s, base + hash_at + 1 + e), ", ".join(keep))
    if not d.whole or not text[:hash_at].strip():
        return None
    cut = len(text[:hash_at].rstrip())
    return Edit(lines.span(path, base + cut, base + len(text.rstrip())), "")


def unused(result: Result, settings: Settings, used: dict[str, dict[int, set[str]]]) -> list[Finding]:
    """LR100 findings for the checked files' suppressions; ``used``: path -> line -> the codes each hid."""
    out = []
    for path in result.files:
        src = result.sources.get(path)
        if src is None:
            continue
        for line, comment in sorted(result.comments.get(path, {}).items()):
            d = directives.suppression(comment)
            if d is None:
                continue
            hid = used.get(path, {}).get(line, set())
            if d.codes is None:
                stale, keep = ([] if hid else ["all"]), []
            else:
                stale = [c for c in d.codes if settings.selected(c, path) and not any(h.startswith(c) for h in hid)]
                keep = [c for c in d.codes if c not in stale]
            if stale:
                out.append(_finding(src, path, line, d, stale, keep))
    return out


def _finding(src: Source, path: str, line: int, d: directives.Suppression, stale: list[str], keep: list[str]):
    lines = src.lines
    text = lines.line_text(line)
    col = max(_hash_at(text, d.comment), 0) + 1
    start = lines.offset(line, col)
    end = start + 1 + len(d.comment.rstrip())
    span = lines.span(path, start, min(end, lines.offset(line, 1) + len(text)))
    what = "hides no finding on this line" if stale == ["all"] else f"hides no {', '.join(stale)} finding here"
    edit = _edit(src, path, line, d, keep)
    fix = None
    if edit is not None:
        title = f"Remove {', '.join(stale)} from the suppression" if keep else "Remove the unused suppression"
        fix = Fix(SAFE, title, [edit])
    return Finding(
        RULE.code,
        RULE.name,
        f"unused suppression `{d.comment.strip()}`: it {what}",
        WARNING,
        span,
        fix=fix,
        data=SuppressionData(comment=d.comment.strip(), unused=stale),
    )


RULE = Rule(
    code="LR100",
    name="unused-suppression",
    summary="A suppression comment that hides no finding (off by default)",
    severity=WARNING,
    fix_availability="sometimes",
    doc=DOC,
    default_enabled=False,
    valid=(Example("per_device_train_batch_size: 32  # noqa: E501\nlearning_rate: 2.0e-5\n"),),
    invalid=(
        Example(
            "per_device_train_batch_size: 32  # lrlint: ignore[LR001]\nlearning_rate: 2.0e-5\n",
            expect=("LR100",),
            expected_fix="per_device_train_batch_size: 32\nlearning_rate: 2.0e-5\n",
        ),
    ),
)
