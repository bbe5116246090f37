"""Giving memory back: what an app that rests in the tray all day owes the rest of the machine.

A loaded neural voice holds a hundred megabytes and more. Dropping our references frees it inside
the process, but glibc's allocator keeps most freed pages for itself; `malloc_trim` returns them
to the system, which is what the resident size (and a person looking at a task manager) sees.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import resource

log = logging.getLogger(__name__)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def give_back() -> bool:
    """Collect cycles, then return free heap pages to the system; False where glibc is absent."""
    gc.collect()
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is None:
        return False
    try:
        trim(0)
    except OSError:  # a libc without it behaves like musl: nothing to do
        return False
    return True


def rss_mb() -> float:
    """This process's resident size now, in MB (Linux), or its peak elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
