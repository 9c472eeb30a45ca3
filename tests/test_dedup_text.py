"""Text folding, title keys and HTML blocks, checked against their plain definitions."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from aggregator.dedup.text import (
    _WORD_BYTES,
    _WORD_OR_SEPARATOR_BYTES,
    FOLDED_PUNCTUATION,
    LOOK_ALIKES,
    _fold,
    _lower,
    _unaccent,
    normalize_text,
    paragraphs,
    title_key,
)
from tests.conftest import DATA

# --- normalize_text and title_key -----------------------------------------------------


def test_normalize_text_folds_french_typography() -> None:
    text = "Le cœur de l’Œuvre : « étrange »… À CÔTÉ, Ærø — web 2.0 ‘ok’ “oui”"
    assert normalize_text(text) == "le coeur de l oeuvre etrange a cote aero web 2 0 ok oui"


def test_normalize_text_makes_typographic_variants_equal() -> None:
    fancy = "Et puis le temps a passé, les mœurs se sont développées… « à quoi ça sert ? »"
    flat = "ET PUIS LE TEMPS A PASSE, LES MOEURS SE SONT DEVELOPPEES... \"A QUOI CA SERT ?\""
    assert normalize_text(fancy) == normalize_text(flat) == (
        "et puis le temps a passe les moeurs se sont developpees a quoi ca sert")


def test_normalize_text_of_punctuation_only_is_empty() -> None:
    assert normalize_text(" « … » — ★ ") == ""


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Bonne année ! - Hellocoton", "bonne annee"),
        ("Vis ma vie de CM | Blogothèque CM", "vis ma vie de cm"),
        ("Bonne année ! – Le Coin", "bonne annee"),
        ("Bonne année ! :: Planète CM", "bonne annee"),
        ("Bonne année ! » Mon blog", "bonne annee"),
        ("Bonne année ! · Mon blog", "bonne annee"),
        ("« Le métier qui n’existe pas » - Hellocoton", "le metier qui n existe pas"),
        ("[Repost] Pourquoi je suis Community Manager ?", "pourquoi je suis community manager"),
        ("(Vidéo) Le métier qui n’existe pas", "le metier qui n existe pas"),
        ("Repost : Vis ma vie de CM", "vis ma vie de cm"),
        ("RT: Vis ma vie de CM", "vis ma vie de cm"),
        ("Republication : Bonne année !", "bonne annee"),
        ("Bilan 2013 - Partie 1 - Mon blog", "bilan 2013 partie 1"),  # only the last tail
    ],
)
def test_title_key_cuts_the_site_name(title: str, expected: str) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # one word before the dash: the dash belongs to the title
        ("Facebook - les nouveautés de la semaine", "facebook les nouveautes de la semaine"),
        ("CM - Bilan", "cm bilan"),
        # more than three words after it: a subtitle, or a site name too long to tell
        ("Pourquoi je suis CM ? | Mon métier, c’est le web",
         "pourquoi je suis cm mon metier c est le web"),
        ("Bonne année ! — Le Coin des CM", "bonne annee le coin des cm"),
    ],
)
def test_title_key_keeps_what_may_be_the_title(title: str, expected: str) -> None:
    assert title_key(title) == expected


def test_title_key_gives_episodes_of_a_series_the_same_key() -> None:
    # Known and accepted: the text, not the title, keeps episodes apart.
    assert title_key("Vis ma vie de CM – épisode 3") == title_key("Vis ma vie de CM")


# --- paragraphs -----------------------------------------------------------------------


def test_paragraphs_splits_blocks_and_drops_inline_markup() -> None:
    html = ("<p>Bonjour à toutes et à tous,</p><div><p>Un <em>ton</em>, un style</p></div>"
            "Texte libre<br/>Ligne&nbsp;2<ul><li>Un</li><li>Deux</li></ul><p>   </p>"
            "<blockquote><p>&laquo;&nbsp;CM&nbsp;&raquo; &eacute;trange</p></blockquote>")
    assert paragraphs(html) == ["bonjour a toutes et a tous", "un ton un style", "texte libre",
                                "ligne 2", "un", "deux", "cm etrange"]


def test_paragraphs_of_plain_or_empty_text() -> None:
    assert paragraphs("Texte sans balise, sur une ligne.") == ["texte sans balise sur une ligne"]
    assert paragraphs("") == []
    assert paragraphs("<p></p><br/><hr/>") == []


# --- the fast folding against its definitions -----------------------------------------


def test_folded_punctuation_folds_to_spaces() -> None:
    for character in FOLDED_PUNCTUATION:
        assert _unaccent(_lower(character), _WORD_BYTES).strip() == "", hex(ord(character))


@pytest.mark.parametrize("table", [_WORD_BYTES, _WORD_OR_SEPARATOR_BYTES])
def test_latin_1_text_folds_as_through_nfkd(table: bytes) -> None:
    """The shortcut for text of Latin-1 and French punctuation gives what NFKD and
    dropping accents give, but for the number of spaces (which callers fold)."""
    alphabet = ([chr(c) for c in range(256)] + list(FOLDED_PUNCTUATION)
                + ["ő", "µ", "ﬁ", "\u0301", "Ω", "ŝ", "œ", "Œ", "ł", "😀", "\x00"] * 4)
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        blocks = [" ".join(b.split()) for b in _fold(text, table).split("\x00")]
        assert blocks == [" ".join(b.split())
                          for b in _unaccent(_lower(text), table).split("\x00")], repr(text)


def _normalize_by_definition(text: str) -> str:
    """normalize_text as first written: every character tested for a combining mark."""
    folded = text.casefold()
    for letter, spelled in (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("ł", "l"),
                            ("đ", "d")):
        folded = folded.replace(letter, spelled)
    # Invisible characters (format characters, variation selectors) removed.
    visible = "".join(c for c in folded if not _is_invisible(c))
    folded = unicodedata.normalize("NFKD", visible)
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    # Look-alike letters made Latin in words that hold a Latin letter.
    bare = re.sub(r"\w+", lambda m: m.group().translate(str.maketrans(LOOK_ALIKES))
                  if re.search("[a-z]", m.group()) else m.group(), bare)
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


def _is_invisible(character: str) -> bool:
    """Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): the format
    characters but those that show (Arabic number signs, ...), and a few others."""
    code = ord(character)
    if unicodedata.category(character) == "Cf":
        return not (0x600 <= code <= 0x6ff or 0x110bd <= code <= 0x110cd
                    or 0xfff9 <= code <= 0xfffb)
    return (0xfe00 <= code <= 0xfe0f or 0x180b <= code <= 0x180f
            or code in (0x34f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xffa0))


def test_normalize_text_agrees_with_its_definition_on_real_text() -> None:
    """The fast accent stripping gives the same text on every corpus document, in
    every language and script it holds (fingerprints stored earlier stay valid)."""
    paths = sorted((DATA / "corpus").rglob("*.xml"))[::3] + sorted(DATA.glob("*.*"))
    checked = 0
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for block in text.split("<"):
            assert normalize_text(block) == _normalize_by_definition(block), block
            checked += 1
    assert checked > 10_000


def _reference_normalize(text: str) -> str:
    """normalize_text as first written, with regular expressions: the fast one must agree."""
    folded = text.casefold()
    for letter, spelled in (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("ł", "l"),
                            ("đ", "d")):
        folded = folded.replace(letter, spelled)
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded)
                   if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


@pytest.mark.parametrize("text", [
    "ℌello Ⅻ ﬁn", "Ça-va ? l’été « déjà »… Straße, Œuvre, Æther", "a\x00b", "\u00a0x\u202fy",
    "Ωmega 東京 Ünïcödé 😀 n°3", "", "   ", "e\u0301te\u0301 — 2026", "ＦＵＬＬ ｗｉｄｔｈ",
])
def test_normalize_text_agrees_with_the_plain_definition(text: str) -> None:
    assert normalize_text(text) == _reference_normalize(text)


def test_paragraphs_agree_block_by_block() -> None:
    html = ("<p>L’été <b>déjà</b></p><div>  </div><br><li>Œuvre n°3</li>"
            "<p>a\x00b</p><h2>Titre &amp; sous-titre</h2>fin")
    blocks = re.split(r"<(?:/?(?:p|div|br|li|h2)\b)[^>]*>", html)
    expected = [t for t in (_reference_normalize(re.sub(r"<[^>]*>", " ", b).replace(
        "&amp;", "&")) for b in blocks) if t]
    assert paragraphs(html) == expected
    assert paragraphs(html.replace("\x00", "")) == [
        "l ete deja", "oeuvre n 3", "ab", "titre sous titre", "fin"]


# --- what hides a word from the comparison, undone ------------------------------------


@pytest.mark.parametrize(("disguised", "plain"), [
    ("com\u200bmunity ma\u00adna\u00adger", "community manager"),
    ("ré\u200dseaux\u2060 so\ufeffciaux\u200e", "reseaux sociaux"),
    ("Сommunity mаnаgеr", "community manager"),  # Cyrillic С, а, е
    ("ΡΑRΙS", "paris"),  # Greek Ρ, Α, Ι
    ("ｃｏｍｍｕｎｉｔｙ", "community"),  # full width, through NFKD
    ("ﬁdèle vıdéo", "fidele video"),
])
def test_invisible_characters_and_look_alikes_fold_away(disguised: str, plain: str) -> None:
    assert normalize_text(disguised) == plain
    assert paragraphs(f"<p>{disguised}</p><p>{disguised}</p>") == [plain, plain]


def test_words_all_in_another_script_are_not_made_latin() -> None:
    # "сор" and "рос" are Russian words: only words mixing scripts are disguises.
    assert normalize_text("сор рос мир") == ""
    assert normalize_text("Ελληνικά") == ""
    assert normalize_text("un mot en сор") == "un mot en"
