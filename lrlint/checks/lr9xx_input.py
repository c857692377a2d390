"""LR9xx: input problems. Reported as findings at the file and line, never as a traceback."""

from __future__ import annotations

from pathlib import PurePath

from lrlint.checks.base import Example, Rule
from lrlint.checks.data import InputData
from lrlint.findings import ERROR, INFO, Finding
from lrlint.sources import SourceError
from lrlint.spans import LineIndex, Span
from lrlint.vocabulary import Severity

_SAFETY = "\n## Fix safety\nNo fix: lrlint never writes a file it cannot parse.\n"


def _rule(
    code: str, name: str, summary: str, what: str, why: str, example: str, invalid: tuple[Example, ...] = ()
) -> Rule:
    doc = f"## What it does\n{what}\n\n## Why is this bad?\n{why}\n\n## Example\n{example}\n{_SAFETY}"
    return Rule(code, name, summary, ERROR, "none", doc, invalid=invalid)


RULES = (
    _rule(
        "LR901",
        "parse-error",
        "The file is not valid YAML, JSON or Python",
        "Reports a syntax error with the parser's line, column and reason; lrlint goes on with the other files. "
        "A template (`TEMPLATE` in its name, or a cookiecutter `{{...}}` placeholder in its path) that does not "
        "parse is information, not an error: a script fills its placeholders in before use.",
        "A config that does not parse cannot be checked, and the training job will fail on it too.",
        "```yaml\nlr: [0.1\n```",
        (Example("lr: [0.1\n", expect=("LR901",)), Example('{"lr": 0.1,}', filename="config.json", expect=("LR901",))),
    ),
    _rule(
        "LR902",
        "unreadable-file",
        "The file cannot be read as text",
        "Reports a binary file, bytes that are not valid in the file's encoding (with the offset of the first bad "
        "byte), a coding declaration that names no text encoding (`rot13`, `hex`), a path that is not a regular file "
        "(a FIFO, a socket or a device: never opened for reading) or a symbolic link loop, a file that vanished from "
        "the working tree, or an I/O error.",
        "lrlint reads configs as text; a file it cannot decode is not checked. A deleted file is information only.",
        "A `config.yaml` with Latin-1 bytes, or a model checkpoint named `weights.json`.",
    ),
    _rule(
        "LR903",
        "file-too-large",
        "The file is over the max-file-size setting",
        "Reports a file larger than `max-file-size` (10 MB by default) without reading it.",
        "Very large generated files are rarely hand-edited configs and would slow every pre-commit run.",
        "A 50 MB `dataset.json` next to the configs: exclude it, or raise `max-file-size`.",
    ),
    _rule(
        "LR904",
        "unsafe-yaml-tag",
        "A YAML tag that would construct objects or is not supported",
        "Reports tags such as `!!python/object/apply:os.system` or `!include`. lrlint never constructs them; the "
        "tagged value is skipped and the rest of the file is checked. Detectron2's documented idiom "
        '`!!python/object/apply:eval ["..."]` (a computed list such as anchor sizes) is information, not an error.',
        "Unsafe tags run code when a config is loaded with an unsafe loader; lrlint only parses.",
        '```yaml\nlr: !!python/object/apply:os.system ["echo hi"]\n```',
        (Example('lr: !!python/object/apply:os.system ["echo hi"]\n', expect=("LR904",)),),
    ),
    _rule(
        "LR905",
        "limit-exceeded",
        "Alias expansion, nesting or size beyond lrlint's limits",
        "Reports YAML alias bombs (billion laughs), nesting deeper than the limit (brackets and key paths; in Python "
        "also expressions nested without brackets: unary chains, lambdas, call and subscript chains, conditional "
        "expressions, operator chains), in bounded time and memory. A YAML or JSON document with more values than "
        "the limit (100,000) is checked up to it, and the finding says from which line on nothing was read; a Python "
        "file past it is not checked at all, and the finding says so.",
        "Such inputs exhaust memory or stack in naive loaders and parsers; lrlint stops early and says where.",
        "```yaml\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "# ... nine levels deep\n```",
    ),
    _rule(
        "LR906",
        "include-error",
        "A base config or include cannot be resolved",
        "Reports a missing base file, an inheritance cycle or a missing Hydra group, at the line that names it. "
        "Configs that name the same missing file make one finding, at the first of them, saying how many name it "
        "(`data.files`; the next few are related locations): a moved `_base_` folder is one finding per missing "
        "file, not one per config.",
        "The merged configuration cannot be known, so neither can its batch or lr.",
        "```yaml\n_BASE_: ../Base-Missing.yaml\n```",
    ),
    _rule(
        "LR907",
        "internal-error",
        "lrlint failed on this file (a bug): the other files are still checked",
        "Reports an unexpected error while reading, parsing, resolving, checking or fixing one file, with the "
        "error's type and message. Every per-file step runs under one guard, so one file never aborts the run: "
        "the other files' findings are all reported, and `--fix` leaves this file as it is. Run with "
        "`LRLINT_DEBUG=1` to see the traceback instead, and please report it.",
        "A file lrlint fails on is not checked; the finding says so rather than losing the whole run.",
        "Any file that triggers a bug in lrlint.",
    ),
)


_BY_CODE = {r.code: r for r in RULES}


def input_finding(path: str, err: SourceError, lines: LineIndex | None = None) -> Finding:
    """The LR9xx finding for an input problem of ``path`` (with ``lines``, its span gets byte offsets).

    A file deleted from the work tree is information only; every other input problem is an error."""
    rule = _BY_CODE.get(err.code)
    reason = err.reason
    info = err.info or "deleted" in reason
    if err.code == "LR901" and _template(path):
        info = True
        reason += " (a template: its placeholders are filled in before use, so this is information only)"
    severity: Severity = INFO if info else ERROR
    start = end = 0
    if lines is not None:
        start = lines.byte(lines.offset(err.line, err.col))
        end = lines.byte(lines.offset(err.end_line, err.end_col))
    span = Span(path, start, end, err.line, err.col, err.end_line, err.end_col)
    return Finding(err.code, rule.name if rule else "input-problem", reason, severity, span, data=InputData(reason))


def _template(path: str) -> bool:
    """A file meant to be filled in by a script or a generator: ``*TEMPLATE*`` in its name, or a cookiecutter
    placeholder (``{{cookiecutter.name}}``) in its path."""
    return "template" in PurePath(path).name.lower() or "{{" in path
