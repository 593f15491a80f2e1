"""Likely secrets: high-confidence patterns only, reported by kind and redacted.

Only formats with a fixed, distinctive prefix and shape are matched, so ordinary code
(settings modules, test fixtures with obvious placeholders) is not flagged. The report
names the kind, never the value; the packed text carries `[REDACTED kind]` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Letters, digits and the separators that continue a token: a match must not be a slice
# of a longer identifier, or it is not the credential it looks like.
_NOT_TOKEN_BEFORE = r"(?<![0-9A-Za-z_-])"
_NOT_TOKEN_AFTER = r"(?![0-9A-Za-z_-])"

# A PEM block: the header, then (when present) the base64 body and its END line, lines
# separated by real newlines or the "\n" escapes of a JSON or .env string. Only the header
# is certain; the body is taken only while lines look like PEM, so a PEM parser that
# merely mentions the header does not lose the rest of its source.
_PEM_NL = r"(?:\r?\n|(?:\\r)?\\n)"
# A whole body line: base64 up to a line end, an escaped newline or a closing quote.
_PEM_BODY = r"[A-Za-z0-9+/=]{16,}(?![^\r\n\\\"'])"
_PEM = (
    r"-----BEGIN (?P<pem>(?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?)PRIVATE KEY-----"
    rf"(?:{_PEM_NL}[ \t]*(?:{_PEM_BODY}|Proc-Type:[^\r\n\\]*|DEK-Info:[^\r\n\\]*))*"
    rf"(?:{_PEM_NL}[ \t]*(?:{_PEM_NL}[ \t]*)?-----END (?P=pem)PRIVATE KEY-----)?"
)

# kind -> pattern; the group name is the kind with "-" as "_".
_PATTERNS: dict[str, str] = {
    "aws-access-key-id": rf"{_NOT_TOKEN_BEFORE}AKIA[0-9A-Z]{{16}}{_NOT_TOKEN_AFTER}",
    "github-token": rf"{_NOT_TOKEN_BEFORE}ghp_[A-Za-z0-9]{{36}}{_NOT_TOKEN_AFTER}",
    "github-fine-grained-token": rf"{_NOT_TOKEN_BEFORE}github_pat_[A-Za-z0-9_]{{22,}}",
    "private-key": _PEM,
    # Bot, user, app, refresh and legacy tokens: numeric segments, then a long tail.
    "slack-token": rf"{_NOT_TOKEN_BEFORE}xox[baprs]-(?:[0-9]+-)+[0-9A-Za-z]{{10,}}[0-9A-Za-z-]*",
    "google-api-key": rf"{_NOT_TOKEN_BEFORE}AIza[0-9A-Za-z_-]{{35}}{_NOT_TOKEN_AFTER}",
}
_COMBINED = re.compile(
    "|".join(f"(?P<{kind.replace('-', '_')}>{pattern})" for kind, pattern in _PATTERNS.items())
)
# Every pattern contains one of these literally; a file with none of them (nearly all
# files) skips the regex, which keeps the scan at memory speed.
_MARKERS = ("AKIA", "ghp_", "github_pat_", "PRIVATE KEY-----", "xox", "AIza")

KINDS = tuple(_PATTERNS)


@dataclass(frozen=True)
class Scan:
    text: str  # the input with every match replaced by "[REDACTED kind]"
    kinds: tuple[str, ...]  # the kinds found, sorted, each once


def redact(text: str) -> Scan:
    if not any(marker in text for marker in _MARKERS):
        return Scan(text, ())
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        # lastgroup is the outermost group that matched (the PEM's inner group closes
        # before its kind's group does), i.e. the kind.
        kind = str(match.lastgroup).replace("_", "-")
        found.add(kind)
        return f"[REDACTED {kind}]"

    redacted = _COMBINED.sub(replace, text)
    return Scan(redacted, tuple(sorted(found)))
