-- Team-owned playbooks (issue 11): each publish stores the next version of a playbook id,
-- in one project or server-wide (project_id NULL, the admin only), with the templates it
-- uses and its compiled program. Versions are never changed or deleted by the server.
-- A session keeps the templates its run started with (sessions.templates; NULL for the
-- shipped playbooks, whose templates ship with the server).

CREATE TABLE playbooks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
    playbook_id text NOT NULL CHECK (length(playbook_id) BETWEEN 1 AND 200),
    version integer NOT NULL CHECK (version >= 1),
    source text NOT NULL,
    templates jsonb NOT NULL DEFAULT '{}',
    program jsonb NOT NULL,
    published_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE NULLS NOT DISTINCT (project_id, playbook_id, version)
);
CREATE INDEX playbooks_newest ON playbooks (playbook_id, project_id, version DESC);

ALTER TABLE sessions ADD COLUMN templates jsonb;

ALTER TABLE playbooks ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON playbooks TO codifier_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON playbooks TO codifier_admin;
-- A project reads its own playbooks and the server-wide ones, and writes only its own.
CREATE POLICY by_project_read ON playbooks FOR SELECT TO codifier_app
    USING (project_id IS NULL OR project_id = codifier_project());
CREATE POLICY by_project_write ON playbooks FOR INSERT TO codifier_app
    WITH CHECK (project_id = codifier_project());
CREATE POLICY admin_scope ON playbooks TO codifier_admin USING (true) WITH CHECK (true);
