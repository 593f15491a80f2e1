"""Which files import which: an import graph from language-aware patterns over the text.

Cheap and bounded: no parsing, one pass per file with a few regular expressions that are
ours (not user input) and linear (no nested quantifiers). A literal search finds where an
import can start (`str.find`, fast C code) and a pattern is tried only there, so a file
costs about one scan of its text. Resolution is by the repository's own layout:

- Python: `import a.b`, `from a.b import c` (c as a submodule first), `from . import x`,
  `from ..a import b`; modules named by their packages (folders with `__init__.py`, so
  `src/` layouts work), then by dotted-path suffix for namespace packages.
- JavaScript/TypeScript: relative `import`/`export ... from`/`require()`/`import()`,
  with extensions, `.js` written for a `.ts` file, and `index` files.
- Go: import paths under a `go.mod` module path, to every file of that package folder.
- Rust: `mod x;` to x.rs or x/mod.rs; `use crate::`, `self::`, `super::` paths.
- Java: `import a.b.C;` (and `a.b.*`) by path suffix.
- C/C++: `#include "x.h"` beside the file, then by path suffix; `<x/y.h>` when one
  file ends so.
- Ruby: `require_relative`, and `require` of a file in the repository.

Imports that name nothing in the repository are kept by package name (`external`), which
is how test frameworks are recognised (`frameworks`).
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from codifier.packer.render import language

CODE_LANGUAGES = frozenset(
    {"python", "javascript", "jsx", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
     "ruby"}
)  # fmt: skip

_JS_LANGUAGES = frozenset({"javascript", "jsx", "typescript", "tsx"})
_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")
_JS_SCRIPT_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs")
_C_EXTENSIONS = (".h", ".hh", ".hpp", ".hxx", ".inl", ".c", ".cc", ".cpp", ".cxx")

# Every repetition is bounded ({0,N}) so that a hostile file cannot make one attempt scan
# to its end; with _MAX_ATTEMPTS per keyword, a file's scan is linear in its size.
_MAX_ATTEMPTS = 5_000  # places one keyword is tried in one file
_GO_ATTEMPTS = 200  # Go imports are declared once, at the top of a file
# Python: a line starting with `from X import names` or `import names`.
_PY_IMPORT = re.compile(
    r"[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]*(\([^)]{0,2000}\)|[^\n]*)|import[ \t]+([^\n]*))"
)
# JS/TS: the string after from / import / require( / import(.
_JS_SPECIFIER = re.compile(r"(?:from|import|require)[ \t]*\(?[ \t]*['\"]([^'\"\n]+)['\"]")
_GO_IMPORT = re.compile(r"import[ \t]*(?:\(([^)]{0,8000})\)|(?:[\w.]+[ \t]+)?\"([^\"\n]+)\")")
_GO_QUOTED = re.compile(r"\"([^\"\n]+)\"")
_GO_MODULE = re.compile(r"^module[ \t]+\"?([^\s\"]+)", re.MULTILINE)
_RUST_MOD = re.compile(r"mod[ \t]+(\w+)[ \t]*;")
_RUST_USE = re.compile(r"use[ \t]+(crate|self|super)::([\w:]{0,500})(\{[^}]{0,2000}\})?")
_JAVA_IMPORT = re.compile(r"[ \t]*import[ \t]+(?:static[ \t]+)?([\w.]+)(\.\*)?[ \t]*;")
_C_INCLUDE = re.compile(r"[ \t]*#[ \t]*include[ \t]*([\"<])([^\">\n]+)[\">]")
_RUBY_REQUIRE = re.compile(r"(require_relative|require)[ \t(]*['\"]([^'\"\n]+)['\"]")


@dataclass(frozen=True, slots=True)
class ExternalUse:
    """A package imported from outside the repository."""

    files: int  # distinct files importing it
    example: str  # the first of them, by path


@dataclass(slots=True)
class ImportGraph:
    files: list[str]  # every code file considered, sorted
    imports: dict[str, set[str]]  # importer -> files it imports (itself never)
    external: dict[str, ExternalUse] = field(default_factory=dict)  # by package name


def import_graph(texts: Mapping[str, str]) -> ImportGraph:
    """The import graph of a repository given as path -> text.

    `texts` holds the code files (languages in CODE_LANGUAGES, by the packer's
    extension rules) and any go.mod; other files are ignored."""
    code = sorted(p for p in texts if language(p) in CODE_LANGUAGES)
    layout = _Layout(code, {p: t for p, t in texts.items() if p.rpartition("/")[2] == "go.mod"})
    imports: dict[str, set[str]] = {}
    external_files: dict[str, list[str]] = defaultdict(list)
    for path in code:
        found: set[str] = set()
        outside: set[str] = set()
        layout.scan(path, language(path), texts[path], found, outside)
        found.discard(path)
        if found:
            imports[path] = found
        for name in outside:
            external_files[name].append(path)
    external = {name: ExternalUse(len(paths), paths[0]) for name, paths in external_files.items()}
    return ImportGraph(code, imports, external)


def _line_starts(text: str, keyword: str, limit: int = _MAX_ATTEMPTS) -> Iterator[int]:
    """Starts of the lines holding `keyword`, each once (at most `limit` hits)."""
    find = text.find
    rfind = text.rfind
    position = 0
    start = 0  # of the line holding the previous hit
    last = -1
    for _ in range(limit):
        index = find(keyword, position)
        if index < 0:
            return
        newline = rfind("\n", position, index)  # only since the previous hit: linear
        if newline >= 0:
            start = newline + 1
        position = index + len(keyword)
        if start != last:
            last = start
            yield start


def _word_starts(text: str, keyword: str) -> Iterator[int]:
    """Offsets where `keyword` starts a word (at most _MAX_ATTEMPTS)."""
    find = text.find
    position = 0
    for _ in range(_MAX_ATTEMPTS):
        index = find(keyword, position)
        if index < 0:
            return
        position = index + len(keyword)
        if index == 0 or not (text[index - 1].isalnum() or text[index - 1] in "_$."):
            yield index


class _Layout:
    """The repository's files, indexed the ways imports name them."""

    def __init__(self, code: list[str], go_mods: Mapping[str, str]) -> None:
        self.paths = set(code)
        self._python(code)
        self._suffixes(code)
        self.go_modules: list[tuple[str, str]] = []
        for path, text in go_mods.items():
            match = _GO_MODULE.search(text)
            if match:
                self.go_modules.append((match.group(1), posixpath.dirname(path)))
        self.go_modules.sort(key=lambda item: -len(item[0]))  # the longest module path first
        self.go_packages: dict[str, list[str]] = defaultdict(list)
        self.crate_roots: dict[str, str | None] = {}
        for path in code:
            if path.endswith(".go") and not path.endswith("_test.go"):
                self.go_packages[posixpath.dirname(path)].append(path)

    def _python(self, code: list[str]) -> None:
        modules = [p for p in code if p.endswith((".py", ".pyi"))]
        self.init_dirs = {
            posixpath.dirname(p) for p in modules if p.rpartition("/")[2].startswith("__init__.")
        }
        self.py_full: dict[str, str] = {}
        self.py_suffix: dict[str, str] = {}
        for path in sorted(modules, key=lambda p: (p.count("/"), p)):  # shallow first wins
            parts = path.rpartition(".")[0].split("/")
            if parts[-1] == "__init__":
                parts.pop()
            if not parts:
                continue
            top = len(parts) - 1
            while top > 0 and "/".join(parts[:top]) in self.init_dirs:
                top -= 1
            self.py_full.setdefault(".".join(parts[top:]), path)
            for start in range(len(parts) - 1):
                self.py_suffix.setdefault(".".join(parts[start:]), path)

    def _suffixes(self, code: list[str]) -> None:
        """Path suffixes at folder boundaries for Java ("a.b.C"), C ("x/y.h"), Ruby ("a/b")."""
        self.java: dict[str, str] = {}
        self.java_packages: dict[str, list[str]] = defaultdict(list)
        self.c_files: dict[str, list[str]] = defaultdict(list)
        self.ruby: dict[str, str] = {}
        for path in sorted(code, key=lambda p: (p.count("/"), p)):
            parts = path.split("/")
            if path.endswith(".java"):
                dotted = path[:-5].split("/")
                for start in range(len(dotted) - 1):
                    self.java.setdefault(".".join(dotted[start:]), path)
                for start in range(len(dotted) - 1):
                    self.java_packages[".".join(dotted[start:-1])].append(path)
            elif path.endswith(_C_EXTENSIONS):
                for start in range(len(parts)):
                    self.c_files["/".join(parts[start:])].append(path)
            elif path.endswith(".rb"):
                stem = path[:-3].split("/")
                for start in range(len(stem)):
                    self.ruby.setdefault("/".join(stem[start:]), path)

    # -- per language ---------------------------------------------------------------------

    def scan(self, path: str, lang: str, text: str, found: set[str], outside: set[str]) -> None:
        if lang == "python":
            self._scan_python(path, text, found, outside)
        elif lang in _JS_LANGUAGES:
            self._scan_js(path, text, found, outside)
        elif lang == "go":
            self._scan_go(text, found, outside)
        elif lang == "rust":
            self._scan_rust(path, text, found)
        elif lang == "java":
            self._scan_java(text, found, outside)
        elif lang in ("c", "cpp"):
            self._scan_c(path, text, found)
        elif lang == "ruby":
            self._scan_ruby(path, text, found, outside)

    def _scan_python(self, path: str, text: str, found: set[str], outside: set[str]) -> None:
        match_at = _PY_IMPORT.match
        for start in _line_starts(text, "import"):
            match = match_at(text, start)
            if match is None:
                continue
            module, names, plain = match.groups()
            if plain is not None:
                for name in _python_names(plain):
                    self._python_absolute(name, found, outside)
            elif module.startswith("."):
                self._python_relative(path, module, _python_names(names), found)
            else:
                hits = 0
                for name in _python_names(names):
                    target = self._python_module(f"{module}.{name}")
                    if target is not None:
                        found.add(target)
                        hits += 1
                if not hits:
                    self._python_absolute(module, found, outside)

    def _python_module(self, dotted: str) -> str | None:
        target = self.py_full.get(dotted)
        if target is None and "." in dotted:
            target = self.py_suffix.get(dotted)
        return target

    def _python_absolute(self, dotted: str, found: set[str], outside: set[str]) -> None:
        name = dotted
        while name:
            target = self._python_module(name)
            if target is not None:
                found.add(target)
                return
            name = name.rpartition(".")[0]
        outside.add(dotted.partition(".")[0])

    def _python_relative(self, path: str, module: str, names: list[str], found: set[str]) -> None:
        level = len(module) - len(module.lstrip("."))
        base = posixpath.dirname(path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        rest = module[level:]
        folder = posixpath.join(base, *rest.split(".")) if rest else base
        hits = 0
        for name in names:
            target = self._python_file(posixpath.join(folder, name))
            if target is not None:
                found.add(target)
                hits += 1
        if not hits:
            target = self._python_file(folder) if rest else None
            if target is None:
                target = self._first(posixpath.join(folder, "__init__.py"))
            if target is not None:
                found.add(target)

    def _python_file(self, stem: str) -> str | None:
        return self._first(
            f"{stem}.py", f"{stem}/__init__.py", f"{stem}.pyi", f"{stem}/__init__.pyi"
        )

    def _first(self, *candidates: str) -> str | None:
        for candidate in candidates:
            if candidate in self.paths:
                return candidate
        return None

    def _scan_js(self, path: str, text: str, found: set[str], outside: set[str]) -> None:
        match_at = _JS_SPECIFIER.match
        folder = posixpath.dirname(path)
        for keyword in ("from", "import", "require"):
            for start in _word_starts(text, keyword):
                match = match_at(text, start)
                if match is None:
                    continue
                specifier = match.group(1)
                if specifier.startswith(("./", "../")) or specifier in (".", ".."):
                    target = self._js_file(posixpath.normpath(posixpath.join(folder, specifier)))
                    if target is not None:
                        found.add(target)
                elif not specifier.startswith(("/", "node:")):
                    parts = specifier.split("/")
                    outside.add("/".join(parts[:2]) if specifier.startswith("@") else parts[0])

    def _js_file(self, stem: str) -> str | None:
        if stem in self.paths:
            return stem
        for extension in _JS_EXTENSIONS:
            if stem + extension in self.paths:
                return stem + extension
        if stem.endswith(_JS_SCRIPT_EXTENSIONS):  # "./a.js" written for a.ts
            bare = stem.rpartition(".")[0]
            for extension in (".ts", ".tsx", ".mts", ".cts"):
                if bare + extension in self.paths:
                    return bare + extension
        for extension in _JS_EXTENSIONS:
            if f"{stem}/index{extension}" in self.paths:
                return f"{stem}/index{extension}"
        return None

    def _scan_go(self, text: str, found: set[str], outside: set[str]) -> None:
        match_at = _GO_IMPORT.match
        for start in _line_starts(text, "import", _GO_ATTEMPTS):
            match = match_at(text, start)
            if match is None:
                continue
            block, single = match.groups()
            specs = _GO_QUOTED.findall(block) if block is not None else [single]
            for spec in specs:
                package = self._go_package(spec)
                if package:
                    found.update(package)
                else:
                    outside.add(spec)

    def _go_package(self, spec: str) -> list[str]:
        for module, folder in self.go_modules:
            if spec == module or spec.startswith(module + "/"):
                relative = spec[len(module) :].lstrip("/")
                target = posixpath.join(folder, relative) if relative else folder
                return self.go_packages.get(posixpath.normpath(target) if target else "", [])
        if not self.go_modules and "." in spec.partition("/")[0]:  # GOPATH: match the tail
            parts = spec.split("/")
            for start in range(1, len(parts)):
                package = self.go_packages.get("/".join(parts[start:]))
                if package:
                    return package
        return []

    def _scan_rust(self, path: str, text: str, found: set[str]) -> None:
        folder, _, name = path.rpartition("/")
        module_dir = folder if name in ("mod.rs", "lib.rs", "main.rs") else path[:-3]
        for start in _word_starts(text, "mod"):
            match = _RUST_MOD.match(text, start)
            if match:
                child = posixpath.join(module_dir, match.group(1))
                target = self._first(f"{child}.rs", f"{child}/mod.rs")
                if target is not None:
                    found.add(target)
        for start in _word_starts(text, "use"):
            match = _RUST_USE.match(text, start)
            if match is None:
                continue
            anchor, segments, braces = match.groups()
            if anchor == "crate":
                base = self._crate_root(path)
            elif anchor == "self":
                base = module_dir
            else:
                base = posixpath.dirname(module_dir)
            if base is None:
                continue
            prefix = [s for s in segments.split("::") if s]
            tails: list[list[str]] = [[]]
            if braces is not None:  # use crate::a::{b, c::d}
                tails = [
                    [s for s in item.strip().split("::") if s and s != "self"]
                    for item in braces.strip("{}").split(",")
                ]
            for tail in tails:
                target = self._rust_module(base, prefix + tail)
                if target is not None:
                    found.add(target)

    def _crate_root(self, path: str) -> str | None:
        """The folder of the nearest lib.rs or main.rs above the file."""
        start = posixpath.dirname(path)
        if start in self.crate_roots:
            return self.crate_roots[start]
        folder = start
        root: str | None = None
        while True:
            prefix = f"{folder}/" if folder else ""
            if self._first(f"{prefix}lib.rs", f"{prefix}main.rs"):
                root = folder
                break
            if not folder:
                break
            folder = posixpath.dirname(folder)
        self.crate_roots[start] = root
        return root

    def _rust_module(self, base: str, segments: list[str]) -> str | None:
        best: str | None = None
        folder = base
        for segment in segments:
            stem = posixpath.join(folder, segment) if folder else segment
            target = self._first(f"{stem}.rs", f"{stem}/mod.rs")
            if target is None:
                break
            best = target
            folder = stem
        return best

    def _scan_java(self, text: str, found: set[str], outside: set[str]) -> None:
        match_at = _JAVA_IMPORT.match
        for start in _line_starts(text, "import"):
            match = match_at(text, start)
            if match is None:
                continue
            dotted, star = match.groups()
            if star:
                package = self.java_packages.get(dotted)
                if package:
                    found.update(package)
                    continue
            name = dotted
            while name.count(".") >= 1:
                target = self.java.get(name)
                if target is not None:
                    found.add(target)
                    break
                name = name.rpartition(".")[0]
            else:
                outside.add(".".join(dotted.split(".")[:2]))

    def _scan_c(self, path: str, text: str, found: set[str]) -> None:
        match_at = _C_INCLUDE.match
        folder = posixpath.dirname(path)
        for start in _line_starts(text, "include"):
            match = match_at(text, start)
            if match is None:
                continue
            quote, name = match.groups()
            if quote == '"':
                local = posixpath.normpath(posixpath.join(folder, name))
                if local in self.paths:
                    found.add(local)
                    continue
            candidates = self.c_files.get(posixpath.normpath(name), [])
            if candidates and (quote == '"' or len(candidates) == 1):
                found.add(candidates[0])

    def _scan_ruby(self, path: str, text: str, found: set[str], outside: set[str]) -> None:
        match_at = _RUBY_REQUIRE.match
        folder = posixpath.dirname(path)
        for start in _word_starts(text, "require"):
            match = match_at(text, start)
            if match is None:
                continue
            how, name = match.groups()
            stem = name[:-3] if name.endswith(".rb") else name
            if how == "require_relative":
                target = self._first(posixpath.normpath(posixpath.join(folder, stem)) + ".rb")
            else:
                target = self.ruby.get(f"lib/{stem}")
                if target is None and "/" in stem:  # a bare "json" is too likely a gem
                    target = self.ruby.get(stem)
            if target is not None:
                found.add(target)
            elif how == "require":
                outside.add(stem.split("/")[0])


def _python_names(names: str) -> list[str]:
    """`a as b, c` or `(a,\\n b)` -> ["a", "c"]; comments and `*` left out."""
    out: list[str] = []
    for line in names.strip("()").split("\n"):
        for item in line.split("#", 1)[0].split(","):
            name = item.strip().split(" ", 1)[0].strip("()\\ \t")
            if name and name != "*":
                out.append(name)
    return out
