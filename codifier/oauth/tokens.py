"""The secrets the authorization server hands out: each a random string with a prefix
that says what it is (so the bearer check knows where to look), stored only as its
SHA-256 hash. 32 random bytes each: well above RFC 6749's 128 bits for codes."""

from __future__ import annotations

import secrets

from codifier.store.keys import hash_key

ACCESS_PREFIX = "cdat_"
REFRESH_PREFIX = "cdrt_"
CODE_PREFIX = "cdac_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hash_key(secret)
