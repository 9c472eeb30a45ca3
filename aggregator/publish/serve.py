"""A local HTTP server for the output folder (and the demo's sample feeds)."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import logging
import os
import re
import socket
import sys
import threading
import urllib.parse
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator.i18n import _
from aggregator.publish.health import Monitor
from aggregator.publish.output import NOT_FOUND_PAGE

if TYPE_CHECKING:  # the callback's module is imported by `run --serve` alone
    from aggregator.publish.websub_callback import WebSubCallback

log = logging.getLogger(__name__)

# Text compresses well; images and audio are compressed already.
_COMPRESSIBLE = re.compile(
    r"^(text/|image/svg\+xml|application/(atom\+xml|rss\+xml|rdf\+xml|xml|json|feed\+json))")

# Feed formats by file name first, then by extension. XML types carry no charset:
# the XML declaration inside the file is what names its encoding.
CONTENT_TYPES_BY_NAME = {
    "atom.xml": "application/atom+xml",
    "digest.xml": "application/atom+xml",
    "rss.xml": "application/rss+xml",
    "feed.json": "application/feed+json; charset=utf-8",
}
CONTENT_TYPES_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".xml": "application/xml",
    ".opml": "text/x-opml",
    ".json": "application/json; charset=utf-8",
}
ARCHIVE_FOLDER = "archive"


# A connection that sends nothing for this long is closed: idle ones held a thread each.
IDLE_TIMEOUT = 10.0
# Connections served at once; more are answered 503 and closed (a browser opens about 6).
MAX_CONNECTIONS = 64
# Control characters and a NUL have no place in a file name we write.
_MALFORMED = re.compile(r"[\x00-\x1f\x7f]")


class StaticHandler(SimpleHTTPRequestHandler):
    """Serves files with feed content types, ETag and Last-Modified, and 304 answers."""

    server_version = "cm-aggregator"
    monitor: Monitor | None = None
    timeout = IDLE_TIMEOUT  # socketserver sets it on each connection's socket

    def parse_request(self) -> bool:
        """The request line and headers, and a 400 for a path that names no file."""
        if not super().parse_request():
            return False
        if _malformed(self.path):
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed path")
            return False
        return True

    def do_GET(self) -> None:
        if not (self._monitoring(send_body=True) or self._websub()):
            super().do_GET()

    def do_POST(self) -> None:
        if not self._websub():
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "Method not allowed")

    def _websub(self) -> bool:
        """Answer the WebSub callback's routes when `run --serve` keeps subscriptions."""
        callback: WebSubCallback | None = getattr(self.server, "websub", None)
        token = callback.token(self.path) if callback else None
        if callback is None or token is None:
            return False
        if self.command == "GET":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            answer = callback.verify(token, {key: values[0] for key, values in query.items()})
        else:
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > callback.max_size:
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length.isdigit()
                                else HTTPStatus.LENGTH_REQUIRED)
                return True
            answer = callback.push(token, self.rfile.read(int(length)), dict(self.headers))
        self.send_response(answer.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)
        return True

    def do_HEAD(self) -> None:
        if not self._monitoring(send_body=False):
            super().do_HEAD()

    def _monitoring(self, *, send_body: bool) -> bool:
        """Answer /healthz or /metrics when there is a monitor; False for any other path."""
        route = self.path.split("?", 1)[0]
        if self.monitor is None or route not in ("/healthz", "/metrics"):
            return False
        if route == "/healthz":
            body, kind = self.monitor.health_json(), "application/json; charset=utf-8"
        else:
            body, kind = self.monitor.metrics(), "text/plain; version=0.0.4; charset=utf-8"
        data = body.encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(data)
        return True

    def guess_type(self, path: Any) -> str:
        name = Path(str(path))
        if name.parent.name == ARCHIVE_FOLDER:  # RFC 5005 archives: archive/YYYY-MM.xml
            kinds = {".xml": "atom.xml", ".json": "feed.json"}
            name = Path(kinds.get(name.suffix, name.name))
        return (CONTENT_TYPES_BY_NAME.get(name.name)
                or CONTENT_TYPES_BY_SUFFIX.get(name.suffix.lower())
                or super().guess_type(path))

    def send_head(self) -> Any:
        if _hidden(self.path):
            # The render's state file and half-written temporary files are not pages.
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        path = Path(self.translate_path(self.path))
        if not self._inside(path):
            # A symbolic link out of the folder, or to something other than a file.
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file() or not self._inside(path):
            return super().send_head()
        body = path.read_bytes()
        kind = self.guess_type(str(path))
        digest = hashlib.sha256(body).hexdigest()[:32]
        zipped = _COMPRESSIBLE.match(kind) and "gzip" in self.headers.get("Accept-Encoding", "")
        etag = f'"{digest}-gz"' if zipped else f'"{digest}"'
        mtime = int(path.stat().st_mtime)
        if self._fresh(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        if zipped:
            body = gzip.compress(body, 6, mtime=0)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        self.send_header("Vary", "Accept-Encoding")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        return _BytesBody(body)

    def list_directory(self, path: Any) -> None:
        """A folder without an index.html: no listing of its files, the 404 page."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """A 404 with the site's own page (404.html, in its language and style) when the
        render wrote one; any other error, or a folder never rendered, gets the plain one."""
        page = Path(self.directory) / NOT_FOUND_PAGE
        if code != HTTPStatus.NOT_FOUND or not (page.is_file() and self._inside(page)):
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, message)
        self.send_header("Content-Type", CONTENT_TYPES_BY_SUFFIX[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fresh(self, etag: str, mtime: int) -> bool:
        """Whether the client's copy is current: If-None-Match, else If-Modified-Since."""
        if "If-None-Match" in self.headers:
            return etag in self.headers["If-None-Match"]
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            return mtime <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def _inside(self, path: Path) -> bool:
        """Whether `path` is the folder, a folder in it or a regular file in it, once every
        symbolic link is followed; a path that does not exist yet is left to a 404."""
        root = os.path.realpath(self.directory)
        real = os.path.realpath(path)
        if not os.path.lexists(path):
            return True
        inside = real == root or real.startswith(root.rstrip(os.sep) + os.sep)
        return inside and (os.path.isfile(real) or os.path.isdir(real))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _malformed(url_path: str) -> bool:
    """Whether a request path cannot name a file: not absolute, or with a NUL, a control
    character or bytes that are not UTF-8 once decoded."""
    route = url_path.split("?", 1)[0].split("#", 1)[0]
    if not route.startswith("/"):
        return True
    try:
        decoded = urllib.parse.unquote(route, errors="strict")
    except UnicodeDecodeError:
        return True
    return bool(_MALFORMED.search(decoded))


def _hidden(url_path: str) -> bool:
    """Whether a request path names a dotfile or goes through a dot folder."""
    route = urllib.parse.unquote(url_path.split("?", 1)[0].split("#", 1)[0])
    return any(part.startswith(".") for part in route.split("/"))


class _BytesBody:
    """The file-like object SimpleHTTPRequestHandler copies to the client."""

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def read(self, _size: int = -1) -> bytes:
        data, self._data = self._data or b"", None
        return data

    def close(self) -> None:
        self._data = None


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `:PORT`, or `PORT`) to a host and a port number."""
    host, _colon, port = text.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(_("expected HOST:PORT, e.g. 127.0.0.1:8080, got %(text)r")
                         % {"text": text})
    return (host.strip("[]") or "127.0.0.1"), int(port)


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, up to `max_connections`; the ones over are answered 503."""

    daemon_threads = True
    websub: WebSubCallback | None = None  # the callback route, set by attach_websub

    def __init__(self, address: tuple[str, int], handler: Any, max_connections: int) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: the slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # One line, not socketserver's traceback on stderr: a client that hangs up is
        # no error of ours, and anything else is logged with its cause.
        log.warning("request from %s failed: %r", client_address[0], sys.exc_info()[1],
                    exc_info=log.isEnabledFor(logging.DEBUG))


def _refuse(request: socket.socket) -> None:
    """Answer 503 on a connection over the limit; sent at once, so never blocking."""
    body = b"Too many connections\n"
    answer = (b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n"
              b"Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
              % len(body)) + body
    try:
        request.setblocking(False)
        request.send(answer)
    except OSError:  # gone already, or its buffer full: it is closed either way
        pass


def make_server(directory: Path, host: str, port: int, monitor: Monitor | None = None, *,
                idle_timeout: float = IDLE_TIMEOUT,
                max_connections: int = MAX_CONNECTIONS) -> ThreadingHTTPServer:
    """A threaded server for `directory` (port 0 picks a free port).

    With a `monitor`, /healthz and /metrics answer beside the files. A connection idle
    for `idle_timeout` seconds is closed; at most `max_connections` are served at once.
    """
    handler = partial(type("Handler", (StaticHandler,),
                           {"monitor": monitor, "timeout": idle_timeout}),
                      directory=str(directory))
    return BoundedServer((host, port), handler, max_connections)


def attach_websub(server: ThreadingHTTPServer, callback: WebSubCallback) -> None:
    """Answer WebSub's verifications and pushes at /websub/<token> beside the files."""
    assert isinstance(server, BoundedServer)
    server.websub = callback


def start_server(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve in a background thread; stop it with `server.shutdown()`."""
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    return thread


def server_url(server: ThreadingHTTPServer) -> str:
    """The base URL a server answers on."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"
