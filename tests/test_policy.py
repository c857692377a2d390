"""Optimizer families, their default policies (rules/optimizers.yaml) and the tolerance bands."""

import math

import pytest

from lrlint.profiles import builtin_profiles, optimizer_table
from lrlint.scaling import assess, policy_for
from lrlint.settings import Settings


@pytest.mark.parametrize(
    "name, display, family",
    [
        ("adamw_torch", "AdamW", "adaptive"),
        ("adamw_bnb_8bit", "AdamW", "adaptive"),
        ("paged_adamw_32bit", "AdamW", "adaptive"),
        ("torch.optim.AdamW", "AdamW", "adaptive"),
        ("Adam", "Adam", "adaptive"),
        ("adafactor", "Adafactor", "adaptive"),
        ("RMSprop", "RMSprop", "adaptive"),
        ("lamb", "LAMB", "adaptive"),
        ("torch.optim.SGD", "SGD", "sgd"),
        ("sgd", "SGD", "sgd"),
        ("LARS", "LARS", "sgd"),
        ("momentum", "SGD", "sgd"),
        ("lion", "Lion", "sign"),
        ("paged_lion_8bit", "Lion", "sign"),
        ("muon", "Muon", "sign"),
        ("schedulefree_adamw", "schedule-free", "sign"),
        ("shampoo", "shampoo", "unknown"),
    ],
)
def test_optimizer_families(name, display, family):
    assert optimizer_table().lookup(name) == (display, family)


def test_every_builtin_profile_validates():
    names = {p.name for p in builtin_profiles()}
    assert {
        "generic",
        "huggingface",
        "deepspeed",
        "lightning",
        "hydra",
        "axolotl",
        "detectron2",
        "ultralytics",
        "timm",
    } <= names


def _thr():
    return Settings().thresholds


@pytest.mark.parametrize(
    "family, k, lr_factor, ok",
    [
        ("sgd", 4, 4, True),
        ("sgd", 4, 1, False),
        ("sgd", 4, 2, False),
        ("sgd", 4, 3.3, True),
        ("sgd", 4, 5.0, True),
        ("sgd", 4, 5.1, False),
        ("adaptive", 4, 2, True),
        ("adaptive", 4, 4, True),
        ("adaptive", 4, 1, False),
        ("adaptive", 4, 1.6, True),
        ("adaptive", 4, 5.0, True),
        ("adaptive", 1.5, 1.0, True),  # sqrt(1.5)=1.22 is inside the 1.25 tolerance
        ("sgd", 0.25, 0.25, True),
        ("sgd", 0.25, 1, False),
        ("sgd", 0.25, 4, False),
    ],
)
def test_assess_bands(family, k, lr_factor, ok):
    pol = policy_for(family, Settings(), optimizer_table())
    assert assess(k, lr_factor, pol, _thr()).ok is ok


def test_wrong_direction_and_deviation():
    pol = policy_for("sgd", Settings(), optimizer_table())
    a = assess(4, 0.5, pol, _thr())
    assert a.wrong_direction and math.isclose(a.deviation, 8.0)


def test_policy_override_narrows_adaptive_band():
    s = Settings.from_table({"policy": {"adaptive": "sqrt"}})
    pol = policy_for("adaptive", s, optimizer_table())
    assert pol.band == (0.5, 0.5) and pol.from_settings
    assert not assess(4, 4, pol, _thr()).ok  # linear no longer accepted
    s = Settings.from_table({"policy": {"adaptive": {"fix": "linear", "band": [1, 1]}}})
    assert policy_for("adaptive", s, optimizer_table()).fix == "linear"


def test_sign_and_unknown_fixes_are_not_safe():
    t = optimizer_table()
    assert not policy_for("sign", Settings(), t).safe and not policy_for("unknown", Settings(), t).safe
    assert policy_for("sgd", Settings(), t).safe and policy_for("adaptive", Settings(), t).safe


def test_a_family_added_to_the_optimizer_table_can_be_given_a_policy(monkeypatch):
    """settings read the families from rules/optimizers.yaml: a family added there is accepted in
    [tool.lrlint.policy], and an unknown one is refused naming the table's families."""
    from dataclasses import replace

    from lrlint import settings as settings_module
    from lrlint.profiles import Family
    from lrlint.settings import ConfigError

    t = optimizer_table()
    extended = replace(t, families={**t.families, "second_order": Family(title="2nd", fix="none", band=(0.0, 0.5))})
    monkeypatch.setattr(settings_module, "optimizer_table", lambda: extended)
    s = Settings.from_table({"policy": {"second_order": "none"}})
    assert s.policy == {"second_order": "none"}
    with pytest.raises(
        ConfigError, match=r"unknown optimizer family 'third' \(sgd, adaptive, sign, unknown, second_order\)"
    ):
        Settings.from_table({"policy": {"third": "none"}})
