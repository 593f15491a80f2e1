"""Playbook runs: list_playbooks, run_playbook, advance_step.

A run's compiled program and state are persisted after every transition; server-side
steps (skills, data queries) run inside the call that reaches them.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

from codifier import snapshots
from codifier.catalog import Entry
from codifier.server.access import Access, parse_id
from codifier.server.data import DataTools
from codifier.server.errors import CallError, conflict, invalid, not_found
from codifier.server.principal import Principal
from codifier.skills import IMPLEMENTATIONS, RunContext, SkillError
from codifier.store import memories, sessions
from codifier.store.database import Database, Scope
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


class RunTools:
    def __init__(
        self,
        db: Database,
        library: Library,
        catalog: dict[str, Entry],
        access: Access,
        data: DataTools,
    ) -> None:
        self.db = db
        self.library = library
        self.catalog = catalog
        self.access = access
        self.data = data
        # A session's compiled program never changes: decode it once per process.
        self._programs: dict[UUID, Program] = {}

    def list(self, role: str | None) -> dict[str, Any]:
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

    async def start(
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
        async with self.access.in_project(who, project_id, project_name) as (project_row, _):
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

    async def advance(
        self, who: Principal, session_id: str, step_id: str, answer: Any
    ) -> dict[str, Any]:
        target = parse_id(session_id, "session_id")
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
        scope = self.access.scope_for(who)
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
        return await self.data.query(
            effect.source, effect.operation, effect.database, effect.tables, effect.sql
        )


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
