"""One HTTP GET done politely and safely; returns a FetchResult, never parses."""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
import zlib
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from aggregator import USER_AGENT
from aggregator.i18n import N_, counted, in_english, number, seconds
from aggregator.models import FetchResult
from aggregator.poll.addresses import PRIVATE_FROM_PUBLIC_REFUSED, AddressPolicy
from aggregator.poll.hosts import same_host
from aggregator.poll.summary import REFUSED

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml, "
    "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = (301, 308)
_CHUNK = 64 * 1024
_CONNECT_TIMEOUT = 10.0


class FetchError(Exception):
    """Why a fetch failed, in words meant for `status`."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _PollingSession(requests.Session):
    """A Session that reads the environment's proxy and certificate settings (HTTPS_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE...) once per host instead of on every request.

    requests scans the whole environment twice a request: a quarter of the CPU a
    poll answered 304 costs. The environment of a running process does not change.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[object, ...], Any] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        if proxies or not self.trust_env:  # proxies given for one request: not cached
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url.decode() if isinstance(url, bytes) else url or "")
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert)
        settings = self._settings[key]
        return {**settings, "proxies": dict(settings["proxies"])}


def make_session() -> requests.Session:
    """A Session with our User-Agent and the headers every poll sends."""
    session = _PollingSession()
    session.headers.update(
        {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    )
    # Redirects are followed by hand (fetch_feed) to tell permanent moves from
    # temporary ones; a connection pool per host is plenty for polite polling.
    session.max_redirects = MAX_REDIRECTS
    return session


def fetch_feed(
    session: requests.Session,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 30.0,
    max_size: int = 10_000_000,
    addresses: AddressPolicy = PRIVATE_FROM_PUBLIC_REFUSED,
    origin: str | None = None,
    accept: str | None = None,
) -> FetchResult:
    """GET `url` conditionally within a total deadline; any failure comes back as `error`.

    `addresses` says where the request and its redirects may go; `origin` is the page
    that led to `url`, when not the user (see AddressPolicy.refusal). `accept` replaces
    the session's Accept header (an article page is HTML, not a feed).
    """
    started = time.monotonic()
    deadline = started + timeout
    headers = {"Accept": accept} if accept else {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    permanent: str | None = None
    # Errors are stored and logged in English, numbers and all (i18n.translate_message
    # turns them into the reader's language where they are shown).
    with in_english():
        try:
            response, permanent = _follow(session, url, headers, deadline, addresses, origin)
            with response:
                return _read_response(response, url, permanent, started, deadline, max_size)
        except FetchError as exc:
            return _failure(url, exc.status, started, str(exc), permanent)
        except requests.exceptions.RequestException as exc:
            return _failure(url, None, started, _request_error(exc, url, timeout), permanent)


def _request_error(exc: requests.exceptions.RequestException, url: str, timeout: float
                   ) -> str:
    """Why requests failed, in words for `status` (the most precise kind first)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return N_("no answer within %(time)s") % {"time": seconds(timeout)}
    if isinstance(exc, requests.exceptions.SSLError):
        return N_("TLS error: %(reason)s") % {"reason": _reason(exc)}
    if isinstance(exc, requests.exceptions.ConnectionError):
        return N_("connection failed: %(host)s: %(reason)s") % {
            "host": urlsplit(url).netloc, "reason": _reason(exc)}
    return N_("request failed: %(reason)s") % {"reason": _reason(exc)}


def _follow(
    session: requests.Session, url: str, headers: dict[str, str], deadline: float,
    addresses: AddressPolicy, origin: str | None,
) -> tuple[requests.Response, str | None]:
    """GET `url`, following up to MAX_REDIRECTS redirects where `addresses` allows.

    Returns the final response and, when every hop was a 301/308 (and another host
    answered 2xx), the address the feed has permanently moved to.
    """
    seen = {url}
    current, permanent, all_permanent = url, None, True
    for hop in range(MAX_REDIRECTS + 1):
        refusal = addresses.refusal(current, origin if hop == 0 else origin or url)
        if refusal:
            raise FetchError(refusal)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(N_("no answer within the time limit"))
        response = session.get(
            current, headers=headers, stream=True, allow_redirects=False,
            timeout=(min(_CONNECT_TIMEOUT, remaining), remaining),
        )
        location = response.headers.get("Location")
        if not response.is_redirect or not location:
            if permanent and not same_host(url, permanent) and response.status_code // 100 != 2:
                permanent = None  # another host that answers no body: not moved there
            return response, permanent
        response.close()
        target = urljoin(current, location.strip())
        all_permanent = all_permanent and response.status_code in PERMANENT_REDIRECTS
        permanent = target if all_permanent else permanent
        if target in seen:
            raise FetchError(N_("redirect loop: %(url)s sends back to %(target)s")
                             % {"url": current, "target": target}, response.status_code)
        seen.add(target)
        current = target
    raise FetchError(N_("more than %(n)s redirects (last one to %(url)s)")
                     % {"n": MAX_REDIRECTS, "url": current})


def _read_response(
    response: requests.Response, url: str, permanent: str | None, started: float,
    deadline: float, max_size: int,
) -> FetchResult:
    status = response.status_code
    headers = dict(response.headers)
    if status == 304 or status >= 400:
        return FetchResult(
            url=url, final_url=response.url, status=status, headers=headers,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            error=None if status == 304 else _http_error(status, response.reason),
            elapsed=time.monotonic() - started, permanent_url=permanent,
        )
    body = read_body(response.raw, headers.get("Content-Encoding", ""), deadline, max_size)
    return FetchResult(
        url=url,
        final_url=response.url,
        status=status,
        content=body,
        headers=headers,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        elapsed=time.monotonic() - started,
        permanent_url=permanent,
        content_hash=hashlib.sha256(body).hexdigest(),
    )


def _http_error(status: int, reason: str | None) -> str:
    return f"HTTP {status} {reason or ''}".strip()


def read_body(
    raw: urllib3.response.BaseHTTPResponse, encoding: str, deadline: float, max_size: int
) -> bytes:
    """Stream the body, inflating it ourselves so that `max_size` bounds the inflated bytes.

    The deadline is checked after every read: a server that drips one byte at a
    time never trips a per-read timeout, but it does trip this.
    """
    inflater = _Inflater(encoding.strip().lower())
    body = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise FetchError(N_("download took longer than the time limit"))
        try:
            chunk = raw.read1(_CHUNK, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            raise FetchError(N_("the server stopped sending the body")) from None
        except urllib3.exceptions.ProtocolError as exc:
            raise FetchError(N_("body cut short: %(reason)s") % {"reason": _reason(exc)}) from None
        if not chunk:
            body += inflater.flush(max_size + 1 - len(body))
            break
        body += inflater.inflate(chunk, max_size + 1 - len(body))
        if len(body) > max_size:
            raise _too_large(max_size)
    if len(body) > max_size:
        raise _too_large(max_size)
    return bytes(body)


class _Inflater:
    """Undo gzip or deflate, never producing more than the room it is given."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise FetchError(N_("unsupported Content-Encoding %(encoding)r")
                             % {"encoding": encoding})
        self._first = True

    def inflate(self, data: bytes, room: int) -> bytes:
        if self._z is None:
            return data
        data = self._z.unconsumed_tail + data
        try:
            out = self._z.decompress(data, max(room, 1))
        except zlib.error as exc:
            # Some servers send raw deflate under "deflate"; try that once.
            if self.encoding == "deflate" and self._first:
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                return self.inflate(data, room)
            raise FetchError(N_("invalid %(encoding)s body: %(error)s")
                             % {"encoding": self.encoding, "error": exc}) from None
        self._first = False
        # Output stops at `room`: a gzip bomb never inflates past the size cap.
        return out

    def flush(self, room: int) -> bytes:
        if self._z is None:
            return b""
        tail = self._z.unconsumed_tail
        return self._z.decompress(tail, max(room, 1)) if tail else self._z.flush()


def _too_large(max_size: int) -> FetchError:
    return FetchError(N_("body larger than the %(size)s limit") % {"size": _size(max_size)})


def _size(count: int) -> str:
    for unit, factor in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if count >= factor and count % factor == 0:
            return f"{number(count // factor)} {unit}"
    return counted("%(n)s byte", "%(n)s bytes", count)


def _failure(
    url: str, status: int | None, started: float, message: str, permanent: str | None = None
) -> FetchResult:
    return FetchResult(
        url=url, final_url=url, status=status, error=message,
        elapsed=time.monotonic() - started, permanent_url=permanent,
    )


def _reason(exc: BaseException) -> str:
    """What went wrong underneath requests and urllib3, in a few plain words."""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return N_("cannot resolve the host name (%(reason)s)") % {
                "reason": cause.strerror or cause}
        if isinstance(cause, ConnectionRefusedError):
            return REFUSED
        if isinstance(cause, ssl.SSLCertVerificationError):
            return N_("certificate not trusted (%(reason)s)") % {
                "reason": cause.verify_message or cause.reason}
        if isinstance(cause, ssl.SSLError):
            return f"{cause.reason or cause}"
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
