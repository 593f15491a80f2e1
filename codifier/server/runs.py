"""Playbook runs: list_playbooks, run_playbook, advance_step.

A run's compiled program and state are persisted after every transition; server-side
steps (skills, data queries) run inside the call that reaches them.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

from mcp.server.mcpserver import Context

from codifier import snapshots
from codifier.catalog import Entry
from codifier.library import library_with
from codifier.limits import Limits
from codifier.search import StatsCache
from codifier.search.indexer import MemoryIndexer
from codifier.server.access import Access, require_id
from codifier.server.data import DataTools
from codifier.server.errors import CallError, conflict, invalid, not_found, quota, shown
from codifier.server.native import NativeForms
from codifier.server.native_settings import NativeSettings
from codifier.server.principal import Principal
from codifier.server.publishing import Publisher, Resolved
from codifier.skills import IMPLEMENTATIONS, RunContext, SkillError
from codifier.storable import json_bytes, value_problem
from codifier.store import memories, sessions
from codifier.store.database import Database, Scope
from codifier.store.memories import NewMemory, Provenance
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
        limits: Limits | None = None,
        indexer: MemoryIndexer | None = None,
        stats: StatsCache | None = None,
    ) -> None:
        self.limits = limits or Limits.from_env()
        self.indexer = indexer or MemoryIndexer(db, None)
        self.stats = stats or StatsCache()
        self.db = db
        self.library = library
        self.catalog = catalog
        self.access = access
        self.data = data
        self.publisher = Publisher(db, access, library, catalog)
        self.native = NativeSettings.from_env()  # store steps asked in the client's own form
        # A session's compiled program never changes: decode it once per process.
        self._programs: dict[UUID, Program] = {}

    async def list(self, who: Principal, role: str | None) -> dict[str, Any]:
        """Shipped playbooks, then the server-wide and the caller's project's published
        ones (newest version of each), each with its `source` and `version`."""
        listed = [(e.program, e.origin, e.program.version) for e in self.catalog.values()]
        listed += await self.publisher.published(who)
        items = []
        for program, source, version in listed:
            if role and program.role not in (role, "any"):
                continue
            items.append(
                {
                    "id": program.id,
                    "name": program.name,
                    "role": program.role,
                    "version": version,
                    "source": source,
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
        version: int | None = None,
        local: Resolved | None = None,
    ) -> dict[str, Any]:
        """Start a run of `playbook_id` as the project resolves it; or of `local`, a
        playbook the caller compiled itself (`codifier run FILE.yaml`)."""
        self._check_size("inputs", inputs or {}, self.limits.inputs_bytes, "inputs_bytes")
        async with self.access.in_project(who, project_id, project_name) as (project_row, _):
            project = UUID(project_row["id"])
        resolved = local or await self.publisher.resolve(project, playbook_id, version)
        program = resolved.program
        machine = Interpreter(program, library_with(self.library, resolved.templates))
        session_id = uuid4()
        try:
            transition = machine.start(
                inputs or {},
                {"id": str(project), "name": project_row["name"]},
                {"id": str(session_id)},
            )
        except InputError as error:
            raise invalid(str(error)) from None
        self._check_state(transition.state)
        async with self.db.transaction(Scope.project(project)) as conn:
            await self._check_open_sessions(conn, project)
            row = await sessions.create(
                conn,
                session_id=session_id,
                project_id=project,
                playbook_id=program.id,
                playbook_version=resolved.version,
                source_hash=program.source_hash,
                program=json.loads(program.to_json()),
                state=transition.state,
                status=transition.state["status"],
                created_by=who.id,
                templates=resolved.templates,
            )
            await self._remember(conn, project, transition, who)
        if transition.memories:
            self.indexer.kick()
        return await self._drive(who, project, machine, row, transition)

    async def advance(
        self, who: Principal, session_id: str, step_id: str, answer: Any
    ) -> dict[str, Any]:
        target = require_id(session_id, "session_id", "that run_playbook returned")
        self._check_size("input", answer, self.limits.answer_bytes, "answer_bytes")
        row, program = await self._loaded(who, target)
        project = UUID(row["project_id"])
        machine = Interpreter(program, library_with(self.library, row.get("templates")))
        state = row["state"]
        if state["status"] in ("completed", "failed"):
            raise conflict(f"the session is {state['status']}; start a new run")
        current = program.steps[state["pc"]]
        if step_id != current.id:
            raise conflict(
                f"step '{shown(step_id)}' is not the session's current step"
                f" (current: '{current.id}')"
            )
        try:
            transition = machine.resume(state, answer)
        except AnswerError as error:
            raise invalid(str(error)) from None
        row = await self._save(project, row, transition, who)
        return await self._drive(who, project, machine, row, transition)

    async def get(self, who: Principal, session_id: str) -> dict[str, Any]:
        """The session's current step result, exactly as run_playbook or advance_step
        returned it (the prompt or the generate request again: a client that lost it asks
        here), with `step_outputs` (each finished step's output so far) and the run's
        playbook, version and times."""
        target = require_id(session_id, "session_id", "that run_playbook or list_sessions gave")
        row, program = await self._loaded(who, target)
        machine = Interpreter(program, library_with(self.library, row.get("templates")))
        result = step_result(row["id"], machine.current(row["state"]))
        result["project_id"] = row["project_id"]
        result["playbook_id"] = row["playbook_id"]
        result["playbook_version"] = row["playbook_version"]
        # In the playbook's step order (the stored JSONB orders keys by length).
        outputs: dict[str, Any] = row["state"]["outputs"]
        order = [step.id for step in program.steps if step.id in outputs]
        result["step_outputs"] = {
            **{key: outputs[key] for key in order},
            **{key: value for key, value in outputs.items() if key not in order},
        }
        result["created_at"] = row["created_at"]
        result["updated_at"] = row["updated_at"]
        return result

    def in_forms(self, ctx: Context[Any, Any]) -> NativeForms:
        """start and advance for one MCP call, asking the store steps they reach in the
        client's own form when it declares form elicitation (codifier.server.native)."""
        return NativeForms(self, ctx)

    async def current_step(
        self, who: Principal, session_id: str, notice: str | None = None
    ) -> dict[str, Any]:
        """The session's current step result exactly as run_playbook or advance_step give
        it (nothing more: no outputs or times), `notice` saying why the run is there."""
        target = require_id(session_id, "session_id", "that run_playbook returned")
        row, program = await self._loaded(who, target)
        machine = Interpreter(program, library_with(self.library, row.get("templates")))
        result = step_result(row["id"], machine.current(row["state"]))
        if notice is not None:
            result["notice"] = notice
        return result

    async def list_sessions(
        self,
        who: Principal,
        project_id: str | None,
        status: str | None,
        playbook_id: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """A project's runs, newest first, paged."""
        if not 1 <= limit <= 100:
            raise invalid(f"limit must be from 1 to 100, got {limit}")
        if not 0 <= offset <= self.limits.offset:
            raise invalid(f"offset must be from 0 to {self.limits.offset:,}, got {offset}")
        if playbook_id is not None and len(playbook_id) > 200:
            raise invalid("playbook_id is longer than 200 characters; use a playbook's id")
        async with self.access.in_project(who, project_id) as (project_row, conn):
            rows, total = await sessions.listing(
                conn, UUID(project_row["id"]), status, playbook_id, limit, offset
            )
        listed = [
            {
                "session_id": row["id"],
                "playbook_id": row["playbook_id"],
                "playbook_version": row["playbook_version"],
                "status": row["status"],
                "step": None
                if row["step_id"] is None
                else {"id": row["step_id"], "index": row["step_index"], "count": row["step_count"]},
                "created_by": row["created_by"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
            for row in rows
        ]
        return {
            "project_id": project_row["id"],
            "sessions": listed,
            "total": total,
            "offset": offset,
            "has_more": offset + len(listed) < total,
        }

    async def rewind(self, who: Principal, session_id: str, step_id: str) -> dict[str, Any]:
        """Back to an earlier store or generate step: later outputs are dropped, and what
        the steps remember when they run again supersedes what they remembered before
        (a memory of the same type and title). Races are conflicts, as for advance_step."""
        target = require_id(session_id, "session_id", "that run_playbook or list_sessions gave")
        row, program = await self._loaded(who, target)
        project = UUID(row["project_id"])
        machine = Interpreter(program, library_with(self.library, row.get("templates")))
        try:
            transition = machine.rewind(row["state"], step_id)
        except AnswerError as error:
            raise invalid(str(error)) from None
        row = await self._save(project, row, transition, who)
        return await self._drive(who, project, machine, row, transition)

    async def _loaded(self, who: Principal, target: UUID) -> tuple[dict[str, Any], Program]:
        """The session's row and its compiled program (decoded once per process)."""
        program = self._programs.get(target)
        row = await self._session(who, target, with_program=program is None)
        if program is None:
            program = Program.from_json(json.dumps(row["program"]))
            self._programs[target] = program
            if len(self._programs) > PROGRAM_CACHE:
                self._programs.pop(next(iter(self._programs)))
        return row, program

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

    def _check_size(self, what: str, value: Any, most: int, limit: str) -> None:
        size = json_bytes(value)
        if size > most:
            raise invalid(
                f"{what} has {size:,} bytes of JSON, more than the {most:,} allowed"
                f" ({self.limits.setting(limit)}); send less"
            )

    def _check_state(self, state: dict[str, Any]) -> None:
        """A run's whole state is bounded too: many answers, or big results of server-side
        steps, add up."""
        size = json_bytes(state)
        most = self.limits.session_state_bytes
        if size > most:
            raise invalid(
                f"the run's state would grow to {size:,} bytes, more than the {most:,} allowed"
                f" ({self.limits.setting('session_state_bytes')}); keep answers and results"
                " smaller"
            )

    async def _check_open_sessions(self, conn: Any, project: UUID) -> None:
        most = self.limits.open_sessions_per_project
        count = await sessions.count_open(conn, project)
        if count >= most:
            raise quota(
                f"the project has {count:,} runs awaiting an answer, the most allowed"
                f" ({self.limits.setting('open_sessions_per_project')}); finish some of them"
                " with advance_step first"
            )

    async def _save(
        self, project: UUID, row: dict[str, Any], transition: Transition, who: Principal
    ) -> dict[str, Any]:
        """Write the transition: its state and its memories, all or nothing. Refusals
        (a memory over a limit, the state too big) are CallErrors and change nothing."""
        self._check_state(transition.state)
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
        if transition.memories:
            self.indexer.kick()  # their vectors are made in the background
        return {**row, "state": transition.state, "row_version": row["row_version"] + 1}

    async def _remember(
        self, conn: Any, project: UUID, transition: Transition, who: Principal
    ) -> None:
        """A step's `remember:` is held to the same limits as update_memory.

        Its labels come from the playbook and earlier answers, which this call cannot
        change, so they are fitted: a title over the limit is cut and ends with "…", tags
        past the count are dropped and long ones cut. Its content is the step's answer or
        result, never cut: over the limit (or over the project's memory quota) the call is
        refused, or for a server-side step the step fails, and nothing is written."""
        for write in transition.memories:
            memory = NewMemory(
                write.memory_type,
                fit_title(write.title.strip() or write.step_id, self.limits.title_chars),
                write.content,
                [str(tag)[: self.limits.tag_chars] for tag in write.tags][: self.limits.tags],
                source_role=None,
                metadata={
                    "session_id": transition.state["session"]["id"],
                    "step": write.step_id,
                },
            )
            try:
                row, _ = await memories.upsert(
                    conn, project, memory, limits=self.limits, provenance=Provenance(who.name)
                )
                # A re-run rewrites its artifacts: the newest one of a title is current.
                await memories.supersede_same_title(conn, row)
            except memories.MemoryRefused as error:
                raise invalid(
                    f"step '{write.step_id}' cannot remember its result: {error}"
                ) from None
            except memories.MemoryQuotaReached as error:
                raise quota(f"step '{write.step_id}' cannot remember its result: {error}") from None

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
            before = transition.state
            try:
                result = await self._server_effect(project, effect, machine.program.role, who)
            except (SkillError, CallError, snapshots.SnapshotError) as error:
                if _answer_caused(error):  # back to the question it came from, with why
                    transition = machine.send_back(before, _reason(error))
                else:
                    transition = machine.fail(before, str(error))
            else:
                if problem := value_problem(result, "the result"):
                    transition = machine.fail(before, f"{problem}, which cannot be stored")
                else:
                    transition = machine.resume(before, result)
            try:
                row = await self._save(project, row, transition, who)
            except CallError as error:
                if error.code not in ("invalid", "quota"):
                    raise
                # No client can fix what a server-side step produced: the step fails.
                transition = machine.fail(before, error.message)
                row = await self._save(project, row, transition, who)
        return step_result(row["id"], transition.effect)

    async def _server_effect(
        self, project: UUID, effect: InvokeSkill | QueryData, role: str, who: Principal
    ) -> Any:
        if isinstance(effect, InvokeSkill):
            implementation = IMPLEMENTATIONS[effect.skill]
            run = RunContext(
                self.db,
                project,
                role,
                self.limits,
                self.indexer,
                self.stats,
                who.name,
                self.data.snapshots,
            )
            return await implementation(run, **effect.args)
        return await self.data.query(
            effect.source, effect.operation, effect.database, effect.tables, effect.sql
        )


def _answer_caused(error: Exception) -> bool:
    """A refusal of what the step was given (a bad URL or path, unknown tables), not an
    outage: the person can answer again. Skills raise SkillError for bad arguments."""
    code = getattr(error, "code", "invalid")
    return isinstance(error, SkillError) or code in ("invalid", "not_found", "refused")


def _reason(error: Exception) -> str:
    text = str(error)
    return text.split("] ", 1)[1] if text.startswith("[") and "] " in text else text


def fit_title(title: str, most: int) -> str:
    """A title within `most` characters: cut, with "…" saying so."""
    return title if len(title) <= most else title[: most - 1] + "…"


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
        if effect.notice is not None:
            result["notice"] = effect.notice
    elif isinstance(effect, Generate):
        result["generate_request"] = {
            "prompt": effect.prompt,
            "output_format": effect.output_format,
        }
        if effect.schema is not None:  # what the artifact must fit (advance_step checks)
            result["generate_request"]["schema"] = effect.schema
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
