"""The garbage collector paused while ``lrlint check`` starts.

Starting allocates what lives for the whole run (modules, classes, functions, the rules): the collector,
triggered by the number of allocations, would walk all of it several times and free nothing, a tenth of
a one-file check's time. ``pause`` turns it off when a check starts; ``resume`` turns it on again before
the second file (``lrlint.api.check_targets``) and when the check ends, so a run over many files collects
as before. Only a pause of this module is resumed: a caller that turned the collector off keeps it off.

``exiting`` is for the program's last step: what is alive then stays alive until the process ends, so it
is frozen (``gc.freeze``) and the collections of the interpreter's shutdown, which walk every object,
skip it; they cost a one-file check as much as its own garbage collection.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def exiting() -> None:
    """The process ends next (``lrlint.cli.main`` run as the program): nothing alive now is collected."""
    gc.freeze()
