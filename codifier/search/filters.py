"""The filters of a fetch_context call, as SQL over `memories m`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class MemoryFilter:
    project_id: UUID
    memory_type: str | None = None
    tags: list[str] = field(default_factory=list)  # all must match, case-insensitively
    include_superseded: bool = False

    def where(self, args: list[Any]) -> str:
        """The condition on `m`, appending its parameters to `args` (numbered after them)."""
        args.append(self.project_id)
        conditions = [f"m.project_id = ${len(args)}"]
        if self.memory_type:
            args.append(self.memory_type)
            conditions.append(f"m.type = ${len(args)}")
        if self.tags:
            args.append(sorted({tag.lower() for tag in self.tags}))
            conditions.append(f"m.tags_key @> ${len(args)}")
        if not self.include_superseded:
            conditions.append("m.superseded_by IS NULL")
        return " AND ".join(conditions)
