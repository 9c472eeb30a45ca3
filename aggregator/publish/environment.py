"""The Jinja2 environment every page and feed is rendered with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from aggregator.i18n import load_translations
from aggregator.poll.values import cap_text
from aggregator.publish.feeds import XmlFragment, rfc822, rfc3339
from aggregator.publish.safe import plain_text
from aggregator.publish.typography import typeset
from aggregator.xmlchars import strip_forbidden_chars


def templates_dir() -> Path:
    """The templates shipped in the wheel, else the repository's top-level folder."""
    package = Path(__file__).parent.parent
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def make_environment(directory: Path | None = None, language: str = "fr") -> Environment:
    """A Jinja2 environment that escapes everything, fails on undefined names and
    translates the interface into `language` (gettext, `_` and `ngettext`)."""
    env = Environment(
        loader=FileSystemLoader(directory or templates_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        # Entry text is cleaned when stored; feed titles, names and settings are not,
        # and one control character would make atom.xml unreadable.
        finalize=_xml_safe,
    )
    # newstyle: `_("… %(name)s", name=x)` escapes `x` and fails on a missing variable.
    # The i18n extension adds this method at run time, hence the cast for mypy.
    cast(Any, env).install_gettext_translations(load_translations(language), newstyle=True)
    env.filters["rfc3339"] = rfc3339
    env.filters["rfc822"] = rfc822
    env.filters["plain"] = plain_text  # RSS's text fields, which readers may take for HTML
    # The pages' titles and excerpts only: feed readers do their own typography.
    env.filters["typography"] = typeset
    env.filters["shorten"] = shorten
    return env


def shorten(text: str, limit: int) -> str:
    """A card's excerpt cut to about `limit` characters: left whole when only a twentieth
    longer (cutting three words saves nothing), else cut as stored text is (`cap_text`)."""
    return text if len(text) <= limit + limit // 20 else cap_text(text, limit)


def _xml_safe(value: Any) -> Any:
    """Every value a template writes, without the characters XML forbids."""
    if isinstance(value, XmlFragment):  # its values came through here when it was rendered
        return value
    if isinstance(value, Markup):
        return Markup(strip_forbidden_chars(value))
    if isinstance(value, str):
        return strip_forbidden_chars(value)
    return value

