"""The heap a long-lived process starts with, kept out of the garbage collector's way.

Start-up leaves a few hundred thousand objects that live as long as the process
(modules, classes, the agent registry, the templates, the GraphQL schema). Python's
cyclic collector walks all of them on each of its oldest-generation passes; a running
workflow allocates enough to trigger such passes often, and on no-op steps they cost
about a third of the engine's time (`bench/engine.py`, in memory). `gc.freeze` moves
them to a generation the collector never scans; what is made afterwards is collected
as before.
"""

from __future__ import annotations

import gc
from functools import cache


@cache
def freeze_startup_heap() -> None:
    """Collect start-up's garbage, then freeze what survives (once a process: a later
    call does nothing, so that objects of a shorter life are never frozen)."""
    gc.collect()
    gc.freeze()
