"""Sending one message to its recipients over SMTP (smtplib): STARTTLS, SSL or plain;
temporary errors (4xx, a server down or refusing connections) tried again with a growing
wait for a bounded time; a recipient refused for good (5xx) never stops the others."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from aggregator.config.load import EmailSettings

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0  # seconds before the first new try; doubled at each, up to MAX_WAIT
MAX_WAIT = 60.0


@dataclass(frozen=True)
class SendReport:
    """What the server did with each recipient: accepted, or refused with its answer."""

    delivered: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)
    tries: int = 1


class TemporaryError(Exception):
    """A failure worth trying again: a 4xx answer, a connection refused or cut."""


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


def _connect(email: EmailSettings) -> smtplib.SMTP:
    """A connection to the server, encrypted as `security` says, logged in if asked."""
    # The system's certificate authorities (and SSL_CERT_FILE), read only when encrypting.
    context = ssl.create_default_context() if email.security != "none" else None
    if email.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(email.host, email.server_port,
                                                timeout=email.timeout, context=context)
    else:
        server = smtplib.SMTP(email.host, email.server_port, timeout=email.timeout)
    if email.security == "starttls":
        server.starttls(context=context)
    return server


def _send_once(message: EmailMessage, recipients: Sequence[str], email: EmailSettings,
               password: str | None) -> dict[str, tuple[int, bytes]]:
    """One try: the recipients the server refused with its answers (all others took it)."""
    try:
        with _connect(email) as server:
            if email.username:
                server.login(email.username, password or "")
            return server.send_message(message, from_addr=email.sender_address,
                                       to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as error:
        return dict(error.recipients)
    except smtplib.SMTPResponseException as error:  # the sender, the data, the login
        if 400 <= error.smtp_code < 500:
            raise TemporaryError(_answer(error.smtp_code, error.smtp_error)) from error
        raise
    except (OSError, smtplib.SMTPServerDisconnected) as error:  # refused, cut, timed out
        if isinstance(error, ssl.SSLCertVerificationError):
            raise
        raise TemporaryError(str(error) or type(error).__name__) from error


def send(message: EmailMessage, recipients: Sequence[str], email: EmailSettings,
         password: str | None, *, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None
         ) -> SendReport:
    """Send `message` to `recipients`; those refused for now are tried again for
    `email.retry_for`, or until `stop` is set (then refused with their last answer).
    Raises smtplib.SMTPException or OSError on a permanent failure of the whole sending
    (a bad login, a certificate that does not verify)."""
    deadline = clock() + email.retry_for.total_seconds()
    pending, delivered = list(recipients), []
    refused: dict[str, str] = {}
    wait, tries = FIRST_WAIT, 0
    while pending:
        tries += 1
        try:
            answers = _send_once(message, pending, email, password)
        except TemporaryError as error:
            answers = {address: (421, str(error).encode()) for address in pending}
        delivered += [a for a in pending if a not in answers]
        later = {a: _answer(code, text) for a, (code, text) in answers.items()
                 if 400 <= code < 500}
        refused |= {a: _answer(code, text) for a, (code, text) in answers.items()
                    if a not in later}
        pending = list(later)
        if not pending or clock() + wait > deadline or (stop and stop.is_set()):
            refused |= later
            break
        log.warning("%d recipients to try again in %.0f s: %s", len(pending), wait,
                    "; ".join(f"{a}: {answer}" for a, answer in later.items()))
        if stop is None:
            sleep(wait)
        elif stop.wait(wait):  # the daemon stops: no new try
            refused |= later
            break
        wait = min(wait * 2, MAX_WAIT)
    return SendReport(tuple(delivered), refused, tries)
