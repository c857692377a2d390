"""``--model pkg.module:factory``: verify on the user's own model and data.

This is the only place lrlint imports user code, and only when ``lrlint verify`` is given
``--model`` (or ``[tool.lrlint.verify] model = "pkg.module:factory"``).

The factory protocol
--------------------

A *factory* is a callable with no required arguments (it may accept ``seed: int``) that returns a
:class:`VerifySetup`, or the 4-tuple ``(model, train, val, loss_fn)``:

- ``model``: a ``torch.nn.Module``. lrlint calls ``torch.manual_seed(seed)`` right before the
  factory, so build the model inside the factory and each seed gets its own initial weights;
  within a seed, every candidate starts from the same weights (lrlint copies the state dict).
- ``train`` and ``val``: map-style datasets (``len(ds)`` and ``ds[i] -> (input, target)``); a
  ``torch.utils.data.TensorDataset`` is indexed directly (fastest), anything else is collated
  with ``torch.utils.data.default_collate``. Batches are drawn by lrlint (a fresh permutation per
  epoch, last incomplete batch dropped); inputs are passed as ``model(input)``.
- ``loss_fn(output, target) -> scalar tensor``: the *mean* loss over the batch (what the user
  trains with). Val loss is the sample-weighted mean over ``val``. Accuracy is reported when the
  output is ``(N, C)`` logits and the target ``(N,)`` class indices.

The user's real optimizer (from the finding or ``--optimizer``) and real lrs are used.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lrlint.verify.question import UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only; torch is imported lazily
    import torch
    from torch.utils.data import Dataset


@dataclass
class VerifySetup:
    """What a ``--model`` factory returns (a plain 4-tuple in this order is accepted too)."""

    model: torch.nn.Module
    train: Dataset
    val: Dataset
    loss_fn: Callable[[Any, Any], torch.Tensor]
    #: Batch size for the val passes (default: 256, or the largest training batch when bigger).
    eval_batch_size: int | None = None


class ModelFactory(Protocol):
    """``pkg.module:factory``; it may take ``seed`` as a keyword argument."""

    def __call__(self, **kwargs: Any) -> VerifySetup | tuple[Any, Any, Any, Callable[[Any, Any], Any]]: ...


def load_factory(spec: str) -> ModelFactory:
    """Import ``pkg.module:factory`` (the current directory is importable, as with ``python -m``)."""
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise UsageError(f"--model wants pkg.module:factory, got {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(mod_name)
    except Exception as e:  # the user's module: any error is a usage error, reported, not raised
        raise UsageError(f"--model {spec}: cannot import {mod_name}: {type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"--model {spec}: {mod_name} has no attribute {attr!r}") from None
    if not callable(obj):
        raise UsageError(f"--model {spec}: {attr} is not callable")
    return obj


def build(factory: ModelFactory, seed: int, spec: str = "--model") -> VerifySetup:
    """Seed torch, call the factory, check what it returned."""
    import torch

    torch.manual_seed(seed)
    try:
        takes_seed = "seed" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        takes_seed = False
    try:
        out = factory(seed=seed) if takes_seed else factory()
    except Exception as e:
        raise UsageError(f"{spec}: the factory raised {type(e).__name__}: {e}") from None
    if isinstance(out, VerifySetup):
        setup = out
    elif isinstance(out, (tuple, list)) and len(out) == 4:
        setup = VerifySetup(*out)
    else:
        raise UsageError(
            f"{spec}: the factory must return VerifySetup(model, train, val, loss_fn) "
            f"or a 4-tuple, got {type(out).__name__}"
        )
    if not isinstance(setup.model, torch.nn.Module):
        raise UsageError(f"{spec}: model is {type(setup.model).__name__}, not a torch.nn.Module")
    for name in ("train", "val"):
        ds = getattr(setup, name)
        if not hasattr(ds, "__len__") or not hasattr(ds, "__getitem__"):
            raise UsageError(f"{spec}: {name} must be a map-style dataset (len() and [i])")
        if len(ds) == 0:
            raise UsageError(f"{spec}: {name} dataset is empty")
    if not callable(setup.loss_fn):
        raise UsageError(f"{spec}: loss_fn is not callable")
    return setup
