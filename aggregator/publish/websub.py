"""Our feeds' WebSub hub told what changed: after a render, one publish ping per feed file
the render rewrote (and per earlier ping that failed), retried with backoff."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import requests

from aggregator.config.load import Settings
from aggregator.i18n import N_
from aggregator.models import PingRecord
from aggregator.store import Store

log = logging.getLogger(__name__)

# The files of the output folder that are feeds a reader subscribes to (archives are not).
FEED_FILES = frozenset({"atom.xml", "rss.xml", "feed.json", "digest.xml"})
# Waits before the second and third attempt of a ping the hub failed (5xx, no answer);
# a 4xx is the hub refusing that ping: tried once.
RETRY_DELAYS = (2.0, 8.0)
# Why a feed's ping was left for the next render (stored in English, as the hub's errors).
HUB_DOWN = N_("not tried: the hub failed an earlier ping of this render")


def feeds_to_ping(changed: Iterable[str], base_url: str,
                  failed: Iterable[PingRecord] = ()) -> list[str]:
    """The public addresses to ping: the feed files among the `changed` paths (relative
    to the output folder), then those whose last ping `failed`, each once, in order."""
    urls = [base_url + path for path in changed if path.rsplit("/", 1)[-1] in FEED_FILES
            and not path.startswith("archive/")]
    urls += [record.url for record in failed if not record.ok]
    return list(dict.fromkeys(urls))


def announce(store: Store, session: requests.Session, settings: Settings,
             changed: Sequence[str], now: datetime, *,
             sleep: Callable[[float], None] = time.sleep) -> list[PingRecord]:
    """Ping settings.websub_hub for every feed a render changed; keep each result for
    `status`. Nothing without a hub."""
    hub = settings.websub_hub
    if hub is None:
        return []
    urls = feeds_to_ping(changed, settings.base_url,
                         [p for p in store.pings() if p.hub == hub])
    records: list[PingRecord] = []
    for url in urls:
        if records and _hub_down(records[-1]):
            # Each ping would wait out the retries again: the rest wait for the next render.
            records.append(PingRecord(url, hub, now, False, 0, HUB_DOWN))
        else:
            records.append(ping_hub(session, hub, url, now, timeout=settings.timeout,
                                    sleep=sleep))
    if records:
        store.save_pings(records)
    return records


def _hub_down(record: PingRecord) -> bool:
    """Whether a ping found the hub down: failed every attempt (no answer, or 5xx), or
    was not tried for that reason."""
    return not record.ok and record.attempts in (0, 1 + len(RETRY_DELAYS))


def ping_hub(session: requests.Session, hub: str, url: str, now: datetime, *,
             timeout: float, sleep: Callable[[float], None] = time.sleep) -> PingRecord:
    """POST hub.mode=publish, hub.url=`url` to the hub, again after each of RETRY_DELAYS
    while it fails for want of an answer or with a 5xx."""
    attempts, error = 0, None
    for delay in (0.0, *RETRY_DELAYS):
        if delay:
            sleep(delay)
        attempts += 1
        error, final = _post(session, hub, url, timeout)
        if error is None or final:
            break
    if error:
        log.warning("WebSub: could not tell %s that %s changed (%d attempts): %s", hub, url,
                    attempts, error)
    else:
        log.info("WebSub: told %s that %s changed", hub, url)
    return PingRecord(url, hub, now, error is None, attempts, error)


def _post(session: requests.Session, hub: str, url: str,
          timeout: float) -> tuple[str | None, bool]:
    """One ping: why it failed (None: it did not) and whether trying again is pointless."""
    try:
        answer = session.post(hub, data={"hub.mode": "publish", "hub.url": url},
                              timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:300], False
    if 200 <= answer.status_code < 300:
        return None, True
    return f"HTTP {answer.status_code}", answer.status_code < 500
