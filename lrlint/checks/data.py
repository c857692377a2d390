"""What each rule's finding carries in ``Finding.data``: one record per kind of finding.

The field names and order are the keys of the JSON ``data`` object (see ``FindingData.to_json``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from lrlint import numbers
from lrlint.checks.base import CheckContext
from lrlint.checks.compare import Comparison
from lrlint.findings import FindingData
from lrlint.records import Record


class RefLabel(Record):
    """The reference a finding compares with."""

    kind: str
    label: str


class RefSummary(Record):
    """One of the references of a recipe, with its batch and lr."""

    kind: str
    label: str
    batch: float | None
    lr: float | None


class ScalingData(FindingData):
    """LR001, LR002 and LR007 (double scaling): the batch change, the lr change and what the policy expects."""

    batch_old: float
    batch_new: float
    k: float  # the batch factor no runtime scaling compensates
    runtime_k: float  # the batch factor the runtime scaling compensates
    lr_old: float
    lr_new: float
    lr_factor: float
    expected_lr: float
    policy: str  # the rule a fix applies: linear | sqrt | none
    band: tuple[float, float]  # the exponents the policy accepts
    family: str
    optimizer: str
    momentum: float | None
    lr_key: str
    profile: str
    reference: RefLabel
    references: list[RefSummary]
    batch_parts: dict[str, float]
    assumptions: list[str]
    why: str  # the policy's note
    deviation: float | None = None  # LR002: how far the lr factor is off
    wrong_direction: bool | None = None  # LR002: the lr moved the other way
    runtime_scaling: str | None = None  # LR007: the runtime rule's name
    __omit_none__: ClassVar[frozenset[str]] = frozenset({"deviation", "wrong_direction", "runtime_scaling"})

    def note(self) -> str:
        return self.why

    @classmethod
    def of(cls, ctx: CheckContext, c: Comparison, expected: float, **more: Any) -> ScalingData:
        """The comparison, the policy and the references (``more``: the rule's own facts)."""
        r, ref = ctx.recipe, ctx.reference
        assert ref is not None  # a Comparison is made against the primary reference
        return cls(
            batch_old=c.old_batch,
            batch_new=c.new_batch,
            k=c.k,
            runtime_k=c.runtime_k,
            lr_old=c.old_lr,
            lr_new=c.new_lr,
            lr_factor=c.lr_factor,
            expected_lr=expected,
            policy=ctx.policy.fix,
            band=ctx.policy.band,
            family=r.family,
            optimizer=r.optimizer_display,
            momentum=r.momentum,
            lr_key=r.lr.key,
            profile=r.profile.name,
            reference=RefLabel(ref.kind, ref.label),
            references=[RefSummary(x.kind, x.label, x.batch, x.lr) for x in ctx.references],
            batch_parts=r.parts,
            assumptions=list(r.assumptions),
            why=ctx.policy.note,
            **more,
        )


class ExpressionRuleData(FindingData):
    """LR002: an lr computed from the batch by a rule outside the policy's band."""

    lr_key: str
    family: str
    optimizer: str
    policy: str
    band: tuple[float, float]
    expression_exponent: float
    profile: str


class WarmupData(FindingData):
    """LR003: the lr raised by a large factor without a warmup."""

    lr_factor: float
    batch_old: float
    batch_new: float
    k: float
    lr_old: float
    lr_new: float
    runtime_scaling: bool  # the lr is raised at run time, not in the file
    threshold: float
    reference: RefLabel
    lr_key: str
    profile: str

    def note(self) -> str:
        return "Goyal et al. 2017 trained the linearly scaled lr at batch 8192 only after a 5-epoch gradual warmup"


class TagMismatchData(FindingData):
    """LR004: a file-name batch tag that disagrees with the config."""

    profile: str
    tag: str
    tag_batch: int | None
    config_value: float
    key: str | None = None  # the disagreeing key (none for a whole batch)
    __omit_none__: ClassVar[frozenset[str]] = frozenset({"key"})


class ConsistencyData(FindingData):
    """LR004: a total batch no whole number of devices makes from its factors."""

    profile: str
    total_key: str
    total: float
    factors: dict[str, float]


class LinearRegimeData(FindingData):
    """LR005: an SGD batch past the linear-scaling regime."""

    batch_old: float
    batch_new: float
    threshold: float
    optimizer: str
    family: str
    reference: RefLabel
    profile: str

    def note(self) -> str:
        return "Goyal et al. 2017: linear scaling held up to batch 8192; LARS (You et al. 2017) trains past it"


class ScheduleData(FindingData):
    """LR006: a step-based schedule length left as it was."""

    key: str
    old: float | list[float]
    expected: float | list[float]
    k: float
    batch_old: float
    batch_new: float
    reference: RefLabel
    profile: str

    def note(self) -> str:
        return (
            f"counted in samples, a length in steps lasts x{numbers.plain(self.k)} as long; Detectron2's "
            "auto_scale_workers rescales it the same way"
        )


class BaseBatchData(FindingData):
    """LR007: the runtime rule's base batch disagrees with the file-name tag."""

    declared_base_batch: float
    tag: str
    tag_batch: int
    runtime_scaling: str
    lr_key: str
    profile: str


class RuntimeRuleData(FindingData):
    """LR007: a runtime scaling rule outside the policy's band."""

    runtime_scaling: str
    exponent: float
    policy: str
    band: tuple[float, float]
    family: str
    optimizer: str
    profile: str


class IgnoredPartData(FindingData):
    """LR007: the runtime rule leaves out a batch multiplier."""

    runtime_scaling: str
    ignored: str  # the key of the multiplier
    factor: float
    effective_batch: float
    profile: str


class PowerOfTwoData(FindingData):
    """LR008: a batch size that is not a power of two."""

    batch_key: str
    batch: float


class SuppressionData(FindingData):
    """LR100: the suppression comment, and its codes that hide no finding (``all`` for a blanket one)."""

    comment: str
    unused: list[str]


class InputData(FindingData):
    """LR9xx: why the input could not be read."""

    reason: str
    files: int | None = None  # LR906: how many checked configs name the missing file (one finding for all)
    __omit_none__: ClassVar[frozenset[str]] = frozenset({"files"})
