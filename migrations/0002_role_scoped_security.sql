-- Row-level security keyed on roles, not on a setting the app role can change.
--
-- 0001 let any transaction see every project when the setting app.admin was 'on', and
-- codifier_app could set it itself (set_config('app.admin', 'on', true)). Now:
--   codifier_app    project scope: policies read only app.project_id;
--   codifier_admin  admin scope (the admin token, key lookup, the CLI): a role of its
--                   own, which codifier_app is not a member of, so no setting and no
--                   SET ROLE from codifier_app can reach it.
-- Each transaction runs SET LOCAL ROLE codifier_app or codifier_admin. Which roles the
-- connecting login may SET ROLE to is the deployment's choice (docs/security.md): the
-- embedded server connects project-scoped work as codifier_login (a member of
-- codifier_app only) and admin work as codifier_admin_login.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'codifier_admin') THEN
        CREATE ROLE codifier_admin NOLOGIN;
    END IF;
END
$$;

-- The migrating user must be able to SET ROLE codifier_admin when it is also the user the
-- server connects as (one DATABASE_URL; Supabase's postgres user is not a superuser).
DO $$
BEGIN
    EXECUTE format('GRANT codifier_admin TO %I', current_user);
EXCEPTION WHEN others THEN
    NULL;  -- already a member, or a superuser who needs no grant
END
$$;

GRANT USAGE ON SCHEMA public TO codifier_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, memories, repositories, sessions, api_keys,
    principal_defaults TO codifier_admin;
-- Tables later migrations create are open to the admin scope too (their policies decide
-- which rows); codifier_app still gets only what a migration grants it by name.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO codifier_admin;

-- The old test, kept for any policy still written as `codifier_admin() OR ...`: true only
-- while the current role has the privileges of codifier_admin, which no setting changes.
CREATE OR REPLACE FUNCTION codifier_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(current_user, 'codifier_admin', 'USAGE')
$$;

-- Project scope: only app.project_id, and only for codifier_app.
DROP POLICY IF EXISTS by_project ON projects;
DROP POLICY IF EXISTS by_project ON memories;
DROP POLICY IF EXISTS by_project ON repositories;
DROP POLICY IF EXISTS by_project ON sessions;
DROP POLICY IF EXISTS by_project ON api_keys;
DROP POLICY IF EXISTS by_project ON principal_defaults;
CREATE POLICY by_project ON projects TO codifier_app
    USING (id = codifier_project()) WITH CHECK (id = codifier_project());
CREATE POLICY by_project ON memories TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY by_project ON repositories TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY by_project ON sessions TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY by_project ON api_keys TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY by_project ON principal_defaults TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());

-- Admin scope: every row of every table under row-level security, including tables a
-- migration numbered alongside this one created.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO codifier_admin', t);
        IF NOT EXISTS (
            SELECT 1 FROM pg_policy WHERE polrelid = t AND polname = 'admin_scope'
        ) THEN
            EXECUTE format(
                'CREATE POLICY admin_scope ON %s TO codifier_admin USING (true) WITH CHECK (true)',
                t
            );
        END IF;
    END LOOP;
END
$$;
