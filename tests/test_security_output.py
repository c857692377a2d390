"""Output hygiene: a file name or a key with control characters, a line break, a bidirectional override
or bytes that are not UTF-8 is escaped in every format; no format carries raw control characters or
lone surrogates, and the XML and JSON documents parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="file names with any bytes")

FORMATS = ["full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit"]
BAD = "train:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
REF = "# lrlint: reference batch=256 lr=0.1\n"
NAMES = {
    b"esc\x1b[31m\x07.yaml": "esc\\x1b[31m\\x07.yaml",
    b"caf\xe9.yaml": "caf\\xe9.yaml",
    b"new\nline.yaml": "new\\nline.yaml",
    "rtl\u202eelif.yaml".encode(): "rtl\\u202eelif.yaml",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    d.mkdir()
    for raw in NAMES:
        with open(os.path.join(os.fsencode(d), raw), "w") as fh:
            fh.write(REF + BAD)
    # a base named with an escape sequence: its name is in the LR906 message
    (d / "key.yaml").write_text('_BASE_: "\\e]0;pwned\\a.yaml"\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n')
    return tmp_path


def run(cwd: Path, fmt: str) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    p = subprocess.run(
        [sys.executable, "-m", "lrlint", "check", "--isolated", "--output-format", fmt, "d"],
        cwd=cwd,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert p.returncode == 1, p.stderr
    assert b"internal error" not in p.stderr, p.stderr
    return p.stdout


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_escapes_names_and_keys(tree, fmt):
    out = run(tree, fmt)
    text = out.decode("utf-8")  # valid UTF-8: no raw byte of a non-UTF-8 name
    assert not any(c in text for c in "\x1b\x07\u202e"), text
    if fmt in ("json", "sarif", "gitlab"):
        strings = list(_strings(json.loads(text)))
    elif fmt == "json-lines":
        strings = [s for line in text.splitlines() for s in _strings(json.loads(line))]
    elif fmt == "junit":
        root = ET.fromstring(out)  # expat refuses control characters: the document must parse
        strings = [v for e in root.iter() for v in [*e.attrib.values(), e.text or ""]]
    else:
        strings = text.splitlines()
        assert all(line.isprintable() for line in strings), [x for x in strings if not x.isprintable()]
    for s in strings:
        s.encode("utf-8")  # no lone surrogate
        assert not any(c in s for c in "\x1b\x07\u202e"), s
    joined = "\n".join(strings)
    for shown in NAMES.values():
        if fmt == "sarif":
            continue  # URIs, below
        assert shown in joined, (shown, joined[:2000])


def test_sarif_uris_are_percent_encoded(tree):
    doc = json.loads(run(tree, "sarif"))
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"])
    assert uris == [
        "d/caf%E9.yaml",
        "d/esc%1B%5B31m%07.yaml",
        "d/key.yaml",
        "d/new%0Aline.yaml",
        "d/rtl%E2%80%AEelif.yaml",
    ]


def test_github_annotations_carry_escaped_names(tree):
    lines = run(tree, "github").decode().splitlines()
    assert any(x.startswith("::error file=d/caf\\xe9.yaml,line=3,") for x in lines), lines
    assert any(x.startswith("::error file=d/new\\nline.yaml,line=3,") for x in lines), lines
