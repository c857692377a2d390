"""The progress line on stderr: shown on a terminal for runs over a second, erased at the end, never in a pipe."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lrlint import parallel
from lrlint.progress import Progress
from lrlint.settings import load


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    """A clock that reads ``now``; a test moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_shows_within_the_first_second(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out, clock = _Terminal(), _Clock()
    p = Progress(out, clock=clock)
    p.start(10)
    clock.now += 0.9
    p.advance(3)
    p.close()
    assert out.getvalue() == ""


def test_the_line_is_redrawn_in_place_throttled_and_erased(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out, clock = _Terminal(), _Clock()
    p = Progress(out, clock=clock)
    p.start(8000)
    clock.now += 1.0
    p.advance(1234)
    clock.now += 0.05  # within the redraw interval: not drawn
    p.advance(1)
    clock.now += 0.1
    p.advance(765)
    p.close()
    first = "Checking 1,234/8,000 files (15%)"
    second = "Checking 2,000/8,000 files (25%)"
    assert out.getvalue() == "\r" + first + "\r" + second + "\r" + " " * len(second) + "\r"


def test_a_shorter_line_covers_the_longer_one_and_fits_the_terminal(monkeypatch):
    out, clock = _Terminal(), _Clock()
    p = Progress(out, clock=clock, delay=0, interval=0)
    monkeypatch.setenv("COLUMNS", "80")
    p.start(100)
    p.advance(100)  # "Checking 100/100 files (100%)": 29 characters
    p.start(5)  # a new count: "Checking 0/5 files (0%)": 22 characters and 7 spaces
    monkeypatch.setenv("COLUMNS", "15")
    p.advance(1)
    assert out.getvalue().split("\r")[1:] == [
        "Checking 0/100 files (0%)",
        "Checking 100/100 files (100%)",
        "Checking 0/5 files (0%)" + " " * 6,
        "Checking 1/5 f" + " " * 9,
    ]


def test_not_a_terminal_gets_nothing():
    out, clock = io.StringIO(), _Clock()
    p = Progress(out, clock=clock, delay=0, interval=0)
    p.start(3)
    p.advance(3)
    p.close()
    assert out.getvalue() == ""


def _configs(root: Path, n: int) -> None:
    for i in range(n):
        d = root / f"exp{i:02d}"
        d.mkdir(parents=True)
        (d / "train.yaml").write_text("trainer:\n  batch_size: 32\n  lr: 0.1\n", encoding="utf-8")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_counts_every_file_in_process_and_on_workers(tmp_path, monkeypatch, jobs):
    monkeypatch.setenv("COLUMNS", "80")
    _configs(tmp_path, 45)
    monkeypatch.chdir(tmp_path)
    out = _Terminal()
    p = Progress(out, delay=0, interval=0)
    result = parallel.check_paths(["."], load(tmp_path, isolated=True), jobs=jobs, progress=p)
    assert len(result.files) == 45
    assert (p.done, p.total) == (45, 45)
    assert out.getvalue().split("\r")[-1] == "Checking 45/45 files (100%)"
    p.close()
    assert out.getvalue().endswith("\r" + " " * len("Checking 45/45 files (100%)") + "\r")
