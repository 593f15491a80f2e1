"""Where this server is, as OAuth names it: the issuer (its base URL), the protected
resource (`<base>/mcp`), and the URL of the resource's metadata.

Behind a proxy the base comes from CODIFIER_PUBLIC_URL. Without it, a server bound to
loopback takes the request's Host header when that names a loopback address (a local
client reached it there); anything else has no issuer, because a Host header from the
network could name any server, and tokens would then be minted for it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import Scope

from codifier.oauth.settings import OAuthSettings

LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1")
_LOOPBACK_HOST = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$", re.IGNORECASE)

MCP_PATH = "/mcp"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True, slots=True)
class Issuer:
    base: str  # scheme://host[:port], no trailing slash: the issuer identifier

    @property
    def resource(self) -> str:
        """The protected resource (RFC 8707/9728): the MCP endpoint's URL."""
        return self.base + MCP_PATH

    @property
    def resource_metadata_url(self) -> str:
        """RFC 9728 §3.1: the well-known path with the resource's path appended."""
        return self.base + RESOURCE_METADATA_PATH + MCP_PATH

    def endpoint(self, path: str) -> str:
        return self.base + path


def request_issuer(scope: Scope, settings: OAuthSettings, bind_host: str) -> Issuer | None:
    """The issuer for this request, or None when OAuth is off or none can be trusted."""
    if not settings.enabled:
        return None
    if settings.public_url:
        return Issuer(settings.public_url)
    if bind_host not in LOOPBACK_BINDS:
        return None
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
    if not _LOOPBACK_HOST.match(host):
        return None
    return Issuer(f"http://{host.lower()}")
