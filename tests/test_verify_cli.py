"""lrlint verify's command line without training: a model factory named by the repository's settings
is refused in CI unless trusted, and a missing torch gets the CPU-only install hint the README gives."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT

from lrlint.verify import MISSING_EXTRA, TORCH_CPU_HINT, TORCH_CPU_INSTALL
from lrlint.verify import cli as vcli
from lrlint.verify.question import UsageError

EVILMOD = """\
from pathlib import Path
Path("evilmod-was-imported").write_text("ran")
factory = 42
"""


def repo_naming_a_factory(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint.verify]\nmodel = "evilmod:factory"\n')
    (tmp_path / "evilmod.py").write_text(EVILMOD)
    return tmp_path / "evilmod-was-imported"


def verify(cwd: Path, *args: str, ci: str | None, pythonpath: str = str(ROOT)) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": pythonpath}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "lrlint", "verify", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


REFUSED = (
    "lrlint verify: error: pyproject.toml names the model factory evilmod:factory ([tool.lrlint.verify] model), "
    "which verify would import and run; CI is set (CI=true), so pass --trust-settings-model to run it, "
    "or name the factory with --model\n"
)


def test_a_settings_model_is_not_imported_in_ci(tmp_path):
    marker = repo_naming_a_factory(tmp_path)
    p = verify(tmp_path, "--batch", "8:16", "--lr", "0.01", ci="true")
    assert (p.returncode, p.stderr, p.stdout) == (2, REFUSED, "")
    assert not marker.exists()


def test_a_trusted_settings_model_is_imported_in_ci(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    marker = repo_naming_a_factory(tmp_path)
    p = verify(tmp_path, "--batch", "8:16", "--lr", "0.01", "--trust-settings-model", ci="true")
    assert marker.read_text() == "ran"
    assert p.returncode == 2
    assert p.stderr == (
        "lrlint verify: importing the model factory evilmod:factory named in pyproject.toml "
        "([tool.lrlint.verify] model)\n"
        "lrlint verify: error: --model evilmod:factory: factory is not callable\n"
    )


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="lrlint verify")
    vcli.add_arguments(p)
    return p.parse_args(list(argv))


def test_which_factory_verify_imports(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = SimpleNamespace(
        verify=SimpleNamespace(model="evilmod:factory"), config_file=str(tmp_path / "lrlint.toml")
    )
    monkeypatch.setenv("CI", "true")
    assert vcli._model_spec(parse("--model", "mine:f"), settings) == "mine:f"  # the command line is the job's
    assert vcli._model_spec(parse("--trust-settings-model"), settings) == "evilmod:factory"
    assert vcli._model_spec(parse(), SimpleNamespace(verify=SimpleNamespace(model=None))) is None
    with pytest.raises(UsageError, match=r"^lrlint.toml names the model factory evilmod:factory "):
        vcli._model_spec(parse(), settings)
    for off in ("", "0", "false", "False", "no", "off"):
        monkeypatch.setenv("CI", off)
        assert vcli._model_spec(parse(), settings) == "evilmod:factory"
    monkeypatch.delenv("CI")
    capsys.readouterr()
    assert vcli._model_spec(parse(), settings) == "evilmod:factory"
    assert capsys.readouterr().err == (
        "lrlint verify: importing the model factory evilmod:factory named in lrlint.toml ([tool.lrlint.verify] model)\n"
    )


def test_help_says_verify_imports_the_settings_factory():
    p = subprocess.run(
        [sys.executable, "-m", "lrlint", "verify", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
    )
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())
    assert (
        "verify imports the model factory named in the repository's settings ([tool.lrlint.verify] model): "
        "never run it on an untrusted checkout." in text
    )
    assert "--trust-settings-model" in text
    for doc in ("README.md", "docs/verify.md"):
        flat = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
        assert (
            "verify imports the model factory named in the repository's settings: never run it on an untrusted "
            "checkout." in flat
        ), doc
        assert "--trust-settings-model" in flat, doc


NO_TORCH = """\
import sys


class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
"""


def test_without_torch_verify_prints_the_cpu_wheel_hint_of_the_readme(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_TORCH)
    p = verify(tmp_path, "--batch", "8:16", ci=None, pythonpath=f"{site}{os.pathsep}{ROOT}")
    assert (p.returncode, p.stderr, p.stdout) == (2, f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}\n", "")
    assert TORCH_CPU_HINT == (
        "On a machine without a CUDA GPU, install PyTorch's CPU-only wheel first: "
        "pip install torch --index-url https://download.pytorch.org/whl/cpu"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n    {TORCH_CPU_INSTALL}\n" in readme  # the set-up's command, as a code line
    flat = " ".join(readme.split())
    assert "On a machine without a CUDA GPU, install PyTorch's CPU-only wheel first" in flat
    assert "pip install torch==2.13.0" in flat  # next to the pinned local install
