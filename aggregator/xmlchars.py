"""The characters XML 1.0 allows: every stage that writes text bound for XML keeps to them
(cleaning before storing, the templates, the OPML list), without importing the others."""

from __future__ import annotations

import re

# Code points XML 1.0 forbids: C0 controls but tab and line breaks, lone surrogates,
# U+FFFE and U+FFFF. A feed or a feeds.yaml that carries them must not break ours.
XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def strip_forbidden_chars(text: str) -> str:
    """Remove the characters that XML 1.0 forbids (control codes, lone surrogates)."""
    return XML_FORBIDDEN.sub("", text)
