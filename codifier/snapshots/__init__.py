"""Snapshots: packed repositories stored per project, and the code context built on them.

`packing` packs and stores a snapshot with its file index and digest; `texts` keeps
recently used snapshots' text in memory; `lines` reads exact line ranges; `grep` searches
literally or by regular expression (RE2, linear time); `semantic` embeds code chunks in
the background and searches them by meaning; `service` is what tools and skills call.
"""

from codifier.snapshots.errors import (
    PAGE_CHARS,
    RESOURCE_PREFIX,
    NotFound,
    PackersBusy,
    QuotaExceeded,
    SnapshotError,
    Unavailable,
)

__all__ = [
    "PAGE_CHARS",
    "RESOURCE_PREFIX",
    "NotFound",
    "PackersBusy",
    "QuotaExceeded",
    "SnapshotError",
    "Unavailable",
]
