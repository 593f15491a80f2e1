"""What a pack produces, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class PackError(Exception):
    """A pack could not be made; the message is one line, safe to show (no credentials)."""


class PackBusy(PackError):
    """As many packs as allowed (CODIFIER_PACK_CONCURRENCY) are running: try later."""


class PackedFile(NamedTuple):
    """One packed file and where its content lies in `PackResult.text`."""

    path: str  # relative, with "/" separators
    bytes: int  # size on disk
    tokens: int  # o200k_base tokens of the file's section in `PackResult.text`
    lines: int = 0  # "\n"-separated lines; a last line without "\n" counts, "" has none
    offset: int = 0  # character offset of the content in `PackResult.text`
    length: int = 0  # characters of content (the fence's added final newline excluded)
    language: str = ""  # the fence's language hint, "" when unknown


class SkippedFile(NamedTuple):
    path: str
    reason: str  # one of the SKIP_* constants below, or "too-large"


class SecretFinding(NamedTuple):
    path: str
    kind: str  # e.g. "aws-access-key-id"; never the secret itself


# Reasons a listed file is not in the pack. Stable strings: callers and tests match them.
SKIP_BINARY = "binary"
SKIP_TOO_LARGE = "too-large"
SKIP_OVER_TOTAL = "over-total-limit"
SKIP_OVER_FILES = "over-file-limit"
SKIP_SYMLINK = "symlink"
SKIP_NOT_A_FILE = "not-a-file"
SKIP_UNREADABLE = "unreadable"


@dataclass(frozen=True)
class PackResult:
    """One packed repository.

    `text` is the whole document: a header (source, commit, counts), the file tree, the
    skipped files and flagged secrets, then one section per packed file.

    Token counts use tiktoken `o200k_base` with `encode_ordinary`, over the text as it
    appears in `text` (secrets already redacted). A file's `tokens` is the count of its
    own section: the `## path` heading, the fence lines and the content. `token_count` is
    exactly the sum of those per-file counts. It leaves out the header, tree and notes
    before the first section, so the whole of `text` is somewhat more.
    """

    source: str  # the source as displayed: a path, or a URL without credentials
    text: str
    files: list[PackedFile]
    file_count: int
    token_count: int
    top_files: list[PackedFile]  # the 10 largest by tokens, ties by path
    skipped: list[SkippedFile]
    flagged_secrets: list[SecretFinding]
    commit: str | None  # HEAD when the source is a git work tree with commits
    truncated: bool  # True when max_total_bytes or max_files stopped the pack early

    def content(self, file: PackedFile) -> str:
        """The file's text as packed (secrets redacted, invalid UTF-8 replaced)."""
        return self.text[file.offset : file.offset + file.length]
