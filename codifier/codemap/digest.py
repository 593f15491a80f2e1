"""A digest: a token-budgeted overview of a packed repository, in markdown.

Sections, in order:

1. a header: source, commit, file and token counts, languages, test frameworks and where
   they were seen, and how to read exact text or search (`read_snapshot`,
   `search_snapshot`);
2. "What the project is": the head of the top-level README (~12% of the budget);
3. "Manifests and configuration": pyproject.toml, package.json, go.mod, Cargo.toml, CI
   workflows, ... top-level first, each cut to its share (~15%);
4. "Tree": the top two levels of folders with their file counts (~8%);
5. "Central modules": outlines (signatures and line numbers, no bodies) of the files the
   rest of the code imports most (`references`), in rank order, until the budget is
   used. On a first pass a file gets at most an eighth of this section, so the map is
   broad; what is left then goes to the files that were cut, in rank order.

Budget unused by sections 2-4 flows to the outlines; what the outlines cannot use (every
ranked file shown whole, or the next outline line too long for what is left) goes back
to sections 2-4, in order. The text's o200k_base token count is never over the budget
and, when the repository has enough material, at least 97% of it (measured: 98-100% for
any budget from 500 to 64,000 on Django and Jinja2); a small repository gives a smaller
digest with nothing cut.

Cost: token counts are taken line by line, once, only for lines that may be shown; the
assembled text is then counted exactly a few times while the fit is adjusted. Only the
files that get an outline are parsed. The import scan reads every code file once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from codifier.codemap.blocks import Block, Lines, clip
from codifier.codemap.frameworks import detect
from codifier.codemap.imports import CODE_LANGUAGES, import_graph
from codifier.codemap.outline import outline
from codifier.codemap.references import Ranked, rank_graph
from codifier.codemap.testpaths import is_test_path
from codifier.packer.result import PackedFile, PackResult
from codifier.packer.tokens import count_tokens

DEFAULT_BUDGET = 8_000
MIN_BUDGET = 500  # below this the header leaves no room for the sections
README_SHARE = 0.12
MANIFEST_SHARE = 0.15
TREE_SHARE = 0.08
OUTLINE_FILE_SHARE = 1 / 8  # of the outline section, per file, on the first pass
MIN_FILL = 0.97
MAX_MANIFESTS = 12
_SOURCE_LINES = 5_000  # lines of a README or manifest considered at all
_FIT_ROUNDS = 12
_TREE_CHILDREN = 30  # subfolders named per top-level folder
_TREE_FILES = 40  # top-level files named
_OUTLINE_FIRST_LINES = 3  # a file joins the outlines only if this much of it fits
_AIM = 0.99  # of the budget: the fit stops adjusting once this close
_NO_ROOM = "(no room in this budget: read_snapshot reads any file)"

# Manifest and configuration file names, in the order they are shown at one depth.
_MANIFESTS = (
    "pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "pipfile", "tox.ini",
    "noxfile.py", "pytest.ini", "package.json", "tsconfig.json", "deno.json", "go.mod",
    "cargo.toml", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
    "settings.gradle.kts", "gemfile", ".gemspec", "composer.json", "mix.exs", "makefile",
    "cmakelists.txt", "meson.build", "dockerfile", "docker-compose.yml", "docker-compose.yaml",
    "compose.yml", "compose.yaml", ".gitlab-ci.yml", "workflow",
)  # fmt: skip
_README_NAMES = ("readme.md", "readme.rst", "readme.txt", "readme", "readme.markdown")
# Languages that are prose or data, listed after the programming languages.
_NOT_CODE = frozenset(
    {"markdown", "rst", "json", "jsonc", "yaml", "toml", "ini", "xml", "latex", "diff",
     "text", "csv"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Digest:
    text: str  # markdown
    tokens: int  # o200k_base tokens of `text`, exactly
    languages: list[tuple[str, int, int]]  # (fence hint, files, lines): code first, by lines
    test_frameworks: list[str]  # e.g. ["pytest"], in the order `frameworks.detect` gives
    central: list[str]  # paths shown in "Central modules", in rank order


def build_digest(result: PackResult, budget_tokens: int = DEFAULT_BUDGET) -> Digest:
    """The digest of a pack within `budget_tokens` o200k_base tokens (see the module doc).

    Raises ValueError for a budget under MIN_BUDGET."""
    if budget_tokens < MIN_BUDGET:
        raise ValueError(f"a digest needs at least {MIN_BUDGET} tokens, got {budget_tokens}")
    return _Composer(result, budget_tokens).build()


class _Composer:
    def __init__(self, result: PackResult, budget: int) -> None:
        self.result = result
        self.budget = budget
        self.by_path = {f.path: f for f in result.files}
        texts = {
            f.path: result.content(f)
            for f in result.files
            if f.language in CODE_LANGUAGES or f.path.rpartition("/")[2] == "go.mod"
        }
        graph = import_graph(texts)
        self.ranked = rank_graph(graph)
        self.frameworks = detect([f.path for f in result.files], self._read, graph.external)
        self.languages = _languages(result.files)
        self.readme = self._readme()
        self.manifests = self._manifests()
        self.tree = _tree(self.by_path)
        self.no_room_cost = count_tokens(_NO_ROOM + "\n\n")
        self.outlines: list[tuple[str, Block]] = []  # built lazily, in rank order
        self._ranked_iter: Iterator[Ranked] = iter(self.ranked)
        self._ranked_done = False

    def _read(self, path: str) -> str:
        file = self.by_path.get(path)
        return self.result.content(file) if file is not None else ""

    # -- material -------------------------------------------------------------------------

    def _readme(self) -> Block | None:
        top = {f.path.lower(): f for f in self.result.files if "/" not in f.path}
        for name in _README_NAMES:
            if name in top:
                return self._file_block(top[name], readme=True)
        return None

    def _manifests(self) -> list[Block]:
        chosen: list[tuple[tuple[int, int, str], PackedFile]] = []
        for file in self.result.files:
            order = _manifest_order(file.path)
            if order is not None:
                chosen.append((order, file))
        chosen.sort(key=lambda item: item[0])
        return [self._file_block(file) for _, file in chosen[:MAX_MANIFESTS]]

    def _file_block(self, file: PackedFile, *, readme: bool = False) -> Block:
        text = self._read(file.path)
        total = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        lines = [clip(line) for line in text.split("\n", _SOURCE_LINES)[:_SOURCE_LINES]]
        if lines and lines[-1] == "" and text.endswith("\n"):
            lines.pop()
        path = file.path

        def heading(count: int) -> str:
            cut = f" (first {count:,} of {total:,} lines)" if count < total else ""
            return f"From `{path}`{cut}:" if readme else f"### {path}{cut}"

        return Block(heading, Lines(lines), hint=file.language, empty="(empty file)")

    def _outline_blocks(self) -> Iterator[tuple[str, Block]]:
        """Outline blocks in rank order, each built once (a parse per file)."""
        yield from self.outlines
        while not self._ranked_done:
            ranked = next(self._ranked_iter, None)
            if ranked is None:
                self._ranked_done = True
                return
            block = self._outline_block(ranked)
            if block is not None:
                self.outlines.append((ranked.path, block))
                yield ranked.path, block

    def _outline_block(self, ranked: Ranked) -> Block | None:
        file = self.by_path[ranked.path]
        symbols = outline(file.language, self._read(file.path))
        if symbols is None:
            return None
        lines = [f"L{s.line} {'  ' * s.depth}{s.signature}" for s in symbols]
        title = f"### {file.path} — {file.lines:,} lines, imported by {_files(ranked.imported_by)}"
        total = len(lines)

        def heading(count: int) -> str:
            if count < total:
                return f"{title} (first {count:,} of {total:,} definitions)"
            return title

        return Block(heading, Lines(lines), empty="(no classes or functions: imports only)")

    # -- fitting --------------------------------------------------------------------------

    def build(self) -> Digest:
        """Compose for an estimated size, count exactly, adjust: the estimate moves by the
        miss until it brackets the budget, then by halving the bracket."""
        target = self.budget
        best: tuple[int, str, list[str]] | None = None
        fits: int | None = None  # the largest estimate whose text fitted
        overflows: int | None = None  # the smallest estimate whose text did not
        for _ in range(_FIT_ROUNDS):
            lines, central, complete = self._compose(target)
            text = "\n".join(lines).rstrip("\n") + "\n"
            tokens = count_tokens(text)
            if tokens <= self.budget:
                if best is None or tokens > best[0]:
                    best = (tokens, text, central)
                if tokens >= _AIM * self.budget or complete:
                    break
                fits = target if fits is None else max(fits, target)
                following = target + self.budget - tokens
            else:
                overflows = target if overflows is None else min(overflows, target)
                following = target - (tokens - self.budget) - max(1, self.budget // 400)
            if fits is not None and overflows is not None:
                if overflows - fits <= 1:
                    break
                following = (fits + overflows) // 2
            target = following
        if best is None:
            lines, central, _ = self._compose(target)
            tokens, text = _cut_to(lines, self.budget)
            best = (tokens, text, central)
        tokens, text, central = best
        return Digest(
            text=text,
            tokens=tokens,
            languages=self.languages,
            test_frameworks=[f.name for f in self.frameworks],
            central=central,
        )

    def _compose(self, target: int) -> tuple[list[str], list[str], bool]:
        """The digest's lines for an estimated size of `target` tokens, the central paths
        shown, and whether everything available was shown."""
        header = self._header()
        readme_title = ["## What the project is", ""]
        manifest_title = ["## Manifests and configuration", ""]
        tree_title = ["## Tree", ""]
        central_title = [
            "## Central modules",
            "",
            "Ranked by how much the rest of the code imports them. `L<line>` is the "
            "definition's first line; nested definitions are indented.",
            "",
        ]
        fixed = Lines([*header, *readme_title, *manifest_title, *tree_title, *central_title])
        available = target - fixed.cost(len(fixed))

        # Shares of the budget itself, not of the estimate the fit adjusts: what these
        # sections show stays put while the fit moves the outlines a line at a time.
        readme_count = self.readme.fit(int(self.budget * README_SHARE)) if self.readme else None
        manifest_counts = _share_out(self.manifests, int(self.budget * MANIFEST_SHARE))
        tree_count = self.tree.fit(int(self.budget * TREE_SHARE))
        used = _used(self.readme, readme_count) + _used(self.tree, tree_count)
        used += sum(_used(b, n) for b, n in zip(self.manifests, manifest_counts, strict=True))
        omitted = (self.readme is not None and readme_count is None) + (tree_count is None)
        omitted += bool(self.manifests) and all(n is None for n in manifest_counts)
        used += omitted * self.no_room_cost

        rest = available - used
        picks, rest, exhausted = self._fill_outlines(rest)
        if rest > 0:  # earlier sections take what the outlines could not use, in order
            readme_counts = [readme_count]
            rest = _top_up([self.readme] if self.readme else [], readme_counts, rest)
            readme_count = readme_counts[0]
            rest = _top_up(self.manifests, manifest_counts, rest)
            tree_counts = [tree_count]
            rest = _top_up([self.tree], tree_counts, rest)
            tree_count = tree_counts[0]

        lines = [*header, *readme_title]
        if self.readme is None:
            lines += ["No README at the top level.", ""]
        elif readme_count is None:
            lines += [_NO_ROOM, ""]
        else:
            lines += self.readme.render(readme_count)
        lines += manifest_title
        shown = [(b, n) for b, n in zip(self.manifests, manifest_counts, strict=True)]
        for block, count in shown:
            if count is not None:
                lines += block.render(count)
        if not self.manifests:
            lines += ["None found.", ""]
        elif all(n is None for _, n in shown):
            lines += [_NO_ROOM, ""]
        lines += tree_title
        lines += self.tree.render(tree_count) if tree_count is not None else [_NO_ROOM, ""]
        lines += central_title
        central: list[str] = []
        for path, block, count in picks:
            lines += block.render(count)
            central.append(path)
        if not picks:
            lines += [
                _NO_ROOM if self.ranked else "No code files in a language with a grammar.",
                "",
            ]
        complete = (
            exhausted
            and _complete(self.readme, readme_count)
            and _complete(self.tree, tree_count)
            and all(_complete(b, n) for b, n in shown)
        )
        return lines, central, complete

    def _fill_outlines(self, allowance: int) -> tuple[list[tuple[str, Block, int]], int, bool]:
        """Outlines in rank order within `allowance`: each file capped on a first pass,
        then the cut ones extended. Returns the picks, what is left, and whether every
        ranked file was shown whole."""
        cap = max(int(allowance * OUTLINE_FILE_SHARE), 200)
        picks: list[tuple[str, Block, int]] = []
        left = allowance
        stopped = False
        for path, block in self._outline_blocks():
            count = block.fit(min(cap, left))
            if count is None or count < min(_OUTLINE_FIRST_LINES, len(block.body)):
                stopped = True  # too little room left to show this file usefully
                break
            picks.append((path, block, count))
            left -= block.cost(count)
        for index, (path, block, count) in enumerate(picks):
            if count < len(block.body) and left > 0:
                more = block.fit(block.cost(count) + left)
                if more is not None and more > count:
                    left -= block.cost(more) - block.cost(count)
                    picks[index] = (path, block, more)
        whole = all(count == len(block.body) for _, block, count in picks)
        return picks, left, not stopped and self._ranked_done and whole

    def _header(self) -> list[str]:
        result = self.result
        shown = self.languages[:8]  # programming languages come first
        more = len(self.languages) - len(shown)
        languages = ", ".join(f"{name} ({_files(files)})" for name, files, _ in shown)
        if more > 0:
            languages += f", and {more} more"
        tests = "; ".join(f"{f.name} ({f.evidence})" for f in self.frameworks)
        truncated = " (the pack stopped at a size limit)" if result.truncated else ""
        return [
            f"# Repository digest: {result.source}",
            "",
            f"- Commit: {result.commit or 'none (not a git work tree)'}",
            f"- Files: {result.file_count:,} packed{truncated}, "
            f"{result.token_count:,} tokens (o200k_base)",
            f"- Languages: {languages or 'none recognised'}",
            f"- Tests: {clip(tests) if tests else 'no test framework detected'}",
            f"- This digest is an overview in at most {self.budget:,} tokens. For exact text "
            "call `read_snapshot(snapshot_id, path, start_line, end_line)`; to search call "
            "`search_snapshot(snapshot_id, query, mode)` with mode `literal`, `regex` or "
            "`semantic`.",
            "",
        ]


def _files(count: int) -> str:
    return f"{count:,} file" + ("" if count == 1 else "s")


def _used(block: Block | None, count: int | None) -> int:
    return 0 if block is None or count is None else block.cost(count)


def _complete(block: Block | None, count: int | None) -> bool:
    return block is None or (count is not None and count >= len(block.body))


def _share_out(blocks: list[Block], allowance: int) -> list[int | None]:
    """Lines per block when `allowance` is shared evenly, a block needing less than its
    share leaving the rest to the others (water-filling), in order."""
    counts: list[int | None] = [None] * len(blocks)
    pending = list(range(len(blocks)))
    left = allowance
    while pending:
        share = left // len(pending)
        small = [i for i in pending if blocks[i].cost(len(blocks[i].body)) <= share]
        if not small:
            break
        for i in small:
            counts[i] = len(blocks[i].body)
            left -= blocks[i].cost(len(blocks[i].body))
        pending = [i for i in pending if i not in small]
    if pending:
        share = left // len(pending)
        for i in pending:
            counts[i] = blocks[i].fit(share)
            left -= _used(blocks[i], counts[i])
    _top_up(blocks, counts, left)  # what even shares could not use goes to the first
    return counts


def _top_up(blocks: list[Block], counts: list[int | None], allowance: int) -> int:
    """Give `allowance` to the blocks in order, each showing as many more lines as fit;
    `counts` is updated. Returns what is left."""
    for index, block in enumerate(blocks):
        if allowance <= 0:
            break
        before = _used(block, counts[index])
        more = block.fit(before + allowance)
        if more is not None and (counts[index] is None or more > (counts[index] or 0)):
            counts[index] = more
            allowance -= block.cost(more) - before
    return allowance


def _cut_to(lines: list[str], budget: int) -> tuple[int, str]:
    """The longest head of `lines` within budget, fences closed: the last resort when the
    header alone does not fit."""
    low, high = 0, len(lines)
    best = (0, "")
    while low <= high:
        middle = (low + high) // 2
        head = lines[:middle]
        fences = [line for line in head if line.startswith("```")]
        closing = []
        if len(fences) % 2:  # cut inside a fenced block: close it
            closing = ["`" * (len(fences[-1]) - len(fences[-1].lstrip("`")))]
        text = "\n".join([*head, *closing]) + "\n"
        tokens = count_tokens(text)
        if tokens <= budget:
            best = (tokens, text)
            low = middle + 1
        else:
            high = middle - 1
    return best


def _languages(files: list[PackedFile]) -> list[tuple[str, int, int]]:
    counts: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for file in files:
        if file.language:
            counts[file.language] += 1
            lines[file.language] += file.lines
    ordered = sorted(counts, key=lambda name: (name in _NOT_CODE, -lines[name], name))
    return [(name, counts[name], lines[name]) for name in ordered]


def _manifest_order(path: str) -> tuple[int, int, str] | None:
    """(depth group, kind, path) for a manifest or configuration file, None otherwise."""
    folders, _, name = path.rpartition("/")
    lower = name.lower()
    kind: str | None = None
    if folders == ".github/workflows" and lower.endswith((".yml", ".yaml")):
        kind = "workflow"
    elif lower in _MANIFESTS:
        kind = lower
    elif lower.endswith((".txt", ".in")) and (
        lower.startswith("requirements") or folders.rpartition("/")[2] == "requirements"
    ):
        kind = "requirements.txt"
    elif lower.endswith(".gemspec"):
        kind = ".gemspec"
    elif lower.startswith("dockerfile") or lower.endswith(".dockerfile"):
        kind = "dockerfile"
    elif lower.startswith("tsconfig") and lower.endswith(".json"):
        kind = "tsconfig.json"
    if kind is None or is_test_path(path):
        return None
    if not folders:
        group = 0
    elif kind == "workflow":
        group = 1
    else:
        group = 1 + folders.count("/") + 1
    return group, _MANIFESTS.index(kind), path


def _tree(by_path: dict[str, PackedFile]) -> Block:
    """The top two levels of folders with file counts, biggest first, top-level files
    first; each line stands alone so the block can be cut after any line."""
    top_files: list[str] = []
    folder_counts: Counter[str] = Counter()
    child_counts: dict[str, Counter[str]] = {}
    for path in sorted(by_path):
        parts = path.split("/")
        if len(parts) == 1:
            top_files.append(path)
            continue
        folder_counts[parts[0]] += 1
        if len(parts) > 2:
            child_counts.setdefault(parts[0], Counter())[parts[1]] += 1
    lines: list[str] = []
    if top_files:
        named = ", ".join(top_files[:_TREE_FILES])
        more = len(top_files) - _TREE_FILES
        extra = f", +{more} more" if more > 0 else ""
        lines.append(f"./ ({_files(len(top_files))}): {named}{extra}")
    for folder, count in sorted(folder_counts.items(), key=lambda item: (-item[1], item[0])):
        children = child_counts.get(folder, Counter())
        biggest = sorted(children.items(), key=lambda item: (-item[1], item[0]))
        named = ", ".join(f"{name}/ ({n:,})" for name, n in biggest[:_TREE_CHILDREN])
        more = len(biggest) - _TREE_CHILDREN
        if more > 0:
            named += f", +{more} more folders"
        files_here = count - sum(children.values())
        here = f"{files_here:,} here" if files_here else ""
        detail = "; ".join(part for part in (named, here) if part)
        lines.append(f"{folder}/ ({_files(count)})" + (f": {detail}" if detail else ""))
    total = len(lines)

    def heading(count: int) -> str:
        cut = f" (first {count:,} of {total:,} lines)" if count < total else ""
        return f"Folders by size, files counted below each{cut}:"

    return Block(heading, Lines([clip(line) for line in lines]), empty="(no files)")
