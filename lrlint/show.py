"""``--show-settings`` and ``--show-files``: what a check would use, printed instead of checking (ruff's
flags of the same names)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from lrlint.settings import Settings

INTERNAL = ("root", "config_file")  # set by the loader, shown in the header


def _toml(value: Any) -> str:
    """A value as TOML writes it (strings, numbers, booleans, arrays, inline tables)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {k: v for k, v in _items(value)}
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _items(obj: Any) -> list[tuple[str, Any]]:
    """(key as the user writes it, value) for each field of a settings dataclass."""
    aliases = getattr(type(obj), "__aliases__", {})
    return [
        (aliases.get(f.name, f.name), getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in INTERNAL
    ]


def _line(key: str, value: Any) -> str:
    return f"# {key} is unset" if value is None else f"{key} = {_toml(value)}"


def settings_text(settings: Settings, first: str) -> str:
    """The resolved settings as a ``[tool.lrlint]`` table, after a header naming the file they are for and
    where they were read."""
    lines = [
        f"Resolved settings for: {json.dumps(first)}",
        f"Settings path: {json.dumps(settings.config_file) if settings.config_file else 'none (defaults)'}",
        f"Root: {json.dumps(settings.root)}",
        "",
        "[tool.lrlint]",
    ]
    tables = []
    for key, value in _items(settings):
        if dataclasses.is_dataclass(value):
            tables.append((key, value))
        else:
            lines.append(_line(key, value))
    for key, value in tables:
        lines += ["", f"[tool.lrlint.{key}]"] + [_line(k, v) for k, v in _items(value)]
    return "\n".join(lines) + "\n"


def show_settings(args, settings: Settings) -> int:
    from lrlint.discover import discover

    targets = discover(args.paths, settings, force_exclude=args.force_exclude)
    first = args.stdin_filename or (targets[0].path if targets else (args.paths or ["."])[0])
    sys.stdout.write(_printable(settings_text(settings, str(Path(first).resolve()))))
    return 0


def show_files(args, settings: Settings) -> int:
    """Each file a check would read, absolute, sorted (one a line)."""
    from lrlint.discover import discover

    targets = discover(args.paths, settings, force_exclude=args.force_exclude)
    for p in sorted({str(t.fs_path.resolve()) for t in targets}):
        sys.stdout.write(_printable(p) + "\n")
    return 0


def _printable(text: str) -> str:
    from lrlint.report._common import printable

    return printable(text, keep="\n")
