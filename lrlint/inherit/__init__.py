"""Config inheritance: one merged Document per config, driven by each profile's ``inherit`` section.

Each ``inherit.kind`` is one small strategy, keyed by the profile's ``inherit.key``:

* ``path`` (:class:`~lrlint.inherit.bases.PathBases`): Detectron2 ``_BASE_: ../Base-RCNN-FPN.yaml``
  (one base or a list, recursive, relative to the file).
* ``mmengine`` (:class:`~lrlint.inherit.bases.MMEngineBases`): ``_base_ = './a.py'`` or a list, and the
  ``with read_base():`` imports the Python reader turns into that list; later bases override earlier
  ones, the child overrides all; ``{{fileDirname}}`` is the file's directory; a mapping with the
  profile's ``delete_key`` (``_delete_=True``) replaces the base's.
* ``hydra_defaults`` (:class:`~lrlint.inherit.hydra.HydraDefaults`): a Hydra defaults list with config
  groups under the config root; an experiment is composed into the primary config, which alone is its
  reference.

Values keep their own file and span; values from other files than the child get provenance INHERITED.
Lists are replaced, not merged (as in MMEngine, yacs and OmegaConf). Nothing is executed. Each file is
read and parsed once per run (the Resolver's cache), however many children share it.
"""

from __future__ import annotations

from lrlint.inherit.model import Problem, Resolved, merge
from lrlint.inherit.resolver import AtRevision, Resolver, inherit_keys, inherit_profile

__all__ = ["Resolver", "AtRevision", "Resolved", "Problem", "merge", "inherit_profile", "inherit_keys"]
