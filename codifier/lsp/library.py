"""The library the server checks against, reloaded when a template file changes on disk
(the author may be editing a template next to the playbook)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codifier.library import TEMPLATE_SUFFIX, load_library
from codifier.resources import generators_dir
from dsl.library import Library

Stamp = tuple[tuple[str, int, int], ...]


class LibrarySource:
    def __init__(self, template_dirs: Sequence[Path] = (), sources: Sequence[str] = ()) -> None:
        self.template_dirs = list(template_dirs)
        self.sources = list(sources)
        self._stamp: Stamp | None = None
        self._library: Library | None = None

    def _current_stamp(self) -> Stamp:
        found: list[tuple[str, int, int]] = []
        for directory in [generators_dir(), *self.template_dirs]:
            for path in sorted(directory.glob(f"*{TEMPLATE_SUFFIX}")):
                try:
                    info = path.stat()
                except OSError:
                    continue
                found.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(found)

    def get(self) -> Library:
        stamp = self._current_stamp()
        if self._library is None or stamp != self._stamp:
            self._library = load_library(self.template_dirs, self.sources)
            self._stamp = stamp
        return self._library
