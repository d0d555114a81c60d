"""When the cyclic garbage collector runs: held back through work that must not pause
(a cycle, a reload's preparation), caught up in the loop's wait between cycles."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def held(hold: bool = True) -> Iterator[None]:
    """The collector off for the block (if `hold` and it is on), back on after it, even on an
    error. Nothing is skipped: the collections come at the next allocations after it."""
    collecting = hold and gc.isenabled()
    if collecting:
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def collect_as_cpython_would() -> None:
    """The generation CPython's own policy picks (an older one once its count passes its
    threshold), collected now; a manual collection keeps the counts as an automatic one does."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    generation = 2 if counts[2] > thresholds[2] else 1 if counts[1] > thresholds[1] else 0
    gc.collect(generation)
