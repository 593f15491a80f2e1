"""Which network addresses a pack may reach, and connections pinned to them.

A tenant names the URL; the server makes the request. So by default a remote must
resolve only to public (globally routable) addresses: loopback, private, link-local,
shared (CGNAT), unique-local, multicast, reserved and unspecified addresses are
refused, IPv4 and IPv6, including IPv4 inside IPv6 (mapped, 6to4, NAT64, Teredo). A
name is resolved once; every address it gives must pass, and the connection (ours, and
git's through http.curloptResolve) is pinned to those addresses, so a second lookup
cannot rebind the name to an internal address. CODIFIER_PACK_ALLOW_HOSTS lists hosts
(host or host:port, as written in URLs) reachable whatever they resolve to.

Every refusal, and every name that does not resolve, gives the same message, naming no
address, port or state: the error cannot tell an open port from a closed one, or an
internal name from an unknown one.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass

from codifier.packer.result import PackError
from codifier.packer.settings import PackSettings

REFUSED = (
    "that repository cannot be reached from this server: remote repositories must be on"
    " public addresses (an operator may allow a host with CODIFIER_PACK_ALLOW_HOSTS)"
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Destination:
    """A host and port, with the addresses checked for it: connect only to these."""

    host: str  # lowercase, no brackets
    port: int
    addresses: tuple[str, ...]

    @property
    def literal(self) -> bool:
        """The host is an address itself: nothing to resolve, nothing to pin."""
        return _address(self.host) is not None

    def curl_resolve(self) -> str | None:
        """An `http.curloptResolve` entry pinning the name to the checked addresses."""
        if self.literal:
            return None
        shown = ",".join(f"[{a}]" if ":" in a else a for a in self.addresses)
        return f"{self.host}:{self.port}:{shown}"


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (and any IPv4 one inside it)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def allowed_anyway(host: str, port: int, settings: PackSettings) -> bool:
    return any(entry.allows(host, port) for entry in settings.allow_hosts)


def destination(host: str, port: int, settings: PackSettings) -> Destination:
    """`host:port` resolved and checked; PackError(REFUSED) when it may not be reached."""
    host = host.lower().strip("[]")
    allowed = allowed_anyway(host, port, settings)
    literal = _address(host)
    if literal is not None:
        if not allowed and not is_public(literal):
            raise PackError(REFUSED)
        return Destination(host, port, (str(literal),))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise PackError(REFUSED) from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).partition("%")[0]  # no IPv6 zone
        parsed = _address(text)
        if parsed is None or (not allowed and not is_public(parsed)):
            raise PackError(REFUSED)  # one internal address is enough to refuse
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise PackError(REFUSED)
    return Destination(host, port, tuple(addresses))


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def connection(scheme: str, target: Destination, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to `target`'s host that connects only to its checked
    addresses; TLS still verifies the certificate against the host name."""
    conn: http.client.HTTPConnection
    if scheme == "https":
        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect(
        _address: tuple[str, int], timeout: float | None = None, source: object = None
    ) -> socket.socket:
        last: OSError | None = None
        for address in target.addresses:
            try:
                return socket.create_connection((address, target.port), timeout)
            except OSError as error:
                last = error
        raise last or OSError("no address to connect to")

    conn._create_connection = connect  # type: ignore[attr-defined]
    return conn
