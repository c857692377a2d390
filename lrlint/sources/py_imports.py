"""Our own import-alias map and the names lrlint models (no QualifiedNameProvider).

``import torch.optim as optim`` binds ``optim`` -> ``torch.optim``;
``from torch import optim as o`` binds ``o`` -> ``torch.optim``;
``from torch.optim import SGD`` binds ``SGD`` -> ``torch.optim.SGD``.
A name that is never imported resolves to itself, so ``torch.optim.SGD`` written
out in full works after a plain ``import torch``.
"""

from __future__ import annotations

# Optimizer classes lrlint recognises by their last name when the module is not
# one of the known optimizer modules (``from lion_pytorch import Lion``).
OPTIMIZER_CLASSES = frozenset(
    {
        "SGD",
        "Adam",
        "AdamW",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "RMSprop",
        "Rprop",
        "NAdam",
        "RAdam",
        "ASGD",
        "SparseAdam",
        "LBFGS",
        "Adafactor",
        "Lion",
        "Lamb",
        "LAMB",
        "Lars",
        "LARS",
        "LARC",
        "AdaBelief",
        "Adan",
        "AdamP",
        "SGDP",
        "NovoGrad",
        "MADGRAD",
        "Muon",
        "SophiaG",
        "FusedAdam",
        "FusedLAMB",
        "FusedSGD",
        "FusedNovoGrad",
        "DeepSpeedCPUAdam",
        "Adam8bit",
        "AdamW8bit",
        "Adam32bit",
        "AdamW32bit",
        "PagedAdam",
        "PagedAdamW",
        "PagedAdamW8bit",
        "PagedAdamW32bit",
        "PagedAdam8bit",
        "Lion8bit",
        "Lion32bit",
        "PagedLion",
        "PagedLion8bit",
        "SGD8bit",
        "SGD32bit",
        "LAMB8bit",
        "LARS8bit",
        "RMSprop8bit",
        "Adagrad8bit",
        "AdEMAMix",
        "AdEMAMix8bit",
        "AdamWScheduleFree",
        "SGDScheduleFree",
        "RAdamScheduleFree",
        "AdaFactor",
        "AdamWFp8",
        "Prodigy",
        "DAdaptAdam",
        "DAdaptSGD",
        "CAME",
        "Shampoo",
    }
)
# modules whose capitalised names are all optimizers (transformers is not one: only its listed classes count)
OPTIMIZER_MODULES = (
    "torch.optim",
    "bitsandbytes.optim",
    "bnb.optim",
    "timm.optim",
    "apex.optimizers",
    "deepspeed.ops",
    "lion_pytorch",
    "torch_optimizer",
    "schedulefree",
    "muon",
    "dadaptation",
    "prodigyopt",
    "came_pytorch",
    "optimi",
    "heavyball",
    "pytorch_optimizer",
)
NOT_OPTIMIZER_PARTS = ("lr_scheduler", "swa_utils")

# timm factories: name -> positional parameter names after the model/params argument
TIMM_FACTORIES = {
    "create_optimizer_v2": ("opt", "lr", "weight_decay", "momentum"),
    "create_optimizer": (),  # create_optimizer(args, model): reads args.opt, args.lr, ...
}

HF_ARGS_CLASSES = frozenset(
    {
        "TrainingArguments",
        "Seq2SeqTrainingArguments",
        "SFTConfig",
        "DPOConfig",
        "ORPOConfig",
        "KTOConfig",
        "CPOConfig",
        "GRPOConfig",
        "RewardConfig",
        "PRMConfig",
        "GKDConfig",
        "OnlineDPOConfig",
        "RLOOConfig",
        "XPOConfig",
        "NashMDConfig",
        "BCOConfig",
        "IterativeSFTConfig",
    }
)
HF_MODULES = ("transformers", "trl", "optimum", "setfit")

LIGHTNING_MODULES = ("lightning", "pytorch_lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric")

ENV_FUNCS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "getenv", "environ.get"})
FILE_FUNCS = (
    "json.load",
    "json.loads",
    "yaml.load",
    "yaml.safe_load",
    "yaml.full_load",
    "yaml.unsafe_load",
    "toml.load",
    "tomllib.load",
    "tomli.load",
    "OmegaConf.load",
    "omegaconf.OmegaConf.load",
    "pickle.load",
    "torch.load",
    "np.load",
    "numpy.load",
    "mmengine.Config.fromfile",
    "Config.fromfile",
    "mmcv.Config.fromfile",
    "get_cfg",
    "detectron2.config.get_cfg",
    "LazyConfig.load",
    "detectron2.config.LazyConfig.load",
    "hydra.compose",
    "compose",
    "load_config",
    "read_config",
)
PARSE_FUNCS = frozenset(
    {
        "parse_args",
        "parse_known_args",
        "parse_args_into_dataclasses",
        "parse_dict",
        "parse_yaml_file",
        "parse_json_file",
        "parse_intermixed_args",
    }
)
COPY_FUNCS = frozenset({"copy.deepcopy", "copy.copy", "deepcopy", "dict.copy"})
LAZYCALL = frozenset({"detectron2.config.LazyCall", "detectron2.config.lazy.LazyCall", "LazyCall", "L"})


class ImportMap:
    """Local name -> fully qualified dotted name, from the file's import statements."""

    __slots__ = ("names", "star")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.star: list[str] = []

    def add_import(self, module: str, asname: str | None) -> None:
        if asname:
            self.names[asname] = module
        else:
            root = module.split(".", 1)[0]
            self.names.setdefault(root, root)

    def add_from(self, module: str, name: str, asname: str | None) -> None:
        if name == "*":
            self.star.append(module)
            return
        self.names[asname or name] = f"{module}.{name}" if module else name

    def resolve(self, dotted: str) -> str:
        head, sep, rest = dotted.partition(".")
        q = self.names.get(head)
        if q is None:
            return dotted
        return q + sep + rest if sep else q


def is_optimizer(qual: str) -> bool:
    """Whether a resolved callee names an optimizer class lrlint models."""
    parts = qual.split(".")
    if any(p in NOT_OPTIMIZER_PARTS for p in parts):
        return False
    last = parts[-1]
    if last in OPTIMIZER_CLASSES:
        return True
    if len(parts) > 1 and any(qual.startswith(m + ".") for m in OPTIMIZER_MODULES):
        return last[:1].isupper() and not last.endswith(
            ("Scheduler", "LR", "Wrapper", "Config", "Args", "Arguments", "Trainer", "Optimizer")
        )
    return False


def is_lightning(qual: str, last: str) -> bool:
    return any(qual == m + "." + last or qual.startswith(m + ".") for m in LIGHTNING_MODULES)
