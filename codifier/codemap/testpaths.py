"""Which files are tests, by the naming conventions of each ecosystem.

Tests are never ranked as central modules (their imports still count as references).
A folder named test/tests/spec/... makes everything below it a test, which also covers a
library's own testing package (Django's django/test): it is test support, not the core.
"""

from __future__ import annotations

_TEST_FOLDERS = frozenset(
    {"test", "tests", "__tests__", "__mocks__", "spec", "specs", "e2e", "testdata",
     "test_data", "testcases"}
)  # fmt: skip
_TEST_NAMES = frozenset({"conftest.py"})
_TEST_PREFIXES = ("test_",)
# Name endings, lowercase: "x_test.go", "x_spec.rb".
_TEST_SUFFIXES = (
    "_test.py", "_test.go", "_test.rb", "_spec.rb", "_test.c", "_test.cc", "_test.cpp",
    "_unittest.cc", "_unittest.cpp",
)  # fmt: skip
# JVM names are CamelCase: "FooTest.java" is a test, "Contest.java" is not.
_JVM_SUFFIXES = ("Test.java", "Tests.java", "TestCase.java", "Test.kt", "Tests.kt")
_SCRIPT_MARKERS = (".test.", ".spec.", ".e2e.", ".stories.")


def is_test_path(path: str) -> bool:
    """True for test code and its fixtures: tests/foo.py, test_x.py, x_test.go,
    a.spec.ts, FooTest.java, foo_spec.rb, __tests__/a.js, conftest.py."""
    folders, _, name = path.rpartition("/")
    if folders and any(part.lower() in _TEST_FOLDERS for part in folders.split("/")):
        return True
    lower = name.lower()
    if lower in _TEST_NAMES or lower.startswith(_TEST_PREFIXES):
        return True
    if lower.endswith(_TEST_SUFFIXES) or name.endswith(_JVM_SUFFIXES):
        return True
    return any(marker in lower for marker in _SCRIPT_MARKERS)
