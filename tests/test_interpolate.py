"""OmegaConf interpolation: static references resolve (INTERPOLATED), everything else is UNKNOWN with a reason."""

from __future__ import annotations

from lrlint import interpolate
from lrlint.values import INTERPOLATED, LITERAL, STRING, UNKNOWN, Value


def vals(**kw) -> dict[str, Value]:
    out = {}
    for k, v in kw.items():
        key = k.replace("__", ".")
        out[key] = Value(key, v, None, STRING if isinstance(v, str) else LITERAL, raw=str(v))
    return out


def test_absolute_reference_copies_the_value_and_keeps_its_own_place():
    out = interpolate.resolve(vals(data__batch_size=64, model__batch="${data.batch_size}"))
    v = out["model.batch"]
    assert (v.value, v.provenance, v.target, v.raw) == (64, INTERPOLATED, "data.batch_size", "64")


def test_relative_references_from_the_parent():
    out = interpolate.resolve(vals(a__b__x=2, a__b__y="${.x}", a__x=3, a__b__z="${..x}", a__b__w="${...top}", top=7))
    assert (out["a.b.y"].value, out["a.b.z"].value, out["a.b.w"].value) == (2, 3, 7)


def test_chains_resolve_and_cycles_are_unknown():
    out = interpolate.resolve(vals(a=1, b="${a}", c="${b}", x="${y}", y="${x}"))
    assert out["c"].value == 1 and out["c"].provenance == INTERPOLATED
    assert out["x"].provenance == UNKNOWN and "cycle" in out["x"].why


def test_env_and_other_resolvers_are_unknown_with_the_reason():
    out = interpolate.resolve(
        vals(lr="${oc.env:LR,0.001}", n="${eval:2*3}", m="${missing.key}", d="${data}", data__x=1)
    )
    assert (
        out["lr"].provenance == UNKNOWN
        and out["lr"].why == "${oc.env:LR,0.001} reads environment variable LR (default 0.001), known only at run time"
    )
    assert out["n"].provenance == UNKNOWN and "eval resolver" in out["n"].why
    assert out["m"].provenance == UNKNOWN and "missing.key is not in the config" in out["m"].why
    assert out["d"].provenance == UNKNOWN and "mapping" in out["d"].why


def test_string_interpolation_is_a_string():
    out = interpolate.resolve(vals(name="run_${bs}", bs=32, bad="x_${oc.env:HOME}"))
    assert out["name"].value == "run_32"
    assert out["bad"].provenance == UNKNOWN


def test_a_document_without_interpolation_is_returned_as_is():
    from lrlint.values import Document

    d = Document("c.yaml", "yaml", vals(a=1))
    assert interpolate.resolve_document(d) is d
