"""``lrlint check -`` and ``--stdin-filename``: a text from stdin checked as a file (ruff's contract).

The text is checked as the named path would be on disk: its git reference, the nearest settings and
its inheritance bases come from that path, which need not hold the same text (an editor's buffer).
With ``--fix`` stdout carries the fixed text and nothing else; the report goes to stderr.
"""

from __future__ import annotations

from conftest import GitRepo

from lrlint import api, settings

SGD = "train:\n  batch_size: {bs}\n  optimizer:\n    name: sgd\n    lr: {lr}\n"
LR001 = (
    "configs/x.yaml:2:15: LR001 [*] error: effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; "
    "expected 0.4 (linear rule)"
)


def _project(repo: GitRepo) -> GitRepo:
    repo.write("configs/x.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("tuned at 256")
    return repo


def _lines(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if ln and not ln.startswith(("Found", "[*]", "All checks"))]


def test_stdin_is_compared_with_the_named_file_at_head(repo):
    _project(repo)  # on disk the file is unchanged: only stdin's text has the new batch
    r = repo.lrlint(
        "check",
        "--output-format",
        "concise",
        "-",
        "--stdin-filename",
        "configs/x.yaml",
        input=SGD.format(bs=1024, lr=0.1),
    )
    assert r.returncode == 1, r.stderr
    assert _lines(r.stdout) == [LR001]


def test_stdin_filename_alone_reads_stdin(repo):
    _project(repo)
    r = repo.lrlint(
        "check", "--output-format", "concise", "--stdin-filename", "configs/x.yaml", input=SGD.format(bs=1024, lr=0.1)
    )
    assert r.returncode == 1 and _lines(r.stdout) == [LR001]


def test_stdin_fix_prints_only_the_fixed_text_and_leaves_the_file(repo):
    _project(repo)
    r = repo.lrlint("check", "--fix", "-", "--stdin-filename", "configs/x.yaml", input=SGD.format(bs=2048, lr=0.1))
    assert r.stdout == SGD.format(bs=2048, lr=0.8)
    assert "Fixed 1 error" in r.stderr and "configs/x.yaml" in r.stderr
    assert (repo.path / "configs/x.yaml").read_text() == SGD.format(bs=256, lr=0.1)
    # the fixed text raises the lr x8 to 0.8, above the SGD family's usual range, without warmup: LR003 remains,
    # as a check of the written file would say
    assert "LR003" in r.stderr and r.returncode == 1


def test_stdin_fix_with_nothing_to_fix_echoes_the_text(repo):
    _project(repo)
    text = SGD.format(bs=1024, lr=0.4) + "# tail comment\n"
    r = repo.lrlint("check", "--fix", "--stdin-filename", "configs/x.yaml", "-q", input=text)
    assert r.stdout == text


def test_stdin_diff_prints_the_diff_and_writes_nothing(repo):
    _project(repo)
    r = repo.lrlint("check", "--diff", "--stdin-filename", "configs/x.yaml", input=SGD.format(bs=1024, lr=0.1))
    assert r.returncode == 1
    assert "-    lr: 0.1\n+    lr: 0.4\n" in r.stdout
    assert (repo.path / "configs/x.yaml").read_text() == SGD.format(bs=256, lr=0.1)


def test_stdin_settings_come_from_the_named_path(repo):
    _project(repo)
    repo.write("sub/pyproject.toml", '[tool.lrlint]\nignore = ["LR001"]\n')
    repo.write("sub/x.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("sub")
    text = SGD.format(bs=1024, lr=0.1)
    assert repo.lrlint("check", "--stdin-filename", "sub/x.yaml", "-q", input=text).stdout == ""
    r = repo.lrlint("check", "--stdin-filename", "configs/x.yaml", "-q", "--output-format", "concise", input=text)
    assert _lines(r.stdout) == [LR001]


def test_stdin_child_is_merged_over_its_base_on_disk(repo):
    repo.write("configs/base.yaml", "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n")
    child = '_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: {bs}\n'
    repo.write("configs/child.yaml", child.format(bs=16))
    repo.commit("detectron2-style tree")
    r = repo.lrlint(
        "check", "--output-format", "concise", "--stdin-filename", "configs/child.yaml", input=child.format(bs=64)
    )
    assert _lines(r.stdout) == [
        "configs/child.yaml:3:18: LR001 [*] error: effective batch 16 -> 64 (x4) but SOLVER.BASE_LR stays 0.02; "
        "expected 0.08 (linear rule)"
    ]
    fixed = repo.lrlint("check", "--fix", "--stdin-filename", "configs/child.yaml", input=child.format(bs=64))
    assert fixed.stdout == child.format(bs=64) + "  BASE_LR: 0.08\n"  # an override in the child, base untouched
    assert (repo.path / "configs/base.yaml").read_text() == "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"


def test_dash_without_a_name_is_yaml_shown_as_dash(repo):
    text = "# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=1024, lr=0.1)
    r = repo.lrlint("check", "--output-format", "concise", "-", input=text)
    assert _lines(r.stdout) == [
        "-:3:15: LR001 [*] error: effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; "
        "expected 0.4 (linear rule)"
    ]
    r = repo.lrlint("check", "-", input=text)
    assert "  = note: compared with inline reference at -:1 (batch 256, lr 0.1)\n" in r.stdout
    bad = repo.lrlint("check", "--output-format", "concise", "-", input='{"lr": 0.1, "batch_size": 4')
    assert _lines(bad.stdout) == [
        "-:1:28: LR901 error: did not find expected ',' or '}' (while parsing a flow mapping)"
    ]
    ok = repo.lrlint("check", "-", input='{"lr": 0.1, "batch_size": 4}')  # JSON is read as YAML
    assert ok.returncode == 0, ok.stdout


def test_stdin_force_exclude_skips_and_fix_passes_the_text_through(repo):
    _project(repo)
    repo.write("pyproject.toml", '[tool.lrlint]\nexclude = ["configs/**"]\n')
    text = SGD.format(bs=1024, lr=0.1)
    r = repo.lrlint("check", "--force-exclude", "--stdin-filename", "configs/x.yaml", input=text)
    assert (r.returncode, r.stdout) == (0, "")
    r = repo.lrlint("check", "--fix", "--force-exclude", "--stdin-filename", "configs/x.yaml", input=text)
    assert (r.returncode, r.stdout) == (0, text)
    r = repo.lrlint("check", "--stdin-filename", "configs/x.yaml", "-q", input=text)  # named on purpose: checked
    assert "LR001" in r.stdout


def test_stdin_usage_errors(repo):
    _project(repo)
    cases = {
        (
            "configs/x.yaml",
            "--stdin-filename",
            "configs/x.yaml",
        ): "cannot check configs/x.yaml together with --stdin-filename",
        ("-", "configs/x.yaml"): "- (stdin) cannot be checked together with other paths",
        ("--stdin-filename", "notes.txt"): "notes.txt: not a YAML, JSON or Python file name",
    }
    for args, message in cases.items():
        r = repo.lrlint("check", *args, input="a: 1\n")
        assert (r.returncode, r.stderr.strip()) == (2, f"lrlint: error: {message}"), args


def test_check_text_is_the_engine_entry_point(repo):
    """The API the server uses: the text, the path, other files' unsaved text (an edited base)."""
    repo.write("configs/base.yaml", "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n")
    repo.write("configs/child.yaml", '_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n')
    s = settings.load(repo.path)
    child = (repo.path / "configs/child.yaml").read_bytes()
    assert api.check_text(child, "configs/child.yaml", s, cwd=repo.path).findings == []
    edited_base = {repo.path / "configs/base.yaml": b"SOLVER:\n  IMS_PER_BATCH: 32\n  BASE_LR: 0.02\n"}
    res = api.check_text(child, "configs/child.yaml", s, cwd=repo.path, overlay=edited_base)
    [f] = res.findings
    assert (f.code, f.span.path, f.span.line) == ("LR002", "configs/child.yaml", 4)
    assert f.message.endswith("; expected 0.04 (linear rule)")
    assert res.sources["configs/child.yaml"].data == child
