"""Our own import-alias map (no QualifiedNameProvider): which qualified name a local name stands for.

``import torch.optim as optim`` binds ``optim`` -> ``torch.optim``;
``from torch import optim as o`` binds ``o`` -> ``torch.optim``;
``from torch.optim import SGD`` binds ``SGD`` -> ``torch.optim.SGD``.
A name that is never imported resolves to itself, so ``torch.optim.SGD`` written
out in full works after a plain ``import torch``.
"""

from __future__ import annotations


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
