-- Code context for a snapshot (issue 10): an index of its files, its digest, and code
-- chunks embedded for semantic search.
--
-- * snapshot_files: one row per packed file, in pack order: where its content lies in
--   repositories.content (a character offset and length, as substr counts them), its
--   lines, tokens, size and language. read_snapshot pages it and reads exact line ranges.
-- * repositories.digest: the token-budgeted overview generator prompts include inline;
--   repositories.code_facts: what the digest found (languages, test frameworks, central
--   modules) for templates and tools.
-- * snapshot_chunks: a function, class or window of lines of one file, with its vector
--   (any dimension, the model recorded); embedded in the background after the pack,
--   central files first, up to a bound. repositories.semantic records what was covered.

ALTER TABLE repositories
    ADD COLUMN digest text NOT NULL DEFAULT '',
    ADD COLUMN code_facts jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN semantic jsonb NOT NULL DEFAULT '{"status": "none"}';

CREATE TABLE snapshot_files (
    snapshot_id uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    ordinal integer NOT NULL,
    path text NOT NULL,
    language text NOT NULL DEFAULT '',
    lines integer NOT NULL,
    tokens integer NOT NULL,
    bytes integer NOT NULL,
    text_offset bigint NOT NULL,
    text_length bigint NOT NULL,
    PRIMARY KEY (snapshot_id, ordinal),
    UNIQUE (snapshot_id, path)
);

CREATE TABLE snapshot_chunks (
    snapshot_id uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    ordinal integer NOT NULL,
    path text NOT NULL,
    start_line integer NOT NULL,
    end_line integer NOT NULL,
    symbol text NOT NULL DEFAULT '',
    embedding vector NOT NULL,
    embedding_model text NOT NULL,
    PRIMARY KEY (snapshot_id, ordinal)
);

ALTER TABLE snapshot_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshot_chunks ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON snapshot_files, snapshot_chunks
    TO codifier_app, codifier_admin;
CREATE POLICY by_project ON snapshot_files TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY admin_scope ON snapshot_files TO codifier_admin USING (true) WITH CHECK (true);
CREATE POLICY by_project ON snapshot_chunks TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY admin_scope ON snapshot_chunks TO codifier_admin USING (true) WITH CHECK (true);

-- Snapshots listed newest first per project (list_snapshots, resources/list).
CREATE INDEX repositories_project_created ON repositories (project_id, created_at DESC);
