"""The world size where the authors wrote it: a comment next to the batch or lr, or a launch script that names
the config (read as text, never run).

A config with a per-device batch and no devices key or file-name tag trains on as many devices as it is
launched on. Authors often say how many: ``# lr for 8 gpus``, ``this lr is used for 8 gpus``,
``base_batch_size = (8 GPUs) x (2 samples per GPU)``, ``total 64x4=256``, ``# 4 nodes x 8 GPUs``; or
the repository's launch scripts run the config on a known number (``torchrun --nproc_per_node 8``,
``python -m torch.distributed.launch``, ``accelerate launch --num_processes`` or the ``num_processes`` of
the accelerate config file it names, ``deepspeed --num_gpus`` / ``--num_nodes``, ``tools/dist_train.sh
CONFIG 8``, SLURM ``#SBATCH --gres=gpu:N``, ``--ntasks-per-node``, ``--nodes``, in shell scripts,
Makefiles and README code blocks). Such a count stands in for the devices
(and nodes) the config does not state, and its notes say where it was read.
"""

from __future__ import annotations

import shlex
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from lrlint.recipes import Recipe
from lrlint.records import Record
from lrlint.regex import pattern
from lrlint.sources import SourceError
from lrlint.spans import LineIndex, Span
from lrlint.values import Value
from lrlint.world_size import with_devices

if TYPE_CHECKING:
    from lrlint.inherit import AtRevision, Resolver
    from lrlint.references.git import GitBase


class _Around(Protocol):
    """What is read of the repository around the configs (``lrlint.repo_scan.Around``)."""

    def git(self) -> GitBase | None: ...
    def relative(self, path: str) -> str | None: ...
    def launchers(self) -> Launchers: ...


class Engine(Protocol):
    """What reading stated devices needs from the run's engine (``lrlint.api.Engine``)."""

    cwd: Path
    resolver: Resolver

    @property
    def around(self) -> _Around: ...

    def at_base(self, git: GitBase) -> AtRevision: ...


MAX_LAUNCH_CONFIG = 64 * 1024  # bytes: an accelerate config file larger than this is not read
NEAR = 2  # a comment this many lines above a batch or lr value (or on its line) is about it
GPUS = r"(?:gpus?|cards?|devices?|npus?)"
_NODES_X_GPUS = rf"(?i)(\d+)\s*nodes?\s*[x×*]\s*(\d+)\s*{GPUS}\b"
_FOR_GPUS = rf"(?i)(?<![\w.])(\d+)\s*{GPUS}\b"
_INTEGER = r"(?<![\d.])\d+(?![\d.])"
_PRODUCT = r"(?<![\w.])(\d+)\s*[x×*]\s*(\d+)\s*=\s*(\d+)"
CONFIG_TOKEN = r"[\w./{}$-]*\.(?:py|ya?ml|json)$"
OPTIONS = {  # launcher option -> what it counts
    "--nproc_per_node": "devices",
    "--nproc-per-node": "devices",
    "--num_processes": "processes",
    "--num-processes": "processes",
    "--num_gpus": "devices",
    "--num-gpus": "devices",
    "--gpus": "devices",
    "--nnodes": "nodes",
    "--num_nodes": "nodes",
    "--num-nodes": "nodes",
    "--num_machines": "nodes",
    "--num-machines": "nodes",
    "--ntasks-per-node": "devices",
    "--gpus-per-node": "devices",
    "--nodes": "nodes",
    "-N": "nodes",
}


class Stated(Record):
    """Devices (per node) and nodes, and where they were read."""

    devices: int
    nodes: int | None
    where: str
    span: Span | None = None  # the comment that states them


def from_comment(text: str, per_device: float | None) -> tuple[int, int | None] | None:
    """The devices (and nodes) a comment states; None when it states none, or when it counts other numbers
    too and none of them is the recipe's per-device batch (a comment about another batch: a schedule file's
    ``lr = 0.003 / 4096 * (32bs * 64gpus)`` read by a config with 16 per device)."""
    got = _stated(text, per_device)
    if got is None:
        return None
    others = {int(n) for n in pattern(_INTEGER).findall(text)} - {got[0], got[1]}
    if others and (per_device is None or per_device not in others):
        return None
    return got


def _stated(text: str, per_device: float | None) -> tuple[int, int | None] | None:
    m = pattern(_NODES_X_GPUS).search(text)
    if m:
        return int(m.group(2)), int(m.group(1))
    m = pattern(_PRODUCT).search(text)
    if m and per_device is not None:
        a, b, total = (int(g) for g in m.groups())
        if a * b == total and per_device in (a, b):
            return (b if per_device == a else a), None
    counts = {int(n) for n in pattern(_FOR_GPUS).findall(text)}
    if len(counts) == 1:
        (n,) = counts
        return (n, None) if n > 0 else None
    return None


def _comments(engine: Engine, path: str) -> tuple[dict[int, str], LineIndex | None]:
    """The comments of the base file shown as ``path`` (``HEAD:configs/x.py``: as it was at the git base), and
    its lines."""
    resolver: Resolver = engine.resolver
    git = engine.around.git()
    if git is not None and path.startswith(git.label + ":"):
        fs = git.root / path[len(git.label) + 1 :]
        resolver = engine.at_base(git)
    else:
        fs = engine.cwd / path
    try:
        loaded = resolver.load(fs.resolve())
    except SourceError:  # a base that cannot be read states nothing here (its problem is reported elsewhere)
        return {}, None
    return loaded.doc.comments, loaded.source.lines


def in_comments(engine: Engine, recipe: Recipe) -> Stated | None:
    """The count a comment next to the batch, the lr or a declared batch states."""
    pd = recipe.roles.get("batch_per_device")
    per_device = pd.number if pd is not None and pd.known else None
    values = [v for v in (pd, recipe.lr) if v is not None]
    values += [v for k in recipe.profile.declared_batch if (v := recipe.doc.values.get(k)) is not None]
    for v in values:
        if v.span is None:
            continue
        if v.span.path == recipe.doc.path:
            comments, lines = recipe.doc.comments, recipe.doc.lines
        else:
            comments, lines = _comments(engine, v.span.path)
        for line in range(v.span.line - NEAR, v.span.end_line + 1):
            text = comments.get(line)
            got = from_comment(text, per_device) if text else None
            if got is not None and text is not None:
                span = None
                if lines is not None:  # the comment: a change of the count is reported there
                    full = lines.line_text(line).rstrip()
                    col = max(full.rfind("#" + text.rstrip()), 0)
                    start = lines.offset(line, 1) + col
                    span = lines.span(v.span.path, start, start + len(full) - col)
                return Stated(got[0], got[1], f"the comment at {v.span.path}:{line} (`#{text.rstrip()}`)", span)
    return None


def _count(token: str) -> int | None:
    token = token.split(":")[-1]  # --gres=gpu:8
    return int(token) if token.isdigit() and int(token) > 0 else None


def read_launch_line(tokens: list[str]) -> tuple[list[str], dict[str, int]]:
    """The config paths a launch command names and the counts it gives them."""
    configs: list[str] = []
    counts: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        opt, eq, val = tok.partition("=")
        if opt in OPTIONS:
            n = _count(val if eq else (tokens[i + 1] if i + 1 < len(tokens) else ""))
            if n is not None:
                counts.setdefault(OPTIONS[opt], n)
        elif opt == "--gres" and "gpu" in val:
            n = _count(val)
            if n is not None:
                counts.setdefault("devices", n)
        elif pattern(CONFIG_TOKEN).match(tok) and "$" not in tok and "{" not in tok:
            configs.append(tok)
            if "dist_train" in " ".join(tokens[:i]) and i + 1 < len(tokens):  # tools/dist_train.sh CONFIG GPUS
                n = _count(tokens[i + 1])
                if n is not None:
                    counts.setdefault("devices", n)
    if "processes" in counts and "devices" not in counts:  # accelerate: processes over all machines
        nodes = counts.get("nodes", 1)
        if counts["processes"] % nodes == 0:
            counts["devices"] = counts["processes"] // nodes
    return configs, counts


def accelerate_options(tokens: list[str], root: Path) -> list[str]:
    """``accelerate launch --config_file X``: the process and machine counts the YAML file X states (a path
    from the top level ``root``, inside it), as options to put after the command's own (which win)."""
    if "accelerate" not in tokens:
        return []
    path = ""
    for i, tok in enumerate(tokens):
        opt, eq, val = tok.partition("=")
        if opt in ("--config_file", "--config-file"):
            path = val if eq else (tokens[i + 1] if i + 1 < len(tokens) else "")
            break
    if not path or "$" in path or "{" in path:
        return []
    import yaml  # an accelerate config named by a launch command: a JSON or Python run may not need PyYAML

    f = (root / path).resolve()
    try:
        if not f.is_relative_to(root.resolve()) or not f.is_file() or f.stat().st_size > MAX_LAUNCH_CONFIG:
            return []
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return []
    out: list[str] = []
    if isinstance(doc, dict):
        for key in ("num_processes", "num_machines"):
            n = doc.get(key)
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                out += [f"--{key}", str(n)]
    return out


class Launchers:
    """The repository's launch commands (``lrlint.repo_scan``'s lines), by the configs they name; ``root``:
    the work tree's top level (an accelerate config file a command names is read from there)."""

    def __init__(self, launch_lines: list[tuple[str, int, str]], root: Path | None = None) -> None:
        self.by_name: dict[str, list[tuple[str, Stated]]] = {}
        sbatch: dict[str, dict[str, int]] = {}  # a script's #SBATCH lines
        commands: list[tuple[str, int, str]] = []
        for rel, num, text in launch_lines:
            if text.lstrip().startswith("#SBATCH"):
                _, counts = read_launch_line(text.split()[1:])
                mine = sbatch.setdefault(rel, {})
                for k, v in counts.items():
                    mine.setdefault(k, v)
            else:
                commands.append((rel, num, text))
        for rel, num, text in commands:
            try:
                tokens = shlex.split(text, comments=True)
            except ValueError:
                tokens = text.split()
            if root is not None:
                tokens += accelerate_options(tokens, root)
            configs, counts = read_launch_line(tokens)
            for k, v in sbatch.get(rel, {}).items():
                counts.setdefault(k, v)
            if not configs or "devices" not in counts:
                continue
            shown = " ".join(text.split())
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            stated = Stated(counts["devices"], counts.get("nodes"), f"{rel}:{num} (`{shown}`)")
            for c in configs:
                self.by_name.setdefault(PurePosixPath(c).name, []).append((c, stated))

    def find(self, rel: str) -> Stated | None:
        """The count the launch commands naming ``rel`` agree on; None when none names it or they disagree."""
        hits = [s for c, s in self.by_name.get(PurePosixPath(rel).name, []) if _same_file(c, rel)]
        counts = {(s.devices, s.nodes) for s in hits}
        return hits[0] if len(counts) == 1 else None


def _same_file(named: str, rel: str) -> bool:
    """A launcher's config argument names ``rel`` (a path from the top level): the same trailing parts."""
    parts = [p for p in PurePosixPath(named).parts if p not in (".", "..")]
    return PurePosixPath(rel).parts[-len(parts) :] == tuple(parts) if parts else False


def apply(engine: Engine, recipes: list[Recipe]) -> list[Recipe]:
    """Each recipe with a per-device batch and no devices of its own given the devices a comment or a launch
    script states."""
    out = []
    for r in recipes:
        if r.roles.get("batch_per_device") is None or r.roles.get("devices") is not None:
            out.append(r)
            continue
        stated = in_comments(engine, r)
        if stated is None:
            rel = engine.around.relative(r.doc.path)
            stated = engine.around.launchers().find(rel) if rel is not None else None
        if stated is None:
            out.append(r)
            continue
        why = f"{stated.devices} devices" + (f" x {stated.nodes} nodes" if stated.nodes else "")
        dv = Value("devices", stated.devices, stated.span, why=f"{why} from {stated.where}")
        nv = Value("nodes", stated.nodes, None, why=f"{why} from {stated.where}") if stated.nodes else None
        out.append(with_devices(r, dv, nv, note=f"{why} from {stated.where}") or r)
    return out
