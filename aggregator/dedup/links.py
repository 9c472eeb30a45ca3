"""Across feeds: a link reduced to the page it identifies, tracking and redirects gone."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

# Query parameters that only track the reader (campaigns, clicks, newsletters, AT Internet).
TRACKING_PARAMETERS = re.compile(
    r"^(utm_\w*|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_hsenc|_hsmi"
    r"|mkt_tok|xtor|at_\w+|ns_\w+|wt\.\w+|ref_src|spm|_ga|oly_\w+|vero_\w+)$",
    re.IGNORECASE,
)
# Redirect wrappers that carry the real address in a query parameter.
REDIRECT_WRAPPERS = {
    ("google.com", "/url"): ("q", "url"),
    ("l.facebook.com", "/l.php"): ("u",),
    ("lm.facebook.com", "/l.php"): ("u",),
    ("linkedin.com", "/redir/redirect"): ("url",),
    ("t.umblr.com", "/redirect"): ("z",),
    ("out.reddit.com", ""): ("url",),
    ("slack-redir.net", "/link"): ("url",),
    ("href.li", ""): ("",),
}
DEFAULT_PORTS = {"http": 80, "https": 443}


def _unwrap(host: str, path: str, query: str) -> str | None:
    """The address a known redirect wrapper points at, if this is one."""
    for (wrapper_host, wrapper_path), names in REDIRECT_WRAPPERS.items():
        if host != wrapper_host or (wrapper_path and path != wrapper_path):
            continue
        if names == ("",):  # href.li/?https://target
            return unquote(query) or None
        values = parse_qs(query)
        for name in names:
            if values.get(name):
                return values[name][0]
    return None


def canonical_link(link: str | None) -> str | None:
    """A link reduced to what identifies the page: one article, one canonical link.

    Tracking parameters, fragments, default ports, `www.`, the scheme and
    trailing slashes are dropped, and known redirect wrappers are unwrapped.
    Home pages (no path) give None: they identify a site, not an article.
    """
    if not link:
        return None
    for _ in range(3):  # a wrapper around a wrapper is rare; three levels are plenty
        parts = urlsplit(link.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        target = _unwrap(host, parts.path, parts.query)
        if not target:
            break
        link = target
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    port = f":{parts.port}" if parts.port and parts.port != DEFAULT_PORTS.get(
        parts.scheme.lower()) else ""
    query = urlencode(sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMETERS.match(k)
    ))
    path = re.sub(r"/+$", "", parts.path)
    if not path and not query:
        return None
    return f"{host}{port}{path}" + (f"?{query}" if query else "")
