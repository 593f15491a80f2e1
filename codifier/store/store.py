"""Opening the store the way the settings say: DATABASE_URL, or the embedded server."""

from __future__ import annotations

from codifier.config import Settings
from codifier.db.embedded import embedded_login_url, embedded_url
from codifier.db.logins import ADMIN_LOGIN, PROJECT_LOGIN, ensure_login_roles
from codifier.store.database import Database


def database_url(settings: Settings) -> str:
    """The owner's URL: migrations and administration."""
    return settings.database_url or embedded_url(settings.home)


async def open_database(settings: Settings, *, max_size: int = 10) -> Database:
    """External: DATABASE_URL migrates; DATABASE_PROJECT_URL / DATABASE_ADMIN_URL, when
    set, are the logins transactions use (else DATABASE_URL's user). Embedded: the
    superuser migrates and creates the two login roles the pools connect as."""
    if settings.database_url:
        return await Database.connect(
            settings.database_url,
            project_url=settings.database_project_url,
            admin_url=settings.database_admin_url,
            max_size=max_size,
        )
    home = settings.home
    return await Database.connect(
        embedded_url(home),
        project_url=embedded_login_url(home, PROJECT_LOGIN),
        admin_url=embedded_login_url(home, ADMIN_LOGIN),
        bootstrap=ensure_login_roles,
        max_size=max_size,
    )
