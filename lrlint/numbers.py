"""The one number formatter: fewest digits for 4 significant digits, in a literal's own style; a suggested
value (an lr a rule computed) at the precision of the literal it replaces."""

from __future__ import annotations

import math
import re

from lrlint.regex import pattern

SIG_DIGITS = 4

# the range a batch part or an lr is computed with: products and ratios of a few such numbers stay finite
SMALLEST = 1e-30
LARGEST = 1e30


def unusable(x: float) -> str:
    """Why ``x`` cannot be a batch part or an lr (empty when it can): NaN, infinite, zero or negative, or
    outside SMALLEST..LARGEST (``5e-324`` would make a batch ratio infinite)."""
    if math.isnan(x):
        return "not a number (NaN)"
    if math.isinf(x):
        return "infinite"
    if x <= 0:
        return "zero" if x == 0 else "negative"
    if x < SMALLEST:
        return "below 1e-30"
    if x > LARGEST:
        return "past 1e30"
    return ""


_SCI = r"^(?P<sign>[+-]?)(?P<mant>[0-9_]*\.?[0-9_]*)(?P<e>[eE])(?P<esign>[+-]?)(?P<exp>[0-9]+)$"


def _digits(x: float, sig: int = SIG_DIGITS) -> tuple[str, int]:
    """Significant digits (no trailing zeros) and exponent of ``x`` rounded to ``sig`` digits."""
    mant, _, exp = f"{abs(x):.{sig - 1}e}".partition("e")
    digits = mant.replace(".", "").rstrip("0") or "0"
    return digits, int(exp)


def plain(x: float | int, sig: int = SIG_DIGITS) -> str:
    """A number for messages: ``0.4``, ``4e-05`` -> ``4e-5``, ``256``, ``1.5``."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, int) and abs(x) >= 10**15:
        x = float(x) if abs(x) < 1e308 else (math.inf if x > 0 else -math.inf)
        if math.isinf(x):
            return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    if x == 0:
        return "0"
    digits, exp = _digits(x, sig)
    if -4 <= exp < 6:
        return _decimal(x, digits, exp)
    return _scientific(x, digits, exp, dot=False, esign="", pad=0, letter="e")


def fixed(x: float, sig: int) -> str:
    """Exactly ``sig`` significant digits, trailing zeros kept, for columns of measured figures:
    ``fixed(0.6, 2) == "0.60"``, ``fixed(2, 3) == "2.00"``, ``fixed(0.004517, 3) == "0.00452"``;
    beyond the decimal range of :func:`plain` scientific (``fixed(4.5e-5, 2) == "4.5e-5"``)."""
    if x == 0:
        return "0." + "0" * (sig - 1) if sig > 1 else "0"
    mant, _, e = f"{abs(x):.{sig - 1}e}".partition("e")
    digits, exp = mant.replace(".", ""), int(e)
    sign = "-" if x < 0 else ""
    if not -4 <= exp < 6:
        return f"{sign}{mant}e{exp}"
    if exp >= sig - 1:
        return sign + digits + "0" * (exp - sig + 1)
    if exp >= 0:
        return f"{sign}{digits[: exp + 1]}.{digits[exp + 1 :]}"
    return f"{sign}0.{'0' * (-exp - 1)}{digits}"


def _decimal(x: float, digits: str, exp: int) -> str:
    from decimal import Decimal  # only when a number is written (imported lazily: a clean run never needs it)

    s = format(Decimal(f"{digits[0]}.{digits[1:] or '0'}e{exp}"), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return ("-" if x < 0 else "") + s


def _scientific(x: float, digits: str, exp: int, *, dot: bool, esign: str, pad: int, letter: str) -> str:
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else (".0" if dot else ""))
    sign = "-" if exp < 0 else ("+" if esign else "")
    return ("-" if x < 0 else "") + f"{mant}{letter}{sign}{str(abs(exp)).zfill(pad)}"


MIN_SUGGESTED_DIGITS = 2
MAX_ROUNDING = 0.025  # a suggested value is at most this far (relative) from the exact one


def _sig_of(template: str) -> int | None:
    """The significant digits a number literal is written with (``2e-5``: 1, ``0.0125``: 3, ``1.0e-4``: 2);
    None for an integer literal or a text that is no number."""
    body = template.strip().strip("'\"").lstrip("+-")
    mant = re.split(r"[eE]", body, maxsplit=1)[0].replace("_", "")
    if not mant or not any(ch.isdigit() for ch in mant) or ("." not in mant and not re.search(r"[eE]", body)):
        return None
    digits = mant.replace(".", "").lstrip("0")
    return max(len(digits), 1)


def suggested_digits(x: float, template: str | None) -> int:
    """The significant digits to suggest ``x`` with in place of the literal ``template``: the literal's
    own (at least two), more only when rounding would move ``x`` by more than 2.5%."""
    own = _sig_of(template) if template else None
    if own is None or x == 0 or not math.isfinite(x):
        return SIG_DIGITS
    sig = max(MIN_SUGGESTED_DIGITS, own)
    while sig < SIG_DIGITS and abs(float(f"{x:.{sig - 1}e}") - x) > MAX_ROUNDING * abs(x):
        sig += 1
    return sig


def suggest(x: float, template: str | None, yaml_plain: bool = False) -> str:
    """A computed value (the lr a rule expects) written like ``template`` and rounded to its precision:
    ``suggest(5.657e-5, "2e-5") == "5.7e-5"``. The exact value stays in the JSON data."""
    return format_like(x, template, yaml_plain, sig=suggested_digits(x, template))


def format_like(x: float, template: str | None, yaml_plain: bool = False, sig: int = SIG_DIGITS) -> str:
    """Write ``x`` in the style of the literal ``template`` (quotes kept, scientific stays scientific).

    A template mantissa with a dot keeps its dot (``1.0e-5`` -> ``4.0e-5``) so that PyYAML still
    reads a float; an explicit exponent sign stays explicit; exponent zero padding is kept.
    With ``yaml_plain`` (an unquoted YAML scalar), a dotless template such as ``3e-4``, which
    PyYAML reads as a string, gets a dotless mantissa too (``4243e-7``) so the type stays a string.
    """
    if not template or not math.isfinite(x):
        return plain(x, sig)
    quote = ""
    body = template.strip()
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "'\"":
        quote, body = body[0], body[1:-1]
    if x == 0:
        return f"{quote}0{quote}"
    digits, exp = _digits(x, sig)
    m = pattern(_SCI).match(body)
    if m and yaml_plain and not quote and "." not in m["mant"] and len(digits) > 1:
        exp -= len(digits) - 1
        sign = "-" if exp < 0 else ("+" if m["esign"] else "")
        out = (
            "-" if x < 0 else ""
        ) + f"{digits}{m['e']}{sign}{str(abs(exp)).zfill(len(m['exp']) if m['exp'].startswith('0') else 0)}"
    elif m:
        out = _scientific(
            x,
            digits,
            exp,
            dot="." in m["mant"],
            esign=m["esign"],
            pad=len(m["exp"]) if m["exp"].startswith("0") else 0,
            letter=m["e"],
        )
    else:
        out = _decimal(x, digits, exp)
        if "." in body and "." not in out and not quote:
            out += ".0"  # a float literal stays a float literal
    return f"{quote}{out}{quote}"
