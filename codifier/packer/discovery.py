"""Following a smart-HTTP remote's redirects ourselves, each hop checked.

git follows the redirect of its first request (`/info/refs`) to wherever it points,
which would let an allowed host send the server on to an internal address. So git runs
with `http.followRedirects=false`, and this module makes that first request first: on
a 3xx it takes the new base URL the way git does (the Location must end with the same
`/info/refs?service=git-upload-pack` tail), checks the new host like the first one, and
goes on, at most MAX_REDIRECTS times. The clone then uses the final URL, pinned to the
final addresses. https may not turn into http. A 401 is retried once with the token
for that exact host (if the caller has one and may use it), since a private repository
often redirects only once authenticated.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from codifier.packer.clone import Remote, parse_remote, username_for
from codifier.packer.network import Destination, connection, destination
from codifier.packer.result import PackError
from codifier.packer.settings import PackSettings

MAX_REDIRECTS = 5
TAIL = "/info/refs?service=git-upload-pack"
USER_AGENT = "git/2 (codifier)"  # some hosts answer smart HTTP to git clients only


@dataclass(frozen=True)
class Discovered:
    remote: Remote  # the URL to clone: the given one, or where its redirects led
    target: Destination  # its checked addresses


def discover(
    remote: Remote,
    settings: PackSettings,
    token_for: Callable[[Remote], str | None],
    timeout: float = 30,
) -> Discovered:
    """Where `remote` really is, every hop's address checked (PackError otherwise)."""
    current = remote
    for _hop in range(MAX_REDIRECTS + 1):
        target = destination(current.host, current.port, settings)
        status, location = _ask(current, target, None, timeout)
        token = token_for(current)
        if status == 401 and token:
            status, location = _ask(current, target, token, timeout)
        if status not in (301, 302, 303, 307, 308):
            return Discovered(current, target)
        current = _follow(remote, current, location)
    raise PackError(f"could not clone {remote.display}: more than {MAX_REDIRECTS} redirects")


def _follow(first: Remote, current: Remote, location: str | None) -> Remote:
    asked = current.url.rstrip("/") + TAIL
    where = urllib.parse.urljoin(asked, location or "")
    if not where.endswith(TAIL):
        raise PackError(f"could not clone {first.display}: it redirects to an unexpected place")
    base = where[: -len(TAIL)]
    following = parse_remote(base)
    if following is None or following.scheme not in ("http", "https"):
        raise PackError(f"could not clone {first.display}: it redirects to an unexpected place")
    if current.scheme == "https" and following.scheme == "http":
        raise PackError(f"could not clone {first.display}: it redirects from https to http")
    return following


def _ask(
    remote: Remote, target: Destination, token: str | None, timeout: float
) -> tuple[int, str | None]:
    """The status and Location of GET <url>/info/refs?service=git-upload-pack."""
    parts = urllib.parse.urlsplit(remote.url)
    path = (parts.path.rstrip("/") or "") + TAIL
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Pragma": "no-cache"}
    if token:
        pair = f"{username_for(remote)}:{token}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    conn = connection(remote.scheme, target, timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Location")
    except ssl.SSLError:
        raise PackError(
            f"could not clone {remote.display}: its TLS certificate could not be verified"
        ) from None
    except (OSError, http.client.HTTPException):
        raise PackError(f"could not clone {remote.display}: could not connect to it") from None
    finally:
        conn.close()
