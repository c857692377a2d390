"""What the Python reader knows about frameworks: the ``python:`` section of a profile, and the merged table.

Each framework profile in ``rules/frameworks/`` may carry a ``python:`` section naming the callables,
classes and names of its framework that the Python reader models (the HF profile names
``TrainingArguments``, the Lightning profile ``Trainer``...); ``python_script`` holds what is not one
framework's (argparse namespaces, file loaders, batch-like names). The reader runs before a profile
is chosen for a file, so it reads every shipped profile's section merged into one
:class:`PythonTable` (:func:`merge`), built once and kept in lrlint's cache with the other rules.

Plain dataclasses (see :mod:`lrlint.validation`): built directly from the shipped files, validated by
pydantic in the schema test. A check of YAML or JSON files never imports this module: the sections are
kept apart from the profiles a check loads (:data:`lrlint.profiles.APART`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from lrlint import cache
from lrlint.profiles import OptimizerClasses, OptimizerTable, Profile, optimizer_table, rules_key, shipped_profile_files
from lrlint.validation import FieldError, build

Scalar = bool | int | float | str | None
FORBID = {"extra": "forbid"}  # pydantic config: unknown keys are errors


def _regexes(name: str, patterns: list[str]) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise FieldError(name, f"bad regex {p!r}: {e}") from None


@dataclass(kw_only=True)
class TypeKey:
    """The key naming what a call builds (``optimizer.type``): the callee's own name, or an argument."""

    __pydantic_config__ = FORBID
    key: str = "type"
    argument: str | None = None  # the argument that names it (timm: ``opt``); None: the callee's name
    default: str | None = None  # the framework's default when the argument is absent


@dataclass(kw_only=True)
class EvalVariant:
    """A second key for the same constructor when it builds an evaluation object (a validation loader)."""

    __pydantic_config__ = FORBID
    key: str  # eval_dataloader
    when: str  # regex (any case) searched in the assigned name and in the first argument's text
    unless: str = ""  # regex (any case) on the assigned name that keeps the training key

    def __post_init__(self) -> None:
        _regexes("when", [self.when, self.unless])


@dataclass(kw_only=True)
class Constructor:
    """A callable whose arguments become keys: ``TrainingArguments(learning_rate=...)`` -> ``learning_rate``.

    It matches a call by its last name (``names``; or ``optimizers: true`` for every optimizer class of
    ``rules/optimizers.yaml``) and where the name comes from: ``modules`` (the qualified name starts with
    one), ``module_words`` (it contains one), ``bare`` (called by the bare name, not imported),
    ``anywhere``, or ``keywords`` (any module but ``not_modules``, when one of these keywords is given).
    """

    __pydantic_config__ = FORBID
    names: list[str] = field(default_factory=list)
    optimizers: bool = False
    modules: list[str] = field(default_factory=list)
    module_words: list[str] = field(default_factory=list)
    bare: bool = False
    anywhere: bool = False
    keywords: list[str] = field(default_factory=list)
    not_modules: list[str] = field(default_factory=list)
    key: str  # key prefix of the arguments ("": the document root); a second call gets ``key_1``...
    positional: list[str | None] = field(default_factory=list)  # positional arguments by name (null: not kept)
    drop: list[str] = field(default_factory=list)  # arguments never kept (the model's parameters)
    namespace: list[str] = field(default_factory=list)  # read from the parsed command line (timm create_optimizer)
    type: TypeKey | None = None
    defaults: dict[str, Scalar] = field(default_factory=dict)  # the framework's defaults for absent arguments
    eval: EvalVariant | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.names and not self.optimizers:
            raise FieldError("names", "a constructor needs names (or optimizers: true)")


@dataclass(kw_only=True)
class KwargsHelper:
    """A helper whose result is spread into a call (``**optimizer_kwargs(cfg=args)``): the options it reads."""

    __pydantic_config__ = FORBID
    names: list[str]
    namespace: list[str]


@dataclass(kw_only=True)
class Namespaces:
    """Where parsed command-line options live: ``args.lr`` resolves to ``--lr``'s default."""

    __pydantic_config__ = FORBID
    names: list[str] = field(default_factory=list)  # variables that hold them (``args``, ``opt``, ``cfg``)
    methods: list[str] = field(default_factory=list)  # calls that return them (``parse_args``)
    functions: list[str] = field(default_factory=list)  # regexes (any case): the file's own functions that do
    self_attributes: list[str] = field(default_factory=list)  # ``self.<x>.lr`` reads options (``self.hparams``)

    def __post_init__(self) -> None:
        _regexes("functions", self.functions)


@dataclass(kw_only=True)
class ConfigClasses:
    """Classes whose fields are settings: ``TrainConfig.lr``; command-line ones are option defaults too."""

    __pydantic_config__ = FORBID
    decorators: list[str] = field(default_factory=list)  # ``@dataclass``
    bases: list[str] = field(default_factory=list)  # ``class C(BaseModel)``
    name_patterns: list[str] = field(default_factory=list)  # regexes on the class name (``...Config``)
    cli_bases: list[str] = field(default_factory=list)  # bases that make the fields command-line options
    cli_name_patterns: list[str] = field(default_factory=list)  # ... and class names that do (``...Arguments``)
    # ``x: int = field(default=1)``: the function and where its default is (the keyword, or the first argument)
    field_functions: dict[str, Literal["default", "first"]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _regexes("name_patterns", self.name_patterns + self.cli_name_patterns)


@dataclass(kw_only=True)
class Hparams:
    """Lightning's saved hyperparameters: after ``self.save_hyperparameters()``, ``self.hparams.lr`` is ``lr``."""

    __pydantic_config__ = FORBID
    attributes: list[str] = field(default_factory=list)
    save: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class LazyCall:
    """Detectron2's ``L(torch.optim.SGD)(lr=...)``: a lazy object whose target is kept under ``target_key``."""

    __pydantic_config__ = FORBID
    names: list[str]  # qualified names, and bare names as written
    target_key: str = "_target_"


@dataclass(kw_only=True)
class ImportBases:
    """Detectron2 LazyConfig's inheritance: ``from ..common.optim import SGD as optimizer`` and
    ``optimizer = model_zoo.get_config("common/optim.py").SGD`` take a top-level object of another config
    file. A relative import binding one of ``names`` (or a ``loaders`` call's attribute assigned to one)
    names a base of the profile's ``inherit.key``; a loader's path is under the tree's ``configs/`` root."""

    __pydantic_config__ = FORBID
    names: list[str]  # top-level names a config takes from another one (``optimizer``, ``dataloader``)
    loaders: list[str] = field(default_factory=list)  # ``model_zoo.get_config``: a path under the config root


@dataclass(kw_only=True)
class PythonSection:
    """A profile's ``python:`` section."""

    __pydantic_config__ = FORBID
    prefilter: list[str] = field(default_factory=list)  # regexes (any case): a file mentioning none is not parsed
    relevant_keys: list[str] = field(default_factory=list)  # regexes (any case): unknown values kept under such keys
    batch_names: list[str] = field(default_factory=list)  # regexes (any case): names of batch factors
    namespaces: Namespaces = field(default_factory=Namespaces)
    config_classes: ConfigClasses = field(default_factory=ConfigClasses)
    loaders: list[str] = field(default_factory=list)  # calls that read a file (value unknown): ``json.load``
    environment: list[str] = field(default_factory=list)  # calls that read an environment variable
    device_counts: list[str] = field(default_factory=list)  # calls that return the number of devices at run time
    parsers: list[str] = field(default_factory=list)  # parser classes whose parse methods return namespaces
    constructors: list[Constructor] = field(default_factory=list)
    kwargs_helpers: list[KwargsHelper] = field(default_factory=list)
    hparams: Hparams = field(default_factory=Hparams)
    lazy_call: LazyCall | None = None
    base_imports: list[str] = field(default_factory=list)  # ``with read_base():`` imports name the profile's bases
    import_bases: ImportBases | None = None  # relative imports of config objects name the profile's bases
    # callables whose function argument is the command line (``CLI(setup)``): its parameters are options
    entry_points: list[str] = field(default_factory=list)
    passthrough: list[str] = field(default_factory=list)  # calls whose value is their first argument's
    merges: list[str] = field(default_factory=list)  # calls whose value is their mapping arguments merged in order
    # regexes (any case) on parameter names: a function default of such a parameter is a setting of the script
    # (``def main(devices: int = 4)``)
    setting_parameters: list[str] = field(default_factory=list)
    # regexes (any case) on an ``if`` condition: true means the multi-device (distributed) branch
    multi_device_conditions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _regexes(
            "prefilter",
            self.prefilter
            + self.relevant_keys
            + self.batch_names
            + self.setting_parameters
            + self.multi_device_conditions,
        )


def _any(patterns: list[str]) -> re.Pattern[str] | None:
    """One pattern (any case) matching where any of ``patterns`` does."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(patterns)), re.IGNORECASE)


def _union(items) -> frozenset[str]:
    return frozenset(x for xs in items for x in xs)


@dataclass(frozen=True)
class BaseImport:
    """``with read_base():`` imports in a file name its bases under ``key`` (the profile's ``inherit.key``)."""

    key: str
    delete_key: str | None  # a rebinding in the child replaces the base's mapping (``x._delete_ = True``)


@dataclass
class PythonTable:
    """Every shipped profile's ``python:`` section, merged and compiled for the reader (see :func:`merge`)."""

    prefilter: re.Pattern[str]
    relevant: re.Pattern[str] | None
    batch: re.Pattern[str] | None
    ns_names: frozenset[str]
    ns_methods: frozenset[str]
    ns_functions: re.Pattern[str] | None
    self_namespaces: frozenset[str]
    config_decorators: frozenset[str]
    config_bases: frozenset[str]
    config_name: re.Pattern[str] | None
    cli_bases: frozenset[str]
    cli_name: re.Pattern[str] | None
    field_functions: dict[str, str]
    loaders: frozenset[str]
    environment: frozenset[str]
    device_counts: frozenset[str]
    parsers: frozenset[str]
    by_name: dict[str, tuple[Constructor, ...]]
    optimizer_ctor: Constructor | None
    eval_when: dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]]  # eval key -> its when/unless regexes
    kwargs_helpers: dict[str, tuple[str, ...]]
    hparams_attributes: frozenset[str]
    hparams_save: frozenset[str]
    lazy_names: frozenset[str]
    lazy_target: str
    base_imports: dict[str, BaseImport]
    import_bases: tuple[frozenset[str], frozenset[str], BaseImport] | None  # (names, loaders, key)
    entry_points: frozenset[str]
    passthrough: frozenset[str]
    merges: frozenset[str]
    setting_parameters: re.Pattern[str] | None
    multi_device: re.Pattern[str] | None
    optimizer_classes: frozenset[str]
    optimizer_modules: frozenset[str]
    optimizer_not_parts: frozenset[str]
    optimizer_not_suffixes: tuple[str, ...]

    # -- names ---------------------------------------------------------------------------------
    def mentions_training_names(self, text: str) -> bool:
        return self.prefilter.search(text) is not None

    def batch_like(self, name: str) -> bool:
        """Whether a variable/attribute/call name denotes a batch factor (``bs``, ``world_size``, ``accum_iter``)."""
        last = name.rsplit(".", 1)[-1].strip("()")
        if last.startswith("get_"):
            last = last[4:]
        return self.batch is not None and self.batch.fullmatch(last) is not None

    def relevant_key(self, key: str) -> bool:
        """Whether a key is worth keeping when its value is unknown."""
        return self.relevant is not None and self.relevant.search(key.rsplit(".", 1)[-1]) is not None

    # -- callables -----------------------------------------------------------------------------
    def is_optimizer(self, qual: str) -> bool:
        """Whether a resolved callee names an optimizer class of the optimizer table."""
        parts = qual.split(".")
        if any(p in self.optimizer_not_parts for p in parts):
            return False
        last = parts[-1]
        if last in self.optimizer_classes:
            return True
        if len(parts) > 1 and _has_prefix(qual, self.optimizer_modules):
            return last[:1].isupper() and not last.endswith(self.optimizer_not_suffixes)
        return False

    def constructor(self, qual: str, last: str, keywords: set[str]) -> Constructor | None:
        """The constructor a call matches (``qual``: the callee's qualified name as imported)."""
        if self.optimizer_ctor is not None and self.is_optimizer(qual):
            return self.optimizer_ctor
        for c in self.by_name.get(last, ()):
            if _from(c, qual, last, keywords):
                return c
        return None

    def is_eval(self, c: Constructor, hint: str, first_arg: str) -> bool:
        """Whether a call of ``c`` assigned to ``hint`` builds its evaluation variant."""
        rx = self.eval_when.get(c.eval.key) if c.eval is not None else None
        if rx is None:
            return False
        when, unless = rx
        if not (when.search(hint) or when.search(first_arg)):
            return False
        return unless is None or unless.search(hint) is None

    def is_loader(self, qual: str) -> bool:
        """A loader named as written (``yaml.safe_load``) or qualified further (``mmengine.Config.fromfile``)."""
        return _has_suffix(qual, self.loaders)

    def calls_kind(self, qual: str) -> str | None:
        """``entry``, ``passthrough`` or ``merge`` for a callee of those lists (as written or qualified further)."""
        for kind, names in (("entry", self.entry_points), ("passthrough", self.passthrough), ("merge", self.merges)):
            if names and _has_suffix(qual, names):
                return kind
        return None

    def reads_environment(self, qual: str) -> bool:
        """An environment read: a name as listed, or a dotted one qualified further (``x.os.getenv``)."""
        if qual in self.environment:
            return True
        i = qual.find(".")
        while i >= 0:
            rest = qual[i + 1 :]
            if "." in rest and rest in self.environment:
                return True
            i = qual.find(".", i + 1)
        return False


def _has_suffix(qual: str, names: frozenset[str]) -> bool:
    """Whether ``qual`` or a tail of it after a dot is one of ``names``."""
    if qual in names:
        return True
    i = qual.find(".")
    while i >= 0:
        if qual[i + 1 :] in names:
            return True
        i = qual.find(".", i + 1)
    return False


def _has_prefix(qual: str, modules: frozenset[str]) -> bool:
    """Whether a head of ``qual`` before a dot is one of ``modules`` (``torch.optim`` of ``torch.optim.SGD``)."""
    i = qual.find(".")
    while i >= 0:
        if qual[:i] in modules:
            return True
        i = qual.find(".", i + 1)
    return False


def _in_module(qual: str, modules: list[str]) -> bool:
    return any(qual.startswith(m + ".") for m in modules)


def _from(c: Constructor, qual: str, last: str, keywords: set[str]) -> bool:
    if c.anywhere or (c.bare and qual == last) or _in_module(qual, c.modules):
        return True
    if any(w in qual for w in c.module_words):
        return True
    return bool(c.keywords) and not _in_module(qual, c.not_modules) and bool(keywords & set(c.keywords))


def merge(
    sections: list[tuple[PythonSection, BaseImport | None]],
    optimizer_classes: frozenset[str],
    optimizers: OptimizerClasses,
) -> PythonTable:
    """One table from the profiles' sections (in profile order), with the base-import key of each profile."""
    secs = [s for s, _ in sections]
    by_name: dict[str, list[Constructor]] = {}
    optimizer_ctor = None
    eval_when = {}
    for s in secs:
        for c in s.constructors:
            if c.optimizers:
                optimizer_ctor = optimizer_ctor or c
            for n in c.names:
                by_name.setdefault(n, []).append(c)
            if c.eval is not None:
                eval_when[c.eval.key] = (
                    re.compile(c.eval.when, re.IGNORECASE),
                    re.compile(c.eval.unless, re.IGNORECASE) if c.eval.unless else None,
                )
    lazy = next((s.lazy_call for s in secs if s.lazy_call is not None), None)
    bases: dict[str, BaseImport] = {}
    import_bases = None
    for s, inherit in sections:
        if inherit is not None:
            for n in s.base_imports:
                bases.setdefault(n, inherit)
            if s.import_bases is not None and import_bases is None:
                import_bases = (frozenset(s.import_bases.names), frozenset(s.import_bases.loaders), inherit)
    helpers: dict[str, tuple[str, ...]] = {}
    for s in secs:
        for h in s.kwargs_helpers:
            for n in h.names:
                helpers.setdefault(n, tuple(h.namespace))
    fields: dict[str, str] = {}
    for s in secs:
        for k, v in s.config_classes.field_functions.items():
            fields.setdefault(k, v)
    return PythonTable(
        prefilter=_any([p for s in secs for p in s.prefilter]) or re.compile(r"(?!)"),
        relevant=_any([p for s in secs for p in s.relevant_keys]),
        batch=_any([p for s in secs for p in s.batch_names]),
        ns_names=_union(s.namespaces.names for s in secs),
        ns_methods=_union(s.namespaces.methods for s in secs),
        ns_functions=_any([p for s in secs for p in s.namespaces.functions]),
        self_namespaces=_union(s.namespaces.self_attributes for s in secs),
        config_decorators=_union(s.config_classes.decorators for s in secs),
        config_bases=_union(s.config_classes.bases for s in secs),
        config_name=_cased([p for s in secs for p in s.config_classes.name_patterns]),
        cli_bases=_union(s.config_classes.cli_bases for s in secs),
        cli_name=_cased([p for s in secs for p in s.config_classes.cli_name_patterns]),
        field_functions=fields,
        loaders=_union(s.loaders for s in secs),
        environment=_union(s.environment for s in secs),
        device_counts=_union(s.device_counts for s in secs),
        parsers=_union(s.parsers for s in secs),
        by_name={k: tuple(v) for k, v in by_name.items()},
        optimizer_ctor=optimizer_ctor,
        eval_when=eval_when,
        kwargs_helpers=helpers,
        hparams_attributes=_union(s.hparams.attributes for s in secs),
        hparams_save=_union(s.hparams.save for s in secs),
        lazy_names=frozenset(lazy.names) if lazy else frozenset(),
        lazy_target=lazy.target_key if lazy else "_target_",
        base_imports=bases,
        import_bases=import_bases,
        entry_points=_union(s.entry_points for s in secs),
        passthrough=_union(s.passthrough for s in secs),
        merges=_union(s.merges for s in secs),
        setting_parameters=_any([p for s in secs for p in s.setting_parameters]),
        multi_device=_any([p for s in secs for p in s.multi_device_conditions]),
        optimizer_classes=optimizer_classes | frozenset(optimizers.classes),
        optimizer_modules=frozenset(optimizers.modules),
        optimizer_not_parts=frozenset(optimizers.not_parts),
        optimizer_not_suffixes=tuple(optimizers.not_suffixes),
    )


def _cased(patterns: list[str]) -> re.Pattern[str] | None:
    """Class-name patterns keep their case (``Config`` is not ``config``)."""
    return re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(patterns))) if patterns else None


def build_table(sections: list[tuple[Profile, PythonSection]], optimizers: OptimizerTable) -> PythonTable:
    """The Python reader's table from profiles' ``python:`` sections (``python_script`` first, the others by
    name), with each profile's inheritance key for its base imports, and the optimizer table's classes."""
    merged = [
        (sec, BaseImport(p.inherit.key, p.inherit.delete_key) if p.inherit is not None else None)
        for p, sec in sorted(sections, key=lambda ps: (ps[0].name != "python_script", ps[0].name))
    ]
    return merge(merged, optimizers.class_names(), optimizers.python)


def shipped_sections() -> list[tuple[Profile, PythonSection]]:
    """Each shipped profile with its ``python:`` section (empty when it has none), read from ``rules/`` now."""
    return [(p, build(PythonSection, apart.get("python") or {})) for p, apart in shipped_profile_files()]


def _build_shipped_table() -> PythonTable:
    return build_table(shipped_sections(), optimizer_table())


@lru_cache(maxsize=1)
def python_table() -> PythonTable:
    """The shipped profiles' table, from lrlint's cache when the rule files and the code are unchanged (its
    own cache entry: a run that reads no Python file never loads it)."""
    return cache.cached("python-rules", rules_key(__name__), _build_shipped_table)
