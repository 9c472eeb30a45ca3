r"""Interface translations: the gettext catalogs of the HTML templates, compiled at load time.

The templates' messages are in English (the msgids); each other language has a
catalog `locale/<language>/LC_MESSAGES/messages.po`, read and compiled in memory
so no binary .mo file is kept in the repository. To update the catalogs after
editing the templates (from the repository root):

    pybabel extract -F babel.cfg --no-location --omit-header \
        -o aggregator/publish/locale/messages.pot .
    pybabel update -i aggregator/publish/locale/messages.pot \
        -d aggregator/publish/locale --no-location
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language of the msgids: needs no catalog


def catalog_path(language: str) -> Path:
    """Where the .po catalog of `language` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    """The parsed .po catalog of `language`."""
    with catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def load_translations(language: str) -> gettext.NullTranslations:
    """The translations of the interface into `language` (identity for English)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    compiled = BytesIO()
    # Fuzzy entries are guesses by `pybabel update`: showing them would be wrong.
    write_mo(compiled, read_catalog(language), use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)
