"""The ``lrlint`` command: check, rule, profile, server, verify."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint import gcpause
from lrlint.cli_parser import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, build_parser

if TYPE_CHECKING:
    from lrlint.parallel import Workers

TEXT_FORMATS = ("full", "concise")  # the formats a person reads; the others are parsed by tools


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


def config_options(values: list[str] | None) -> tuple[str | None, dict]:
    """``--config`` values: the config file (at most one) and the settings given inline as TOML ``KEY = VALUE``
    pairs (ruff's two forms; a value that names an existing file is the file)."""
    from lrlint.api import UsageError
    from lrlint.settings import ConfigError, merged_tables

    path: str | None = None
    inline: dict = {}
    for value in values or []:
        if "=" not in value or Path(value).is_file():
            if path is not None:
                raise UsageError(f"--config {value}: only one config file can be given (already {path})")
            path = value
            continue
        from lrlint.tomlfile import tomllib

        try:
            table = tomllib.loads(value)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(
                f"--config {value!r}: neither a config file nor a TOML KEY = VALUE pair ({e}); "
                "a string value needs quotes: output-format = 'concise'"
            ) from None
        inline = merged_tables(inline, table)
    return path, inline


def _settings(args, overrides: dict):
    from lrlint import settings as settings_mod
    from lrlint.settings import merged_tables

    named = getattr(args, "stdin_filename", None) or (args.paths[0] if getattr(args, "paths", None) else None)
    start = Path(named) if named and named != "-" else Path.cwd()
    if start.is_file():
        start = start.parent
    config = getattr(args, "config", None)
    path, inline = config_options(config) if isinstance(config, list) or config is None else (config, {})
    return settings_mod.load(
        start if start.exists() else Path.cwd(),
        config=path,
        overrides=merged_tables(inline, overrides),
        isolated=getattr(args, "isolated", False),
    )


def _overrides(args) -> dict:
    """The settings the rule flags set (over the config file's and ``--config``'s)."""
    flags = (
        ("select", args.select),
        ("extend-select", args.extend_select),
        ("extend-ignore", args.ignore),
        ("devices", getattr(args, "devices", None)),
        ("nodes", getattr(args, "nodes", None)),
        ("show-existing", getattr(args, "show_existing", None)),
        ("show-dependents", getattr(args, "show_dependents", None) or None),
    )
    return {key: value for key, value in flags if value is not None}


def _precommit_base(args, settings) -> None:
    """Under pre-commit (``PRE_COMMIT=1``) without a base of its own, the run compares with pre-commit's
    from-ref (``--from-ref``, a pre-push's remote commit) or ``HEAD``: what the change caused is reported."""
    if args.base is None and settings.base is None and os.environ.get("PRE_COMMIT") == "1":
        args.base = os.environ.get("PRE_COMMIT_FROM_REF") or "HEAD"


def cmd_check(args) -> int:
    from lrlint import cache

    if args.no_cache:
        cache.use_dir(None)
    elif args.cache_dir:
        cache.use_dir(Path(args.cache_dir))
    if args.fix_only:
        args.fix = True
    if args.watch:
        from lrlint.api import UsageError
        from lrlint.watch import watch

        if args.stdin_filename is not None or "-" in args.paths:
            print(f"lrlint: error: {UsageError('--watch cannot watch stdin')}", file=sys.stderr)
            return EXIT_USAGE
        return watch(lambda: check_once(args), lambda: _watched(args))
    return check_once(args)


def _watched(args) -> list[Path]:
    """The files ``--watch`` polls: those a check reads now, and the settings file."""
    from lrlint.discover import discover

    try:
        settings = _settings(args, _overrides(args))
        found = [t.fs_path for t in discover(args.paths, settings, force_exclude=args.force_exclude)]
    except Exception:  # a bad settings file or a missing path: the run says so; watch what is there
        return [Path(p) for p in args.paths or ["."]]
    return found + ([Path(settings.config_file)] if settings.config_file else [])


def check_once(args) -> int:
    """One ``lrlint check`` run: settings, the check, fixes, the report; the exit code. With ``--fix`` or
    ``--diff``, the processes that checked the files stay until the fixed files are re-checked."""
    from lrlint.discover import resolving

    workers = _Workers()
    try:
        with resolving():  # the check and the fixes' re-checks resolve each path once
            return _check_once(args, workers)
    finally:
        workers.close()
        gcpause.resume()  # paused by main (a check's start): a --watch loop's later checks collect as usual


class _Workers:
    """The run's worker processes (``lrlint.parallel.Workers``), once a run starts them."""

    def __init__(self) -> None:
        self.pool: Workers | None = None

    def of(self, settings, unsafe: bool) -> Workers:
        from lrlint import parallel

        self.pool = parallel.Workers(settings, unsafe)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def _check_once(args, workers: _Workers) -> int:
    from lrlint import api, parallel, report
    from lrlint.discover import PathError
    from lrlint.profiles import RulesError
    from lrlint.progress import Progress
    from lrlint.settings import ConfigError

    try:
        stdin = _read_stdin(args)
        settings = _settings(args, _overrides(args))
        fmt = args.output_format or os.environ.get("LRLINT_OUTPUT_FORMAT") or settings.output_format or "full"
        if fmt not in report.FORMATS:
            raise ConfigError(f"unknown output format {fmt!r}")
        if args.show_settings or args.show_files:
            from lrlint.show import show_files, show_settings

            return show_settings(args, settings) if args.show_settings else show_files(args, settings)
        _precommit_base(args, settings)
        if stdin is not None:
            result = _check_stdin(args, settings, stdin)
            if result is None:  # excluded (--force-exclude): nothing to report, the text passes through
                if args.fix:
                    sys.stdout.buffer.write(stdin)
                return EXIT_OK
        else:
            progress = None if args.quiet or args.silent else Progress(sys.stderr)
            try:
                result = parallel.check_paths(
                    args.paths,
                    settings,
                    base=args.base,
                    reference=args.reference,
                    force_exclude=args.force_exclude,
                    keep_parsed=bool(args.fix or args.diff),
                    jobs=parallel.jobs_setting(args.jobs, os.environ.get("LRLINT_JOBS")),
                    progress=progress,
                    workers=workers.of(settings, bool(args.unsafe_fixes)) if args.fix or args.diff else None,
                )
            finally:
                if progress is not None:
                    progress.close()
    except (ConfigError, RulesError, PathError, api.UsageError, parallel.JobsError) as e:
        print(f"lrlint: error: {_shown(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    return _after_check(args, result, settings, fmt, stdin, workers.pool)


def _after_check(args, result, settings, fmt: str, stdin: bytes | None, workers=None) -> int:
    """Fixes (``--fix``, ``--diff``), ``--add-noqa``, the report and the exit code."""
    if args.add_noqa:
        from lrlint.fix.noqa import add_noqa

        return add_noqa(result, quiet=args.quiet or args.silent, rewrite_read_only=args.fix_read_only)
    fixed: dict = {}
    if args.fix or args.diff:
        outcome = _fix(args, result, settings, stdin, workers)
        if args.diff:
            return EXIT_FINDINGS if outcome.diff else EXIT_OK
        result, fixed = outcome.result, outcome.fixed
    if args.fix_only:
        if fixed and not (args.quiet or args.silent):
            _print_fixed_only(fixed, sys.stderr if stdin is not None else sys.stdout)
        return EXIT_FINDINGS if args.exit_non_zero_on_fix and fixed else EXIT_OK
    if not args.silent:
        _report(args, result, settings, fmt, fixed, sys.stderr if stdin is not None and args.fix else sys.stdout)
    if args.exit_zero:
        return EXIT_OK
    if args.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if any(f.fails for f in result.findings) else EXIT_OK


def _print_fixed_only(fixed: dict, out) -> None:
    """``--fix-only``'s one line (ruff's): ``Fixed 2 errors.``"""
    from lrlint.report import severity_counts

    out.write(f"Fixed {severity_counts(i.severity for items in fixed.values() for i in items)}.\n")


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
        from lrlint.report import statistics

        statistics.render(ctx)
    else:
        if fixed and (args.show_fixes or fmt in ("full", "concise")) and not args.quiet:
            _print_fixed(ctx)
        report.render(ctx)
    if args.explain:  # a machine-readable report stays parseable: the explanations go to stderr
        text = fmt in TEXT_FORMATS
        _explain(result, out if text else sys.stderr, after_report=text)


def _fix(args, result, settings, stdin: bytes | None, workers=None):
    """``--fix`` / ``--diff``: apply the fixes (to the files, or to stdin's text, printed) and say what failed."""
    from lrlint import fix as fix_mod

    outcome = fix_mod.apply(
        result,
        settings,
        unsafe=bool(args.unsafe_fixes),
        write=not args.diff and stdin is None,  # stdin's fixed text goes to stdout, never to the file
        base=args.base,
        reference=args.reference,
        rewrite_read_only=args.fix_read_only,
        workers=workers if workers is not None and workers.alive else None,
    )
    if args.diff:
        _print_diff(args, outcome)
    for msg in [] if args.silent else outcome.problems:
        print(f"lrlint: {_shown(msg)}", file=sys.stderr)
    if stdin is not None and not args.diff:  # the fixed text is stdout's only content; the report goes to stderr
        files = outcome.result.files
        sys.stdout.buffer.write(outcome.changed.get(files[0], stdin) if files else stdin)
        sys.stdout.flush()
    return outcome


def _print_diff(args, outcome) -> None:
    """The diff (coloured on a terminal), then ruff's ``Would fix 2 errors.`` (not with -q/-s)."""
    from lrlint.findings import UNSAFE
    from lrlint.report.diff import coloured, would_fix

    if args.silent:
        return
    sys.stdout.write(coloured(outcome.diff) if _use_color(args.color, sys.stdout) else outcome.diff)
    if args.quiet:
        return
    unsafe_left = (
        0
        if args.unsafe_fixes
        else sum(
            1 for f in outcome.result.findings if f.fix is not None and f.fix.applicability == UNSAFE and f.fix.edits
        )
    )
    line = would_fix([i.severity for items in outcome.fixed.values() for i in items], unsafe_left)
    if line:
        sys.stdout.write(("\n" if outcome.diff else "") + line + "\n")


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


def _explain(result, out, after_report: bool) -> None:
    """``--explain``'s lines under their header (a blank line first when they follow a report)."""
    from lrlint import numbers

    out.write(("\n" if after_report else "") + f"Recipes checked ({len(result.explanations)}):\n")
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
        if e.set_aside:
            text += "; " + "; ".join(e.set_aside)
        if e.quiet:
            text += "; " + "; ".join(e.quiet)
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


def cmd_clean(args) -> int:
    """``lrlint clean``: remove the cache (ruff's ``clean``)."""
    from lrlint import cache

    where = Path(args.cache_dir) if args.cache_dir else cache.cache_dir()
    if where is None:
        print("lrlint: the cache is off (LRLINT_CACHE_DIR is empty): nothing to remove", file=sys.stderr)
        return EXIT_OK
    n = cache.clean(where)
    print(f"Removed {n} cache file{'' if n == 1 else 's'} from {_shown(str(where))}.", file=sys.stderr)
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
    """The ``lrlint`` program; ``argv`` None: this process's own command line (the program, ``python -m
    lrlint``), which ends when this returns."""
    command = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    if command != "check":
        return _main(argv)
    gcpause.pause()
    try:
        code = _main(argv)
    finally:
        gcpause.resume()
    if argv is None:
        gcpause.exiting()
    return code


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(verify_options=command == "verify", check_only=command == "check")
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
        if args.command == "clean":
            return cmd_clean(args)
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
