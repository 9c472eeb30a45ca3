"""A newsletter as a message: multipart/alternative (text, then HTML), and the headers
mail clients and list tools read (Date, Message-ID, List-Id, List-Unsubscribe), each
encoded for its accents."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from aggregator.config.load import EmailSettings, NewsletterConfig
from aggregator.deliver.compose import Content
from aggregator.deliver.periods import Period


def unsubscribe_address(email: EmailSettings, newsletter: NewsletterConfig) -> str:
    """Where a reader unsubscribes: the configured address, else a mail to the sender."""
    if email.unsubscribe:
        return email.unsubscribe
    subject = quote(f"unsubscribe {newsletter.name}")
    return f"mailto:{email.sender_address}?subject={subject}"


def ascii_slug(text: str) -> str:
    """`text` as an ASCII word for a header's id part: "équipe" is "equipe"."""
    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "newsletter"


def list_id(newsletter: NewsletterConfig, domain: str) -> str:
    """The List-Id (RFC 2919): the name as a phrase, then an ASCII id under our domain."""
    return f"{newsletter.name} <{ascii_slug(newsletter.name)}.{domain}>"


def build_message(content: Content, email: EmailSettings, newsletter: NewsletterConfig,
                  period: Period, now: datetime) -> EmailMessage:
    """The message for every recipient of the newsletter (they go in the envelope only: a
    client's address is not shown to the boss)."""
    domain = email.sender_address.rpartition("@")[2]
    message = EmailMessage(policy=SMTP)
    message["Subject"] = content.subject
    message["From"] = email.sender
    message["To"] = Address(newsletter.name, addr_spec=email.sender_address)
    message["Date"] = format_datetime(now)
    slug = f"{ascii_slug(newsletter.name)}.{ascii_slug(period.key)}"
    message["Message-ID"] = make_msgid(slug, domain=domain)
    message["List-Id"] = list_id(newsletter, domain)
    message["List-Unsubscribe"] = f"<{unsubscribe_address(email, newsletter)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a digest
    message.set_content(content.text, cte="quoted-printable")
    message.add_alternative(content.html, subtype="html", cte="quoted-printable")
    return message
