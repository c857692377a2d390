"""JSON source: the strict position-keeping scanner agrees with json.loads and keeps exact spans."""

from __future__ import annotations

import codecs
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, SourceError, decode
from lrlint.sources.json_source import parse
from lrlint.values import LITERAL, STRING


def doc_of(data: bytes | str, limits: Limits = Limits(), path: str = "ds_config.json"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    (doc,) = parse(decode(path, "json", data), limits)
    for v in doc.values.values():
        assert data[v.span.start : v.span.end] == v.raw.encode("utf-8"), v
    return doc


def loads_flat(text: str) -> dict:
    """json.loads' view, flattened the way lrlint flattens."""
    out: dict = {}
    stack = [("", json.loads(text))]
    while stack:
        path, obj = stack.pop()
        if isinstance(obj, dict):
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in obj.items())
        elif isinstance(obj, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(obj))
        elif path:
            out[path] = obj
    return out


DEEPSPEED = """{
  "train_batch_size": "auto",
  "train_micro_batch_size_per_gpu": 4,
  "gradient_accumulation_steps": 8,
  "optimizer": {
    "type": "AdamW",
    "params": {"lr": 3e-5, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}
  },
  "scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": 500}},
  "fp16": {"enabled": false},
  "zero_optimization": {"stage": 2, "offload_optimizer": null},
  "steps_per_print": 10
}
"""


def test_deepspeed_config_values_types_and_provenance():
    doc = doc_of(DEEPSPEED)
    assert doc.format == "json" and doc.comments == {} and doc.problems == [] and doc.index == 0
    v = doc.values
    assert {k: x.value for k, x in v.items()} == loads_flat(DEEPSPEED)
    assert list(v)[:4] == [
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "optimizer.type",
    ]
    assert (v["train_batch_size"].value, v["train_batch_size"].provenance, v["train_batch_size"].raw) == (
        "auto",
        STRING,
        '"auto"',
    )
    assert (v["train_micro_batch_size_per_gpu"].value, v["train_micro_batch_size_per_gpu"].provenance) == (4, LITERAL)
    lr = v["optimizer.params.lr"]
    assert (lr.value, type(lr.value), lr.raw, lr.provenance) == (3e-5, float, "3e-5", LITERAL)
    assert (lr.span.line, lr.span.col, lr.span.end_col) == (7, 22, 26)
    assert v["optimizer.params.betas.1"].value == 0.999
    assert v["fp16.enabled"].value is False and v["zero_optimization.offload_optimizer"].value is None
    assert type(v["zero_optimization.stage"].value) is int


def test_numbers_like_json_loads():
    text = '{"a": 0, "b": -0, "c": -0.0, "d": 1E+2, "e": 12345678901234567890, "f": 1e400, "g": 2.50}'
    v = doc_of(text).values
    assert {k: x.value for k, x in v.items()} == loads_flat(text)
    assert type(v["b"].value) is int and math.copysign(1, v["c"].value) == -1
    assert v["f"].value == math.inf and v["g"].raw == "2.50"


def test_nan_and_infinity_are_accepted_like_json_loads():
    v = doc_of('{"a": NaN, "b": Infinity, "c": -Infinity}').values
    assert math.isnan(v["a"].value) and v["b"].value == math.inf and v["c"].value == -math.inf
    assert v["c"].raw == "-Infinity"


def test_strings_escapes_and_non_ascii_spans():
    text = '{"name": "caf\\u00e9", "é": "ü😀", "q": "a\\"b", "k": 1}'
    doc = doc_of(text)
    v = doc.values
    assert v["name"].value == "café" and v["name"].raw == '"caf\\u00e9"'
    assert v["é"].value == "ü😀" and v["é"].raw == '"ü😀"'
    assert v["q"].value == 'a"b'
    k = v["k"]
    assert k.span.start == len('{"name": "caf\\u00e9", "é": "ü😀", "q": "a\\"b", "k": '.encode())
    assert k.span.col == len('{"name": "caf\\u00e9", "é": "ü😀", "q": "a\\"b", "k": ') + 1


def test_duplicate_keys_last_wins_including_nested():
    text = '{"a": {"x": 1, "y": 2}, "b": 1, "a": 3, "b": {"z": 4}}'
    v = doc_of(text).values
    assert {k: x.value for k, x in v.items()} == loads_flat(text) == {"a": 3, "b.z": 4}
    assert v["a"].span.col == 38


def test_top_level_array_and_scalar():
    v = doc_of('[1, [2, {"x": "y"}], []]').values
    assert {k: x.value for k, x in v.items()} == {"0": 1, "1.0": 2, "1.1.x": "y"}
    assert doc_of('"just a string"').values == {}
    assert doc_of("42").values == {}
    assert doc_of("{}").values == {} and doc_of("[]").values == {}


def test_empty_containers_give_no_leaves():
    v = doc_of('{"a": {}, "b": [], "c": [[]], "d": 1}').values
    assert list(v) == ["d"]


def test_bom_and_crlf_spans_are_byte_exact():
    data = codecs.BOM_UTF8 + b'{\r\n  "lr": 0.1,\r\n  "name": "\xc3\xa9t\xc3\xa9"\r\n}\r\n'
    doc = doc_of(data)
    lr = doc.values["lr"]
    assert (lr.span.start, lr.span.end) == (3 + 11, 3 + 14)
    assert (lr.span.line, lr.span.col) == (2, 9)
    name = doc.values["name"]
    assert (name.span.line, name.span.col, name.value) == (3, 11, "été")


def test_pretty_printed_file_matches_json_loads_everywhere():
    obj = {"a": [1, 2.5, {"b": None, "c": [True, False]}], "d": {"e": "f", "g": {"h": -1e-3}}, "ü": "é"}
    for indent in (None, 2, "\t"):
        text = json.dumps(obj, indent=indent, ensure_ascii=False)
        assert {k: x.value for k, x in doc_of(text).values.items()} == loads_flat(text)


@pytest.mark.parametrize(
    "text,reason,line,col",
    [
        ("", "empty JSON document", 1, 1),
        ("  \n\t", "empty JSON document", 1, 1),
        ('{"a": 1,}', "Illegal trailing comma before end of object", 1, 9),
        ("[1, 2,]", "Illegal trailing comma before end of array", 1, 7),
        ('{"a" 1}', "Expecting ':' delimiter", 1, 6),
        ("{a: 1}", "Expecting property name enclosed in double quotes", 1, 2),
        ("[1 2]", "Expecting ',' delimiter", 1, 4),
        ('{"a": 1}\n}', "Extra data", 2, 1),
        ('{"a": tru}', "Expecting value", 1, 7),
        ('{"a": "x\ny"}', "Invalid control character", 1, 9),
        ('{"a": "\\q"}', "Invalid \\escape", 1, 8),
        ('{"a": "open', "Unterminated string", 1, 7),
        ('{"a": [1, 2', "Expecting ',' delimiter", 1, 12),
        ('{\n  "lr": 0.1 // comment\n}', "Expecting ',' delimiter", 2, 13),
        ('{"a": 01}', "Expecting ',' delimiter", 1, 8),
    ],
)
def test_malformed_json_is_a_parse_error_with_position(text, reason, line, col):
    with pytest.raises(SourceError) as e:
        doc_of(text)
    err = e.value
    assert (err.code, err.reason, err.line, err.col) == (PARSE_ERROR, reason, line, col)
    if text.strip():  # json.loads rejects it too, at the same place
        with pytest.raises(json.JSONDecodeError) as je:
            json.loads(text)
        assert (je.value.lineno, je.value.colno) == (line, col)


def test_error_column_counts_characters_after_non_ascii():
    with pytest.raises(SourceError) as e:
        doc_of('{"é😀": 1 "x"}')
    assert (e.value.line, e.value.col) == (1, 10)


def test_deep_nesting_is_a_limit_not_a_recursion_error():
    with pytest.raises(SourceError) as e:
        doc_of("[" * 100_000 + "]" * 100_000)
    assert e.value.code == LIMIT_EXCEEDED and (e.value.line, e.value.col) == (1, 201)
    text = '{"a": ' * 5 + "1" + "}" * 5
    assert list(doc_of(text, Limits(max_depth=5)).values) == ["a.a.a.a.a"]
    with pytest.raises(SourceError) as e:
        doc_of(text, Limits(max_depth=4))
    assert e.value.code == LIMIT_EXCEEDED and e.value.col == 25


def test_too_many_values_is_a_limit():
    text = json.dumps(list(range(50)))
    assert len(doc_of(text, Limits(max_values=50)).values) == 50
    doc = doc_of(text, Limits(max_values=49))  # read up to the limit, and said so
    assert list(doc.values) == [str(i) for i in range(49)]
    assert [(p.code, p.col) for p in doc.problems] == [(LIMIT_EXCEEDED, text.rindex("49") + 1)]


def test_huge_integer_is_skipped_with_a_limit_problem_not_a_crash():
    doc = doc_of('{"a": ' + "9" * 5000 + ', "b": 1}')
    assert {k: v.value for k, v in doc.values.items()} == {"b": 1}
    assert [(p.code, p.line, p.col, p.reason) for p in doc.problems] == [
        (LIMIT_EXCEEDED, 1, 7, "an integer of 5000 characters is past what lrlint reads; value skipped")
    ]


_chars = st.characters(blacklist_categories=("Cs",))  # a decoded file holds no lone surrogates
_json_scalars = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(), st.text(_chars, max_size=10)
)
_json_keys = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="."), min_size=1, max_size=6)
_json_trees = st.recursive(
    _json_scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_json_keys, kids, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(tree=_json_trees, indent=st.sampled_from([None, 0, 2, "\t"]), ascii_only=st.booleans())
def test_any_json_reads_back_like_json_loads(tree, indent, ascii_only):
    """json.dumps output of any shape: values equal json.loads', spans exact, strings are STRING."""
    text = json.dumps(tree, indent=indent, ensure_ascii=ascii_only)
    doc = doc_of(text)
    assert {k: x.value for k, x in doc.values.items()} == loads_flat(text)
    for x in doc.values.values():
        assert x.provenance == (STRING if isinstance(x.value, str) else LITERAL)
