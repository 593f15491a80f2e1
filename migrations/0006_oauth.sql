-- OAuth 2.1 (issue 12): Codifier's own authorization server. A client registers (RFC 7591),
-- a person signs in at /authorize with a project key or the admin token (a grant), the
-- client exchanges the one-time code for an access token and a refresh token, and rotates
-- the refresh token. Codes and tokens are stored as SHA-256 hashes only, like api_keys.
--
-- A grant remembers which key signed in: revoking that key (api_keys.revoked_at) ends
-- every token of the grant, because verification joins the key and requires it live. A
-- grant signed in with the admin token records a hash of that token instead: a new
-- API_AUTH_TOKEN ends them.
--
-- These tables belong to no project: only admin-scoped transactions (codifier_admin, which
-- gets them through the default privileges of 0002) read or write them; codifier_app gets
-- no grant and no policy, so a project-scoped transaction sees none of their rows.

CREATE TABLE oauth_clients (
    client_id text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 2000),
    metadata jsonb NOT NULL,  -- the registered client information (public clients: no secret)
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Registration needs no credentials: a client no one ever signed in with is deleted
    -- after CODIFIER_OAUTH_UNUSED_CLIENT_SECONDS, and at most CODIFIER_OAUTH_MAX_CLIENTS
    -- rows exist (codifier.store.oauth.register_client).
    signed_in_at timestamptz  -- the latest sign-in through this client; NULL: never used
);
CREATE INDEX oauth_clients_unused ON oauth_clients (created_at) WHERE signed_in_at IS NULL;

CREATE TABLE oauth_grants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    api_key_id uuid REFERENCES api_keys (id) ON DELETE CASCADE,  -- NULL: the admin token
    admin_token_hash text,  -- sha256 of the admin token that signed in
    resource text NOT NULL,  -- RFC 8707: the one resource its tokens are for
    scopes text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at timestamptz,
    CHECK ((api_key_id IS NULL) <> (admin_token_hash IS NULL))
);
CREATE INDEX oauth_grants_by_key ON oauth_grants (api_key_id);

CREATE TABLE oauth_codes (
    code_hash text PRIMARY KEY,
    grant_id uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    code_challenge text NOT NULL,  -- PKCE S256
    redirect_uri text NOT NULL,
    redirect_uri_explicit boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz  -- single use: set by the exchange
);

CREATE TABLE oauth_tokens (
    token_hash text PRIMARY KEY,
    grant_id uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,  -- a refresh token is used once (rotation)
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

ALTER TABLE oauth_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_tokens ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_clients, oauth_grants, oauth_codes, oauth_tokens
    TO codifier_admin;
CREATE POLICY admin_scope ON oauth_clients TO codifier_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_scope ON oauth_grants TO codifier_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_scope ON oauth_codes TO codifier_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_scope ON oauth_tokens TO codifier_admin USING (true) WITH CHECK (true);
