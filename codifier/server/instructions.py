"""The server's instructions: what a client's model reads once, at connection, to know
how the tools fit together (MCP `instructions`, in `initialize` and `server/discover`)."""

from __future__ import annotations

INSTRUCTIONS = (
    "Codifier is a team's shared memory and a runner of guided playbooks. Everything"
    " belongs to a project: a project key acts in its own project, the admin picks one"
    " with manage_projects (operation 'list', then 'switch' to make it the default, or"
    " pass project_id to each call). Before working on a task, call fetch_context to read"
    " what the team already knows (rules, documents, API contracts, learnings, research"
    " findings; give `query` to rank by relevance); when you learn something worth"
    " keeping, save it with update_memory (pass `supersedes` to replace an outdated"
    " memory and keep it as history). For a guided task, list_playbooks names what you"
    " can run (each is also an MCP prompt); run_playbook starts one and returns a step"
    " result: when its status is awaiting_input, ask the person the `prompt` and send"
    " their answer with advance_step (session_id and step.id, the answer shaped as"
    " `expects`); when it is awaiting_generation, write the artifact generate_request"
    " asks for yourself and send it with advance_step; repeat until completed or failed."
    " get_session shows a run's current step again, list_sessions finds runs,"
    " rewind_session goes back to an earlier answer. To work with code, pack_repo packs"
    " a repository into a snapshot and returns its digest; then read files exactly with"
    " read_snapshot and find code with search_snapshot (literal, regex or semantic);"
    " list_snapshots lists them, and each is also readable as a resource"
    " (codifier://snapshots/<id> and its /digest). For data, query_data lists tables,"
    " describes them and runs one read-only SQL query at a time. Every error reads"
    " `[code] sentence` and says how to fix the call."
)
