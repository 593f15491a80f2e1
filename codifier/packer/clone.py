"""Shallow clones of remote repositories, a token going only to its own host.

Tokens come from GITHUB_TOKEN (sent to github.com only), GITLAB_TOKEN (gitlab.com) and
BITBUCKET_TOKEN (bitbucket.org), or from a caller's host -> token map. A token is used
when the URL's host, without port or user, equals the map's key exactly (no subdomains:
`api.github.com` or `github.com.evil.test` get nothing), and only over https, or plain
http to a loopback address, so it never crosses the network in clear text.

git gets it from a credential helper configured through the environment
(GIT_CONFIG_COUNT/KEY/VALUE), reading the token from an environment variable: never on a
command line, so no process listing shows it. git asks the helper only when the server
answers 401, and the helper answers only for the exact scheme://host:port of the URL, so
a redirect to another host gets nothing. (An `http.extraheader` would be simpler, but git
re-sends it on every request after a redirect, whatever the new host: checked with git
2.39.) Every error text is scrubbed of the token in each form it was sent.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codifier.packer.gitcmd import run_git
from codifier.packer.result import PackError

# The built-in environment variables, each for exactly one host.
TOKEN_ENV_VARS = {
    "github.com": "GITHUB_TOKEN",
    "gitlab.com": "GITLAB_TOKEN",
    "bitbucket.org": "BITBUCKET_TOKEN",
}
# The user name each host expects beside a token in HTTP Basic auth: GitHub takes any
# name for a PAT and x-access-token for app tokens, GitLab requires oauth2 for OAuth
# tokens (and accepts it for PATs), Bitbucket requires x-token-auth for access tokens.
_USERNAMES = {
    "github.com": "x-access-token",
    "gitlab.com": "oauth2",
    "bitbucket.org": "x-token-auth",
}
_DEFAULT_USERNAME = "x-access-token"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}

_URL = re.compile(r"^(?:https?|ssh|git)://", re.IGNORECASE)
# scp-like syntax, as git reads it: user@host:path, no slash before the colon.
_SCP = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):(?!//)[^\s]+$")


@dataclass(frozen=True)
class Remote:
    url: str  # passed to git as given
    scheme: str  # https, http, ssh or git ("ssh" for the scp-like form)
    host: str  # lowercase, no port, no user: what token keys are compared with
    origin: str | None  # "scheme://host[:port]" for http(s): where a token may go
    display: str  # the URL without user info, for messages


def parse_remote(source: str) -> Remote | None:
    """The remote `source` names, or None when it is not a remote URL (a local path)."""
    scp = _SCP.match(source)
    if scp:
        return Remote(source, "ssh", scp["host"].lower(), None, source)
    if not _URL.match(source):
        return None
    parts = urllib.parse.urlsplit(source)
    host = (parts.hostname or "").lower()
    if not host:
        raise PackError(f"not a repository URL (no host): {_without_userinfo(parts)}")
    scheme = parts.scheme.lower()
    # As git's credential protocol reports it: host[:port] as written in the URL.
    hostport = parts.netloc.rpartition("@")[2]
    origin = f"{scheme}://{hostport}" if scheme in ("http", "https") else None
    return Remote(source, scheme, host, origin, _without_userinfo(parts))


def tokens_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """host -> token from GITHUB_TOKEN, GITLAB_TOKEN and BITBUCKET_TOKEN, when set."""
    return {host: env[var] for host, var in TOKEN_ENV_VARS.items() if env.get(var)}


def token_for(remote: Remote, tokens: Mapping[str, str]) -> str | None:
    """The token for exactly this host, if it may be sent over this scheme."""
    if remote.scheme != "https" and not (remote.scheme == "http" and remote.host in _LOOPBACK):
        return None
    for host, token in tokens.items():
        if host.lower() == remote.host and token:
            return token
    return None


# A `git credential` helper (run by sh): on "get", answer only if the protocol and host git
# asks about are exactly those of the URL being cloned. Its text holds no secret.
_HELPER = (
    '!f() { test "$1" = get || exit 0; p= h=; while IFS= read -r l; do case "$l" in'
    ' protocol=*) p="${l#protocol=}";; host=*) h="${l#host=}";; esac; done;'
    ' test "$p://$h" = "$CODIFIER_PACK_ORIGIN" || exit 0;'
    ' printf "username=%s\\npassword=%s\\n" "$CODIFIER_PACK_USER" "$CODIFIER_PACK_TOKEN"; }; f'
)


def auth_env(remote: Remote, token: str, env: Mapping[str, str]) -> dict[str, str]:
    """Environment variables giving git `token` for `remote`'s scheme://host:port only.

    The GIT_CONFIG_* entries are appended after any `env` already has. The first clears
    the helpers configured for that origin (a stored credential must not win over the
    token), the second adds ours.
    """
    assert remote.origin is not None  # token_for only allows http(s)
    try:
        index = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        index = 0
    key = f"credential.{remote.origin}.helper"
    return {
        "GIT_CONFIG_COUNT": str(index + 2),
        f"GIT_CONFIG_KEY_{index}": key,
        f"GIT_CONFIG_VALUE_{index}": "",
        f"GIT_CONFIG_KEY_{index + 1}": key,
        f"GIT_CONFIG_VALUE_{index + 1}": _HELPER,
        "CODIFIER_PACK_ORIGIN": remote.origin,
        "CODIFIER_PACK_USER": _USERNAMES.get(remote.host, _DEFAULT_USERNAME),
        "CODIFIER_PACK_TOKEN": token,
    }


def clone(remote: Remote, dest: Path, tokens: Mapping[str, str], *, timeout: float = 600) -> None:
    """`git clone --depth 1 --no-tags` into `dest`; PackError (one line) on failure."""
    env = dict(os.environ)
    secrets: list[str] = []
    token = token_for(remote, tokens)
    if token:
        env.update(auth_env(remote, token, env))
        secrets = [token, _basic(remote, token), urllib.parse.quote(token, safe="")]
    # Never prompt, not even through a GUI askpass program: fail instead.
    env.pop("GIT_ASKPASS", None)
    env.pop("SSH_ASKPASS", None)
    # Keep LFS pointers as they are: a pack wants source, not gigabytes of assets.
    env["GIT_LFS_SKIP_SMUDGE"] = "1"
    if remote.scheme == "ssh" and "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # fail, never prompt
    args = ["clone", "--depth", "1", "--no-tags", "--quiet", "--", remote.url, str(dest)]
    try:
        result = run_git(args, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        reason = f"timed out after {timeout:g} s"
    except OSError as exc:
        reason = f"cannot run git ({exc.strerror})"
    else:
        if result.returncode == 0:
            return
        reason = _last_error(result.stderr.decode(errors="replace"))
    raise PackError(scrub(f"could not clone {remote.display}: {reason}", remote, secrets))


def scrub(text: str, remote: Remote, secrets: list[str]) -> str:
    """`text` without any credential: the token in every form sent, and URL user info."""
    if remote.url != remote.display:
        text = text.replace(remote.url, remote.display)
    password = urllib.parse.urlsplit(remote.url).password if remote.origin else None
    for secret in sorted({*secrets, *([password] if password else [])}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _basic(remote: Remote, token: str) -> str:
    user = _USERNAMES.get(remote.host, _DEFAULT_USERNAME)
    return base64.b64encode(f"{user}:{token}".encode()).decode("ascii")


def _without_userinfo(parts: urllib.parse.SplitResult) -> str:
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _last_error(stderr: str) -> str:
    """git's own reason, one line: the last fatal/error line, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    return lines[-1] if lines else "git exited with an error"
