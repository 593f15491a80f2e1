"""Snapshot text in memory, laid out for exact reads and fast search.

A snapshot is immutable, so its text can be kept between calls: the files' contents,
UTF-8, one after another in one `bytes` (each followed by a newline when it lacks one),
so a search runs one RE2 or `bytes.find` pass over the whole snapshot instead of one call
per file. Recently used snapshots stay in a cache bounded in bytes
(CODIFIER_SNAPSHOT_CACHE_BYTES); the caller checks that the snapshot is visible to it
before asking the cache, so the cache never decides access.
"""

from __future__ import annotations

import bisect
import collections
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID


class FileSpan(NamedTuple):
    """Where a file's content lies in the packed text (characters)."""

    path: str
    language: str
    text_offset: int
    text_length: int


@dataclass(frozen=True)
class SnapshotText:
    paths: list[str]
    languages: list[str]
    blob: bytes
    starts: list[int]  # where each file begins in `blob`, then len(blob)
    ends: list[int]  # where each file's own content ends (before an added newline)
    by_path: dict[str, int] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.blob)

    def file_bytes(self, number: int) -> bytes:
        return self.blob[self.starts[number] : self.ends[number]]

    def file_at(self, position: int) -> int:
        """The file whose region (content and separator) holds byte `position`."""
        return bisect.bisect_right(self.starts, position) - 1


def layout(text: str, files: Sequence[FileSpan]) -> SnapshotText:
    """The snapshot's files, from its packed text and index (CPU work: a worker thread)."""
    parts: list[bytes] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for span in files:
        data = text[span.text_offset : span.text_offset + span.text_length].encode()
        starts.append(position)
        ends.append(position + len(data))
        parts.append(data)
        position += len(data)
        if data and not data.endswith(b"\n"):
            parts.append(b"\n")  # lines never run from one file into the next
            position += 1
    starts.append(position)
    return SnapshotText(
        paths=[f.path for f in files],
        languages=[f.language for f in files],
        blob=b"".join(parts),
        starts=starts,
        ends=ends,
        by_path={f.path: number for number, f in enumerate(files)},
    )


class TextCache:
    """Least recently used snapshots, at most `budget` bytes of text in all. A snapshot
    larger than the budget is served once and not kept."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: collections.OrderedDict[UUID, SnapshotText] = collections.OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, snapshot_id: UUID) -> SnapshotText | None:
        with self._lock:
            found = self._entries.get(snapshot_id)
            if found is not None:
                self._entries.move_to_end(snapshot_id)
            return found

    def put(self, snapshot_id: UUID, text: SnapshotText) -> None:
        if text.size > self.budget:
            return
        with self._lock:
            old = self._entries.pop(snapshot_id, None)
            if old is not None:
                self._used -= old.size
            self._entries[snapshot_id] = text
            self._used += text.size
            while self._used > self.budget:
                _, evicted = self._entries.popitem(last=False)
                self._used -= evicted.size

    def get_or_load(self, snapshot_id: UUID, load: Callable[[], SnapshotText]) -> SnapshotText:
        found = self.get(snapshot_id)
        if found is None:
            found = load()
            self.put(snapshot_id, found)
        return found
