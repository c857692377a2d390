"""``lrlint verify``: check a suggested learning rate with a short PyTorch training run.

This package is the only part of lrlint that imports torch, scikit-learn (the digits data
file) and matplotlib, and only inside functions that ``lrlint verify`` calls. Importing
``lrlint.verify`` or ``lrlint.verify.cli`` imports none of them, so ``lrlint check`` stays fast
and works without the ``verify`` extra.

Modules:

- ``question``: what is being verified (batch factor, reference lr, candidate lrs); pure Python.
- ``verdict``: the curve-mismatch metric, the seed floor and the PASS/FAIL/INCONCLUSIVE rule; pure Python.
- ``proxy``: the default proxy task (scikit-learn's 8x8 digits, a one-conv CNN).
- ``user_model``: the ``--model pkg.module:factory`` protocol and its import.
- ``training``: the task (proxy or user model), its data, and one training run (shared init per seed).
- ``planning``: the runs a question needs (batches, lrs, ranks, accumulation) and the sample budget.
- ``judging``: curves on the common grid, per-candidate figures, the verdict; the report data.
- ``experiment``: ``run``: plan every question, train each distinct run once, judge each question.
- ``distributed``: ``--nproc N`` data-parallel runs (torchrun-style env, gloo on CPU, nccl on GPU).
- ``noise_scale``: the two-batch gradient-noise-scale estimate (McCandlish et al. 2018).
- ``render``: rich tables and progress, JSON.
- ``plot``: ``--plot`` learning curves (matplotlib).
- ``cli``: ``add_arguments`` and ``main`` for the ``verify`` subcommand.
"""

from __future__ import annotations

MISSING_EXTRA = 'lrlint verify needs PyTorch and scikit-learn: pip install "lrlint[verify]"'
#: PyTorch's documented CPU-only wheel index: the torch install that works on any machine and does
#: not pull the CUDA packages (several GB) that the default wheel brings on Linux.
TORCH_CPU_INSTALL = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
#: Printed with MISSING_EXTRA when torch itself is missing; the README's set-up gives the same line.
TORCH_CPU_HINT = f"On a machine without a CUDA GPU, install PyTorch's CPU-only wheel first: {TORCH_CPU_INSTALL}"
MISSING_PLOT_EXTRA = 'lrlint verify --plot needs matplotlib: pip install "lrlint[verify]"'
