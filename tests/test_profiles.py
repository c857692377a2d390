"""Every framework profile's embedded examples: the config is claimed by its profile and yields its recipe.

Like the rules' valid/invalid examples: the examples live with the knowledge (``rules/frameworks/*.yaml``),
one parametrized test runs them all through the real pipeline, and docs/profiles.md shows them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lrlint import api, profile_docs
from lrlint.profiles import optimizer_table
from lrlint.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = profile_docs.documented()
CASES = [pytest.param(d.profile, ex, id=f"{d.profile.name}-{i}") for d in DOCUMENTED for i, ex in enumerate(d.examples)]


def test_every_profile_has_an_example_and_a_description():
    for d in DOCUMENTED:
        assert d.examples, f"{d.profile.name} has no example"
        assert d.profile.description, f"{d.profile.name} has no description"


@pytest.mark.parametrize("profile, ex", CASES)
def test_profile_example_yields_its_recipe(tmp_path, profile, ex):
    (tmp_path / ex.filename).write_text(ex.text, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = api.check_paths([ex.filename], Settings.from_table({"select": ["ALL"], "root": str(tmp_path)}))
    finally:
        os.chdir(cwd)
    assert not [f for f in result.findings if f.code.startswith("LR9")], [f.message for f in result.findings]
    recipes = [r for rs in result.recipes.values() for r in rs]
    [r] = [r for r in recipes if r.lr.key == ex.recipe.lr_key] or [None]
    assert r is not None, f"no recipe with lr {ex.recipe.lr_key}: {[x.lr.key for x in recipes]}"
    want = ex.recipe
    got = (r.profile.name, r.lr_value, r.effective_batch, r.optimizer_display, r.family)
    assert got == (profile.name, pytest.approx(want.lr), want.effective_batch, want.optimizer, want.family)
    assert (r.scaling.name if r.scaling is not None else None) == want.runtime_scaling


def test_examples_name_optimizers_and_families_of_the_table():
    t = optimizer_table()
    displays = {e.display for e in t.optimizers}
    for d in DOCUMENTED:
        for ex in d.examples:
            assert ex.recipe.optimizer in displays and ex.recipe.family in t.families, (d.profile.name, ex.recipe)


def test_docs_profiles_page_is_in_sync():
    page = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    assert page == profile_docs.markdown(DOCUMENTED, optimizer_table()), (
        "regenerate: lrlint profile --all --output-format markdown > docs/profiles.md"
    )


def test_profile_command_prints_the_page_one_profile_and_refuses_unknown_names(tmp_path):
    from conftest import run_lrlint

    r = run_lrlint("profile", "--all", "--output-format", "markdown", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    r = run_lrlint("profile", "timm_script", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("## `timm_script`: timm train.py\n")
    assert (
        "- `create_optimizer_v2` (from `timm`; a module named like `optim`; by its bare name) -> `optimizer.*`"
        in r.stdout
    )
    r = run_lrlint("profile", "mmdet", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("lrlint: error: unknown profile 'mmdet'; known: axolotl, ")
