"""The ``lrlint`` command: check, rule, profile, server, verify."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lrlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
TEXT_FORMATS = ("full", "concise")  # the formats a person reads; the others are parsed by tools


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors, like ruff
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _codes(text: str) -> list[str]:
    """Rule selectors given on the command line: each a rule code, a prefix of some, or ALL; a bad one is
    the flag's error (argparse names the flag), never the config file's."""
    from lrlint import checks

    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    known = list(checks.all_rules())
    for c in codes:
        if c != "ALL" and not any(k.startswith(c) for k in known):
            raise argparse.ArgumentTypeError(
                f"{c!r} selects no rule (a rule code or prefix: {', '.join(known)}, LR0, LR9 or ALL)"
            )
    return codes


def build_parser(verify_options: bool = True) -> argparse.ArgumentParser:
    """The command line; ``verify_options=False`` leaves out the ``verify`` subcommand's options (a
    ``check`` run then does not import ``lrlint.verify.cli``)."""
    p = _Parser(prog="lrlint", description="Catch batch-size changes without the matching learning-rate scaling.")
    p.add_argument("--version", action="version", version=f"lrlint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    _add_check_parser(sub)

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
    c.add_argument("--reference", metavar="FILE", help="compare every checked file with this config")
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
    c.add_argument("--diff", action="store_true", help="print the diff of what --fix would change; write nothing")
    c.add_argument("--show-fixes", action="store_true", help="list the fixes that were applied")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    c.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="exit 1 when --fix changed files, even if nothing remains (pre-commit)",
    )
    c.add_argument("--statistics", action="store_true", help="print counts per rule instead of the findings")
    c.add_argument(
        "--explain",
        action="store_true",
        help="also say, for each recipe, what was read, what it was compared with and why not when it was not "
        "(on stdout after a full or concise report; on stderr with a machine-readable format, which stays valid)",
    )
    c.add_argument("--config", metavar="PATH", help="use this config file instead of searching for one")
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


def _shown(text: str) -> str:
    """A message for the terminal: names and keys from files escaped, its own line breaks kept."""
    from lrlint.report._common import printable

    return printable(text, keep="\n")


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _settings(args, overrides: dict):
    from lrlint import settings as settings_mod

    named = getattr(args, "stdin_filename", None) or (args.paths[0] if getattr(args, "paths", None) else None)
    start = Path(named) if named and named != "-" else Path.cwd()
    if start.is_file():
        start = start.parent
    return settings_mod.load(
        start if start.exists() else Path.cwd(),
        config=getattr(args, "config", None),
        overrides=overrides,
        isolated=getattr(args, "isolated", False),
    )


def cmd_check(args) -> int:
    from lrlint import api, parallel, report
    from lrlint.discover import PathError
    from lrlint.profiles import RulesError
    from lrlint.settings import ConfigError

    overrides = {
        key: value
        for key, value in (
            ("select", args.select),
            ("extend-select", args.extend_select),
            ("extend-ignore", args.ignore),
        )
        if value is not None
    }
    try:
        stdin = _read_stdin(args)
        settings = _settings(args, overrides)
        fmt = args.output_format or os.environ.get("LRLINT_OUTPUT_FORMAT") or settings.output_format or "full"
        if fmt not in report.FORMATS:
            raise ConfigError(f"unknown output format {fmt!r}")
        if stdin is not None:
            result = _check_stdin(args, settings, stdin)
            if result is None:  # excluded (--force-exclude): nothing to report, the text passes through
                if args.fix:
                    sys.stdout.buffer.write(stdin)
                return EXIT_OK
        else:
            result = parallel.check_paths(
                args.paths,
                settings,
                base=args.base,
                reference=args.reference,
                force_exclude=args.force_exclude,
                keep_parsed=bool(args.fix or args.diff),
                jobs=parallel.jobs_setting(args.jobs, os.environ.get("LRLINT_JOBS")),
            )
    except (ConfigError, RulesError, PathError, api.UsageError, parallel.JobsError) as e:
        print(f"lrlint: error: {_shown(str(e))}", file=sys.stderr)
        return EXIT_USAGE

    fixed: dict = {}
    if args.fix or args.diff:
        outcome = _fix(args, result, settings, stdin)
        if args.diff:
            return EXIT_FINDINGS if outcome.diff else EXIT_OK
        result, fixed = outcome.result, outcome.fixed

    if not args.silent:
        _report(args, result, settings, fmt, fixed, sys.stderr if stdin is not None and args.fix else sys.stdout)
    if args.exit_zero:
        return EXIT_OK
    if args.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if any(f.fails for f in result.findings) else EXIT_OK


def _report(args, result, settings, fmt: str, fixed: dict, default_out) -> None:
    """The report (or the statistics) in ``fmt``, to ``--output-file`` or ``default_out``; then
    ``--explain``'s lines. The run's notes go to stderr (not with ``-q``)."""
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as out:
            _write_report(args, result, settings, fmt, fixed, out)
    else:
        _write_report(args, result, settings, fmt, fixed, default_out)
    if not args.quiet:
        for note in result.notes:
            print(f"lrlint: note: {_shown(note)}", file=sys.stderr)


def _write_report(args, result, settings, fmt: str, fixed: dict, out) -> None:
    from lrlint import report
    from lrlint.report.layout import width_for

    color = _use_color(args.color, out)
    ctx = report.ReportContext(
        result.findings,
        result,
        settings,
        out,
        color=color,
        format=fmt,
        fixed=fixed,
        show_fixes=args.show_fixes,
        unsafe_fixes=bool(args.unsafe_fixes),
        root=_report_root(fmt, result, settings),
        width=width_for(out),
        summary=not args.quiet,
    )
    if args.statistics:
        _statistics(ctx)
    else:
        if fixed and (args.show_fixes or fmt in ("full", "concise")) and not args.quiet:
            _print_fixed(ctx)
        report.render(ctx)
    if args.explain:  # a machine-readable report stays parseable: the explanations go to stderr
        _explain(result, out if fmt in TEXT_FORMATS else sys.stderr)


def _fix(args, result, settings, stdin: bytes | None):
    """``--fix`` / ``--diff``: apply the fixes (to the files, or to stdin's text, printed) and say what failed."""
    from lrlint import fix as fix_mod

    outcome = fix_mod.apply(
        result,
        settings,
        unsafe=bool(args.unsafe_fixes),
        write=not args.diff and stdin is None,  # stdin's fixed text goes to stdout, never to the file
        base=args.base,
        reference=args.reference,
    )
    if args.diff:
        sys.stdout.write(outcome.diff)
    for msg in [] if args.silent else outcome.problems:
        print(f"lrlint: {_shown(msg)}", file=sys.stderr)
    if stdin is not None and not args.diff:  # the fixed text is stdout's only content; the report goes to stderr
        files = outcome.result.files
        sys.stdout.buffer.write(outcome.changed.get(files[0], stdin) if files else stdin)
        sys.stdout.flush()
    return outcome


def _read_stdin(args) -> bytes | None:
    """The text to check when the input is stdin (``-`` or ``--stdin-filename``), else None."""
    from lrlint.api import UsageError

    if args.stdin_filename is None and "-" not in args.paths:
        return None
    if args.stdin_filename is not None and args.paths not in ([], ["-"]):
        raise UsageError(f"cannot check {args.paths[0]} together with --stdin-filename")
    if args.stdin_filename is None and args.paths != ["-"]:
        raise UsageError("- (stdin) cannot be checked together with other paths")
    if args.stdin_filename is not None and args.stdin_filename == "-":
        raise UsageError("--stdin-filename needs a file name")
    return sys.stdin.buffer.read()


def _check_stdin(args, settings, data: bytes):
    """Check stdin's text as ``--stdin-filename`` (default ``-``: YAML, no git reference); None when excluded."""
    from lrlint import api
    from lrlint.discover import excluded

    name = args.stdin_filename or api.STDIN_NAME
    if args.stdin_filename and args.force_exclude and excluded(Path(name), settings):
        return None
    return api.check_text(data, name, settings, base=args.base, reference=args.reference)


def _print_fixed(ctx) -> None:
    from lrlint.report import severity_counts

    ctx.stream.write(f"Fixed {severity_counts(i.severity for v in ctx.fixed.values() for i in v)}:\n")
    for path, items in sorted(ctx.fixed.items()):
        ctx.stream.write(f"- {_shown(path)}:\n")
        counts: dict = {}
        for code, name, *_ in items:
            counts[(code, name)] = counts.get((code, name), 0) + 1
        for (code, name), n in sorted(counts.items()):
            ctx.stream.write(f"    {n} \u00d7 {code} ({name})\n")
    ctx.stream.write("\n")


def _report_root(fmt: str, result, settings) -> str:
    """Where report paths start: code-scanning formats (SARIF, GitHub, GitLab) want paths from the
    repository's top level, whatever directory holds the settings; the others use the settings root."""
    if fmt not in ("sarif", "github", "gitlab"):
        return settings.root
    if result.git_root:
        return result.git_root
    from lrlint.references.git import toplevel

    top = toplevel(Path.cwd())
    return str(top) if top is not None else settings.root


def _statistics(ctx) -> None:
    from lrlint.findings import SAFE

    counts: dict = {}
    for f in ctx.findings:
        n, fixable, name = counts.get(f.code, (0, 0, f.name))
        counts[f.code] = (n + 1, fixable + (1 if f.fix and f.fix.applicability == SAFE else 0), name)
    width = max((len(str(n)) for n, _, _ in counts.values()), default=1)
    for code, (n, fixable, name) in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0])):
        ctx.stream.write(f"{n:>{width}}\t{code}\t{'[*] ' if fixable else ''}{name}\n")


def _explain(result, out) -> None:
    from lrlint import numbers

    for e in result.explanations:
        ref = e.reference
        ref_text = (
            "none"
            if ref is None
            else f"{ref.label} (batch {numbers.plain(ref.batch) if ref.batch is not None else '?'})"
        )
        eb = numbers.plain(e.effective_batch) if e.effective_batch is not None else "unknown"
        lr = numbers.plain(e.lr) if e.lr is not None else "unknown"
        text = (
            f"{e.filename}: {e.lr_key} ({e.profile} profile): effective batch {eb}, lr {lr}, "
            f"optimizer {e.optimizer or '?'} ({e.family}); reference: {ref_text}"
        )
        if e.runtime_scaling:
            text += f"; runtime scaling: {e.runtime_scaling}"
        if e.not_checked_because:
            text += "; not compared: " + "; ".join(e.not_checked_because)
        out.write(_shown(text) + "\n")


def cmd_rule(args) -> int:
    import json

    from lrlint import checks

    rules = list(checks.all_rules().values())
    if not args.all:
        if not args.code:
            print("lrlint: error: give a rule code (e.g. LR001) or --all", file=sys.stderr)
            return EXIT_USAGE
        r = checks.rule(args.code)
        if r is None:
            print(f"lrlint: error: unknown rule {args.code!r}; known: {', '.join(checks.all_rules())}", file=sys.stderr)
            return EXIT_USAGE
        rules = [r]
    avail = checks.FIX_AVAILABILITY
    if args.output_format == "markdown":
        sys.stdout.write(checks.rules_markdown(rules))
        return EXIT_OK
    if args.output_format == "json":
        print(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "summary": r.summary,
                        "severity": r.severity,
                        "fix_availability": r.fix_availability,
                        "default_enabled": r.default_enabled,
                        "url": r.url,
                        "explanation": r.doc,
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return EXIT_OK
    for i, r in enumerate(rules):
        if i:
            print()
        print(f"# {r.name} ({r.code})\n\n{r.summary}.\n\n{avail[r.fix_availability]}\n")
        print(r.doc.rstrip())
    return EXIT_OK


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


def cmd_profile(args) -> int:
    import json

    from lrlint import profile_docs
    from lrlint.profiles import optimizer_table

    shipped = profile_docs.documented()
    chosen = shipped
    if not args.all:
        known = {d.profile.name: d for d in shipped}
        if not args.name or args.name not in known:
            what = f"unknown profile {args.name!r}" if args.name else "give a profile name or --all"
            print(f"lrlint: error: {what}; known: {', '.join(known)}", file=sys.stderr)
            return EXIT_USAGE
        chosen = [known[args.name]]
    if args.output_format == "json":
        print(json.dumps([profile_docs.as_json(p) for p in chosen], indent=2))
    elif args.output_format == "markdown" and args.all:
        sys.stdout.write(profile_docs.markdown(chosen, optimizer_table()))
    else:
        sys.stdout.write("\n".join(profile_docs.text(p) for p in chosen))
    return EXIT_OK


def cmd_server() -> int:
    try:
        from lrlint.lsp.server import main as server_main
    except ImportError as e:
        print(
            f"lrlint: error: the language server needs the lsp extra: pip install 'lrlint[lsp]' ({e})", file=sys.stderr
        )
        return EXIT_USAGE
    return server_main()


def cmd_verify(args) -> int:
    try:
        from lrlint.verify.cli import main as verify_main
    except ImportError as e:
        print(f"lrlint: error: verify is not available: {e}", file=sys.stderr)
        return EXIT_USAGE
    from lrlint.profiles import RulesError
    from lrlint.settings import ConfigError

    try:
        settings = _settings(args, {})
    except (ConfigError, RulesError) as e:
        print(f"lrlint: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    return verify_main(args, settings)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(verify_options=command == "verify")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "rule":
            return cmd_rule(args)
        if args.command == "profile":
            return cmd_profile(args)
        if args.command == "server":
            return cmd_server()
        return cmd_verify(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # never a traceback for the user; LRLINT_DEBUG=1 shows it
        if os.environ.get("LRLINT_DEBUG"):
            raise
        print(
            f"lrlint: internal error: {type(e).__name__}: {e} (set LRLINT_DEBUG=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        return EXIT_USAGE
