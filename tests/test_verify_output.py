"""lrlint verify's output without training: the text report (fixed significant digits, no wrapping
when piped) and the --plot figure (both lrs in the legend, the whole run on the x axis, no empty
band), from a result built with fixed numbers."""

from __future__ import annotations

import io
import re

import pytest

from lrlint.verify import question as Q
from lrlint.verify.judging import CandidateResult, Result
from lrlint.verify.render import print_text

GRID = [float(g) for g in range(360, 4311, 360)]  # 360 ... 3960: the proxy's grid for 3 epochs
BUDGET = 4311


def candidate(role, label, batch, lr, user_lr, factor, mismatch, median, vs_floor, loss, acc, start=2.3, end=1.2):
    curve = [start + (end - start) * (i + 1) / (len(GRID) + 1) for i in range(len(GRID) + 1)]
    return CandidateResult(
        role=role,
        label=label,
        batch=batch,
        lr=lr,
        user_lr=user_lr,
        factor=factor,
        world=1,
        accum=1,
        mismatch=mismatch,
        median=median,
        vs_floor=vs_floor,
        final_loss=loss,
        final_acc=acc,
        diverged=0,
        curves=[curve, curve, curve],
    )


def result(**kw) -> Result:
    q = Q.Question(8, 32, 0.1, None, "linear", Q.choose_optimizer("SGD", "sgd", None))
    cands = [
        candidate("reference", "reference", 8, 0.01, 0.1, 1.0, [0.0, 0.0, 0.0], 0.0, None, 1.2, 0.847),
        candidate(
            "suggested", "suggested (linear)", 32, 0.04, 0.4, 4.0, [0.0045, 0.005, 0.002], 0.004517, 0.15, 1.22, 0.836
        ),
        candidate("unchanged", "unchanged", 32, 0.01, 0.1, 1.0, [0.6, 0.74, 0.71], 0.71, 24.0, 2.0, 0.442, end=2.1),
        candidate("sqrt", "sqrt rule", 32, 0.02, 0.2, 2.0, [0.16, 0.18, 0.18], 0.181, 6.1, 2.0, 0.767, end=1.9),
    ]
    fields = dict(
        question=q,
        task="proxy",
        task_description="digits proxy",
        optimizer="torch.optim.SGD (momentum 0)",
        reference_lr=0.01,
        k_run=4.0,
        verdict="PASS",
        reason="the suggested lr reproduces the reference curve and the unchanged lr does not: closer on 3/3 "
        "seeds, median mismatch 0.00452 vs 0.71 (ratio 0.00636 <= 0.5)",
        alternative="unchanged",
        best_fit="suggested",
        floor=0.0296,
        grid=GRID,
        budget=BUDGET,
        curve_samples=GRID + [float(BUDGET)],
        seeds=3,
        epochs=3.0,
        candidates=cands,
        notes=["closest to the reference curve: the suggested lr"],
        train_seconds=3.0,
        initial_loss=[2.3, 2.3, 2.3],
    )
    fields.update(kw)
    return Result(**fields)


EXPECTED = """\
question: batch 8 -> 32 (x4), SGD: lr 0.1 -> suggested 0.4 (linear)
proxy: digits proxy
runs: torch.optim.SGD (momentum 0), reference batch 8 at lr 0.01, candidates at batch 32; 3 epochs, 4311 samples seen per run, 3 seed(s), shared initial weights per seed; training 3.0 s
candidate             batch    lr  your lr     mismatch per seed   median  x floor  val loss  val acc
reference                 8  0.01      0.1                     -        -        -      1.20    0.847
suggested (linear) *     32  0.04      0.4  0.0045 0.0050 0.0020  0.00452     0.15      1.22    0.836
unchanged                32  0.01      0.1        0.60 0.74 0.71    0.710       24      2.00    0.442
sqrt rule                32  0.02      0.2        0.16 0.18 0.18    0.181      6.1      2.00    0.767
PASS  the suggested lr reproduces the reference curve and the unchanged lr does not: closer on 3/3 seeds, median mismatch 0.00452 vs 0.71 (ratio 0.00636 <= 0.5)
note: closest to the reference curve: the suggested lr
* closest to the reference curve; mismatch = mean |val loss - reference| / mean reference val loss at matched samples seen

"""  # noqa: E501


def test_piped_text_keeps_one_precision_per_column_and_never_wraps(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # a pipe has no width: not even COLUMNS wraps it
    out = io.StringIO()  # not a terminal, as a pipe or a file
    print_text([result()], [], out=out)
    assert out.getvalue() == EXPECTED
    assert max(len(line) for line in out.getvalue().splitlines()) > 150


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_wraps_at_its_width_between_words(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    out = Terminal()
    print_text([result()], [], out=out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # bold and dim stay on a terminal
    text = "\n".join(line.rstrip() for line in text.splitlines())
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    assert (
        "\nPASS  the suggested lr reproduces the reference curve and the unchanged lr does not: closer on 3/3\n" in text
    )
    assert [w for w in text.split() if w not in ("your", "lr")] == [
        w for w in EXPECTED.split() if w not in ("your", "lr")
    ]  # the same words (a narrow table may stack a header's words), only the line breaks differ


# --------------------------------------------------------------------------- the plot


@pytest.fixture
def fig():
    pytest.importorskip("matplotlib")
    from matplotlib import pyplot as plt

    from lrlint.verify import plot

    f = plot.figure([result()])
    yield f
    plt.close(f)


def test_legend_names_the_proxy_lr_and_the_users_lr(fig):
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "reference: proxy lr 0.01 at batch 8; your lr 0.1 at batch 8",
        "suggested (linear): proxy lr 0.04 at batch 32; your lr 0.4 at batch 32",
        "unchanged: proxy lr 0.01 at batch 32; your lr 0.1 at batch 32",
        "sqrt rule: proxy lr 0.02 at batch 32; your lr 0.2 at batch 32",
    ]


def test_user_model_legend_has_one_lr_and_unknown_user_lr_shows_the_factor():
    pytest.importorskip("matplotlib")
    from lrlint.verify import plot

    r = result(task="model")
    assert plot.label(r, r.candidates[1]) == "suggested (linear): lr 0.04 at batch 32"
    r = result()
    r.candidates[1].user_lr = None
    assert plot.label(r, r.candidates[1]) == "suggested (linear): proxy lr 0.04 at batch 32; your lr x4 at batch 32"


def test_x_axis_covers_the_samples_the_text_reports(fig):
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_xlim() == (0.0, BUDGET)
    means = [line for line in ax.get_lines() if line.get_label() and not line.get_label().startswith("_")]
    assert len(means) == 4
    for line in means:
        assert list(line.get_xdata())[0] == 0.0 and list(line.get_xdata())[-1] == BUDGET


def test_the_png_has_no_empty_band(tmp_path):
    pytest.importorskip("matplotlib")
    np = pytest.importorskip("numpy")
    from matplotlib import image

    from lrlint.verify import plot

    png = tmp_path / "curves.png"
    plot.write([result()], str(png))
    ink = image.imread(str(png))[:, :, :3].min(axis=2) < 0.95
    rows = ink.any(axis=1)
    height = len(rows)
    blank, longest = 0, 0
    for r in rows:
        blank = 0 if r else blank + 1
        longest = max(longest, blank)
    inked = np.flatnonzero(rows)
    assert inked[0] / height < 0.05 and (height - 1 - inked[-1]) / height < 0.05  # top and bottom margins
    assert longest / height < 0.05  # no band of empty rows anywhere (was 7% under the legend)
