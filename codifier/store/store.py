"""Opening the store the way the settings say: DATABASE_URL, or the embedded server."""

from __future__ import annotations

from codifier.config import Settings
from codifier.db.embedded import embedded_url
from codifier.store.database import Database


def database_url(settings: Settings) -> str:
    return settings.database_url or embedded_url(settings.home)


async def open_database(settings: Settings, *, max_size: int = 10) -> Database:
    return await Database.connect(database_url(settings), max_size=max_size)
