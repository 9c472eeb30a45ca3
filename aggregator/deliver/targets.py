"""An alert's target, an Apprise address holding the service's secret token: hashed where
the database names it, its secrets elided where it is shown. Apart from alerts_send.py
(the Store) so that `status` shows the alerts' targets without the ORM."""

from __future__ import annotations

import hashlib


def target_key(url: str) -> str:
    """How the database names a target: a hash, as the address holds the service's token."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def shown_address(url: str) -> str:
    """A target's address with its secrets elided (Apprise's privacy form), for logs."""
    import apprise  # a third of a second: only where alerts are sent or shown

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return url.split("://", 1)[0] + "://…"
    shown = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
    return shown.split("?", 1)[0]  # without Apprise's own options
