"""The store: PostgreSQL through asyncpg, every transaction scoped to one project."""
