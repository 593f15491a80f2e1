-- Memory search that finds meaning (hybrid ranking) and a memory lifecycle.
--
-- * memory_terms: one row per (memory, lexeme) with its field-weighted term frequency,
--   so fetch_context can rank with Okapi BM25 (a missing word lowers a rank instead of
--   dropping the hit). A trigger keeps it in step with every write, whoever makes it.
-- * embedding: any dimension (the provider decides); the model that made it is recorded,
--   so a change of model re-embeds (`codifier reindex`). HNSW indexes are per dimension
--   (pgvector indexes need one): 384, the default local model's, is created here.
-- * superseded_by: a newer memory replaces an older one, which stays as history.
-- * created_by / updated_by: who wrote it (the key's name, or admin).
-- * tags_key: lower-cased tags, so tag filters are case-insensitive.

CREATE OR REPLACE FUNCTION codifier_lower_tags(tags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT lower(t) ORDER BY lower(t)), '{}') FROM unnest(tags) t
$$;

ALTER TABLE memories
    ALTER COLUMN embedding TYPE vector,
    ADD COLUMN embedding_model text,
    ADD COLUMN superseded_by uuid REFERENCES memories (id) ON DELETE SET NULL,
    ADD COLUMN created_by text NOT NULL DEFAULT 'unknown',
    ADD COLUMN updated_by text NOT NULL DEFAULT 'unknown',
    ADD COLUMN tags_key text[] GENERATED ALWAYS AS (codifier_lower_tags(tags)) STORED,
    ADD COLUMN term_length real NOT NULL DEFAULT 0;  -- BM25's document length (weighted)

-- 0001's tsvector (ranked with ts_rank_cd, and needing every word) is replaced by
-- memory_terms: no reader is left, so writers stop paying for it.
ALTER TABLE memories DROP COLUMN search;

-- Current memories, newest first, and by type: fetch_context's pages and its `total`
-- (counted from the index alone once autovacuum has set the visibility map).
CREATE INDEX memories_current ON memories (project_id, created_at DESC, id)
    WHERE superseded_by IS NULL;
CREATE INDEX memories_current_type ON memories (project_id, type, created_at DESC, id)
    WHERE superseded_by IS NULL;
CREATE INDEX memories_tags_key ON memories USING gin (tags_key);
CREATE INDEX memories_superseded_by ON memories (superseded_by);
CREATE INDEX memories_embedding_384 ON memories
    USING hnsw ((embedding::vector(384)) vector_cosine_ops)
    WHERE vector_dims(embedding) = 384;

CREATE TABLE memory_terms (
    memory_id uuid NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    lexeme text NOT NULL,
    tf real NOT NULL,      -- field-weighted count: title 3, tags 2, content 1 per position
    dl real NOT NULL,      -- the memory's field-weighted length (sum of its tf)
    impact real NOT NULL,  -- tf saturation at write time: orders a lexeme's postings
    PRIMARY KEY (memory_id, lexeme)
);
CREATE INDEX memory_terms_postings ON memory_terms (project_id, lexeme, impact DESC)
    INCLUDE (memory_id, tf, dl);

-- The weighted lexemes of a memory: title (A) x3, tags (B) x2, content (D) x1 per
-- position. tsvector keeps at most 256 positions per lexeme, which caps tf harmlessly.
CREATE OR REPLACE FUNCTION codifier_memory_lexemes(title text, tags text[], content text)
RETURNS TABLE (lexeme text, tf real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT u.lexeme,
           sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 ELSE 1 END)::real
    FROM unnest(
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', array_to_string(tags, ' ')), 'B')
        || to_tsvector('english', content)
    ) u, unnest(u.weights) w
    GROUP BY u.lexeme
$$;

-- BM25's k1 = 1.2, b = 0.75; 200 stands in for the average length when ordering postings
-- (the query uses the project's real average). The length is kept on the memory (a
-- BEFORE trigger) so that corpus statistics are one scan of memories.
CREATE OR REPLACE FUNCTION codifier_measure_memory() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.term_length := (SELECT coalesce(sum(tf), 0)
                        FROM codifier_memory_lexemes(NEW.title, NEW.tags, NEW.content));
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION codifier_index_memory_terms() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM memory_terms WHERE memory_id = NEW.id;
    END IF;
    INSERT INTO memory_terms (memory_id, project_id, lexeme, tf, dl, impact)
    SELECT NEW.id, NEW.project_id, t.lexeme, t.tf, NEW.term_length,
           t.tf / (t.tf + 1.2 * (0.25 + 0.75 * NEW.term_length / 200.0))
    FROM codifier_memory_lexemes(NEW.title, NEW.tags, NEW.content) t;
    RETURN NULL;
END
$$;

CREATE TRIGGER memories_measure BEFORE INSERT OR UPDATE OF title, tags, content ON memories
    FOR EACH ROW EXECUTE FUNCTION codifier_measure_memory();
CREATE TRIGGER memories_terms_insert AFTER INSERT ON memories
    FOR EACH ROW EXECUTE FUNCTION codifier_index_memory_terms();
CREATE TRIGGER memories_terms_update AFTER UPDATE OF title, tags, content ON memories
    FOR EACH ROW EXECUTE FUNCTION codifier_index_memory_terms();

-- Existing memories get their length and postings now (the UPDATE fires both triggers).
UPDATE memories SET title = title;

ALTER TABLE memory_terms ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON memory_terms TO codifier_app, codifier_admin;
CREATE POLICY by_project ON memory_terms TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY admin_scope ON memory_terms TO codifier_admin USING (true) WITH CHECK (true);

-- How many memories each project holds, kept by a trigger: the quota check reads one row
-- instead of counting the project's memories on every write (a count that grows with the
-- project). The row's lock also makes a project's writers take turns, so the quota holds
-- exactly under concurrent writes.
CREATE TABLE project_memory_counts (
    project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    memories bigint NOT NULL DEFAULT 0
);
INSERT INTO project_memory_counts (project_id, memories)
SELECT p.id, (SELECT count(*) FROM memories m WHERE m.project_id = p.id) FROM projects p;

CREATE OR REPLACE FUNCTION codifier_count_memories() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO project_memory_counts AS c (project_id, memories)
        VALUES (NEW.project_id, 1)
        ON CONFLICT (project_id) DO UPDATE SET memories = c.memories + 1;
    ELSE
        UPDATE project_memory_counts SET memories = memories - 1
        WHERE project_id = OLD.project_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER memories_count AFTER INSERT OR DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION codifier_count_memories();

ALTER TABLE project_memory_counts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON project_memory_counts TO codifier_app, codifier_admin;
CREATE POLICY by_project ON project_memory_counts TO codifier_app
    USING (project_id = codifier_project()) WITH CHECK (project_id = codifier_project());
CREATE POLICY admin_scope ON project_memory_counts TO codifier_admin
    USING (true) WITH CHECK (true);
