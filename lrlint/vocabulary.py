"""The words every layer shares, defined once.

Severities of a finding, how a fix may be applied, how a value was obtained, what kind of reference a
recipe is compared with, the roles a framework profile maps key paths to, and the parts an effective
batch is made of. Plain strings (they are written as they are to JSON, SARIF and the terminal), each
with a ``Literal`` type for annotations.
"""

from __future__ import annotations

from typing import Final, Literal

# -- severity of a finding ------------------------------------------------------------------------
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"
Severity = Literal["error", "warning", "info"]

# -- how ``--fix`` may apply a fix ------------------------------------------------------------------
SAFE: Final = "safe"  # applied by --fix
UNSAFE: Final = "unsafe"  # applied with --unsafe-fixes
DISPLAY_ONLY: Final = "display-only"  # shown, never applied
Applicability = Literal["safe", "unsafe", "display-only"]

# -- provenance: how a Value was obtained ----------------------------------------------------------
LITERAL: Final = "literal"  # a number/bool/null literal in the file
STRING: Final = "string"  # a quoted or plain string scalar (a numeric string still reads as a number)
EXPRESSION: Final = "expression"  # folded from constants (Python)
ARGPARSE: Final = "argparse-default"  # default of a command-line option (Python)
INHERITED: Final = "inherited"  # from a base config
INTERPOLATED: Final = "interpolated"  # resolved ${...} interpolation
DEFAULT: Final = "framework-default"  # the framework's documented default, not in the file
UNKNOWN: Final = "unknown"  # lrlint cannot know it statically (env, file, "auto", call)
Provenance = Literal[
    "literal", "string", "expression", "argparse-default", "inherited", "interpolated", "framework-default", "unknown"
]

# -- reference kinds: what a recipe is compared with -----------------------------------------------
DECLARED: Final = "declared"  # inline `# lrlint: reference`, a declared batch key (auto_scale_lr.base_batch_size ...)
USER: Final = "user"  # --reference FILE
INHERITANCE: Final = "inheritance"  # the base config a child inherits from
HISTORY: Final = "history"  # the same file at the git base
ReferenceKind = Literal["declared", "user", "inheritance", "history"]
# The strongest first: what the user names wins over what the file declares, which wins over the base
# config, which wins over git history.
STRENGTH: dict[str, int] = {USER: 0, DECLARED: 1, INHERITANCE: 2, HISTORY: 3}

# -- roles: what a profile's key paths stand for ---------------------------------------------------
ROLES = (
    "batch_per_device",  # per device per step
    "repeats",  # repeated augmentation: each loaded sample is augmented this many times into the batch
    "batch_global",  # across devices per step (accumulation multiplies it)
    "batch_total",  # the whole effective batch (accumulation and devices included)
    "grad_accum",
    "devices",  # devices per node (or all processes when nodes is absent)
    "nodes",
    "lr",
    "optimizer",
    "momentum",
    "warmup",  # any value > 0 means a warmup is configured
    "schedule_steps",  # step-based schedule lengths (rescaled by 1/k)
    "train_dataset",  # the training data a recipe was tuned on (another dataset's recipe is not a rescale)
)
Role = Literal[
    "batch_per_device",
    "repeats",
    "batch_global",
    "batch_total",
    "grad_accum",
    "devices",
    "nodes",
    "lr",
    "optimizer",
    "momentum",
    "warmup",
    "schedule_steps",
    "train_dataset",
]
# the roles a recipe holds one value of (the nearest to its lr)
SINGLE_ROLES = (
    "batch_per_device",
    "repeats",
    "batch_global",
    "batch_total",
    "grad_accum",
    "devices",
    "nodes",
    "optimizer",
    "momentum",
    "train_dataset",
)
# the roles an effective batch is made of: batch sizes first (the largest first), then multipliers
BATCH_ROLES = ("batch_total", "batch_global", "batch_per_device", "repeats", "grad_accum", "devices", "nodes")
# key parts that open an evaluation scope: a length under them (``eval.max_iters``) counts evaluation
# batches, not training steps
EVAL_SCOPES = frozenset({"eval", "evaluation", "val", "valid", "validation", "test", "testing", "predict"})
# the roles that are a batch size (not a multiplier of one)
BATCH_SIZE_ROLES = ("batch_total", "batch_global", "batch_per_device")

# -- parts: the numbers behind an effective batch (``Recipe.parts``) -------------------------------
Part = Literal["per_device", "repeats", "accum", "devices", "nodes", "global_batch", "total"]
PART_OF_ROLE: dict[str, str] = {
    "batch_per_device": "per_device",
    "repeats": "repeats",
    "grad_accum": "accum",
    "devices": "devices",
    "nodes": "nodes",
    "batch_global": "global_batch",
    "batch_total": "total",
}
ROLE_OF_PART: dict[str, str] = {part: role for role, part in PART_OF_ROLE.items()}
PART_LABELS: dict[str, str] = {
    "per_device": "per-device batch",
    "repeats": "repeated augmentation",
    "accum": "accumulation",
    "devices": "devices",
    "nodes": "nodes",
    "global_batch": "global batch",
    "total": "total batch",
}
# the parts that multiply a batch size
MULTIPLIER_PARTS = ("repeats", "accum", "devices", "nodes")
