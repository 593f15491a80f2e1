from __future__ import annotations

import pytest

from codifier.library import load_library
from dsl.library import Library


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()
