"""One webhook POST, made to the address the SSRF guard checked (never re-resolved by the HTTP client).

The standard library's `http.client` with its `connect` pointed at the checked IP: for `https` the TLS
handshake still names and verifies the URL's host (SNI and certificate), for `http` the `Host` header
carries it. Redirects are not followed (a 3xx is a failed attempt), the answer's body is read up to 1 KiB,
and an answer that took longer than the timeout in all counts as a failure even if it was a 2xx.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from chalicelib.partner_webhooks.ssrf import Blocked, Target, resolve_checked


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    seconds: float


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, address: str, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """POST `body` to `target`; never raises for the receiver's or the network's failures."""
    started = time.monotonic()
    try:
        address = resolve_checked(target)
    except Blocked as exc:
        return Outcome(None, f"blocked: {exc}", 0.0)
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(address, target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers={
            **headers, "Host": target.host_header, "Content-Type": "application/json",
            "User-Agent": "Marketplace-Webhooks/1", "Connection": "close"})
        response = connection.getresponse()
        response.read(1024)
        status = response.status
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Outcome(None, f"{exc.__class__.__name__}: {str(exc)[:200]}", time.monotonic() - started)
    finally:
        connection.close()
    seconds = time.monotonic() - started
    if seconds > timeout:
        return Outcome(status, f"answered after {seconds:.1f} s (limit {timeout} s)", seconds)
    return Outcome(status, None, seconds)
