"""``--diff``'s output: the unified diff (red and green when coloured, as ruff prints it) and its closing
line, ``Would fix 2 errors.``."""

from __future__ import annotations

from lrlint.report import plural, severity_counts
from lrlint.report._common import printable

RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[0m"


def coloured(diff: str) -> str:
    """The diff for a terminal: file names and removed lines red, added lines green, every line's control
    characters escaped."""
    out = []
    for line in diff.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        text, end = printable(body), line[len(body) :]
        if line.startswith("--- "):
            out.append(f"--- {RED}{text[4:]}{RESET}{end}")
        elif line.startswith("+++ "):
            out.append(f"+++ {GREEN}{text[4:]}{RESET}{end}")
        elif line.startswith("-"):
            out.append(f"{RED}{text}{RESET}{end}")
        elif line.startswith("+"):
            out.append(f"{GREEN}{text}{RESET}{end}")
        else:
            out.append(text + end)
    return "".join(out)


def would_fix(severities: list[str], unsafe_left: int) -> str:
    """``Would fix 2 errors.``, with the fixes ``--unsafe-fixes`` would add; "" when there is nothing to say."""
    more = f"{plural(unsafe_left, 'fix')} available with `--unsafe-fixes`" if unsafe_left else ""
    if severities:
        extra = f" ({plural(unsafe_left, 'additional fix')} available with `--unsafe-fixes`)" if unsafe_left else ""
        return f"Would fix {severity_counts(severities)}{extra}."
    return f"No errors would be fixed ({more})." if more else ""
