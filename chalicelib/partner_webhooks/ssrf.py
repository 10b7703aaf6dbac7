"""Where a webhook may point: the SSRF guard, applied when an endpoint is registered and again at delivery.

A partner chooses the URL, and the marketplace's own workers make the request, so a URL must never reach
the marketplace's private network or the cloud's metadata service. Rules: `https` only in AWS stages (the
local stage also takes `http://127.0.0.1:<port>`, for a receiver on the developer's machine); no user info;
every address the host resolves to must be a global unicast address (not private, loopback, link-local,
multicast, reserved, unspecified, shared or an IPv4-mapped form of those). At delivery the host is
resolved again and the connection goes to the address that was checked (`resolve_checked`), so a DNS
answer that changes between check and connect (rebinding) cannot slip a private address in.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import SplitResult, urlsplit

from chalicelib.core.errors import ValidationFailed

LOCAL_HOST = "127.0.0.1"

# getaddrinfo(host, port) -> [(family, type, proto, canonname, sockaddr)]; replaceable in tests.
Resolver = Callable[[str, int], list]


def _system_resolver(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


_resolver: Resolver = _system_resolver


def use_resolver(resolver: Resolver | None) -> None:
    """Replace DNS resolution (tests); None restores the system's."""
    global _resolver
    _resolver = resolver or _system_resolver


class Blocked(Exception):
    """The target is not allowed (message says why); a delivery counts it as a failed attempt."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    local: bool  # the local stage's `127.0.0.1` receiver

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(f"The webhook URL is not allowed: {message}.",
                            [{"field": "url", "message": message, "in": "body"}])


def is_public_address(text: str) -> bool:
    """A global unicast address a webhook may reach."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public_address(str(mapped))
    return bool(address.is_global) and not (address.is_multicast or address.is_reserved or address.is_private
                                              or address.is_loopback or address.is_link_local
                                              or address.is_unspecified)


def parse(url: str, *, local_stage: bool) -> Target:
    """The target of `url`, or ValidationFailed saying which rule it breaks (no DNS here)."""
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("it is not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise _refuse("it must be an https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise _refuse("it must not carry a user name or password")
    local = local_stage and host == LOCAL_HOST and port is not None
    if scheme == "http" and not local:
        raise _refuse("it must use https" + (" (or http://127.0.0.1:<port> locally)" if local_stage else ""))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = Target(scheme, host, port or (443 if scheme == "https" else 80), path, local)
    if not local and _is_ip_literal(host) and not is_public_address(host):
        raise _refuse("it points to a private, loopback, link-local or reserved address")
    return target


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def resolve_checked(target: Target) -> str:
    """The address to connect to: the host resolved now, every answer public (Blocked otherwise)."""
    if target.local:
        return LOCAL_HOST
    if _is_ip_literal(target.host):
        if not is_public_address(target.host):
            raise Blocked(f"{target.host} is not a public address")
        return target.host
    try:
        answers = _resolver(target.host, target.port)
    except (OSError, UnicodeError) as exc:
        raise Blocked(f"{target.host} does not resolve ({exc.__class__.__name__})") from None
    addresses = [str(answer[4][0]) for answer in answers]
    if not addresses:
        raise Blocked(f"{target.host} does not resolve")
    bad = [a for a in addresses if not is_public_address(a)]
    if bad:
        raise Blocked(f"{target.host} resolves to a non-public address ({bad[0]})")
    return addresses[0]


def check_for_registration(url: str, *, local_stage: bool) -> Target:
    """Registration: the URL's rules, then its host's current DNS answers (400 if any is not public)."""
    target = parse(url, local_stage=local_stage)
    try:
        resolve_checked(target)
    except Blocked as exc:
        raise _refuse(str(exc)) from None
    return target
