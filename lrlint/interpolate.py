"""OmegaConf interpolation on a (merged) Document: ``${data.batch_size}``, ``${..x}``, ``${oc.env:X,default}``.

Resolved where the value is static (a key of the same composed config); otherwise the Value becomes
UNKNOWN with the reason (an environment variable, a resolver that runs at run time, a missing key, a
cycle), so no check guesses at it. A resolved Value keeps the span where the interpolation is written
(``provenance`` INTERPOLATED, ``target`` the key it read).
"""

from __future__ import annotations

import re
from dataclasses import replace

from lrlint import keypaths
from lrlint.regex import pattern
from lrlint.values import INTERPOLATED, STRING, UNKNOWN, Document, Value

_FULL = r"^\$\{([^${}]*)\}$"
_INNER = r"\$\{([^${}]*)\}"
MAX_HOPS = 32


def _target(key: str, expr: str) -> str:
    """The absolute key an interpolation names, relative ones (``.x``, ``..x``) from ``key``'s parent."""
    expr = re.sub(r"\[(\w+)\]", r".\1", expr.strip())
    if not expr.startswith("."):
        return expr
    dots = len(expr) - len(expr.lstrip("."))
    scope = keypaths.parent(key)
    for _ in range(dots - 1):
        scope = keypaths.parent(scope)
    return keypaths.join(scope, expr[dots:])


def _lookup(key: str, expr: str, values: dict[str, Value], seen: tuple[str, ...]) -> tuple[Value | None, str]:
    """(the Value an interpolation resolves to, or None with why)."""
    expr = expr.strip()
    m = re.match(r"^([A-Za-z_][\w.]*)\s*:(.*)$", expr)
    if m:  # a resolver
        name, args = m.group(1), m.group(2)
        if name in ("oc.env", "env"):
            var, _, default = args.partition(",")
            d = f" (default {default.strip()})" if default else ""
            return None, f"${{{expr}}} reads environment variable {var.strip()}{d}, known only at run time"
        return None, f"${{{expr}}} uses the {name} resolver, which runs at run time"
    target = _target(key, expr)
    if target in seen or len(seen) > MAX_HOPS:
        return None, f"${{{expr}}}: interpolation cycle through {' -> '.join(seen + (target,))}"
    v = values.get(target)
    if v is None:
        if any(k.startswith(target + ".") for k in values):
            return None, f"${{{expr}}} refers to the mapping {target}, not a value"
        return None, f"${{{expr}}}: {target} is not in the config"
    if isinstance(v.value, str) and "${" in v.value:
        inner = pattern(_FULL).match(v.value.strip())
        if inner:
            return _lookup(target, inner.group(1), values, seen + (target,))
        return None, f"${{{expr}}}: {target} is a string interpolation"
    if not v.known:
        return None, v.why or f"{target} is not known statically"
    return v, ""


def _substitute(key: str, text: str, values: dict[str, Value]) -> tuple[str, list[str]]:
    """``text`` with each ``${...}`` inside replaced by its value; the reasons of those left unresolved."""
    whys: list[str] = []

    def sub(mm: re.Match[str]) -> str:
        t, why = _lookup(key, mm.group(1), values, (key,))
        if t is None:
            whys.append(why)
            return mm.group(0)
        return str(t.value)

    return pattern(_INNER).sub(sub, text), whys


def resolve(values: dict[str, Value]) -> dict[str, Value]:
    out = {}
    for key, v in values.items():
        if not (isinstance(v.value, str) and "${" in v.value):
            out[key] = v
            continue
        text = v.value.strip()
        m = pattern(_FULL).match(text)
        if m:
            t, why = _lookup(key, m.group(1), values, (key,))
            if t is None:
                out[key] = replace(v, provenance=UNKNOWN, why=why)
            else:
                out[key] = replace(
                    v, value=t.value, provenance=INTERPOLATED, raw=t.raw, why=f"{text} = {t.key}", target=t.key
                )
            continue
        # a string with interpolations inside: a string, resolved when every part is static
        s, whys = _substitute(key, v.value, values)
        if whys:
            out[key] = replace(v, provenance=UNKNOWN, why=whys[0])
        else:
            out[key] = replace(v, value=s, provenance=STRING if v.provenance == STRING else INTERPOLATED, why=f"{text}")
    return out


def resolve_document(doc: Document) -> Document:
    if not any(isinstance(v.value, str) and "${" in v.value for v in doc.values.values()):
        return doc
    return Document(
        doc.path, doc.format, resolve(doc.values), doc.index, doc.lines, doc.comments, doc.problems, doc.variant
    )
