"""Safe by default: loopback unless told otherwise, a token everywhere else, safe CSV.

* :func:`check_bind` refuses an address other than loopback without a token.
* :class:`Guard` (ASGI middleware) requires the token on every request when one is set
  (``Authorization: Bearer TOKEN``, or the cookie the sign-in page sets), compared in
  constant time with :func:`hmac.compare_digest`; without a token it only answers
  requests addressed to a loopback name (so a web page cannot reach it through DNS
  rebinding). It lets only GET and HEAD through (and the sign-in form's POST): the
  dashboard never writes. Every answer carries a strict Content-Security-Policy.
* :func:`safe_cell` neutralises text that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from valueclock.errors import UsageError

__all__ = ["COOKIE", "FORMULA_STARTS", "Guard", "check_bind", "is_loopback", "safe_cell",
           "session_value", "token_matches"]

COOKIE = "valueclock_session"
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "connect-src 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]],
                   Awaitable[None]]


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost`` and the rest of 127.0.0.0/8."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen on an address other than loopback without a token."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to listen on {host} without an access token: anyone who can reach "
            "this address would see the data. Give --token TOKEN or set VALUECLOCK_TOKEN "
            "(or listen on 127.0.0.1)")


def session_value(token: str) -> str:
    """What the sign-in cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"valueclock dashboard session", hashlib.sha256).hexdigest()


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               expected.encode("utf-8", "surrogateescape"))


def safe_cell(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with ``'`` so it stays text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _host_name(header: str) -> str:
    """The name in a Host header, without the port (``[::1]:8000`` is ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


class Guard:
    """ASGI middleware: token, allowed methods, loopback host names, security headers."""

    #: Paths answered without a token (the sign-in page itself, and its stylesheet).
    OPEN_PATHS = ("/signin", "/static/style.css")

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token or None
        self.session = session_value(token) if token else None

    def _authorised(self, scope: Scope) -> bool:
        assert self.token is not None and self.session is not None
        auth = _header(scope, b"authorization")
        if auth and auth[:7].lower() == "bearer ":
            return token_matches(auth[7:].strip(), self.token)
        return token_matches(_cookie(scope, COOKIE), self.session)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        method = scope.get("method", "GET")

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + HEADERS
            await send(message)

        if self.token is None:
            host = _host_name(_header(scope, b"host") or "")
            if host and not is_loopback(host):
                await _plain(send_with_headers, 421, "This dashboard only answers on "
                             "localhost. Start it with --token to serve other addresses.")
                return
        allowed = ("GET", "HEAD") + (("POST",) if path in ("/signin", "/signout") else ())
        if method not in allowed:
            await _plain(send_with_headers, 405, "The dashboard only reads.",
                         extra=[(b"allow", ", ".join(allowed).encode())])
            return
        if self.token is not None and path not in self.OPEN_PATHS \
                and not self._authorised(scope):
            accept = _header(scope, b"accept") or ""
            if method == "GET" and "text/html" in accept and not path.startswith("/api"):
                target = path + ("?" + scope["query_string"].decode("latin-1")
                                 if scope.get("query_string") else "")
                await _redirect(send_with_headers, "/signin?next=" + quote(target, safe=""))
                return
            body = json.dumps({"detail": "a valid access token is required: "
                                         "Authorization: Bearer TOKEN"}).encode()
            await send_with_headers({"type": "http.response.start", "status": 401,
                                     "headers": [(b"content-type", b"application/json"),
                                                 (b"www-authenticate", b"Bearer")]})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)


async def _plain(send: Any, status: int, text: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")] + (extra or [])})
    await send({"type": "http.response.body", "body": text.encode()})


async def _redirect(send: Any, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1"))]})
    await send({"type": "http.response.body", "body": b""})
