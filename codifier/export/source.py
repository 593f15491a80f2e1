"""What an export holds: the project, its summary document and its current rules.

Read in the caller's transaction, so a project key's export is scoped by row-level
security like every other read of memories.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from codifier.export.settings import ExportSettings
from codifier.store.database import Connection

# The document a project's initialization stores (playbooks/initialize-project.yaml).
SUMMARY_TITLE = "Project description"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    content: str


@dataclass(frozen=True, slots=True)
class ExportSource:
    project_name: str
    description: str  # the project's own description (may be empty)
    summary: str | None  # the current "Project description" document, if any
    rules: tuple[Rule, ...]  # sorted by title (case-insensitive), then id
    total_rules: int  # current rule memories in the project, exported or not

    @property
    def cut(self) -> bool:
        return len(self.rules) < self.total_rules


async def load_source(
    conn: Connection, project: dict[str, object], settings: ExportSettings
) -> ExportSource:
    """The project's current (not superseded) rule memories, the newest `max_rules` that
    fit in `max_bytes`, in a stable order so that exporting twice gives the same bytes."""
    project_id = UUID(str(project["id"]))
    total = int(
        await conn.fetchval(
            "SELECT count(*) FROM memories"
            " WHERE project_id = $1 AND type = 'rule' AND superseded_by IS NULL",
            project_id,
        )
    )
    # The running total is computed newest first, so a cut keeps the newest rules; the
    # byte bound is applied in the database, so a cut never reads what it drops.
    rows = await conn.fetch(
        "SELECT id, title, content FROM ("
        " SELECT id, title, content, sum(octet_length(content))"
        "  OVER (ORDER BY created_at DESC, id DESC) AS running"
        " FROM memories WHERE project_id = $1 AND type = 'rule' AND superseded_by IS NULL"
        " ORDER BY created_at DESC, id DESC LIMIT $2"
        ") newest WHERE running <= $3",
        project_id,
        settings.max_rules,
        settings.max_bytes,
    )
    rules = sorted(
        (Rule(str(r["id"]), str(r["title"]), str(r["content"])) for r in rows),
        key=lambda rule: (rule.title.casefold(), rule.title, rule.id),
    )
    summary = await conn.fetchval(
        "SELECT content FROM memories WHERE project_id = $1 AND type = 'document'"
        " AND lower(title) = lower($2) AND superseded_by IS NULL"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        project_id,
        SUMMARY_TITLE,
    )
    return ExportSource(
        project_name=str(project["name"]),
        description=str(project.get("description") or ""),
        summary=None if summary is None else str(summary),
        rules=tuple(rules),
        total_rules=total,
    )
