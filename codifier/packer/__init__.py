"""Repository packing: a directory or remote repository as one LLM-ready text.

Files are listed as git lists them, binaries and oversized files skipped, likely secrets
flagged and redacted, and every file's tokens counted offline with `o200k_base`.

Packing treats its input as hostile: a local tree's git configuration is never run
(`files`), reads stay below the root through symlinks (`confined`), remotes must be on
public addresses, pinned, redirects checked (`network`, `discovery`), clones are bare,
shallow, blob-filtered and bounded in time and disk (`clone`, `gitcmd`, `workspace`),
patterns are bounded and matched in linear time (`patterns`), and server tokens serve
only the owners an operator lists. Every limit is a setting (`settings`).
"""

from codifier.packer.packing import pack
from codifier.packer.result import PackedFile, PackError, PackResult, SecretFinding, SkippedFile
from codifier.packer.settings import PackSettings

__all__ = [
    "PackError",
    "PackResult",
    "PackSettings",
    "PackedFile",
    "SecretFinding",
    "SkippedFile",
    "pack",
]
