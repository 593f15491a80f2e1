"""What goes wrong with snapshots, as the codes a client sees, and their resource names."""

from __future__ import annotations

RESOURCE_PREFIX = "codifier://snapshots/"
PAGE_CHARS = 100_000  # one resource page: big enough to be useful, small enough to read


class SnapshotError(RuntimeError):
    """A pack could not be made; the message is one line, safe to show. `code` is the
    error code a client sees: `[invalid]` unless a subclass says otherwise."""

    code = "invalid"


class QuotaExceeded(SnapshotError):
    """The project's stored snapshots would pass CODIFIER_PROJECT_SNAPSHOT_BYTES."""

    code = "quota"


class PackersBusy(SnapshotError):
    """Every pack slot of the server (CODIFIER_PACK_CONCURRENCY) is in use."""

    code = "unavailable"


class NotFound(SnapshotError):
    """No such snapshot (or not visible to the caller), file or digest."""

    code = "not_found"


class Unavailable(SnapshotError):
    """A part of the code context that is switched off or failing (semantic search)."""

    code = "unavailable"
