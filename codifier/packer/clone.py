"""Shallow, blob-filtered clones of remote repositories, a token going only to its own
host and only for the team's own repositories.

Tokens come from GITHUB_TOKEN (github.com), GITLAB_TOKEN (gitlab.com), BITBUCKET_TOKEN
(bitbucket.org) and CODIFIER_TOKEN_HOSTS (host=VARIABLE pairs, for self-hosted
servers), or from a caller's host -> token map. A token is used when (1) the URL's
host, without port or user, equals the map's key exactly (no subdomains:
`api.github.com` or `github.com.evil.test` get nothing), (2) the scheme is https, or
plain http to a loopback address, so it never crosses the network in clear text, and
(3) the repository is under an owner listed in CODIFIER_TOKEN_OWNERS
(`github.com/acme`, `gitlab.com/group/sub`; a bare host means every repository there).
With no owner listed a token is used for no repository: any other repository is cloned
anonymously, so a project key can read through the server's tokens only what the
operator listed. ssh remotes use the server's own ssh key, so they follow rule (3) too.

git gets a token from a credential helper configured through GIT_CONFIG_COUNT/KEY/
VALUE, reading the token from an environment variable: never on a command line, so no
process listing shows it. git asks the helper only when the server answers 401, and the
helper answers only for the exact scheme://host:port of the URL. (An `http.extraheader`
would be simpler, but git re-sends it on every request after a redirect, whatever the
new host: checked with git 2.39.) Every error text is scrubbed of the token in each
form it was sent.

The clone is bare (no checkout: nothing of the repository is written as files, no
filter, hook or symlink can act) and shallow, and `--filter=blob:limit=` leaves every
blob larger than a pack could use on the server.
"""

from __future__ import annotations

import base64
import re
import shlex
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codifier.packer.gitcmd import GitStopped, git_version, run_git
from codifier.packer.network import Destination
from codifier.packer.result import PackError
from codifier.packer.settings import Owner, PackSettings
from codifier.packer.workspace import Workspace

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
PINNING_GIT = (2, 37)  # the first git with http.curloptResolve
_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}

_URL = re.compile(r"^(?:https?|ssh|git)://", re.IGNORECASE)
# A host name or address as a URL may hold it: nothing a shell or ssh could read as syntax.
_HOST = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9._-]*[a-z0-9_])?|[0-9a-f:.]+)$")
# scp-like syntax, as git reads it: user@host:path, no slash before the colon.
_SCP = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):(?!//)(?P<path>[^\s]+)$")


@dataclass(frozen=True)
class Remote:
    url: str  # passed to git as given
    scheme: str  # https, http, ssh or git ("ssh" for the scp-like form)
    host: str  # lowercase, no port, no user: what token keys are compared with
    origin: str | None  # "scheme://host[:port]" for http(s): where a token may go
    display: str  # the URL without user info, for messages
    port: int = 443  # the port connected to (the scheme's default when not written)
    path: tuple[str, ...] = ()  # the repository's path segments, "/owner/repo.git" split


def parse_remote(source: str) -> Remote | None:
    """The remote `source` names, or None when it is not a remote URL (a local path)."""
    scp = _SCP.match(source)
    if scp and not _HOST.match(scp["host"].lower()):
        raise PackError(f"not a repository URL (no valid host): {source}")
    if scp:
        segments = _segments(scp["path"])
        return Remote(source, "ssh", scp["host"].lower(), None, source, 22, segments)
    if not _URL.match(source):
        return None
    parts = urllib.parse.urlsplit(source)
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        host, port = "", None
    if not host or not _HOST.match(host):
        raise PackError(f"not a repository URL (no valid host): {_without_userinfo(parts)}")
    scheme = parts.scheme.lower()
    # As git's credential protocol reports it: host[:port] as written in the URL.
    hostport = parts.netloc.rpartition("@")[2]
    origin = f"{scheme}://{hostport}" if scheme in ("http", "https") else None
    return Remote(
        source,
        scheme,
        host,
        origin,
        _without_userinfo(parts),
        port or _DEFAULT_PORTS[scheme],
        _segments(urllib.parse.unquote(parts.path)),
    )


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip("/").split("/") if part)


def tokens_from_env(
    env: Mapping[str, str], token_hosts: tuple[tuple[str, str], ...] = ()
) -> dict[str, str]:
    """host -> token from GITHUB_TOKEN, GITLAB_TOKEN, BITBUCKET_TOKEN and the
    CODIFIER_TOKEN_HOSTS pairs, when set."""
    pairs = [*TOKEN_ENV_VARS.items(), *token_hosts]
    return {host: env[var] for host, var in pairs if env.get(var)}


def owned(remote: Remote, owners: tuple[Owner, ...]) -> bool:
    """The repository is under one of `owners`: the server's credentials may serve it.
    A path with "." or ".." segments is never owned: `acme/../other/app` is `other/app`
    once the client or server normalises it."""
    if any(part in (".", "..") or "\\" in part for part in remote.path):
        return False
    return any(owner.covers(remote.host, remote.path) for owner in owners)


def token_for(remote: Remote, tokens: Mapping[str, str], owners: tuple[Owner, ...]) -> str | None:
    """The token for exactly this host and repository, if it may be sent over this
    scheme and the repository is one of the team's own (under `owners`)."""
    if remote.scheme != "https" and not (remote.scheme == "http" and remote.host in _LOOPBACK):
        return None
    if not owned(remote, owners):
        return None
    for host, token in tokens.items():
        if host.lower() == remote.host and token:
            return token
    return None


def username_for(remote: Remote) -> str:
    return _USERNAMES.get(remote.host, _DEFAULT_USERNAME)


# A `git credential` helper (run by sh): on "get", answer only if the protocol and host git
# asks about are exactly those of the URL being cloned. Its text holds no secret.
_HELPER = (
    '!f() { test "$1" = get || exit 0; p= h=; while IFS= read -r l; do case "$l" in'
    ' protocol=*) p="${l#protocol=}";; host=*) h="${l#host=}";; esac; done;'
    ' test "$p://$h" = "$CODIFIER_PACK_ORIGIN" || exit 0;'
    ' printf "username=%s\\npassword=%s\\n" "$CODIFIER_PACK_USER" "$CODIFIER_PACK_TOKEN"; }; f'
)


def auth_config(remote: Remote, token: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """git settings and environment variables giving git `token` for `remote`'s
    scheme://host:port only. The first setting clears the helpers configured for that
    origin (a stored credential must not win over the token), the second adds ours."""
    assert remote.origin is not None  # token_for only allows http(s)
    key = f"credential.{remote.origin}.helper"
    config = [(key, ""), (key, _HELPER)]
    env = {
        "CODIFIER_PACK_ORIGIN": remote.origin,
        "CODIFIER_PACK_USER": username_for(remote),
        "CODIFIER_PACK_TOKEN": token,
    }
    return config, env


def clone(
    remote: Remote,
    dest: Path,
    *,
    space: Workspace,
    settings: PackSettings,
    target: Destination,
    token: str | None,
    max_file_bytes: int,
    display: str | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """`git clone --bare --depth 1 --no-tags --filter=blob:limit=...` into `dest`,
    connecting only to `target`'s checked addresses; PackError (one line) on failure."""
    shown = display or remote.display
    config: list[tuple[str, str]] = [("protocol.file.allow", "never")]
    env: dict[str, str] = {}
    secrets: list[str] = []
    if remote.scheme in ("http", "https"):
        config.append((f"protocol.{remote.scheme}.allow", "always"))
        pin = target.curl_resolve()
        if pin and git_version() < PINNING_GIT:
            raise PackError(
                f"could not clone {shown}: git {'.'.join(map(str, PINNING_GIT))} or newer is"
                " needed to pin the checked address (http.curloptResolve); upgrade git"
            )
        if pin:
            config.append(("http.curloptResolve", pin))
    elif remote.scheme == "ssh":
        config.append(("protocol.ssh.allow", "always"))
        # Connect to the checked address; known_hosts is still looked up by name.
        address = target.addresses[0]
        options = ["BatchMode=yes", f"HostName={address}", f"HostKeyAlias={target.host}"]
        env["GIT_SSH_COMMAND"] = shlex.join(["ssh", *(f"-o{option}" for option in options)])
        env["GIT_SSH_VARIANT"] = "ssh"
    else:
        raise PackError(f"could not clone {shown}: the {remote.scheme} scheme is not allowed")
    if token:
        auth, auth_env = auth_config(remote, token)
        config += auth
        env.update(auth_env)
        secrets = [token, _basic(remote, token), urllib.parse.quote(token, safe="")]
    # "blob:limit=N" omits blobs of N bytes or more: one more than the largest file kept.
    args = [
        "clone",
        "--depth",
        "1",
        "--no-tags",
        "--bare",
        "--template=",
        f"--filter=blob:limit={max_file_bytes + 1}",
        "--quiet",
        "--",
        remote.url,
        str(dest),
    ]
    try:
        result = run_git(
            args,
            space=space,
            cwd=space.path,
            config=config,
            extra_env=env,
            timeout=settings.timeout_seconds,
            disk_budget=settings.disk_bytes,
            cancel=cancel,
        )
    except GitStopped as stopped:
        reason = stopped.reason
    except OSError as exc:
        reason = f"cannot run git ({exc.strerror})"
    else:
        if result.returncode == 0 and space.usage() <= settings.disk_bytes:
            return  # (checked again: a fast clone can finish between two polls)
        if result.returncode == 0:
            reason = f"used more than the {settings.disk_bytes:,}-byte disk budget"
        else:
            reason = _last_error(result.stderr.decode(errors="replace"))
    text = f"could not clone {shown}: {reason}"
    raise PackError(scrub(text, remote, secrets))


def scrub(text: str, remote: Remote, secrets: list[str]) -> str:
    """`text` without any credential: the token in every form sent, and URL user info."""
    if remote.url != remote.display:
        text = text.replace(remote.url, remote.display)
    password = urllib.parse.urlsplit(remote.url).password if remote.origin else None
    for secret in sorted({*secrets, *([password] if password else [])}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _basic(remote: Remote, token: str) -> str:
    return base64.b64encode(f"{username_for(remote)}:{token}".encode()).decode("ascii")


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
