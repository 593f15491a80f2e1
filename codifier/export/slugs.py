"""File names from memory titles: safe in any folder, stable, and unique in one export."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG_CHARS = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(title: str) -> str:
    """Lowercase ASCII letters, digits and single dashes, never empty: no dot, slash or
    backslash survives, so a title like "../../etc/passwd" names a file, not a path."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    text = text[:MAX_SLUG_CHARS].rstrip("-")
    return text or "rule"


def unique_slugs(items: list[tuple[str, str]]) -> dict[str, str]:
    """{id: slug} for (id, title) pairs. Titles that share a slug each get their id's
    first characters appended, so the name does not depend on which was stored first."""
    by_slug: dict[str, list[str]] = {}
    for item_id, title in items:
        by_slug.setdefault(slug(title), []).append(item_id)
    names: dict[str, str] = {}
    for name, ids in by_slug.items():
        for item_id in ids:
            short = item_id.replace("-", "")[:8]
            names[item_id] = name if len(ids) == 1 else f"{name}-{short}"
    return names
