"""What the tools do, free of MCP: projects, memories, playbooks and runs.

Every method takes the calling principal; project keys are confined to their project
here and, underneath, by row-level security.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from codifier import snapshots
from codifier.catalog import Entry
from codifier.server.errors import CallError, conflict, forbidden, invalid, not_found
from codifier.server.principal import Principal
from codifier.skills import IMPLEMENTATIONS, RunContext, SkillError
from codifier.sources.base import DataSource, SourceError
from codifier.sources.registry import DEFAULT_SOURCE
from codifier.store import memories, projects, repositories, sessions
from codifier.store.database import ADMIN, Connection, Database, Scope
from codifier.store.memories import NewMemory
from dsl.interpreter import (
    AnswerError,
    Ask,
    Done,
    Effect,
    Failed,
    Generate,
    InputError,
    Interpreter,
    InvokeSkill,
    QueryData,
    Transition,
    status_of,
)
from dsl.ir import Program
from dsl.library import Library

PROGRAM_CACHE = 1024  # sessions whose decoded program is kept in memory
MAX_STEPS_PER_CALL = 1000  # server-side steps run inside one call; a bound, not a budget


def _uuid(value: str | None, what: str) -> UUID | None:
    if value is None or value == "":
        return None
    try:
        return UUID(str(value))
    except ValueError:
        raise invalid(f"{what} '{value}' is not a valid id") from None


@dataclass
class Services:
    db: Database
    library: Library
    catalog: dict[str, Entry]
    sources: dict[str, DataSource] = field(default_factory=dict)
    # A session's compiled program never changes: decode it once per process.
    _programs: dict[UUID, Program] = field(default_factory=dict)

    # -- projects -------------------------------------------------------------------

    async def project_for(
        self,
        who: Principal,
        project_id: str | None = None,
        project_name: str | None = None,
        *,
        check: bool = True,
    ) -> UUID:
        """The project a call acts on: the one named, else the caller's default."""
        wanted = _uuid(project_id, "project_id")
        if wanted is None and project_name:
            async with self.db.transaction(ADMIN if who.is_admin else self._own(who)) as conn:
                row = await projects.find(conn, project_name)
            if row is None:
                raise not_found(f"no project named '{project_name}'")
            wanted = UUID(row["id"])
        if not who.is_admin:
            assert who.project_id is not None
            if wanted is not None and wanted != who.project_id:
                raise forbidden("this API key belongs to another project")
            return who.project_id
        if wanted is None:
            async with self.db.transaction(ADMIN) as conn:
                wanted = await projects.get_default(conn, who.id)
            if wanted is None:
                raise invalid(
                    "no project given: pass project_id, or choose one with "
                    "manage_projects(operation='switch')"
                )
        if check:
            async with self.db.transaction(ADMIN) as conn:
                if await projects.get(conn, wanted) is None:
                    raise not_found(f"no project with id {wanted}")
        return wanted

    @asynccontextmanager
    async def _in_project(
        self, who: Principal, project_id: str | None = None, project_name: str | None = None
    ) -> AsyncIterator[tuple[dict[str, Any], Connection]]:
        """The call's project and a transaction scoped to it, in one round of checks: an
        explicit id is checked inside the operation's own transaction."""
        project = await self.project_for(who, project_id, project_name, check=False)
        async with self.db.transaction(Scope.project(project)) as conn:
            row = await projects.get(conn, project)
            if row is None:
                raise not_found(f"no project with id {project}")
            yield row, conn

    async def _require_project(self, conn: Connection, project: UUID) -> None:
        if await projects.get(conn, project) is None:
            raise not_found(f"no project with id {project}")

    @staticmethod
    def _own(who: Principal) -> Scope:
        assert who.project_id is not None
        return Scope.project(who.project_id)

    async def manage_projects(
        self,
        who: Principal,
        operation: str,
        name: str | None,
        description: str | None,
        project_id: str | None,
    ) -> dict[str, Any]:
        if operation == "create":
            if not who.is_admin:
                raise forbidden("only the admin token can create projects")
            if not name or not name.strip():
                raise invalid("create needs a name")
            async with self.db.transaction(ADMIN) as conn:
                try:
                    row = await projects.create(conn, name.strip(), description or "")
                except projects.ProjectExists as error:
                    raise conflict(str(error)) from None
            return {"project": row}
        if operation == "list":
            scope = ADMIN if who.is_admin else self._own(who)
            async with self.db.transaction(scope) as conn:
                return {"projects": await projects.list_all(conn)}
        if operation in ("get", "switch"):
            project = await self.project_for(who, project_id, name)
            async with self.db.transaction(ADMIN if who.is_admin else self._own(who)) as conn:
                found = await projects.get(conn, project)
                if operation == "switch":
                    await projects.set_default(conn, who.id, project)
            return {"project": found}
        raise invalid(f"unknown operation '{operation}' (create, list, switch, get)")

    # -- memories -------------------------------------------------------------------

    async def fetch_context(
        self,
        who: Principal,
        project_id: str | None,
        memory_type: str | None,
        tags: list[str] | None,
        query: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        if not 1 <= limit <= memories.MAX_LIMIT:
            raise invalid(f"limit must be between 1 and {memories.MAX_LIMIT}")
        if offset < 0:
            raise invalid("offset must not be negative")
        if memory_type is not None and memory_type not in memories.MEMORY_TYPES:
            raise invalid(f"unknown memory_type '{memory_type}'")
        project = await self.project_for(who, project_id, check=False)
        async with self.db.transaction(Scope.project(project)) as conn:
            rows = await memories.fetch(
                conn,
                project,
                memory_type=memory_type,
                tags=tags,
                query=query,
                limit=limit,
                offset=offset,
            )
            if not rows:  # rows prove the project exists; only an empty page needs a look
                await self._require_project(conn, project)
        return {"project_id": str(project), "memories": rows, "count": len(rows)}

    async def update_memory(
        self,
        who: Principal,
        project_id: str | None,
        memory_id: str | None,
        memory: NewMemory,
    ) -> dict[str, Any]:
        if memory.memory_type not in memories.MEMORY_TYPES:
            raise invalid(
                f"unknown memory_type '{memory.memory_type}' "
                f"(one of: {', '.join(memories.MEMORY_TYPES)})"
            )
        if not memory.title.strip() or not memory.content.strip():
            raise invalid("title and content must not be empty")
        target = _uuid(memory_id, "id")
        async with self._in_project(who, project_id) as (found, conn):
            try:
                row, created = await memories.upsert(conn, UUID(found["id"]), memory, target)
            except memories.MemoryNotFound as error:
                raise not_found(str(error)) from None
        return {"memory": row, "created": created}

    async def delete_memory(
        self, who: Principal, project_id: str | None, memory_id: str
    ) -> dict[str, Any]:
        target = _uuid(memory_id, "id")
        if target is None:
            raise invalid("delete_memory needs an id")
        async with self._in_project(who, project_id) as (_, conn):
            if not await memories.delete(conn, target):
                raise not_found(f"no memory with id {target} in this project")
        return {"deleted": str(target)}

    # -- playbooks ------------------------------------------------------------------

    def list_playbooks(self, role: str | None) -> dict[str, Any]:
        items = []
        for entry in self.catalog.values():
            program = entry.program
            if role and program.role not in (role, "any"):
                continue
            items.append(
                {
                    "id": program.id,
                    "name": program.name,
                    "role": program.role,
                    "version": program.version,
                    "description": program.description,
                    "inputs": [
                        {
                            "name": i.name,
                            "type": i.type,
                            "required": i.required,
                            "default": i.default,
                            "description": i.description,
                        }
                        for i in program.inputs
                    ],
                    "step_count": len(program.steps),
                }
            )
        return {"playbooks": items}

    async def run_playbook(
        self,
        who: Principal,
        playbook_id: str,
        project_id: str | None,
        project_name: str | None,
        inputs: dict[str, Any] | None,
    ) -> dict[str, Any]:
        entry = self.catalog.get(playbook_id)
        if entry is None:
            raise not_found(
                f"no playbook '{playbook_id}' (playbooks: {', '.join(sorted(self.catalog))})"
            )
        async with self._in_project(who, project_id, project_name) as (project_row, _):
            project = UUID(project_row["id"])
        machine = Interpreter(entry.program, self.library)
        session_id = uuid4()
        try:
            transition = machine.start(
                inputs or {},
                {"id": str(project), "name": project_row["name"]},
                {"id": str(session_id)},
            )
        except InputError as error:
            raise invalid(str(error)) from None
        async with self.db.transaction(Scope.project(project)) as conn:
            row = await sessions.create(
                conn,
                session_id=session_id,
                project_id=project,
                playbook_id=entry.program.id,
                playbook_version=entry.program.version,
                source_hash=entry.program.source_hash,
                program=json.loads(entry.program.to_json()),
                state=transition.state,
                status=transition.state["status"],
                created_by=who.id,
            )
            await self._remember(conn, project, transition, who)
        return await self._drive(who, project, machine, row, transition)

    async def advance_step(
        self, who: Principal, session_id: str, step_id: str, answer: Any
    ) -> dict[str, Any]:
        target = _uuid(session_id, "session_id")
        assert target is not None
        program = self._programs.get(target)
        row = await self._session(who, target, with_program=program is None)
        project = UUID(row["project_id"])
        if program is None:
            program = Program.from_json(json.dumps(row["program"]))
            self._programs[target] = program
            if len(self._programs) > PROGRAM_CACHE:
                self._programs.pop(next(iter(self._programs)))
        machine = Interpreter(program, self.library)
        state = row["state"]
        if state["status"] in ("completed", "failed"):
            raise conflict(f"the session is {state['status']}; start a new run")
        current = program.steps[state["pc"]]
        if step_id != current.id:
            raise conflict(
                f"step '{step_id}' is not the session's current step (current: '{current.id}')"
            )
        try:
            transition = machine.resume(state, answer)
        except AnswerError as error:
            raise invalid(str(error)) from None
        row = await self._save(project, row, transition, who)
        return await self._drive(who, project, machine, row, transition)

    async def _session(
        self, who: Principal, session_id: UUID, *, with_program: bool
    ) -> dict[str, Any]:
        # The admin may resume any session; a key only its project's (RLS agrees).
        scope = ADMIN if who.is_admin else self._own(who)
        async with self.db.transaction(scope) as conn:
            row = await sessions.get(conn, session_id, with_program=with_program)
        if row is None:
            raise not_found(f"no session {session_id}")
        return row

    async def _save(
        self, project: UUID, row: dict[str, Any], transition: Transition, who: Principal
    ) -> dict[str, Any]:
        async with self.db.transaction(Scope.project(project)) as conn:
            ok = await sessions.update(
                conn,
                UUID(row["id"]),
                row["row_version"],
                transition.state,
                transition.state["status"],
            )
            if not ok:
                raise conflict("another call advanced this session first; fetch it and retry")
            await self._remember(conn, project, transition, who)
        return {**row, "state": transition.state, "row_version": row["row_version"] + 1}

    async def _remember(
        self, conn: Any, project: UUID, transition: Transition, who: Principal
    ) -> None:
        for write in transition.memories:
            await memories.upsert(
                conn,
                project,
                NewMemory(
                    write.memory_type,
                    write.title,
                    write.content,
                    write.tags,
                    source_role=None,
                    metadata={
                        "session_id": transition.state["session"]["id"],
                        "step": write.step_id,
                    },
                ),
            )

    async def _drive(
        self,
        who: Principal,
        project: UUID,
        machine: Interpreter,
        row: dict[str, Any],
        transition: Transition,
    ) -> dict[str, Any]:
        """Run server-side steps (skills, data queries) until the run needs the client."""
        for _ in range(MAX_STEPS_PER_CALL):
            effect = transition.effect
            if not isinstance(effect, InvokeSkill | QueryData):
                break
            try:
                result = await self._server_effect(project, effect, machine.program.role)
            except (SkillError, CallError, snapshots.SnapshotError) as error:
                transition = machine.fail(transition.state, str(error))
            else:
                transition = machine.resume(transition.state, result)
            row = await self._save(project, row, transition, who)
        return step_result(row["id"], transition.effect)

    async def _server_effect(
        self, project: UUID, effect: InvokeSkill | QueryData, role: str
    ) -> Any:
        if isinstance(effect, InvokeSkill):
            implementation = IMPLEMENTATIONS[effect.skill]
            run = RunContext(self.db, project, role)
            return await implementation(run, **effect.args)
        return await self._query(
            effect.source, effect.operation, effect.database, effect.tables, effect.sql
        )

    def _source(self, name: str | None) -> DataSource:
        source = self.sources.get(name or DEFAULT_SOURCE)
        if source is None:
            names = ", ".join(sorted(self.sources)) or "none"
            raise invalid(f"no data source '{name}' (configured: {names})")
        return source

    async def _query(
        self,
        source_name: str | None,
        operation: str,
        database: str | None,
        tables: list[str] | None,
        sql: str | list[str] | None,
    ) -> Any:
        source = self._source(source_name)
        try:
            if operation == "list-tables":
                return await source.list_tables(database)
            if operation == "describe-tables":
                if not tables:
                    raise invalid("describe-tables needs tables")
                return await source.describe_tables(database, tables)
            if operation == "execute-query":
                if isinstance(sql, str):
                    return await source.execute(database, sql)
                if not sql:
                    raise invalid("execute-query needs sql: one query or a list")
                return [await source.execute(database, one) for one in sql]
        except SourceError as error:
            raise invalid(str(error)) from None
        raise invalid(
            f"unknown operation '{operation}' (list-tables, describe-tables, execute-query)"
        )

    async def pack_repo(
        self,
        who: Principal,
        url: str,
        project_id: str | None,
        version_label: str | None,
        include: list[str] | None,
        exclude: list[str] | None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        async with self._in_project(who, project_id) as (found, _):
            project = UUID(found["id"])
        try:
            snapshot = await snapshots.pack_and_store(
                self.db, project, url, version_label, include, exclude, on_progress
            )
        except snapshots.SnapshotError as error:
            raise invalid(str(error)) from None
        return {
            "snapshot_id": snapshot["id"],
            "version": snapshot["version"],
            "file_count": snapshot["file_count"],
            "token_count": snapshot["token_count"],
            "top_files": snapshot["top_files"],
            "flagged_secrets": snapshot["flagged_secrets"],
            "resource_uri": snapshot["resource_uri"],
        }

    async def snapshot_page(self, who: Principal, snapshot_id: str, number: int) -> str:
        target = _uuid(snapshot_id, "snapshot id")
        assert target is not None
        if number < 1:
            raise invalid("pages start at 1")
        scope = ADMIN if who.is_admin else self._own(who)
        async with self.db.transaction(scope) as conn:
            found = await repositories.page(conn, target, number, snapshots.PAGE_CHARS)
        if found is None:
            raise not_found(f"no snapshot {target}")
        text, pages = found
        if number > pages:
            raise not_found(f"snapshot {target} has {pages} page(s)")
        more = (
            f"read {snapshots.RESOURCE_PREFIX}{target}/pages/{number + 1} next"
            if number < pages
            else "last page"
        )
        return f"[page {number} of {pages}; {more}]\n{text}"

    async def query_data(
        self,
        who: Principal,
        operation: str,
        source: str | None,
        database: str | None,
        tables: list[str] | None,
        sql: str | None,
    ) -> dict[str, Any]:
        result = await self._query(source, operation, database, tables, sql)
        key = {"list-tables": "tables", "describe-tables": "schemas"}.get(operation, "result")
        return {"source": source or DEFAULT_SOURCE, "operation": operation, key: result}


def step_result(session_id: str, effect: Effect) -> dict[str, Any]:
    """The step result of the MCP surface (ARCHITECTURE.md)."""
    result: dict[str, Any] = {"session_id": str(session_id), "status": status_of(effect)}
    if isinstance(effect, Ask | Generate | InvokeSkill | QueryData):
        ref = effect.step
        result["step"] = {"id": ref.id, "title": ref.title, "index": ref.index, "count": ref.count}
    if isinstance(effect, Ask):
        result["prompt"] = effect.prompt
        result["expects"] = effect.expects
        if effect.choices is not None:
            result["choices"] = effect.choices
        if effect.default is not None:
            result["default"] = effect.default
    elif isinstance(effect, Generate):
        result["generate_request"] = {
            "prompt": effect.prompt,
            "output_format": effect.output_format,
        }
    elif isinstance(effect, Done):
        result["outputs"] = effect.outputs
    elif isinstance(effect, Failed):
        if effect.step is not None:
            ref = effect.step
            result["step"] = {
                "id": ref.id,
                "title": ref.title,
                "index": ref.index,
                "count": ref.count,
            }
        result["error"] = effect.error
    return result
