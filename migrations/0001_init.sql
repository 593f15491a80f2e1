-- Codifier's schema. Times use clock_timestamp() so rows written in one transaction
-- still order by when they were written.
-- Plain SQL: `codifier migrate` applies it, and so can Supabase's own
-- migration tooling. Every table carries project_id and row-level security: each
-- transaction runs as the non-owner role codifier_app with app.project_id set, so a
-- query that forgets its project filter still cannot read another project's rows.

CREATE EXTENSION IF NOT EXISTS vector;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'codifier_app') THEN
        CREATE ROLE codifier_app NOLOGIN;
    END IF;
END
$$;

-- The connecting user must be able to SET ROLE codifier_app (Supabase's postgres user
-- is not a superuser).
DO $$
BEGIN
    EXECUTE format('GRANT codifier_app TO %I', current_user);
EXCEPTION WHEN others THEN
    NULL;  -- already a member, or a superuser who needs no grant
END
$$;

-- The caller's project for this transaction, or NULL.
CREATE OR REPLACE FUNCTION codifier_project() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('app.project_id', true), '')::uuid
$$;

-- True for the server's own cross-project work (admin token, key lookup).
CREATE OR REPLACE FUNCTION codifier_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.admin', true), '') = 'on'
$$;

CREATE TABLE projects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE memories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('rule', 'document', 'api_contract', 'learning', 'research_finding')),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    content text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    source_role text,
    metadata jsonb NOT NULL DEFAULT '{}',
    content_hash text NOT NULL,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', content), 'B')
    ) STORED,
    embedding vector(384),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (project_id, content_hash)
);
CREATE INDEX memories_recent ON memories (project_id, created_at DESC, id);
CREATE INDEX memories_type ON memories (project_id, type, created_at DESC);
CREATE INDEX memories_tags ON memories USING gin (tags);
CREATE INDEX memories_search ON memories USING gin (search);

CREATE TABLE repositories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url text NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    label text,
    commit text,
    content text NOT NULL,
    file_count integer NOT NULL,
    token_count integer NOT NULL,
    summary jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (project_id, url, version)
);

CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    playbook_id text NOT NULL,
    playbook_version integer NOT NULL,
    source_hash text NOT NULL,
    program jsonb NOT NULL,          -- the compiled program the run started with
    state jsonb NOT NULL,
    status text NOT NULL,
    row_version integer NOT NULL DEFAULT 1,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sessions_project ON sessions (project_id, created_at DESC);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid REFERENCES projects (id) ON DELETE CASCADE,  -- NULL: admin scope
    name text NOT NULL,
    prefix text NOT NULL,            -- shown in listings to tell keys apart
    key_hash text NOT NULL UNIQUE,   -- sha256 of the whole key; the key itself is never kept
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at timestamptz
);

-- A caller's default project (manage_projects switch), by principal (key id or 'admin').
CREATE TABLE principal_defaults (
    principal text PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE
);

GRANT USAGE ON SCHEMA public TO codifier_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, memories, repositories, sessions, api_keys,
    principal_defaults TO codifier_app;

ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE repositories ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE principal_defaults ENABLE ROW LEVEL SECURITY;

CREATE POLICY by_project ON projects
    USING (codifier_admin() OR id = codifier_project())
    WITH CHECK (codifier_admin() OR id = codifier_project());
CREATE POLICY by_project ON memories
    USING (codifier_admin() OR project_id = codifier_project())
    WITH CHECK (codifier_admin() OR project_id = codifier_project());
CREATE POLICY by_project ON repositories
    USING (codifier_admin() OR project_id = codifier_project())
    WITH CHECK (codifier_admin() OR project_id = codifier_project());
CREATE POLICY by_project ON sessions
    USING (codifier_admin() OR project_id = codifier_project())
    WITH CHECK (codifier_admin() OR project_id = codifier_project());
CREATE POLICY by_project ON api_keys
    USING (codifier_admin() OR project_id = codifier_project())
    WITH CHECK (codifier_admin() OR project_id = codifier_project());
CREATE POLICY by_project ON principal_defaults
    USING (codifier_admin() OR project_id = codifier_project())
    WITH CHECK (codifier_admin() OR project_id = codifier_project());
