"""The packed document: header, file tree, notes, then one fenced section per file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from codifier.packer.result import PackedFile, SecretFinding, SkippedFile

# Extension (lowercase, with dot) or whole file name -> the fence's language hint.
_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "jsx", ".ts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".rb": "ruby", ".php": "php", ".cs": "csharp", ".fs": "fsharp",
    ".swift": "swift", ".m": "objectivec", ".c": "c", ".h": "c", ".cc": "cpp",
    ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".lua": "lua",
    ".pl": "perl", ".r": "r", ".jl": "julia", ".dart": "dart", ".ex": "elixir",
    ".exs": "elixir", ".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".clj": "clojure",
    ".sh": "bash", ".bash": "bash", ".zsh": "zsh", ".fish": "fish", ".ps1": "powershell",
    ".sql": "sql", ".html": "html", ".htm": "html", ".css": "css", ".scss": "scss",
    ".less": "less", ".vue": "vue", ".svelte": "svelte", ".json": "json", ".jsonc": "jsonc",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini", ".cfg": "ini",
    ".xml": "xml", ".svg": "xml", ".md": "markdown", ".rst": "rst", ".tex": "latex",
    ".proto": "protobuf", ".graphql": "graphql", ".tf": "hcl", ".hcl": "hcl",
    ".j2": "jinja", ".jinja": "jinja", ".lark": "lark", ".diff": "diff", ".patch": "diff",
    ".dockerfile": "dockerfile", "dockerfile": "dockerfile", "makefile": "makefile",
    "gnumakefile": "makefile", "cmakelists.txt": "cmake", ".cmake": "cmake",
}  # fmt: skip

# Lines opening a backtick fence inside the content: the file's own fence must be longer.
_BACKTICK_FENCE = re.compile(r"^[ \t]*(`{3,})", re.MULTILINE)

# Notes listing more entries than this end with a count of the rest.
_NOTE_LIMIT = 200


def language(path: str) -> str:
    name = path.rpartition("/")[2].lower()
    if name in _LANGUAGES:
        return _LANGUAGES[name]
    dot = name.rfind(".")
    return _LANGUAGES.get(name[dot:], "") if dot > 0 else ""


def section(path: str, content: str) -> str:
    """One file as it appears in the pack (and as its tokens are counted)."""
    return framed(path, content)[0]


def framed(path: str, content: str) -> tuple[str, int]:
    """The file's section and the offset of `content` inside it."""
    longest = 0
    if "```" in content:  # a plain substring search first: the regex is 10x slower
        longest = max((len(m) for m in _BACKTICK_FENCE.findall(content)), default=0)
    fence = "`" * max(3, longest + 1)
    opening = f"## {path}\n\n{fence}{language(path)}\n"
    closing = f"{fence}\n\n" if not content or content.endswith("\n") else f"\n{fence}\n\n"
    return opening + content + closing, len(opening)


def line_count(content: str) -> int:
    """Lines as editors count them for a "\n"-separated file (a final line without its
    newline counts; an empty file has none)."""
    return content.count("\n") + (1 if content and not content.endswith("\n") else 0)


def header(
    *,
    source: str,
    commit: str | None,
    files: Sequence[PackedFile],
    token_count: int,
    skipped: Sequence[SkippedFile],
    secrets: Sequence[SecretFinding],
    truncated: bool,
    max_total_bytes: int,
    max_files: int | None = None,
) -> str:
    lines = [
        f"# Repository pack: {source}",
        "",
        f"- Commit: {commit or 'none (not a git work tree, or no commits)'}",
        f"- Files: {len(files)} ({sum(f.bytes for f in files):,} bytes)",
        f"- Tokens: {token_count:,} (o200k_base, file sections)",
        f"- Skipped: {len(skipped)}",
        f"- Secrets flagged and redacted: {len(secrets)}",
    ]
    if truncated and max_files is not None and len(files) >= max_files:
        lines.append(f"- Truncated: stopped at the {max_files:,}-file limit")
    elif truncated:
        lines.append(f"- Truncated: stopped at the {max_total_bytes:,}-byte total limit")
    lines += ["", "## File tree", "", "```", *tree(f.path for f in files), "```", ""]
    if skipped:
        lines += ["## Skipped files", ""]
        lines += _capped([f"- {s.path}: {s.reason}" for s in skipped])
        lines.append("")
    if secrets:
        lines += ["## Flagged secrets (redacted below)", ""]
        lines += _capped([f"- {s.path}: {s.kind}" for s in secrets])
        lines.append("")
    return "\n".join(lines) + "\n"


def tree(paths: Iterable[str]) -> list[str]:
    """Sorted paths as an indented tree, directories ending in "/"."""
    lines: list[str] = []
    previous: list[str] = []
    for path in paths:
        parts = path.split("/")
        common = 0
        while common < min(len(previous), len(parts) - 1) and previous[common] == parts[common]:
            common += 1
        for depth in range(common, len(parts) - 1):
            lines.append("  " * depth + parts[depth] + "/")
        lines.append("  " * (len(parts) - 1) + parts[-1])
        previous = parts[:-1]
    return lines


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= _NOTE_LIMIT:
        return lines
    return [*lines[:_NOTE_LIMIT], f"- ... and {len(lines) - _NOTE_LIMIT} more"]
