"""Mutations of config files for the fuzz harness: byte and line edits plus tokens that have broken config
readers (odd numbers, YAML tags and aliases, deep nesting, odd line breaks, coding cookies). Every mutation
draws from one ``random.Random``, so a run is replayed from its seed (hypothesis hands one in and shrinks it)."""

from __future__ import annotations

import random

TOKENS = [
    # numbers that are not positive finite ones
    ".inf",
    "-.inf",
    ".nan",
    "1e999",
    "-1e999",
    "5e-324",
    "1e-400",
    "-0",
    "0",
    "-1",
    "NaN",
    "Infinity",
    "-Infinity",
    "4" * 400,
    "7" * 5000,
    "0x10",
    "1_000",
    "+.5",
    "1e-5",
    "2**10000",
    "10**10**10",
    # YAML structure and tags
    "!!bool maybe",
    "!!int abc",
    "!!float x",
    "!!python/object/apply:os.system ['true']",
    "!include x.yaml",
    "&a ",
    "*a",
    "<<: *a",
    "? ",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "|",
    ">-",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "'",
    '"',
    "\\",
    "#",
    "\t",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "\u202e",
    "\r",
    "\r\n",
    "\x85",
    "\u2028",
    # inheritance and references
    "_BASE_: ../missing.yaml\n",
    "_base_ = ['./nowhere.py']\n",
    "defaults:\n  - missing\n",
    "${a.b}",
    "${oc.env:X}",
    "# lrlint: reference batch=0 lr=inf\n",
    "# lrlint: reference batch=1e999\n",
    "# lrlint: ignore[LR001]",
    "# -*- coding: rot13 -*-\n",
    "# -*- coding: uu -*-\n",
    # training keys
    "lr",
    "batch_size",
    "learning_rate",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "IMS_PER_BATCH",
    "BASE_LR",
    "devices",
    "num_nodes",
    "auto_scale_lr",
    "warmup",
    # Python shapes
    "-" * 300 + "1",
    "not " * 300 + "x",
    "lambda: " * 200 + "0",
    "f()" * 300,
    "(" * 200,
    ")" * 200,
    "dict(" * 150,
    "await " * 200 + "x",
    " if x else " * 200,
    "+1" * 2000,
    "import os\n",
    "exec('x')",
]


def mutate(data: bytes, rnd: random.Random, count: int | None = None) -> bytes:
    """``data`` after 1-4 (or ``count``) random edits."""
    for _ in range(count if count is not None else rnd.randint(1, 4)):
        data = rnd.choice(MUTATIONS)(data, rnd)
    return data


def _at(data: bytes, rnd: random.Random) -> int:
    """A position: often a line start or just after ': ' / '=' (where a value goes)."""
    if data and rnd.random() < 0.6:
        marks = [i + 1 for i, b in enumerate(data) if b in b"\n:="]
        if marks:
            return min(rnd.choice(marks) + (1 if rnd.random() < 0.5 else 0), len(data))
    return rnd.randint(0, len(data))


def insert_token(data: bytes, rnd: random.Random) -> bytes:
    i = _at(data, rnd)
    return data[:i] + rnd.choice(TOKENS).encode("utf-8") + data[i:]


def replace_value(data: bytes, rnd: random.Random) -> bytes:
    """A value after ':' or '=' replaced by a token (``lr: 0.1`` -> ``lr: .nan``)."""
    lines = data.split(b"\n")
    cands = [n for n, line in enumerate(lines) if b":" in line or b"=" in line]
    if not cands:
        return insert_token(data, rnd)
    n = rnd.choice(cands)
    line = lines[n]
    cut = max(line.find(b":"), line.find(b"=")) + 1
    lines[n] = line[:cut] + b" " + rnd.choice(TOKENS).encode("utf-8")
    return b"\n".join(lines)


def flip_byte(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return bytes([rnd.randint(0, 255)])
    i = rnd.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rnd.randint(0, 7))]) + data[i + 1 :]


def random_bytes(data: bytes, rnd: random.Random) -> bytes:
    i = _at(data, rnd)
    return data[:i] + bytes(rnd.randint(0, 255) for _ in range(rnd.randint(1, 16))) + data[i:]


def delete_range(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return data
    i = rnd.randrange(len(data))
    return data[:i] + data[i + rnd.randint(1, 64) :]


def duplicate_lines(data: bytes, rnd: random.Random) -> bytes:
    """Some lines repeated, now and then many times (large files, many values, deep repetition)."""
    lines = data.split(b"\n")
    i = rnd.randrange(len(lines))
    j = min(len(lines), i + rnd.randint(1, 5))
    times = rnd.choice([2, 3, 10, 200, 3000])
    return b"\n".join(lines[:j] + lines[i:j] * times + lines[j:])


def swap_lines(data: bytes, rnd: random.Random) -> bytes:
    lines = data.split(b"\n")
    if len(lines) > 1:
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def reindent(data: bytes, rnd: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rnd.randrange(len(lines))
    lines[i] = b" " * rnd.choice([0, 1, 2, 3, 4, 8, 100]) + lines[i].lstrip()
    return b"\n".join(lines)


def line_breaks(data: bytes, rnd: random.Random) -> bytes:
    """Every line break made CR, CRLF, or a Unicode one."""
    return data.replace(b"\n", rnd.choice([b"\r", b"\r\n", b"\n\n", "\u2028".encode()]))


def nest(data: bytes, rnd: random.Random) -> bytes:
    depth = rnd.choice([10, 100, 1000, 5000])
    opening, closing = rnd.choice([(b"[", b"]"), (b"{a: ", b"}"), (b"dict(a=", b")"), (b"(", b")")])
    i = _at(data, rnd)
    return data[:i] + opening * depth + b"1" + closing * rnd.choice([0, depth]) + data[i:]


def splice(data: bytes, rnd: random.Random) -> bytes:
    """The file cut at one point and glued to a later part of itself."""
    if len(data) < 2:
        return data
    i, j = sorted(rnd.sample(range(len(data)), 2))
    return data[:i] + data[j:] + data[i:j]


MUTATIONS = [
    insert_token,
    insert_token,
    replace_value,
    replace_value,
    replace_value,
    flip_byte,
    random_bytes,
    delete_range,
    duplicate_lines,
    swap_lines,
    reindent,
    line_breaks,
    nest,
    splice,
]
