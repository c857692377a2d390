"""The hardware of the run about to be launched (``lrlint check --devices 4 [--nodes 2]``).

A config states the devices it was tuned on (a devices key, the file-name tag ``8xb2``); a user with other
hardware asks what lr the run needs. The checked recipe is read with the run's devices and nodes; the
config as written (at the git base when the file changed, else as it is) is its reference, so LR001
answers with the lr for the run and ``--fix`` writes it.
"""

from __future__ import annotations

from dataclasses import replace

from lrlint import numbers
from lrlint.recipes import Recipe, effective_batch
from lrlint.records import Record
from lrlint.references import DECLARED, HISTORY, Reference
from lrlint.values import Value


class RunHardware(Record):
    """Devices per node and nodes of the run; ``source`` says who stated them (``--devices 4``)."""

    devices: int
    nodes: int | None
    source: str

    @classmethod
    def of(cls, devices: int | None, nodes: int | None) -> RunHardware | None:
        if devices is None and nodes is None:
            return None
        said = " ".join(f"--{name} {n}" for name, n in (("devices", devices), ("nodes", nodes)) if n is not None)
        return cls(devices if devices is not None else 1, nodes, said)


def _written_devices(recipe: Recipe) -> float | None:
    """The devices x nodes the config states (a key, a device list, the file-name tag); None when it states none."""
    if recipe.roles.get("batch_per_device") is None or recipe.roles.get("devices") is None:
        return None
    devices, nodes = recipe.parts.get("devices"), recipe.parts.get("nodes", 1.0)
    return None if devices is None or nodes is None else devices * nodes


def with_devices(recipe: Recipe, devices: Value, nodes: Value | None = None, note: str = "") -> Recipe | None:
    """``recipe`` with its devices (and nodes) replaced and its effective batch computed again (``note``: an
    assumption to state); None when the batch is then unknown."""
    roles = dict(recipe.roles)
    roles["devices"] = devices
    if nodes is not None:
        roles["nodes"] = nodes
    eff, parts, unknown, assumptions = effective_batch(recipe.profile, roles, recipe.doc.values)
    if eff is None:
        return None
    if note:
        assumptions = [note, *assumptions]
    return replace(recipe, roles=roles, effective_batch=eff, parts=parts, unknown=unknown, assumptions=assumptions)


def on_hardware(recipe: Recipe, hw: RunHardware) -> Recipe | None:
    """``recipe`` run on ``hw``: its devices (and nodes) replaced; None when the batch does not depend on the
    devices (a global batch key) or the config does not say which devices it was written for."""
    if recipe.effective_batch is None or _written_devices(recipe) is None:
        return None
    if recipe.roles.get("batch_global") is not None or recipe.roles.get("batch_total") is not None:
        return None
    devices = Value("devices", hw.devices, None, why=f"{hw.devices} devices from {hw.source}")
    n = 1 if hw.nodes is None else hw.nodes  # --devices alone: one node
    nodes = Value("nodes", n, None, why=f"{n} nodes from {hw.source}")
    return with_devices(recipe, devices, nodes)


def _as_written(recipe: Recipe) -> str:
    """``8 devices (file name 8xb2)``, ``4 devices x 2 nodes (trainer.devices)``."""
    dv = recipe.roles.get("devices")
    devices = recipe.parts.get("devices", 1.0)
    nodes = recipe.parts.get("nodes", 1.0)
    hw = f"{numbers.plain(devices)} devices" + (f" x {numbers.plain(nodes)} nodes" if nodes != 1 else "")
    if dv is None:
        return hw
    if dv.from_tag:
        return f"{hw} (file name {dv.from_tag})"
    if " from " in dv.why:  # stated outside the config's keys: a comment, a launch script
        return f"{hw} (from {dv.why.split(' from ', 1)[1]})"
    return f"{hw} ({dv.key})"


def for_run(recipe: Recipe, refs: list[Reference], hw: RunHardware) -> tuple[Recipe, list[Reference]]:
    """The recipe read with the run's hardware and its references, the config as written first (the
    committed file when it changed since the git base, so that a fixed lr is compared with the lr the
    config was tuned with); unchanged when the run's hardware says nothing of this recipe."""
    run = on_hardware(recipe, hw)
    if run is None:
        return recipe, refs
    hist = next((r for r in refs if r.kind == HISTORY and r.recipe is not None), None)
    written = hist.recipe if hist is not None and hist.recipe is not None else recipe
    if _written_devices(written) is None or written.effective_batch is None or written.unknown:
        return recipe, refs
    where = f"at {hist.label}" if hist is not None else "as written"
    ref = Reference(
        DECLARED,
        f"the config {where} for {_as_written(written)}, run here with {hw.source}",
        written.effective_batch,
        written.lr_value,
        None,
        recipe=written,
        parts=dict(written.parts),
    )
    return run, [ref, *refs]
