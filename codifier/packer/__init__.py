"""Repository packing: a directory or remote repository as one LLM-ready text.

Files are listed as git lists them, binaries and oversized files skipped, likely secrets
flagged and redacted, and every file's tokens counted offline with `o200k_base`.
"""

from codifier.packer.packing import pack
from codifier.packer.result import PackedFile, PackError, PackResult, SecretFinding, SkippedFile

__all__ = ["PackError", "PackResult", "PackedFile", "SecretFinding", "SkippedFile", "pack"]
