"""The default proxy task: scikit-learn's 8x8 handwritten digits and a one-conv CNN.

The data are the 1797 real images that scikit-learn ships (``sklearn.datasets.load_digits``).
The file is read directly (``sklearn/datasets/data/digits.csv.gz``) without importing
scikit-learn, which would add about a second of start-up; ``load_digits()`` is the fallback when
the file is not where scikit-learn keeps it. Nothing is downloaded or cached.

Split: stratified, 1437 train / 360 val, with a fixed seed (numpy's PCG64 seeded 0, per class
shuffle, largest-remainder apportionment of the 360 val images over the classes).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

N_VAL = 360
SPLIT_SEED = 0
#: Val loss on the proxy is capped here (chance level is ln 10 = 2.303): a diverged run's loss.
LOSS_CAP = 2.5
#: The proxy's grid of samples seen for the curve comparison.
GRID_STEP = 360


@dataclass(frozen=True)
class Digits:
    x_train: Any  # float32 tensor (1437, 1, 8, 8), pixel values / 16
    y_train: Any  # int64 tensor (1437,)
    x_val: Any
    y_val: Any


def _digits_arrays() -> tuple[Any, Any]:
    import numpy as np

    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin:
        path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            a = np.loadtxt(path, delimiter=",")
            return a[:, :-1], a[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # the file moved: let scikit-learn find it

    d = load_digits()
    return d.data, d.target.astype(np.int64)


def stratified_split(y: Any, n_val: int, seed: int) -> tuple[Any, Any]:
    """Train and val indices; each class keeps its share of the val set (largest remainder)."""
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * n_val / len(y)
    take = np.floor(exact).astype(int)
    rest = n_val - int(take.sum())
    order = np.argsort(-(exact - take), kind="stable")
    take[order[:rest]] += 1
    train, val = [], []
    for c, t in zip(classes, take, strict=True):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        val.append(idx[:t])
        train.append(idx[t:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def load() -> Digits:
    import numpy as np
    import torch

    x, y = _digits_arrays()
    tr, va = stratified_split(y, N_VAL, SPLIT_SEED)
    xt = torch.from_numpy((x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8))
    yt = torch.from_numpy(y)
    return Digits(xt[tr].contiguous(), yt[tr].contiguous(), xt[va].contiguous(), yt[va].contiguous())


def make_model() -> Any:
    """Conv2d(1->16, 3x3, pad 1) -> ReLU -> MaxPool 2 -> Dropout 0.25 -> Linear(256->10): 2,730 parameters."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10),
    )


DESCRIPTION = (
    "digits proxy: scikit-learn's 8x8 digits (1437 train / 360 val), "
    "CNN conv 1->16 3x3, ReLU, max-pool, dropout 0.25, linear 256->10 (2,730 parameters)"
)
