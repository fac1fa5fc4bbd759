"""Where the platform's own outbound HTTP (alert webhooks) may go: the SSRF guard.

A URL is read without any lookup by `parse_url`: http or https, a host, a port in 1–65535, a login
(userinfo) of plain URL characters. `check_url` then resolves the host and accepts the answer only
when every address is one the platform may reach: a public (global unicast) address, or one that
`CAPACITY_WEBHOOK_ALLOWED_NETWORKS` names. Loopback, private, link-local, shared, multicast,
reserved and unspecified addresses are refused, IPv4 written inside IPv6 (`::ffff:127.0.0.1`,
NAT64, 6to4, Teredo) is judged by its IPv4 part, and cloud metadata addresses are refused even
when the allowlist covers them. The caller connects to the addresses `check_url` returned, never to
the name again, so an answer that changes between the check and the connection (DNS rebinding)
is never used.

Allowlist entries (comma list): an address or CIDR (`10.20.0.0/16`, `fd12::/64`), a host name
(`hooks.corp.example`: whatever it resolves to, metadata excepted), each optionally with `:port`
(`127.0.0.1:8080`, `[fd12::7]:8443`, `10.20.0.0/16:443`, `hooks.corp.example:8443`) to allow only
that port.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = {"http": 80, "https": 443}

# Instance metadata services hand out cloud credentials; no allowlist entry reaches them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS VPC DNS
        "169.254.169.123",  # AWS time sync
        "169.254.0.23",  # Tencent Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS VPC DNS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public-looking address)
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
# Not global, although Python 3.11 does not say so.
_NOT_GLOBAL = (ipaddress.ip_network("64:ff9b:1::/48"),)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_USERINFO = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_PORT = re.compile(r"^[0-9]{1,5}$")


class UnsafeURL(ValueError):
    """A URL the platform will not send to; `message` says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WebURL:
    """An http(s) URL taken apart: what is connected to and what goes on the request line."""

    scheme: str
    host: str  # lower case, IDNA-encoded, no brackets, no trailing dot
    port: int
    target: str  # path and query ("/" when empty), never the fragment
    userinfo: str  # as written (percent-encoded), "" when none
    address: IPAddress | None  # when the host is an address literal (in any spelling)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """127.0.0.1 in any spelling the C resolver accepts: 2130706433, 0177.0.0.1, 0x7f.1, 127.1."""
    if not re.fullmatch(r"[0-9a-fx.]+", host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _host(raw: str) -> tuple[str, IPAddress | None]:
    if raw.startswith("["):
        inner = raw[1:-1]
        if "%" in inner:
            raise UnsafeURL(_("The URL's IPv6 address may not name a network interface (%)."))
        try:
            address = ipaddress.IPv6Address(inner)
        except ValueError:
            raise UnsafeURL(_("The URL's host %(host)s is not a valid IPv6 address.") % {"host": raw}) from None
        return str(address), address
    host = raw.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise UnsafeURL(_("The URL has no host."))
    address = _numeric_ipv4(host)
    if address is not None:
        return str(address), address
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(_("The URL's host %(host)s is not a valid host name.") % {"host": raw}) from None
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise UnsafeURL(_("The URL's host %(host)s is not a valid host name.") % {"host": raw})
    return host, None


def parse_url(url: str) -> WebURL:
    """Take an http(s) URL apart without any lookup; UnsafeURL says what is wrong with it."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL(_("Enter an http:// or https:// URL."))
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        raise UnsafeURL(_("The URL may not contain spaces, control characters or backslashes."))
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeURL(_("Enter an http:// or https:// URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeURL(_("Only http and https webhooks are sent."))
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    if userinfo and not _USERINFO.match(userinfo):
        raise UnsafeURL(_("The login in the URL (before the @) may hold only letters, digits and %-escapes."))
    if hostport.startswith("["):
        raw_host, _bracket, rest = hostport.partition("]")
        raw_host += "]"
        if rest and not rest.startswith(":"):
            raise UnsafeURL(_("The URL's host %(host)s is not valid.") % {"host": hostport})
        raw_port = rest[1:] if rest else None
    else:
        if hostport.count(":") > 1:
            raise UnsafeURL(_("An IPv6 address in a URL goes in brackets: http://[::1]:8080/."))
        raw_host, colon, raw_port = hostport.partition(":")
        raw_port = raw_port if colon else None
    host, address = _host(raw_host)
    if raw_port in (None, ""):
        port = SCHEMES[scheme]
    elif _PORT.match(raw_port) and 1 <= int(raw_port) <= 65535:
        port = int(raw_port)
    else:
        raise UnsafeURL(_("The URL's port %(port)s is not a port: use 1–65535.") % {"port": raw_port})
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebURL(scheme, host, port, target, userinfo, address)


# --- the allowlist -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    network: IPNetwork | None
    host: str | None
    port: int | None

    def permits(self, url: WebURL, address: IPAddress) -> bool:
        if self.port is not None and self.port != url.port:
            return False
        if self.host is not None:
            return self.host == url.host
        return any(a.version == self.network.version and a in self.network for a in _judged(address))


def parse_allowlist(entries) -> list[Allowed]:
    """CAPACITY_WEBHOOK_ALLOWED_NETWORKS as read from settings; ImproperlyConfigured names a bad entry."""
    allowed = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        port = None
        body = entry
        if entry.startswith("["):
            inner, _bracket, rest = entry[1:].partition("]")
            body = inner
            if rest:
                if not rest.startswith(":"):
                    raise ImproperlyConfigured(f"CAPACITY_WEBHOOK_ALLOWED_NETWORKS: {entry!r} is not host[:port].")
                port = rest[1:]
        elif entry.count(":") == 1:
            body, port = entry.split(":")
        if port is not None:
            if not (_PORT.match(port) and 1 <= int(port) <= 65535):
                raise ImproperlyConfigured(f"CAPACITY_WEBHOOK_ALLOWED_NETWORKS: {entry!r} has no valid port.")
            port = int(port)
        try:
            allowed.append(Allowed(ipaddress.ip_network(body, strict=False), None, port))
            continue
        except ValueError:
            pass
        try:
            host, address = _host(body)
        except UnsafeURL:
            raise ImproperlyConfigured(
                f"CAPACITY_WEBHOOK_ALLOWED_NETWORKS: {entry!r} is neither an address, a CIDR nor a host name."
            ) from None
        if address is not None:
            allowed.append(Allowed(ipaddress.ip_network(address), None, port))
        else:
            allowed.append(Allowed(None, host, port))
    return allowed


def allowlist() -> list[Allowed]:
    return parse_allowlist(getattr(settings, "CAPACITY_WEBHOOK_ALLOWED_NETWORKS", ()))


# --- addresses -----------------------------------------------------------------------------------


def _judged(address: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 address it carries, if it is one written inside IPv6."""
    found = [address]
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is None and int(address) >> 32 == 0 and int(address) > 1:  # deprecated ::a.b.c.d
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            found.append(inner)
    return found


def _kind_labels() -> dict[str, str]:
    return {
        "metadata": _("cloud metadata"),
        "unspecified": _("unspecified"),
        "loopback": _("loopback"),
        "link-local": _("link-local"),
        "multicast": _("multicast"),
        "reserved": _("reserved"),
        "private": _("private"),
        "non-public": _("non-public"),
    }


def address_kind(address: IPAddress) -> str | None:
    """Why the platform may not reach this address on its own (a key of _kind_labels), or None."""
    judged = _judged(address)
    if any(a in METADATA_ADDRESSES for a in judged):
        return "metadata"
    effective = judged[-1]
    for kind, flag in (
        ("unspecified", effective.is_unspecified),
        ("loopback", effective.is_loopback),
        ("link-local", effective.is_link_local),
        ("multicast", effective.is_multicast),
        ("reserved", effective.is_reserved),
        ("private", effective.is_private or any(effective in n for n in _NOT_GLOBAL if n.version == effective.version)),
        ("non-public", not effective.is_global),
    ):
        if flag:
            return kind
    return None


def _refusal(url: WebURL, address: IPAddress, rules: list[Allowed]) -> str | None:
    kind = address_kind(address)
    if kind is None:
        return None
    where = (_("%(address)s") if url.address is not None else _("%(host)s resolves to %(address)s")) % {
        "host": url.host,
        "address": address,
    }
    values = {"where": where, "kind": _kind_labels()[kind]}
    if kind == "metadata":
        return _("Webhooks never reach cloud metadata services: %(where)s is one.") % values
    if any(rule.permits(url, address) for rule in rules):
        return None
    return (
        _(
            "Webhooks do not reach the platform's own network: %(where)s (%(kind)s). "
            "CAPACITY_WEBHOOK_ALLOWED_NETWORKS may allow an in-house receiver."
        )
        % values
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to (TCP), in the resolver's order, without repeats."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(
            _("The host %(host)s could not be resolved: %(error)s") % {"host": host, "error": exc}
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(_("The host %(host)s has no address.") % {"host": host})
    return addresses


def check_url(url: str) -> tuple[WebURL, list[IPAddress]]:
    """The URL taken apart and the addresses to connect to; UnsafeURL when any of them is refused."""
    web = parse_url(url)
    rules = allowlist()
    addresses = [web.address] if web.address is not None else resolve(web.host, web.port)
    for address in addresses:
        refusal = _refusal(web, address, rules)
        if refusal:
            raise UnsafeURL(refusal)
    return web, addresses


def url_problem(url: str) -> str:
    """What is wrong with a stored URL, seen without a DNS lookup (names are checked at delivery); "" if nothing."""
    try:
        web = parse_url(url)
        rules = allowlist()
        if web.address is not None:
            refusal = _refusal(web, web.address, rules)
        elif web.host == "localhost" or web.host.endswith(".localhost"):
            refusal = _refusal(web, ipaddress.IPv4Address("127.0.0.1"), rules)
        else:
            refusal = None
    except UnsafeURL as exc:
        return exc.message
    return refusal or ""
