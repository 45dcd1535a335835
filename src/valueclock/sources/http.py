"""HTTP for the API connectors: one small client over httpx, shared by all of them.

What it promises, so each connector only knows its vendor's pages:

- **Only the URL the user gave.** Every request goes to the base URL's scheme, host and
  port. A next-page link that points elsewhere is refused, never followed.
- **Rate limits honoured.** A ``429`` (or ``503``) with ``Retry-After`` (seconds, or an
  HTTP date) is waited out and the request tried again, up to ``max_retries`` times;
  a wait longer than ``max_wait`` seconds is not waited for but reported.
- **One clear line for every failure**, as :class:`~valueclock.errors.InputError`:
  refused credentials (``401``/``403``), a missing resource, a server error, a page that
  is not JSON, a host that cannot be reached.
- **Swappable transport.** ``transport`` is any :class:`httpx.BaseTransport` (the tests use
  a local server or :class:`httpx.MockTransport`); ``sleep`` is how waits are made.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from valueclock import __version__
from valueclock.errors import InputError, UsageError

__all__ = ["ApiClient", "ApiError", "env_credential"]


class ApiError(InputError):
    """An answer from an API that cannot be used; ``status`` is its HTTP status (or None)."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def env_credential(name: str, environ: Mapping[str, str], hint: str) -> str:
    """The value of the environment variable ``name``; a :class:`UsageError` if unset."""
    value = environ.get(name, "").strip()
    if not value:
        raise UsageError(f"set {name} in the environment ({hint})")
    return value


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _snippet(text: str) -> str:
    """A short one-line excerpt of an error body, for messages."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("description", "message", "error_description", "errorMessages",
                    "error", "errors"):
            if data.get(key):
                value = data[key]
                if isinstance(value, list):
                    value = "; ".join(str(v.get("message", v)) if isinstance(v, dict) else
                                      str(v) for v in value)
                elif isinstance(value, dict):
                    value = value.get("message") or value.get("title") or json.dumps(value)
                return " ".join(str(value).split())[:200]
    if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("message"):
        return " ".join(str(data[0]["message"]).split())[:200]
    return " ".join(text.split())[:200]


class ApiClient:
    """GET JSON pages from one API, politely. Use as a context manager or call ``close``.

    ``name`` names the API in messages (``Zendesk``); ``credentials_hint`` says which
    credentials to check when they are refused.
    """

    def __init__(self, base_url: str, *, name: str, auth: httpx.Auth | tuple[str, str] |
                 None = None, headers: Mapping[str, str] | None = None,
                 credentials_hint: str = "check the credentials",
                 transport: httpx.BaseTransport | None = None, timeout: float = 60.0,
                 max_retries: int = 5, max_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        base_url = base_url.strip()
        scheme, host, _ = _origin(base_url)
        if scheme not in ("http", "https") or not host:
            raise UsageError(f"{base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/") + "/"
        self.name = name
        self.credentials_hint = credentials_hint
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0
        self.waits: list[float] = []
        self._client = httpx.Client(
            auth=auth, transport=transport, timeout=timeout, follow_redirects=False,
            headers={"Accept": "application/json",
                     "User-Agent": f"valueclock/{__version__}", **dict(headers or {})})

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the base URL's origin; another origin is refused."""
        url = urljoin(self.base_url, path_or_url.lstrip("/") if "://" not in path_or_url
                      else path_or_url)
        if _origin(url) != _origin(self.base_url):
            raise ApiError(f"{self.name} gave a next-page link to another host ({url}); "
                           f"valueclock only calls {self.base_url}")
        return url

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document; the errors described in this module's documentation."""
        url = self.url(path_or_url)
        tries = 0
        while True:
            tries += 1
            self.requests += 1
            try:
                response = self._client.get(url, params=params)
            except httpx.TimeoutException:
                raise ApiError(f"{self.name} did not answer in time ({url})") from None
            except httpx.TransportError as exc:
                raise ApiError(f"cannot reach {self.name} at {self.base_url}: "
                               f"{exc or type(exc).__name__}") from None
            code = response.status_code
            if code in (429, 503) and tries <= self.max_retries:
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = min(2.0 ** tries, 60.0) if code == 429 else None
                if wait is not None:
                    if wait > self.max_wait:
                        raise ApiError(f"{self.name} asks to wait {wait:.0f} s before the "
                                       "next request (rate limit); try again later",
                                       status=code)
                    self.waits.append(wait)
                    self.sleep(wait)
                    continue
            return self._json(response, url)

    def _json(self, response: httpx.Response, url: str) -> Any:
        code = response.status_code
        text = response.text
        if code in (401, 403):
            what = "refused the credentials" if code == 401 else "refused access"
            raise ApiError(f"{self.name} {what} (HTTP {code}): {self.credentials_hint}"
                           + (f" ({_snippet(text)})" if text.strip() else ""),
                           status=code, body=text)
        if code == 429:
            raise ApiError(f"{self.name} kept refusing requests (HTTP 429, rate limit) "
                           f"after {self.max_retries} retries; try again later",
                           status=code, body=text)
        if 300 <= code < 400:
            raise ApiError(f"{self.name} redirected {url} to "
                           f"{response.headers.get('Location', 'elsewhere')}; give the "
                           "final URL", status=code)
        if code >= 400:
            detail = _snippet(text)
            raise ApiError(f"{self.name} answered HTTP {code} for {url}"
                           + (f": {detail}" if detail else ""), status=code, body=text)
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise ApiError(f"{self.name} sent a page that is not JSON ({url}): "
                           f"{_snippet(text)[:80]!r}", status=code, body=text) from None


def need(page: Any, key: str, kind: type, api: str, url: str) -> Any:
    """``page[key]``, checked to be a ``kind``; an :class:`ApiError` naming the page if not."""
    if not isinstance(page, dict) or not isinstance(page.get(key), kind):
        expected = {list: "a list", dict: "an object", str: "text"}.get(kind, kind.__name__)
        raise ApiError(f"{api} sent a malformed page ({url}): no {key!r} {expected}")
    return page[key]
