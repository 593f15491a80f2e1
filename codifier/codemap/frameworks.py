"""Which test frameworks a repository uses, and the evidence: cheap checks only.

Evidence comes from file names (conftest.py, x_test.go, foo_spec.rb, jest.config.js),
a few small configuration files (pyproject.toml, setup.cfg, tox.ini, package.json,
Gemfile, pom.xml, build.gradle), the packages code imports from outside the repository
(`imports.ExternalUse`), and two substring searches (`TestCase` in Python tests,
`#[test]` in Rust). Nothing is run or parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from codifier.codemap.imports import ExternalUse
from codifier.codemap.testpaths import is_test_path


@dataclass(frozen=True, slots=True)
class Framework:
    name: str  # pytest, unittest, Jest, Vitest, Mocha, Go testing, cargo test, JUnit, ...
    evidence: str  # where it was seen, e.g. "pyproject.toml [tool.pytest...]; tests/conftest.py"


def detect(
    paths: Sequence[str],
    read: Callable[[str], str],
    external: Mapping[str, ExternalUse],
) -> list[Framework]:
    """The test frameworks in use, in a fixed order (Python, JavaScript, Go, Rust, Java, Ruby).

    `paths` are the repository's files, `read(path)` one file's text (called only for
    configuration files, Python test files and Rust files), `external` the packages
    imported from outside the repository."""
    found = _Evidence(paths, read, external)
    found.python()
    found.javascript()
    found.go()
    found.rust()
    found.java()
    found.ruby()
    return [Framework(name, "; ".join(items)) for name, items in found.items if items]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class _Evidence:
    def __init__(
        self,
        paths: Sequence[str],
        read: Callable[[str], str],
        external: Mapping[str, ExternalUse],
    ) -> None:
        self.paths = paths
        self.read = read
        self.external = external
        self.names = {p.rpartition("/")[2].lower(): p for p in sorted(paths, reverse=True)}
        self.top = {p.lower(): p for p in paths if "/" not in p}
        self.items: list[tuple[str, list[str]]] = []

    def add(self, name: str, evidence: list[str]) -> None:
        if evidence:
            self.items.append((name, evidence))

    def top_text(self, name: str) -> str:
        path = self.top.get(name)
        return self.read(path) if path is not None else ""

    def imported(self, package: str) -> list[str]:
        use = self.external.get(package)
        if use is None:
            return []
        return [f"imported by {_plural(use.files, 'file')}, e.g. {use.example}"]

    def python(self) -> None:
        evidence: list[str] = []
        conftests = [p for p in self.paths if p.rpartition("/")[2] == "conftest.py"]
        if conftests:
            evidence.append(f"{_plural(len(conftests), 'conftest.py')}, e.g. {conftests[0]}")
        for name, marker in (
            ("pytest.ini", ""),
            ("pyproject.toml", "[tool.pytest"),
            ("setup.cfg", "[tool:pytest]"),
            ("tox.ini", "[pytest]"),
        ):
            if name in self.top and (not marker or marker in self.top_text(name)):
                evidence.append(f"{self.top[name]}" + (" has a pytest section" if marker else ""))
        self.add("pytest", evidence + self.imported("pytest"))
        if "unittest" in self.external:
            cases = sum(
                1
                for p in self.paths
                if p.endswith(".py") and is_test_path(p) and "TestCase" in self.read(p)
            )
            if cases:
                self.add(
                    "unittest",
                    [f"TestCase in {_plural(cases, 'test file')}", *self.imported("unittest")],
                )

    def javascript(self) -> None:
        package = self.top_text("package.json")
        for name, configs, packages in (
            ("Jest", ("jest.config.",), ("jest", "@jest/globals")),
            ("Vitest", ("vitest.config.", "vitest.workspace."), ("vitest",)),
            ("Mocha", (".mocharc",), ("mocha",)),
        ):
            evidence: list[str] = []
            if f'"{packages[0]}"' in package:
                evidence.append(f"{self.top['package.json']} names {packages[0]}")
            evidence += [p for n, p in self.names.items() if n.startswith(configs)][:2]
            for imported in packages:
                evidence += self.imported(imported)
            self.add(name, evidence)

    def go(self) -> None:
        tests = [p for p in self.paths if p.endswith("_test.go")]
        if tests:
            self.add("Go testing", [f"{_plural(len(tests), '_test.go file')}, e.g. {tests[0]}"])

    def rust(self) -> None:
        with_tests = [
            p
            for p in self.paths
            if p.endswith(".rs") and any(m in self.read(p) for m in ("#[test]", "::test]"))
        ]
        if with_tests:
            self.add(
                "cargo test",
                [f"#[test] in {_plural(len(with_tests), 'file')}, e.g. {with_tests[0]}"],
            )

    def java(self) -> None:
        evidence: list[str] = []
        for name in ("pom.xml", "build.gradle", "build.gradle.kts"):
            if name in self.top and "junit" in self.top_text(name).lower():
                evidence.append(f"{self.top[name]} names junit")
        self.add("JUnit", evidence + self.imported("org.junit"))
        self.add("TestNG", self.imported("org.testng"))

    def ruby(self) -> None:
        gemfile = self.top_text("gemfile")
        specs = [p for p in self.paths if p.endswith("_spec.rb")]
        evidence: list[str] = []
        if specs:
            evidence.append(f"{_plural(len(specs), '_spec.rb file')}, e.g. {specs[0]}")
        if ".rspec" in self.top:
            evidence.append(".rspec")
        if "rspec" in gemfile:
            evidence.append("Gemfile names rspec")
        self.add("RSpec", evidence)
        evidence = self.imported("minitest")
        if "minitest" in gemfile:
            evidence.insert(0, "Gemfile names minitest")
        self.add("Minitest", evidence)
