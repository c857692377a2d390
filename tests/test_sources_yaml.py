"""YAML source: key paths, resolved values, provenance and exact byte spans.

Every test runs on the C loader (libyaml, when PyYAML has it) and on the pure
Python loader: both must give the same values and the same spans.
"""

from __future__ import annotations

import codecs

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlint.sources import Limits, decode
from lrlint.sources.comments import find_comments
from lrlint.sources.yaml_source import DEFAULT_LOADER, parse, parse_with
from lrlint.values import LITERAL, STRING

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if getattr(yaml, "__with_libyaml__", False) else [])


@pytest.fixture(params=LOADERS, ids=lambda c: c.__name__)
def loader(request):
    return request.param


def docs_of(data: bytes | str, loader, limits: Limits = Limits(), path: str = "cfg.yaml"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    src = decode(path, "yaml", data)
    docs = parse_with(src, limits, loader)
    for d in docs:  # the one invariant every span must keep
        for v in d.values.values():
            assert data[v.span.start : v.span.end] == v.raw.encode("utf-8"), v
            assert v.span.path == path
    return docs


def values_of(data, loader, **kw):
    (doc,) = docs_of(data, loader, **kw)
    return doc.values


def test_default_loader_is_c_when_available():
    if getattr(yaml, "__with_libyaml__", False):
        assert DEFAULT_LOADER is yaml.CSafeLoader
    else:
        assert DEFAULT_LOADER is yaml.SafeLoader


def test_plain_scalars_resolve_like_pyyaml_safe_loader(loader):
    text = (
        "lr: 0.1\n"
        "lr_small: 1e-5\n"  # YAML 1.1: a string
        "eps: 1.0e-8\n"  # a float
        "batch: 256\n"
        "hex: 0x10\n"
        "under: 1_000\n"
        "octal: 017\n"
        "neg: -3\n"
        "flag: true\n"
        "yes_flag: yes\n"
        "off_flag: off\n"
        "nothing: ~\n"
        "empty:\n"
        "name: resnet50\n"
        "inf: .inf\n"
        "date: 2024-01-02\n"
    )
    v = values_of(text, loader)
    expect = {
        "lr": (0.1, float, LITERAL),
        "lr_small": ("1e-5", str, STRING),
        "eps": (1e-8, float, LITERAL),
        "batch": (256, int, LITERAL),
        "hex": (16, int, LITERAL),
        "under": (1000, int, LITERAL),
        "octal": (15, int, LITERAL),
        "neg": (-3, int, LITERAL),
        "flag": (True, bool, LITERAL),
        "yes_flag": (True, bool, LITERAL),
        "off_flag": (False, bool, LITERAL),
        "nothing": (None, type(None), LITERAL),
        "empty": (None, type(None), LITERAL),
        "name": ("resnet50", str, STRING),
        "inf": (float("inf"), float, LITERAL),
        "date": ("2024-01-02", str, STRING),  # a timestamp is kept as its text
    }
    assert list(v) == list(expect)
    for key, (value, typ, prov) in expect.items():
        assert v[key].value == value and type(v[key].value) is typ, key
        assert v[key].provenance == prov, key
        assert v[key].key == key
    assert v["lr_small"].number == pytest.approx(1e-5)
    assert safe_load_flat(text) == {k: x.value for k, x in v.items() if k != "date"} | {
        "date": safe_load_flat(text)["date"]
    }


def test_spans_are_exact_with_line_and_column(loader):
    text = "model:\n  lr: 0.1   # base lr\n  name: 'x y'\nsteps: [10, 20]\n"
    v = values_of(text, loader)
    lr = v["model.lr"]
    assert lr.raw == "0.1"
    assert (lr.span.start, lr.span.end) == (13, 16)
    assert (lr.span.line, lr.span.col, lr.span.end_line, lr.span.end_col) == (2, 7, 2, 10)
    name = v["model.name"]
    assert name.raw == "'x y'" and name.value == "x y" and name.provenance == STRING
    assert (name.span.line, name.span.col, name.span.end_col) == (3, 9, 14)
    s1 = v["steps.1"]
    assert (s1.value, s1.raw, s1.span.line, s1.span.col) == (20, "20", 4, 13)


def test_quoted_scalars_keep_quotes_in_raw_and_are_strings(loader):
    text = "a: \"0.1\"\nb: '1e-5'\nc: \"tab\\there\"\nd: 'it''s'\ne: \"multi\n  line\"\n"
    v = values_of(text, loader)
    assert (v["a"].value, v["a"].raw, v["a"].provenance) == ("0.1", '"0.1"', STRING)
    assert v["a"].number == 0.1
    assert (v["b"].value, v["b"].raw) == ("1e-5", "'1e-5'")
    assert (v["c"].value, v["c"].raw) == ("tab\there", '"tab\\there"')
    assert (v["d"].value, v["d"].raw) == ("it's", "'it''s'")
    e = v["e"]
    assert (e.value, e.raw) == ("multi line", '"multi\n  line"')
    assert (e.span.line, e.span.col, e.span.end_line, e.span.end_col) == (5, 4, 6, 8)


def test_flow_style_nested(loader):
    text = "opt: {type: SGD, lr: 0.02, betas: [0.9, 0.999], extra: {nested: [1, {deep: x}]}}\n"
    v = values_of(text, loader)
    assert {k: x.value for k, x in v.items()} == {
        "opt.type": "SGD",
        "opt.lr": 0.02,
        "opt.betas.0": 0.9,
        "opt.betas.1": 0.999,
        "opt.extra.nested.0": 1,
        "opt.extra.nested.1.deep": "x",
    }
    assert v["opt.betas.1"].span.col == 41 and v["opt.betas.1"].raw == "0.999"


def test_block_sequences_of_mappings_give_index_paths(loader):
    text = (
        "param_scheduler:\n"
        "  - type: LinearLR\n"
        "    end: 500\n"
        "  - type: MultiStepLR\n"
        "    milestones: [8, 11]\n"
        "SOLVER:\n"
        "  STEPS:\n"
        "  - 60000\n"
        "  - 80000\n"
    )
    v = values_of(text, loader)
    assert list(v) == [
        "param_scheduler.0.type",
        "param_scheduler.0.end",
        "param_scheduler.1.type",
        "param_scheduler.1.milestones.0",
        "param_scheduler.1.milestones.1",
        "SOLVER.STEPS.0",
        "SOLVER.STEPS.1",
    ]
    assert v["param_scheduler.0.end"].value == 500 and v["param_scheduler.0.end"].span.line == 3
    assert v["SOLVER.STEPS.1"].value == 80000 and (v["SOLVER.STEPS.1"].span.line, v["SOLVER.STEPS.1"].span.col) == (
        9,
        5,
    )


def test_block_scalars_span_header_to_last_content_line(loader):
    text = "script: |  # run it\n  echo 1\n  # not a comment\n\n\nfolded: >-\n  a\n  b\nafter: 1\n"
    (doc,) = docs_of(text, loader)
    v = doc.values
    assert v["script"].value == "echo 1\n# not a comment\n"
    assert v["script"].raw == "|  # run it\n  echo 1\n  # not a comment"
    assert (v["script"].span.line, v["script"].span.end_line) == (1, 3)
    assert v["folded"].value == "a b" and v["folded"].raw == ">-\n  a\n  b"
    assert v["after"].span.line == 9
    # the header comment is a comment, the body's '#' line is not
    assert doc.comments == {1: " run it"}


def test_multiline_plain_scalar(loader):
    v = values_of("msg: first\n  second\nn: 1\n", loader)
    assert v["msg"].value == "first second" and v["msg"].raw == "first\n  second"
    assert (v["msg"].span.end_line, v["msg"].span.end_col) == (2, 9)


def test_anchor_and_tag_are_not_part_of_the_scalar_span(loader):
    text = "a: &x !!str 5\nb: !!float 1\nc: !!int '3'\nd: &y\n  7\ne: ! 12\n"
    v = values_of(text, loader)
    assert (v["a"].value, v["a"].raw, v["a"].provenance, v["a"].span.col) == ("5", "5", STRING, 13)
    assert (v["b"].value, type(v["b"].value), v["b"].raw) == (1.0, float, "1")
    assert (v["c"].value, v["c"].raw, v["c"].provenance) == (3, "'3'", LITERAL)
    assert (v["d"].value, v["d"].span.line, v["d"].span.col) == (7, 5, 3)
    assert (v["e"].value, v["e"].raw) == (12, "12")  # PyYAML resolves '! 12' like a plain scalar


def test_anchor_name_stops_where_pyyaml_stops_it(loader):
    # PyYAML and libyaml read the anchor "x" here; the scalar is ":y 5"
    v = values_of("a:\n- &x:y 5\n- b\n", loader)
    assert (v["a.0"].value, v["a.0"].raw, v["a.0"].span.col) == (":y 5", ":y 5", 5)
    assert safe_load_flat("a:\n- &x:y 5\n- b\n") == {k: x.value for k, x in v.items()}


def test_alias_values_carry_the_definition_span(loader):
    text = "base_lr: &lr 0.01\noptimizer:\n  lr: *lr\ndefaults: &d\n  bs: 32\n  wd: 1e-4\ntrain: *d\n"
    v = values_of(text, loader)
    assert v["optimizer.lr"].value == 0.01
    assert v["optimizer.lr"].span == v["base_lr"].span
    assert (v["optimizer.lr"].span.line, v["optimizer.lr"].span.col) == (1, 14)
    assert v["train.bs"].span == v["defaults.bs"].span and v["train.bs"].value == 32
    assert v["train.wd"].value == "1e-4" and v["train.wd"].provenance == STRING


def test_merge_keys_explicit_wins_and_spans_point_to_definition(loader):
    text = "base: &base\n  lr: 0.1\n  bs: 64\n  momentum: 0.9\nlarge:\n  bs: 256\n  <<: *base\n  lr: 0.4\n"
    v = values_of(text, loader)
    large = {k: x.value for k, x in v.items() if k.startswith("large.")}
    assert large == {"large.lr": 0.4, "large.bs": 256, "large.momentum": 0.9}
    assert v["large.momentum"].span == v["base.momentum"].span
    assert v["large.lr"].span.line == 8 and v["large.bs"].span.line == 6
    assert "large.<<" not in v
    assert large == safe_load_flat(text, "large.")


def test_merge_key_sequence_earlier_mapping_wins(loader):
    text = "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n"
    v = values_of(text, loader)
    got = {k: x.value for k, x in v.items() if k.startswith("c.")}
    assert got == {"c.x": 1, "c.y": 1, "c.z": 2, "c.w": 0}
    assert got == safe_load_flat(text, "c.")
    assert v["c.x"].span == v["a.x"].span and v["c.z"].span == v["b.z"].span


def test_merge_chains_and_inline_merge(loader):
    text = "l0: &l0 {lr: 0.1, bs: 8}\nl1: &l1 {<<: *l0, bs: 16}\nl2: {<<: *l1, wd: 0.0}\nl3: {<<: {lr: 0.5}, bs: 4}\n"
    v = values_of(text, loader)
    assert {k: x.value for k, x in v.items()} == safe_load_flat(text)
    assert v["l2.lr"].span == v["l0.lr"].span and v["l2.bs"].span == v["l1.bs"].span


def test_multi_document_files_give_one_document_each(loader):
    text = "# stage one\nlr: 0.1\n---\n# stage two\nlr: 0.2\nbs: &b 8\n---\n~\n---\nx: 1\n"
    docs = docs_of(text, loader)
    assert [d.index for d in docs] == [0, 1, 2, 3]
    assert [{k: x.value for k, x in d.values.items()} for d in docs] == [
        {"lr": 0.1},
        {"lr": 0.2, "bs": 8},
        {},
        {"x": 1},
    ]
    assert docs[1].values["lr"].span.line == 5
    assert docs[0].comments == {1: " stage one"} and docs[1].comments == {4: " stage two"}
    assert all(d.format == "yaml" and d.path == "cfg.yaml" and d.lines is docs[0].lines for d in docs)


def test_anchors_do_not_cross_documents(loader):
    from lrlint.sources import PARSE_ERROR, SourceError

    with pytest.raises(SourceError) as e:
        docs_of("a: &x 1\n---\nb: *x\n", loader)
    assert e.value.code == PARSE_ERROR and (e.value.line, e.value.col) == (3, 4)
    assert "undefined alias" in e.value.reason


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n", "--- # c\n...\n"])
def test_empty_and_null_documents_give_no_values(loader, text):
    docs = docs_of(text, loader)
    assert docs and all(d.values == {} and d.problems == [] for d in docs)
    if "#" in text:
        assert any(d.comments for d in docs)


def test_top_level_sequence_and_scalar(loader):
    v = values_of("- 1\n- {a: b}\n", loader)
    assert {k: x.value for k, x in v.items()} == {"0": 1, "1.a": "b"}
    assert values_of("just a string\n", loader) == {}


def test_non_ascii_keys_and_values_have_byte_spans(loader):
    text = "学习率: 0.1\nnom: 'étape 😀'\nclé:\n  é: ü\n"
    data = text.encode("utf-8")
    v = values_of(data, loader)
    assert list(v) == ["学习率", "nom", "clé.é"]
    lr = v["学习率"]
    assert (lr.span.start, lr.span.end) == (len("学习率: ".encode()), len("学习率: 0.1".encode()))
    assert (lr.span.line, lr.span.col) == (1, 6)  # columns count characters
    nom = v["nom"]
    assert nom.value == "étape 😀" and nom.raw == "'étape 😀'"
    assert (nom.span.col, nom.span.end_col) == (6, 15)
    assert v["clé.é"].value == "ü" and v["clé.é"].span.line == 4


def test_bom_is_counted_in_byte_offsets(loader):
    data = codecs.BOM_UTF8 + "lr: 0.1\nname: é\n".encode()
    src = decode("cfg.yaml", "yaml", data)
    assert src.bom == codecs.BOM_UTF8
    (doc,) = parse_with(src, Limits(), loader)
    lr = doc.values["lr"]
    assert (lr.span.start, lr.span.end) == (7, 10)
    assert data[lr.span.start : lr.span.end] == b"0.1"
    assert (lr.span.line, lr.span.col) == (1, 5)
    assert data[doc.values["name"].span.start : doc.values["name"].span.end] == "é".encode()


def test_crlf_spans_and_comments(loader):
    data = b"a: 1\r\nb:  # note\r\n  c: 'x'\r\n  d: |\r\n    l1\r\n    l2\r\n\r\ne: 2\r\n"
    (doc,) = docs_of(data, loader)
    v = doc.values
    assert (v["b.c"].span.start, v["b.c"].span.line, v["b.c"].span.col) == (23, 3, 6)
    assert v["b.d"].value == "l1\nl2\n" and v["b.d"].raw == "|\r\n    l1\r\n    l2"
    assert (v["e"].span.line, v["e"].span.col, v["e"].value) == (8, 4, 2)
    assert doc.comments == {2: " note"}


def test_comments_ignore_hash_in_scalars(loader):
    text = (
        "url: http://x/#frag  # real\n"
        "q: 'a # b'  # after quote\n"
        'dq: "c # d"\n'
        "plain: don't # yes\n"
        "#top\n"
        "list: [1, 2] # flow\n"
    )
    (doc,) = docs_of(text, loader)
    assert doc.values["url"].value == "http://x/#frag"
    assert doc.values["q"].value == "a # b"
    assert doc.comments == {1: " real", 2: " after quote", 4: " yes", 5: "top", 6: " flow"}
    assert find_comments(text) == doc.comments  # the lexical scanner agrees here


def test_lexical_comment_scanner_without_parser():
    text = (
        "a: 1 # one\n"
        "s: |\n"
        "  # body, not a comment\n"
        "  more\n"
        "b: 'x\n"
        "  # inside a quoted scalar'\n"
        'c: "esc \\" # still" # two\n'
        "- key: >\n"
        "    # body\n"
        "  other: 1 # three\n"
        "d: x#y\n"
    )
    assert find_comments(text) == {1: " one", 7: " two", 10: " three"}
    assert find_comments("no comments: here\n") == {}


def test_python_shaped_key_and_values_match_safe_load_for_a_realistic_config(loader):
    text = (
        "model:\n"
        "  type: ResNet\n"
        "  depth: 50\n"
        "optimizer: &opt\n"
        "  type: SGD\n"
        "  lr: 0.1\n"
        "  momentum: 0.9\n"
        "  weight_decay: 1.0e-4\n"
        "optim_wrapper: {optimizer: *opt, clip_grad: null}\n"
        "train_dataloader:\n"
        "  batch_size: 32\n"
        "  dataset: {type: ImageNet, pipeline: [{type: LoadImage}, {type: RandomResizedCrop, scale: 224}]}\n"
        "auto_scale_lr: {enable: false, base_batch_size: 256}\n"
    )
    v = values_of(text, loader)
    assert {k: x.value for k, x in v.items()} == safe_load_flat(text)


def test_c_and_pure_loaders_agree_exactly():
    if len(LOADERS) < 2:
        pytest.skip("PyYAML without libyaml")
    text = (
        "a: &a {x: 1, 'y': \"2\", z: [1e-5, 0x1f, ~]}\n"
        "b:\n  <<: *a\n  x: 9\n"
        "c: |\n  é\n  😀\n"
        "d: !!str 1\n"
        "e: !include other.yaml\n"
        "---\n"
        "f: plain\n   folded\n"
    )

    def dump(docs):
        return [
            (
                [(k, x.value, type(x.value), x.provenance, x.raw, x.span) for k, x in d.values.items()],
                d.comments,
                [(p.code, p.reason, p.line, p.col) for p in d.problems],
            )
            for d in docs
        ]

    assert dump(docs_of(text, yaml.CSafeLoader)) == dump(docs_of(text, yaml.SafeLoader))


def test_parse_uses_default_loader_and_sets_document_fields():
    src = decode("dir/cfg.yaml", "yaml", b"lr: 0.1 # x\n")
    (doc,) = parse(src, Limits())
    assert (doc.path, doc.format, doc.index, doc.lines, doc.comments) == (
        "dir/cfg.yaml",
        "yaml",
        0,
        src.lines,
        {1: " x"},
    )
    assert doc.get("lr").value == 0.1


_scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)
_keys = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=".\x85\ufeff"),
    min_size=1,
    max_size=8,
)
_trees = st.recursive(
    _scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_keys, kids, max_size=4), max_leaves=25
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tree=st.dictionaries(_keys, _trees, min_size=1, max_size=5),
    flow=st.sampled_from([False, True, None]),
    style=st.sampled_from([None, '"', "'", "|"]),
)
def test_any_dumped_tree_reads_back_like_safe_load(loader, tree, flow, style):
    """Whatever yaml.dump writes (block, flow, every quoting style), values equal safe_load's and spans are exact."""
    text = yaml.dump(tree, allow_unicode=True, default_flow_style=flow, default_style=style, width=30)
    (doc,) = docs_of(text, loader)
    assert {k: x.value for k, x in doc.values.items()} == safe_load_flat(text)
    for x in doc.values.values():
        assert x.provenance == (STRING if isinstance(x.value, str) else LITERAL)


# --- helpers ---------------------------------------------------------------------------------


def safe_load_flat(text: str, prefix: str = "") -> dict:
    """What ``yaml.safe_load`` sees, flattened the way lrlint flattens (first document)."""
    out: dict = {}
    stack = [("", yaml.safe_load(text))]
    while stack:
        path, obj = stack.pop()
        if isinstance(obj, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in obj.items())
        elif isinstance(obj, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(obj))
        else:
            out[path] = obj
    return {k: v for k, v in out.items() if k.startswith(prefix)}
