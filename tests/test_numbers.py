"""The one number formatter: fewest digits for 4 significant digits, in the literal's own style."""

import math

import pytest
import yaml

from lrlint.numbers import fixed, format_like, plain


@pytest.mark.parametrize(
    "value, template, expected",
    [
        (0.1 * 4, "0.1", "0.4"),  # the examples
        (2e-5 * math.sqrt(4), "2e-5", "4e-5"),
        (0.02 * 1.5, "0.02", "0.03"),
        (3e-4 * math.sqrt(2), "3e-4", "4.243e-4"),
        (4e-5, "1.0e-5", "4.0e-5"),  # a dotted mantissa keeps its dot (PyYAML float)
        (4.5e-5, "1.0e-5", "4.5e-5"),
        (4e-5, '"2e-5"', '"4e-5"'),  # quotes stay
        (4e-5, "'2e-5'", "'4e-5'"),
        (1e-4 * math.sqrt(2), "0.0001", "0.0001414"),  # decimal stays decimal
        (4e-5, "2e-05", "4e-05"),  # exponent padding stays
        (2.0, "1.0", "2.0"),  # a float literal stays a float literal
        (1e3, "1.0e+2", "1.0e+3"),  # explicit exponent sign stays
        (8e-5, "2E-5", "8E-5"),
        (0.025, "0.0125", "0.025"),
        (0.00125, "0.0025", "0.00125"),
    ],
)
def test_format_like(value, template, expected):
    assert format_like(value, template) == expected


@pytest.mark.parametrize("template", ["1.0e-5", "2.5e-4", "1.e-3", "0.001"])
def test_pyyaml_type_is_kept_for_floats(template):
    out = format_like(7.5e-5, template)
    assert isinstance(yaml.safe_load(f"lr: {out}")["lr"], float)


@pytest.mark.parametrize("template", ["1e-5", "3e-4"])
def test_pyyaml_type_is_kept_for_strings(template):
    out = format_like(7.5e-5, template, yaml_plain=True)
    assert out == "75e-6"
    assert isinstance(yaml.safe_load(f"lr: {out}")["lr"], str)
    assert float(out) == 7.5e-5


@pytest.mark.parametrize(
    "x, expected",
    [
        (256.0, "256"),
        (4, "4"),
        (1.5, "1.5"),
        (4e-05, "4e-5"),
        (0.4, "0.4"),
        (3.0000001, "3"),
        (1 / 3, "0.3333"),
        (12345678.9, "1.235e7"),
    ],
)
def test_plain(x, expected):
    assert plain(x) == expected


def test_yaml_plain_dotless_scientific_keeps_string_type():
    assert format_like(3e-4 * math.sqrt(2), "3e-4", yaml_plain=True) == "4243e-7"
    assert format_like(4e-5, "2e-5", yaml_plain=True) == "4e-5"  # a one-digit mantissa needs no change
    assert format_like(3e-4 * math.sqrt(2), "3e-4") == "4.243e-4"  # JSON and Python: fewest digits


@pytest.mark.parametrize(
    "value, sig, expected",
    [
        (0.6, 2, "0.60"),  # a column of figures keeps its digits: 0.60 0.74 0.71, not 0.6 0.74 0.71
        (0.74, 2, "0.74"),
        (2.0, 3, "2.00"),  # val loss 2.00 next to 1.22
        (1.2, 3, "1.20"),
        (0.004517, 3, "0.00452"),
        (0.0045, 2, "0.0045"),
        (0.231, 3, "0.231"),
        (7.84, 2, "7.8"),
        (0.847, 3, "0.847"),
        (1.0, 3, "1.00"),
        (12.3, 2, "12"),
        (157.0, 2, "160"),
        (9.996, 3, "10.0"),  # rounding carries into a new digit
        (0.0, 3, "0.00"),
        (0.0, 1, "0"),
        (-0.5, 2, "-0.50"),
        (4.5e-5, 2, "4.5e-5"),
        (1.5e6, 3, "1.50e6"),
    ],
)
def test_fixed_significant_digits(value, sig, expected):
    assert fixed(value, sig) == expected
