"""Bad input never crashes: each problem is a SourceError with an LR9xx code, a 1-based position and a reason.

Fatal problems raise; non-fatal ones (an unsafe tag in one node) land in
``Document.problems`` while the rest of the document is still analyzed.
"""

from __future__ import annotations

import codecs
import os
import time
import tracemalloc

import pytest
import yaml

from lrlint.sources import (
    LIMIT_EXCEEDED,
    PARSE_ERROR,
    TOO_LARGE,
    UNREADABLE,
    UNSAFE_TAG,
    Limits,
    SourceError,
    decode,
    parse,
    read,
)
from lrlint.sources.yaml_source import parse_with

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if getattr(yaml, "__with_libyaml__", False) else [])


@pytest.fixture(params=LOADERS, ids=lambda c: c.__name__)
def loader(request):
    return request.param


def yaml_docs(text: str, loader, limits: Limits = Limits()):
    return parse_with(decode("cfg.yaml", "yaml", text.encode("utf-8")), limits, loader)


def yaml_error(text: str, loader, limits: Limits = Limits()) -> SourceError:
    with pytest.raises(SourceError) as e:
        yaml_docs(text, loader, limits)
    return e.value


# --- malformed YAML / JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text,problems,line,col",
    [
        # PyYAML's problem text differs between libyaml and the pure parser: both are accepted
        ("lr: 0.1\nkey: [1, 2\nz: 3\n", ("expected ',' or ']'", "did not find expected ',' or ']'"), 3, 2),
        ("a: 1\n b: 2\n", ("mapping values are not allowed",), 2, 3),
        ("a: 'unterminated\n", ("found unexpected end of stream",), 2, 1),
        ("a: b: c\n", ("mapping values are not allowed",), 1, 5),
        ("- x\ny: 1\n", ("expected <block end>", "did not find expected '-' indicator"), 2, 1),
        (
            "\tlr: 1\n",
            ("found character '\\t' that cannot start any token", "found character that cannot start any token"),
            1,
            1,
        ),
    ],
)
def test_malformed_yaml_reports_pyyaml_problem_and_mark(loader, text, problems, line, col):
    err = yaml_error(text, loader)
    assert err.code == PARSE_ERROR
    assert any(err.reason.startswith(p) for p in problems), err.reason
    assert (err.line, err.col) == (line, col)


def test_yaml_error_columns_count_characters_after_non_ascii(loader):
    err = yaml_error("é😀: [1, 2\nz: 3\n", loader)
    assert (err.code, err.line, err.col) == (PARSE_ERROR, 2, 2)
    err = yaml_error("é😀: ü x: 1\n", loader)
    assert (err.line, err.col) == (1, 8)


def test_yaml_control_character_is_a_parse_error_at_its_position(loader):
    # libyaml reports a byte offset here, the pure reader a character offset: both map to the same column
    err = yaml_error("é😀: 1\nb: \x07\n", loader)
    assert err.code == PARSE_ERROR and "#x0007" in err.reason and (err.line, err.col) == (2, 4)


def test_undefined_alias_and_duplicate_anchor(loader):
    err = yaml_error("a: *nope\n", loader)
    assert (err.code, err.reason, err.line, err.col) == (PARSE_ERROR, "found undefined alias 'nope'", 1, 4)
    err = yaml_error("a: &x 1\nb: &x 2\n", loader)
    assert (err.code, err.reason, err.line, err.col) == (PARSE_ERROR, "found duplicate anchor 'x'", 2, 4)


def test_malformed_json_through_the_dispatcher():
    with pytest.raises(SourceError) as e:
        parse(decode("c.json", "json", b'{\n  "lr": 0.1,\n  "bs": \n}\n'), Limits())
    assert (e.value.code, e.value.reason, e.value.line, e.value.col) == (PARSE_ERROR, "Expecting value", 4, 1)


# --- alias bombs and deep nesting ----------------------------------------------------------


def billion_laughs(leaf: str = '"lol"') -> str:
    lines = ["a: &a [" + ", ".join([leaf] * 9) + "]"]
    for i in range(1, 9):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("leaf", ['"lol"', "[]"], ids=["leaves", "empty-collections"])
def test_billion_laughs_is_rejected_fast_and_small(loader, leaf):
    tracemalloc.start()
    t = time.perf_counter()
    try:
        err = yaml_error(billion_laughs(leaf), loader)
    finally:
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert err.code == LIMIT_EXCEEDED and "100000" in err.reason
    assert err.line in range(1, 10)
    assert elapsed < 0.25, elapsed
    assert peak < 5_000_000, peak


def test_aliases_within_the_limit_are_expanded(loader):
    (doc,) = yaml_docs(billion_laughs().split("c:")[0], loader)  # a and b: 9 + 81 leaves
    assert len(doc.values) == 90
    assert doc.values["b.8.8"].span == doc.values["a.8"].span
    err = yaml_error(billion_laughs().split("c:")[0], loader, Limits(max_values=89))
    assert err.code == LIMIT_EXCEEDED


def test_alias_chain_deeper_than_the_limit(loader):
    text = "a0: &a0 {x: 1}\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 400))
    t = time.perf_counter()
    err = yaml_error(text, loader)
    assert err.code == LIMIT_EXCEEDED and "deeper than 200" in err.reason
    assert time.perf_counter() - t < 1.0


@pytest.mark.parametrize(
    "kind",
    ["flow", "unclosed-flow", "compact-sequence", "block-mapping"],
)
def test_deep_nesting_is_a_limit_not_a_crash(loader, kind):
    # PyYAML's own composers recurse: the pure one raises RecursionError near 1,000
    # levels and the C one segfaults near 30,000; lrlint composes iteratively.
    n = 100_000
    text = {
        "flow": "[" * n + "]" * n,
        "unclosed-flow": "[" * n,
        "compact-sequence": "- " * n + "x\n",
        "block-mapping": "".join(" " * i + f"k{i}:\n" for i in range(1000)) + " " * 1000 + "v\n",
    }[kind]
    t = time.perf_counter()
    err = yaml_error(text, loader)
    assert err.code == LIMIT_EXCEEDED and err.reason == "YAML nesting deeper than 200 levels"
    assert time.perf_counter() - t < 2.0
    expect = {"flow": (1, 201), "unclosed-flow": (1, 201), "compact-sequence": (1, 401), "block-mapping": (201, 201)}[
        kind
    ]
    assert (err.line, err.col) == expect


def test_nesting_exactly_at_the_limit_is_fine(loader):
    text = "[" * 5 + "1" + "]" * 5
    (doc,) = yaml_docs(text, loader, Limits(max_depth=5))
    assert list(doc.values) == ["0.0.0.0.0"]
    assert yaml_error(text, loader, Limits(max_depth=4)).code == LIMIT_EXCEEDED


def test_too_many_plain_values(loader):
    text = "".join(f"- {i}\n" for i in range(30))
    assert len(yaml_docs(text, loader, Limits(max_values=30))[0].values) == 30
    (doc,) = yaml_docs(text, loader, Limits(max_values=29))  # read up to the limit, and said so
    assert list(doc.values) == [str(i) for i in range(29)]
    assert [(p.code, p.line) for p in doc.problems] == [(LIMIT_EXCEEDED, 30)]


def test_recursive_aliases_do_not_loop(loader):
    text = "a: &a [1, *a]\nm: &m {x: 2, self: *m}\nn: &n {<<: *n, y: 3}\nafter: 4\n"
    (doc,) = yaml_docs(text, loader)
    assert {k: v.value for k, v in doc.values.items()} == {"a.0": 1, "m.x": 2, "n.y": 3, "after": 4}
    assert [(p.code, p.reason, p.line, p.col) for p in doc.problems] == [
        (LIMIT_EXCEEDED, "recursive YAML alias *a; value skipped", 1, 11),
        (LIMIT_EXCEEDED, "recursive YAML alias *m; value skipped", 2, 20),
    ]


# --- tags --------------------------------------------------------------------------------

UNSAFE = [
    ("!!python/object/apply:os.system ['echo pwned']", "!!python/object/apply:os.system"),
    ("!!python/object:os.system {cmd: ls}", "!!python/object:os.system"),
    ("!!python/name:os.system", "!!python/name:os.system"),
    ("!!python/object/new:subprocess.Popen [[ls]]", "!!python/object/new:subprocess.Popen"),
    ("!<tag:yaml.org,2002:python/object/apply:os.system> [ls]", "!!python/object/apply:os.system"),
]


@pytest.mark.parametrize("node,shown", UNSAFE, ids=[s for _, s in UNSAFE][:4] + ["verbatim"])
def test_unsafe_tags_are_reported_skipped_and_never_constructed(loader, node, shown, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("constructed!")

    monkeypatch.setattr(os, "system", boom)
    text = f"lr: 0.1\nevil: {node}\nbatch: 32\n"
    (doc,) = yaml_docs(text, loader)
    assert {k: v.value for k, v in doc.values.items()} == {"lr": 0.1, "batch": 32}
    (p,) = doc.problems
    assert (p.code, p.reason, p.line, p.col) == (UNSAFE_TAG, f"unsafe YAML tag {shown} is not loaded", 2, 7)


@pytest.mark.parametrize("tag", ["!include", "!ref", "!!custom", "!env"])
def test_custom_tags_are_skipped_with_a_clear_reason(loader, tag):
    text = f"base: {tag} base.yaml\nmodel:\n  cfg: {tag} [a, b]\n  lr: 0.5\n"
    (doc,) = yaml_docs(text, loader)
    assert {k: v.value for k, v in doc.values.items()} == {"model.lr": 0.5}
    shown = tag
    assert [(p.code, p.reason, p.line, p.col) for p in doc.problems] == [
        (UNSAFE_TAG, f"YAML tag {shown} is not supported; value skipped", 1, 7),
        (UNSAFE_TAG, f"YAML tag {shown} is not supported; value skipped", 3, 8),
    ]


def test_alias_of_a_skipped_node_is_skipped_silently(loader):
    text = "a: &x !include other.yaml\nb: *x\nc: {<<: *x, d: 1}\n"
    (doc,) = yaml_docs(text, loader)
    assert {k: v.value for k, v in doc.values.items()} == {"c.d": 1}
    assert len(doc.problems) == 1 and doc.problems[0].line == 1


def test_tagged_mapping_key_skips_its_pair(loader):
    (doc,) = yaml_docs("? !!python/name:os.system\n: 1\nok: 2\n", loader)
    assert list(doc.values) == ["ok"] and doc.problems[0].code == UNSAFE_TAG


def test_bad_standard_scalar_and_bad_merge_are_non_fatal(loader):
    text = "a: !!int abc\nb: !!str [1]\nc: {<<: 5, x: 1}\nd: {[1, 2]: z}\ne: 3\n"
    (doc,) = yaml_docs(text, loader)
    assert {k: v.value for k, v in doc.values.items()} == {"c.x": 1, "e": 3}
    assert [(p.code, p.line) for p in doc.problems] == [
        (PARSE_ERROR, 1),
        (UNSAFE_TAG, 2),
        (PARSE_ERROR, 3),
        (PARSE_ERROR, 4),
    ]
    assert doc.problems[0].reason == "'abc' is not a valid !!int; value skipped"
    assert doc.problems[1].reason == "YAML tag !!str on a sequence is not supported; value skipped"


# --- reading files -----------------------------------------------------------------------


def test_binary_file_is_unreadable(tmp_path):
    p = tmp_path / "model.yaml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(SourceError) as e:
        read("model.yaml", p, "yaml", Limits())
    assert e.value.code == UNREADABLE and "binary" in e.value.reason


def test_non_utf8_file_reports_the_first_bad_byte(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_bytes(b"lr: 0.1\nname: caf\xe9\n")
    with pytest.raises(SourceError) as e:
        read("cfg.yaml", p, "yaml", Limits())
    assert (e.value.code, e.value.line, e.value.col) == (UNREADABLE, 2, 10)
    assert "0xe9" in e.value.reason


def test_file_over_the_size_limit_is_not_read(tmp_path):
    p = tmp_path / "huge.yaml"
    with open(p, "wb") as f:  # sparse: 50 MB without writing 50 MB
        f.truncate(50 * 1024 * 1024)
    t = time.perf_counter()
    with pytest.raises(SourceError) as e:
        read("huge.yaml", p, "yaml", Limits())
    assert e.value.code == TOO_LARGE and "50.0" in e.value.reason
    assert time.perf_counter() - t < 0.1


def test_vanished_path_and_directory_are_unreadable(tmp_path):
    with pytest.raises(SourceError) as e:
        read("gone.yaml", tmp_path / "gone.yaml", "yaml", Limits())
    assert e.value.code == UNREADABLE and "deleted" in e.value.reason
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(SourceError) as e:
        read("d.yaml", tmp_path / "d.yaml", "yaml", Limits())
    assert e.value.code == UNREADABLE


def test_bom_and_crlf_file_read_from_disk_keeps_exact_spans(tmp_path):
    data = codecs.BOM_UTF8 + "a:\r\n  lr: 0.1  # x\r\n  name: 'é'\r\n".encode()
    p = tmp_path / "cfg.yaml"
    p.write_bytes(data)
    src = read("cfg.yaml", p, "yaml", Limits())
    assert src.bom == codecs.BOM_UTF8 and src.data == data
    (doc,) = parse(src, Limits())
    for v in doc.values.values():
        assert data[v.span.start : v.span.end] == v.raw.encode()
    assert (doc.values["a.lr"].span.start, doc.values["a.lr"].span.line, doc.values["a.lr"].span.col) == (3 + 10, 2, 7)
    assert doc.comments == {2: " x"}
    p2 = tmp_path / "c.json"
    p2.write_bytes(codecs.BOM_UTF8 + b'{"lr": 0.1}\r\n')
    (jdoc,) = parse(read("c.json", p2, "json", Limits()), Limits())
    assert jdoc.values["lr"].span.start == 3 + 7
