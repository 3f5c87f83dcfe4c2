"""The cycle collector, made rarer while sends run."""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# A send allocates a dozen containers per profile, nearly all freed by reference counting. At the
# default gen-0 threshold (700) the cycle collector runs every few dozen profiles, and its older
# generations walk the whole in-flight window: about a tenth of the send's CPU (measured), and
# pauses of tens of milliseconds in which no paced request leaves. While sends run it runs rarer.
GC_THRESHOLD = (50_000, 20, 100)
_sends_running = 0
_saved_threshold: tuple[int, int, int] | None = None


@contextlib.contextmanager
def rarer_collections() -> Iterator[None]:
    """GC_THRESHOLD while any send of this process runs (the console may run several); the
    process's own thresholds again after the last one."""
    global _sends_running, _saved_threshold
    if _sends_running == 0:
        _saved_threshold = gc.get_threshold()
        if _saved_threshold[0]:  # 0: the process turned automatic collection off; leave it so
            gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(GC_THRESHOLD, _saved_threshold)))
    _sends_running += 1
    try:
        yield
    finally:
        _sends_running -= 1
        if _sends_running == 0 and _saved_threshold is not None:
            gc.set_threshold(*_saved_threshold)
