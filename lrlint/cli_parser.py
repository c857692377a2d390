"""The ``lrlint`` command line: its sub-commands and their options (argparse)."""

from __future__ import annotations

import argparse
import sys

from lrlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors, like ruff
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _SubParser(_Parser):
    """A sub-command's parser: an option it does not know is its error, shown with its own usage (argparse
    would hand it up to ``lrlint``'s usage), with the closest option it has."""

    def parse_known_args(self, args=None, namespace=None):
        ns, extra = super().parse_known_args(args, namespace)
        if extra:
            import difflib

            options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
            close = difflib.get_close_matches(extra[0].split("=", 1)[0], options, n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close and extra[0].startswith("-") else ""
            self.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
        return ns, extra


def _codes(text: str) -> list[str]:
    """Rule selectors given on the command line: each a rule code, a prefix of some, or ALL; a bad one is
    the flag's error (argparse names the flag), never the config file's."""
    from lrlint import checks

    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    known = list(checks.all_rules())
    for c in codes:
        if c != "ALL" and not any(k.startswith(c) for k in known):
            raise argparse.ArgumentTypeError(
                f"{c!r} selects no rule (a rule code or prefix: {', '.join(known)}, "
                f"{', '.join(sorted({k[:3] for k in known}))} or ALL)"
            )
    return codes


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return n


def build_parser(verify_options: bool = True, check_only: bool = False) -> argparse.ArgumentParser:
    """The command line; ``verify_options=False`` leaves out the ``verify`` subcommand's options (a
    ``check`` run then does not import ``lrlint.verify.cli``); ``check_only``: the ``check`` subcommand
    alone (a command line whose command is ``check``: the others' parsers are not built)."""
    p = _Parser(prog="lrlint", description="Catch batch-size changes without the matching learning-rate scaling.")
    p.add_argument("--version", action="version", version=f"lrlint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser)

    _add_check_parser(sub)
    if check_only:
        return p

    r = sub.add_parser("rule", help="explain a rule (or --all)", description="Print a rule's documentation.")
    r.add_argument("code", nargs="?", help="rule code, e.g. LR001")
    r.add_argument("--all", action="store_true", help="every rule")
    r.add_argument(
        "--output-format",
        choices=["text", "json", "markdown"],
        default="text",
        help="markdown: the docs/rules.md page (every rule, linkable anchors)",
    )

    _add_profile_parser(sub)

    k = sub.add_parser(
        "clean", help="remove lrlint's cache", description="Remove the cache directory lrlint writes (see --cache-dir)."
    )
    k.add_argument("--cache-dir", metavar="DIR", help="the cache's directory (default: as for check)")

    sub.add_parser(
        "server",
        help="run the Language Server over stdio (editors; needs lrlint[lsp])",
        description="Run lrlint's Language Server over stdin/stdout: diagnostics, fixes and hovers for open configs.",
    )

    v = sub.add_parser(
        "verify",
        help="check a suggested lr with a short PyTorch training run",
        description="Verify lrlint's suggested learning rate with a short training run (needs lrlint[verify]).",
    )
    if not verify_options:
        return p
    try:
        from lrlint.verify.cli import add_arguments
    except ImportError:  # pragma: no cover - verify not packaged
        return p
    add_arguments(v)
    return p


def _add_check_parser(sub) -> None:
    c = sub.add_parser(
        "check",
        help="check configs and training scripts (default: the current directory)",
        description="Check YAML/JSON configs and Python training scripts for batch changes without lr scaling.",
    )
    c.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .); - reads stdin")
    c.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="the path a text read from stdin is checked as (its git reference, settings and bases)",
    )
    c.add_argument(
        "--base",
        metavar="REV",
        help="git revision to compare with (default: HEAD; CI passes the target branch, merge-base semantics)",
    )
    c.add_argument(
        "--show-existing",
        action="store_true",
        default=None,
        help="with a git base: also list the findings already there at the base (marked; they never fail the run)",
    )
    c.add_argument("--reference", metavar="FILE", help="compare every checked file with this config")
    c.add_argument(
        "--devices",
        type=_positive,
        metavar="N",
        help="the devices (per node) of the run you are about to launch: each config is read with them and "
        "compared with the devices it was written for (its NxbM tag or devices key)",
    )
    c.add_argument("--nodes", type=_positive, metavar="N", help="the nodes of that run (with --devices)")
    c.add_argument(
        "--show-dependents",
        action="store_true",
        help="a finding on a shared file (a base config, a config group option) lists every config its change "
        "reaches, not the first few",
    )
    c.add_argument(
        "--select",
        type=_codes,
        metavar="CODES",
        help="comma-separated rule codes or prefixes to enable (ALL for every rule)",
    )
    c.add_argument(
        "--extend-select", type=_codes, metavar="CODES", help="enable these in addition to the selected rules"
    )
    c.add_argument("--ignore", type=_codes, metavar="CODES", help="comma-separated rule codes or prefixes to disable")
    c.add_argument(
        "--output-format",
        choices=["full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit"],
        default=None,
        help="output format (default: full; env LRLINT_OUTPUT_FORMAT)",
    )
    c.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE")
    c.add_argument("--fix", action="store_true", default=None, help="apply safe fixes")
    c.add_argument(
        "--unsafe-fixes", action="store_true", default=None, help="also apply (with --fix) or show unsafe fixes"
    )
    _add_fix_options(c)
    _add_output_options(c)


def _add_fix_options(c) -> None:
    c.add_argument(
        "--fix-only",
        action="store_true",
        help="apply the fixes and report nothing of what remains (exit 0 unless an error; implies --fix)",
    )
    c.add_argument(
        "--diff",
        action="store_true",
        help="print the diff of what --fix would change and 'Would fix N errors.'; write nothing",
    )
    c.add_argument(
        "--add-noqa",
        action="store_true",
        help="add '# lrlint: ignore[CODE]' to each line with a finding (YAML and Python; JSON has no comments)",
    )
    c.add_argument("--show-fixes", action="store_true", help="list the fixes that were applied")
    c.add_argument(
        "--fix-read-only",
        action="store_true",
        help="let --fix and --add-noqa rewrite read-only files (their mode is kept); without it they are left "
        "as they are",
    )


def _add_output_options(c) -> None:
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    c.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="exit 1 when --fix changed files, even if nothing remains (pre-commit)",
    )
    c.add_argument(
        "--statistics",
        action="store_true",
        help="print a count per rule ([*]: fixable) and the summary instead of the findings (JSON with "
        "--output-format json)",
    )
    c.add_argument(
        "--explain",
        action="store_true",
        help="after the report, a line per recipe (an lr and the batch it goes with) under 'Recipes checked:': "
        "the effective batch, lr, optimizer and profile read, the reference compared with, or why nothing was "
        "compared (on stdout after a full or concise report; on stderr with a machine-readable format)",
    )
    c.add_argument(
        "--config",
        metavar="CONFIG_OPTION",
        action="append",
        help="a config file to use instead of searching for one, or a TOML 'KEY = VALUE' pair that overrides "
        "one setting (thresholds.error-factor = 3); repeatable",
    )
    c.add_argument("--isolated", action="store_true", help="ignore all configuration files")
    c.add_argument(
        "--jobs",
        metavar="N",
        help="processes a run over many files uses (default: the usable CPUs; env LRLINT_JOBS; 1: in-process)",
    )
    c.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclude globs even to files named on the command line (pre-commit)",
    )
    c.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto", help="colored output (NO_COLOR disables auto)"
    )
    c.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print the findings in the chosen format, without the summary or notes",
    )
    c.add_argument(
        "-s", "--silent", action="store_true", help="print nothing (the exit code still says whether findings remain)"
    )
    c.add_argument("--no-cache", action="store_true", help="neither read nor write lrlint's cache")
    c.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the cache's directory (default: the platform's user cache directory; env LRLINT_CACHE_DIR)",
    )
    c.add_argument("--show-settings", action="store_true", help="print the settings for the first file and exit")
    c.add_argument("--show-files", action="store_true", help="print the files that would be checked and exit")
    c.add_argument(
        "-w", "--watch", action="store_true", help="check again whenever a checked file changes (Ctrl-C stops)"
    )


def _add_profile_parser(sub) -> None:
    p = sub.add_parser(
        "profile", help="show a framework profile (or --all)", description="Print what lrlint knows of a framework."
    )
    p.add_argument("name", nargs="?", help="profile name, e.g. mmengine")
    p.add_argument("--all", action="store_true", help="every built-in profile (and the optimizer table)")
    p.add_argument(
        "--output-format",
        choices=["text", "json", "markdown"],
        default="text",
        help="markdown: the docs/profiles.md page (every profile and the optimizer table)",
    )
