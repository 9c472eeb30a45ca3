"""One HTTP GET done politely and safely; returns a FetchResult, never parses."""

from __future__ import annotations

import socket
import ssl
import time
from urllib.parse import urlsplit

import requests

from aggregator import USER_AGENT
from aggregator.models import FetchResult

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml, "
    "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_CHUNK = 64 * 1024


def make_session() -> requests.Session:
    """A Session with our User-Agent and the headers every poll sends."""
    session = requests.Session()
    session.headers.update(
        {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    )
    return session


def fetch_feed(
    session: requests.Session,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 30.0,
    max_size: int = 10 * 1024 * 1024,
) -> FetchResult:
    """GET `url` conditionally; a network or HTTP failure comes back as `error`."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            return _read_response(response, url, started, timeout, max_size)
    except requests.exceptions.Timeout:
        return _failure(url, None, started, f"timed out after {timeout:g} s")
    except requests.exceptions.TooManyRedirects:
        return _failure(url, None, started, "too many redirects")
    except requests.exceptions.ConnectionError as exc:
        host = urlsplit(url).netloc
        return _failure(url, None, started, f"connection failed: {host}: {_reason(exc)}")
    except requests.exceptions.RequestException as exc:
        return _failure(url, None, started, f"request failed: {_reason(exc)}")


def _read_response(
    response: requests.Response, url: str, started: float, timeout: float, max_size: int
) -> FetchResult:
    status = response.status_code
    if status == 304:
        return FetchResult(
            url=url, final_url=response.url, status=304, headers=dict(response.headers),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            elapsed=time.monotonic() - started,
        )
    if status >= 400:
        return _failure(url, status, started, f"HTTP {status} {response.reason or ''}".strip())
    body = bytearray()
    # urllib3 decompresses while streaming, so the cap applies to the inflated size
    # and a small gzip bomb is stopped before it fills memory.
    for chunk in response.iter_content(_CHUNK):
        body += chunk
        if len(body) > max_size:
            return _failure(url, status, started, f"body larger than {max_size} bytes")
        if time.monotonic() - started > timeout:
            return _failure(url, status, started, f"download took longer than {timeout:g} s")
    return FetchResult(
        url=url,
        final_url=response.url,
        status=status,
        content=bytes(body),
        headers=dict(response.headers),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        elapsed=time.monotonic() - started,
    )


def _failure(url: str, status: int | None, started: float, message: str) -> FetchResult:
    return FetchResult(
        url=url, final_url=url, status=status, error=message,
        elapsed=time.monotonic() - started,
    )


def _reason(exc: BaseException) -> str:
    """What went wrong underneath requests and urllib3, in a few plain words."""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the host name ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return str(exc)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: urllib3 keeps the cause in `.reason` or in its args."""
    found: list[BaseException] = []
    pending: list[object] = [exc]
    while pending:
        item = pending.pop(0)
        if not isinstance(item, BaseException) or any(item is f for f in found):
            continue
        found.append(item)
        pending += [getattr(item, "reason", None), item.__cause__, item.__context__,
                    *item.args]
    return found
