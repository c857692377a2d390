"""Plain dataclasses for settings and rules: built directly from trusted data, validated by pydantic otherwise.

The shipped ``rules/`` files and the default settings are built with :func:`build` (no pydantic import:
a pre-commit run on one file stays fast); anything a user wrote (``[tool.lrlint]``, CLI options, a
profile file) goes through :func:`validate`, which imports pydantic and validates the same
dataclasses with ``TypeAdapter``. ``tests/test_rules_schema.py`` validates every shipped file with
pydantic and asserts that :func:`build` gives the same objects.

Conventions on a dataclass: ``__pydantic_config__`` (``extra="forbid"``), ``__aliases__`` (field name
-> the spelling users write, e.g. ``batch-tolerance``), and checks in ``__post_init__`` raising
:class:`FieldError` so the message names the field.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
import typing
from typing import TYPE_CHECKING, Any, TypeGuard, Union

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic_core import ErrorDetails

# fields set by lrlint itself, never written by users (not offered as valid keys)
INTERNAL_KEYS = frozenset({"root", "config_file"})

# `Optional[X]` and `X | None` (PEP 604) are two origins of one idea
_UNIONS = (Union, types.UnionType)


class FieldError(ValueError):
    """A value a field's own check rejects (raised from ``__post_init__``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class Invalid(Exception):
    """Validation failed: ``errors`` holds (dotted location as the user spells it, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in errors))
        self.errors = errors


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def _is_dataclass_type(tp: Any) -> TypeGuard[type]:
    """Whether ``tp`` is a dataclass (the class, not an instance of one)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _aliases(cls: type) -> dict[str, str]:
    return getattr(cls, "__aliases__", {})


def _normalise(tp: Any, data: Any) -> Any:
    """Rename user spellings (``batch-tolerance``) to field names, all the way down."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if _is_dataclass_type(tp) and isinstance(data, dict):
        back = {alias: name for name, alias in _aliases(tp).items()}
        hints = _hints(tp)
        out = {}
        for k, v in data.items():
            name = back.get(k, k)
            out[name] = _normalise(hints[name], v) if name in hints else v
        return out
    if origin in _UNIONS:
        for a in args:
            if _is_dataclass_type(a) and isinstance(data, dict):
                return _normalise(a, data)
        return data
    if origin in (list, tuple) and isinstance(data, list) and args:
        return [_normalise(args[0], x) for x in data]
    if origin is dict and isinstance(data, dict) and len(args) == 2:
        return {k: _normalise(args[1], v) for k, v in data.items()}
    return data


def build(cls: type, data: dict[str, Any]) -> Any:
    """An instance of ``cls`` from trusted data (nested dicts become the nested dataclasses)."""
    return _build(cls, _normalise(cls, data))


def _build(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    if _is_dataclass_type(tp):
        if isinstance(data, tp):
            return data
        hints = _hints(tp)
        return tp(**{k: _build(hints[k], v) for k, v in data.items()})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in _UNIONS:
        for a in args:
            if _is_dataclass_type(a) and isinstance(data, dict):
                return _build(a, data)
        rest = [a for a in args if a is not type(None)]
        return _build(rest[0], data) if len(rest) == 1 else data  # ``X | None``: built as an X
    if origin is list and args:
        return [_build(args[0], x) for x in data]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], x) for x in data)
        return tuple(_build(a, x) for a, x in zip(args, data, strict=True)) if args else tuple(data)
    if origin is dict and len(args) == 2:
        return {k: _build(args[1], v) for k, v in data.items()}
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    return data


@functools.cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def validate(cls: type, data: Any) -> Any:
    """An instance of ``cls`` from user data, validated by pydantic; raises :class:`Invalid`."""
    from pydantic import ValidationError

    try:
        return _adapter(cls).validate_python(_normalise(cls, data))
    except ValidationError as e:
        described = [_describe(cls, err) for err in e.errors()]
        # a union (``str | PolicyRule``): report the branch the input was meant for, not "should be a string"
        unions = {pre for _, _, pre in described if pre is not None}
        keep = [
            (loc, msg)
            for loc, msg, pre in described
            if pre is None
            or not (
                msg.startswith("Input should be a valid")
                and any(p == pre for _, m, p in described if not m.startswith("Input should be a valid"))
            )
        ]
        raise Invalid(keep if unions else [(loc, msg) for loc, msg, _ in described]) from None


def unknown_key(name: str, valid: list[str]) -> str:
    """``unknown key `selec`; did you mean `select`? (valid keys: ...)``: what to write instead of a key
    that is not one of ``valid``."""
    import difflib

    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"unknown key `{name}`{hint} (valid keys: {', '.join(valid)})"


def _keys(tp: Any) -> list[str]:
    """The keys a user may write in a table of dataclass ``tp`` (as spelled: ``batch-tolerance``)."""
    return [_aliases(tp).get(f.name, f.name) for f in dataclasses.fields(tp) if f.init and not f.name.startswith("_")]


def _describe(cls: type, err: ErrorDetails) -> tuple[str, str, str | None]:
    """(location as the user spells it, message, the location of the union it went through) for one error."""
    loc: list[str] = []
    union_at = None
    tp: Any = cls
    owner: Any = None  # the dataclass whose table holds the last key
    for part in err["loc"]:
        name = str(part)
        if typing.get_origin(tp) in _UNIONS:  # pydantic names the branch it tried: not part of the user's key
            union_at = ".".join(loc)
            tp = next((a for a in typing.get_args(tp) if getattr(a, "__name__", "") == name), None)
            continue
        if _is_dataclass_type(tp):
            owner = tp
            loc.append(_aliases(tp).get(name, name))
            tp = _hints(tp).get(name)
        else:
            loc.append(name)
            args = typing.get_args(tp)
            tp = args[-1] if args else None
    msg = err["msg"]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        owner = tp if _is_dataclass_type(tp) else None
        loc.append(_aliases(owner).get(cause.field, cause.field) if owner else cause.field)
        msg = f"Value error, {cause}"
    if err.get("type") in ("unexpected_keyword_argument", "extra_forbidden") and owner is not None and loc:
        msg = unknown_key(loc[-1], [k for k in _keys(owner) if k not in INTERNAL_KEYS])
    return ".".join(loc), msg, union_at
