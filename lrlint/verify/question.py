"""What ``lrlint verify`` checks: a batch change, a reference lr and the candidate lrs.

Pure Python (no torch): parsing ``--batch``/``--lr``, turning an LR001/LR002 finding or a direct
question into a :class:`Question`, choosing the optimizer the runs use and the candidate set
(reference, suggested, unchanged, the other rule, the user's current lr).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lrlint.numbers import plain
from lrlint.profiles import optimizer_table
from lrlint.scaling import RULE_EXPONENT

if TYPE_CHECKING:  # pragma: no cover - typing only
    from lrlint.findings import Finding

#: Reference batch of the default proxy; candidates run at ``PROXY_B0 * k``.
PROXY_B0 = 8
#: Batch factors the default proxy answers (measured range; see docs/verify.md).
K_MIN = 0.25
K_MAX = 32.0
#: Upper factor when the user pins the proxy's lr (``--proxy-lr``): a stability question.
K_MAX_EXPLICIT = 64.0
#: Two lr factors this close (relative) are the same candidate.
SAME_LR = 0.02


class UsageError(Exception):
    """A problem with the command line or the question: exit code 2."""


class RunError(Exception):
    """The runs could not be made (a data-parallel worker failed, the user's model raised): exit 2."""


# --------------------------------------------------------------------------- parsing


def parse_pair(
    text: str, what: str, *, integer: bool = False, second_optional: bool = False
) -> tuple[float, float | None]:
    """``"8:56"`` -> (8, 56); with ``second_optional`` also ``"0.01"`` -> (0.01, None)."""
    parts = str(text).strip().split(":")
    if len(parts) == 1 and second_optional:
        return _number(parts[0], what, integer), None
    if len(parts) != 2:
        form = "OLD[:NEW]" if second_optional else "OLD:NEW"
        raise UsageError(f"{what} wants {form}, e.g. {'0.01:0.04' if second_optional else '8:32'}; got {text!r}")
    return _number(parts[0], what, integer), _number(parts[1], what, integer)


def _number(text: str, what: str, integer: bool) -> float:
    try:
        x = float(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(x) or x <= 0:
        raise UsageError(f"{what}: {text!r} must be a positive number")
    if integer and not x.is_integer():
        raise UsageError(f"{what}: {text!r} must be a whole number")
    return x


# --------------------------------------------------------------------------- optimizer


@dataclass(frozen=True)
class OptimizerChoice:
    """The torch optimizer the runs use for a user's optimizer name/family."""

    torch_name: str  # attribute of torch.optim
    kwargs: dict[str, Any]  # momentum etc.
    proxy_lr: float  # the proxy's own reference lr for this optimizer
    calibrated: bool  # proxy lr measured in the experiments (SGD, Adam/AdamW)
    display: str  # the user's optimizer as named in the finding/flag
    family: str
    stand_in: str = ""  # non-empty: why a stand-in class is used

    @property
    def adaptive(self) -> bool:
        return self.torch_name != "SGD"

    def describe(self) -> str:
        kw = ", ".join(
            f"{k} {plain(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v}"
            for k, v in self.kwargs.items()
        )
        return f"torch.optim.{self.torch_name}" + (f" ({kw})" if kw else "")


def _stand_in(name: str, family: str) -> tuple[str, str]:
    """(display name of the torch class used instead, why) for an optimizer without a torch class of its own."""
    if family == "sgd":
        return "SGD", f"{name} has no torch.optim class: the runs use SGD as a stand-in" if name not in (
            "",
            "SGD",
        ) else ""
    if family == "adaptive":
        return (
            "AdamW",
            f"{name or 'this adaptive optimizer'} has no torch.optim class: the runs use AdamW as a stand-in",
        )
    if family == "sign":
        return "AdamW", (
            f"{name or 'this optimizer'} (sign-based/new) is not in torch.optim and has no established "
            "scaling rule: the runs use AdamW as a stand-in"
        )
    return "SGD", f"optimizer {name or '(not named)'} is of unknown family: the runs use SGD as a stand-in"


def choose_optimizer(display: str, family: str, momentum: float | None) -> OptimizerChoice:
    """Map a finding's optimizer (display name and family) to a torch.optim class: the ``torch`` entry of
    rules/optimizers.yaml for that optimizer (a name not displayed there is looked up as a config would
    write it), else the family's stand-in."""
    name = display or ""
    table = optimizer_table()
    classes = table.torch_classes()
    cls = classes.get(name) or classes.get(table.lookup(name)[0])
    stand_in = ""
    if cls is None or (family == "sgd" and cls.name != "SGD"):
        fallback, stand_in = _stand_in(name, family)
        cls = classes[fallback]
    torch_name, lr, calibrated = cls.name, cls.proxy_lr, cls.calibrated
    kwargs: dict[str, Any] = {}
    if torch_name == "SGD":
        kwargs["momentum"] = float(momentum) if momentum else 0.0
        if momentum and "nesterov" in name.lower():
            kwargs["nesterov"] = True
    elif torch_name == "RMSprop" and momentum:
        kwargs["momentum"] = float(momentum)
    return OptimizerChoice(torch_name, kwargs, lr, calibrated, name or torch_name, family, stand_in)


# --------------------------------------------------------------------------- the question


@dataclass(frozen=True)
class Candidate:
    """One lr at one batch, as a factor of the reference lr.

    ``exponent`` is the lr factor written as k^a; it is what transfers to the proxy, whose batch
    factor can differ slightly from the user's (the proxy's batch is a whole number).
    """

    role: str  # reference | suggested | unchanged | linear | sqrt | current
    label: str
    at_new_batch: bool
    factor: float  # user's lr / user's reference lr
    exponent: float  # factor = k ** exponent (0 for the reference)

    def proxy_factor(self, k_proxy: float) -> float:
        return k_proxy**self.exponent if self.at_new_batch else 1.0


@dataclass(frozen=True)
class Question:
    """One batch change to verify."""

    batch_old: float
    batch_new: float
    lr_old: float | None  # the lr the reference batch was tuned with (None: unknown)
    lr_suggested: float | None  # the lr to verify at the new batch (None: ``policy`` applied)
    policy: str  # the rule behind the suggestion: linear | sqrt | none
    optimizer: OptimizerChoice
    lr_current: float | None = None  # the user's lr at the new batch when it is neither old nor suggested
    origin: str = "question"  # "question" or "path:line"
    code: str = ""  # LR001 / LR002 for findings
    message: str = ""
    explicit_lr: bool = False  # the user named the new lr (--lr OLD:NEW)
    accum_new: int | None = None  # gradient accumulation of the new setup, from the config

    @property
    def k(self) -> float:
        return self.batch_new / self.batch_old

    @property
    def suggested_factor(self) -> float:
        if self.lr_suggested is not None and self.lr_old:
            return self.lr_suggested / self.lr_old
        return self.k ** RULE_EXPONENT[self.policy]

    def title(self) -> str:
        head = f"{self.code} {self.origin}" if self.code else "question"
        return (
            f"{head}: batch {plain(self.batch_old)} -> {plain(self.batch_new)} (x{plain(self.k)}), "
            f"{self.optimizer.display}"
        )

    def candidates(self) -> list[Candidate]:
        """Reference, the lr to verify, unchanged lr, the other rule(s), the user's current lr."""
        k = self.k
        lk = math.log(k)

        def exp_of(factor: float) -> float:
            return math.log(factor) / lk

        sug = self.suggested_factor
        if self.explicit_lr:
            sug_label = f"proposed lr (x{plain(sug)})"
        else:
            sug_label = f"suggested ({self.policy})" if self.policy != "none" else "suggested (keep lr)"
        out = [
            Candidate("reference", "reference", False, 1.0, 0.0),
            Candidate("suggested", sug_label, True, sug, exp_of(sug)),
        ]

        def taken(f: float) -> bool:
            return any(c.at_new_batch and abs(c.factor / f - 1) < SAME_LR for c in out)

        if not taken(1.0):
            out.append(Candidate("unchanged", "unchanged", True, 1.0, 0.0))
        for rule in ("linear", "sqrt"):
            f = k ** RULE_EXPONENT[rule]
            if not taken(f):
                out.append(Candidate(rule, f"{rule} rule", True, f, RULE_EXPONENT[rule]))
        if self.lr_current is not None and self.lr_old:
            f = self.lr_current / self.lr_old
            same = [i for i, c in enumerate(out) if c.at_new_batch and abs(c.factor / f - 1) < SAME_LR]
            if same:
                out[same[0]] = replace(out[same[0]], label=out[same[0]].label + " = your lr")
            else:
                out.append(Candidate("current", f"your lr (x{plain(f)})", True, f, exp_of(f)))
        return out

    def alternative_role(self) -> str:
        """The candidate the suggested lr must beat: the unchanged lr, or when the suggestion *is*
        the unchanged lr (policy none), the user's current lr or else the family's scaled rule."""
        cands = self.candidates()
        roles = [c.role for c in cands]
        if "unchanged" in roles:
            return "unchanged"
        for c in cands:
            if c.label.endswith("your lr") or c.role == "current":
                return c.role
        return "sqrt" if self.optimizer.adaptive else "linear"


def check_k(q: Question, batch_tolerance: tuple[float, float], *, proxy: bool, explicit_proxy_lr: bool) -> str | None:
    """Why this factor cannot be verified (None: it can): no batch change by the linter's own
    tolerance (``[tool.lrlint.thresholds] batch-tolerance``), or out of the default proxy's range."""
    k = q.k
    lo, hi = batch_tolerance
    if lo <= k <= hi:
        return f"batch factor x{plain(k)} is no batch change (within {plain(lo)}..{plain(hi)}): nothing to verify"
    if not proxy:
        return None
    hi = K_MAX_EXPLICIT if explicit_proxy_lr else K_MAX
    if k < K_MIN or k > hi:
        more = ""
        if not explicit_proxy_lr and K_MAX < k <= K_MAX_EXPLICIT:
            more = (
                f"; to ask whether an lr survives x{plain(k)} on the proxy (a stability question), pin the "
                "proxy's lr with --proxy-lr (up to x64)"
            )
        return (
            f"batch factor x{plain(k)} is out of range for the default proxy (x{plain(K_MIN)} to x{plain(hi)}: "
            "beyond that the proxy has too few steps per epoch or too small a batch); use your own model with "
            f"--model{more}"
        )
    return None


def proxy_batches(k: float) -> tuple[int, int]:
    """(reference batch, candidate batch) on the proxy."""
    return PROXY_B0, max(1, round(PROXY_B0 * k))


def from_finding(f: Finding, default_momentum: float | None = None) -> Question:
    """A Question from an LR001/LR002 finding: its :class:`lrlint.checks.data.ScalingData` (the batch
    change, the lrs and what the policy expects); a finding without one states no batch change to train."""
    from lrlint.checks.data import ScalingData

    d = f.data
    if not isinstance(d, ScalingData):
        raise UsageError(f"finding {f.code} names no batch change with its lrs: nothing to train")
    missing = [key for key, v in (("batch_old", d.batch_old), ("batch_new", d.batch_new)) if not _pos(v)]
    if missing:
        raise UsageError(f"finding {f.code} lacks {', '.join(missing)}")
    momentum = d.momentum if d.momentum is not None else default_momentum
    choice = choose_optimizer(d.optimizer or "", d.family or "unknown", momentum)
    policy = d.policy if d.policy in RULE_EXPONENT else "linear"
    lr_old, lr_new, expected = _pos(d.lr_old), _pos(d.lr_new), _pos(d.expected_lr)
    accum = _pos(d.batch_parts.get("accum"))
    current = None
    if (
        lr_new is not None
        and lr_old is not None
        and expected is not None
        and abs(lr_new / lr_old - 1) >= SAME_LR
        and abs(lr_new / expected - 1) >= SAME_LR
    ):
        current = lr_new
    return Question(
        batch_old=float(d.batch_old),
        batch_new=float(d.batch_new),
        lr_old=lr_old,
        lr_suggested=expected if lr_old is not None else None,
        policy=policy,
        optimizer=choice,
        lr_current=current,
        origin=f"{f.span.path}:{f.span.line}",
        code=f.code,
        message=f.message,
        accum_new=int(accum) if accum is not None and accum.is_integer() and accum > 1 else None,
    )


def _pos(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None
