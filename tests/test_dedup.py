"""Identity keys, link normalization, signatures and in-document de-duplication."""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from aggregator.dedup import (
    _WORD_BYTES,
    _WORD_OR_SEPARATOR_BYTES,
    FOLDED_PUNCTUATION,
    INDEX_KEYS,
    MAX_CANDIDATES,
    POSTINGS_PER_KEY,
    SKETCH_LOOKUP,
    SKETCH_SIZE,
    Postings,
    _fold,
    _lower,
    _unaccent,
    canonical_link,
    distrust_shared_guids,
    entry_identity,
    entry_signature,
    filled_twice,
    find_boilerplate,
    fingerprint,
    hash64,
    index_keys,
    lookup_keys,
    needs_shingles,
    normalize_link,
    normalize_text,
    pack_sketch,
    paragraph_hash,
    paragraphs,
    rank_candidates,
    same_article,
    shingle_hashes,
    tail_hash,
    title_key,
    unpack_sketch,
)
from aggregator.models import CleanEntry, Fingerprint, ParsedEntry
from tests.conftest import DATA

WHEN = datetime(2013, 1, 22, 20, 14, tzinfo=UTC)


def parsed(guid: str | None, link: str | None, title: str = "t") -> ParsedEntry:
    return ParsedEntry(guid=guid, link=link, title=title, title_is_html=False, author=None,
                       published=None, updated=None, content=None, summary=None)


def clean(identity: str, title: str) -> CleanEntry:
    return CleanEntry(identity=identity, signature="s", title=title, link=None, author=None,
                      published=None, updated=None, content="", summary="", excerpt="")


# --- identity -------------------------------------------------------------------------


def test_identity_prefers_the_guid() -> None:
    key = entry_identity("https://mon-metier-web.example/?p=242",
                         "https://mon-metier-web.example/autre/", "Titre", "Corps")
    assert key == "id:https://mon-metier-web.example/?p=242"


def test_identity_falls_back_to_the_normalized_link() -> None:
    key = entry_identity(None, "HTTPS://Mon-Metier-Web.EXAMPLE/2012/04/Billet/#comments",
                         "Titre", "Corps")
    assert key == "link:https://mon-metier-web.example/2012/04/Billet/"


def test_identity_falls_back_to_a_hash_of_title_and_content() -> None:
    expected = hashlib.sha256(b"Titre\x1fCorps").hexdigest()
    assert entry_identity(None, None, "Titre", "Corps") == "hash:" + expected


def test_empty_guid_and_link_count_as_missing() -> None:
    assert entry_identity("", "", "Titre", "Corps").startswith("hash:")


def test_hash_identity_depends_on_title_and_content() -> None:
    base = entry_identity(None, None, "Titre", "Corps")
    assert entry_identity(None, None, "Titre", "Autre corps") != base
    assert entry_identity(None, None, "Autre titre", "Corps") != base
    # the separator keeps "ab"+"c" apart from "a"+"bc"
    assert entry_identity(None, None, "ab", "c") != entry_identity(None, None, "a", "bc")


def test_identity_is_stable_across_calls() -> None:
    args = (None, None, "Vis ma vie de CM", "<p>Je fais un drôle de métier.</p>")
    assert entry_identity(*args) == entry_identity(*args)
    assert entry_identity("g", None, "a", "b") == entry_identity("g", None, "c", "d")


def test_long_guid_is_hashed_to_a_bounded_length() -> None:
    guid = "tag:blogger.com,1999:" + "x" * 2000
    key = entry_identity(guid, None, "t", "c")
    digest = hashlib.sha256(("id:" + guid).encode()).hexdigest()
    assert key == "id:sha256:" + digest
    assert len(key) <= 500


def test_long_guids_stay_distinct() -> None:
    a = entry_identity("x" * 600 + "a", None, "t", "c")
    b = entry_identity("x" * 600 + "b", None, "t", "c")
    assert a != b


def test_guid_at_the_limit_is_kept_verbatim() -> None:
    guid = "g" * (500 - len("id:"))
    assert entry_identity(guid, None, "t", "c") == "id:" + guid


def test_long_link_is_hashed_to_a_bounded_length() -> None:
    link = "https://blog.example/" + "a" * 1000
    key = entry_identity(None, link, "t", "c")
    assert len(key) <= 500
    assert key.endswith(hashlib.sha256(("link:" + link).encode()).hexdigest())


def test_long_link_key_keeps_its_link_prefix() -> None:
    key = entry_identity(None, "https://blog.example/" + "a" * 1000, "t", "c")
    assert key.startswith("link:sha256:")


# --- normalize_link -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("HTTPS://Blog.EXAMPLE/Billet", "https://blog.example/Billet"),
        ("https://blog.example/a#comments", "https://blog.example/a"),
        ("https://blog.example", "https://blog.example/"),
        ("https://blog.example/?p=242", "https://blog.example/?p=242"),
        ("  https://blog.example/a  ", "https://blog.example/a"),
        ("https://blog.example/A/B", "https://blog.example/A/B"),
    ],
)
def test_normalize_link(link: str, expected: str) -> None:
    assert normalize_link(link) == expected


# --- signature ------------------------------------------------------------------------


def test_signature_is_stable() -> None:
    args = ("Titre", "https://b.example/", "Laure", "<p>c</p>", "s", ["https://b.example/a.mp3"])
    assert entry_signature(*args) == entry_signature(*args)
    assert len(entry_signature(*args)) == 64


@pytest.mark.parametrize("field", range(6))
def test_signature_changes_with_every_field(field: int) -> None:
    args: list[object] = ["Titre", "https://b.example/", "Laure", "<p>c</p>", "s",
                          ["https://b.example/a.mp3"]]
    changed = list(args)
    changed[field] = ["https://b.example/b.mp3"] if field == 5 else "autre"
    assert entry_signature(*changed) != entry_signature(*args)  # type: ignore[arg-type]


# --- distrust_shared_guids ------------------------------------------------------------


def test_shared_guid_falls_back_to_links() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", "https://b.example/2")]
    result = distrust_shared_guids(entries)
    assert [e.guid for e in result] == [None, None]
    assert [e.link for e in result] == ["https://b.example/1", "https://b.example/2"]


def test_shared_guid_entries_get_distinct_identities() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", "https://b.example/2")]
    keys = {entry_identity(e.guid, e.link, e.title, "") for e in distrust_shared_guids(entries)}
    assert keys == {"link:https://b.example/1", "link:https://b.example/2"}


def test_unique_guids_are_trusted() -> None:
    entries = [parsed("g1", "https://b.example/1"), parsed("g2", "https://b.example/2")]
    assert distrust_shared_guids(entries) == entries


def test_guid_repeated_with_the_same_link_is_trusted() -> None:
    entries = [parsed("g1", "https://b.example/1"), parsed("g1", "https://b.example/1")]
    assert [e.guid for e in distrust_shared_guids(entries)] == ["g1", "g1"]


def test_only_the_shared_guid_is_dropped() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("own", "https://b.example/2"),
               parsed("same", "https://b.example/3")]
    assert [e.guid for e in distrust_shared_guids(entries)] == [None, "own", None]


def test_shared_guid_without_a_link_is_kept() -> None:
    entries = [parsed("same", "https://b.example/1"), parsed("same", None)]
    assert [e.guid for e in distrust_shared_guids(entries)] == [None, "same"]


def test_distrust_keeps_other_fields() -> None:
    entry = parsed("same", "https://b.example/1", title="Titre")
    other = replace(entry, link="https://b.example/2")
    assert distrust_shared_guids([entry, other])[0] == replace(entry, guid=None)


# --- canonical_link -------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameter",
    ["utm_source", "utm_medium", "utm_campaign", "utm_content", "UTM_Term", "fbclid", "gclid",
     "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
     "mkt_tok", "xtor", "at_medium", "ns_source", "wt.mc_id", "WT.mc_id", "ref_src", "spm",
     "_ga", "oly_enc_id", "vero_id"],
)
def test_canonical_link_drops_each_tracking_parameter(parameter: str) -> None:
    link = f"https://blog.example/billet/?{parameter}=x&page=2"
    assert canonical_link(link) == "blog.example/billet?page=2"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://blog.example/billet/?utm_source=twitter&utm_medium=social",
         "blog.example/billet"),
        ("https://blog.example/?p=242&utm_source=x", "blog.example?p=242"),
        ("https://blog.example/a?s=cm&p=2", "blog.example/a?p=2&s=cm"),  # sorted, kept
        ("https://blog.example/a#comments", "blog.example/a"),
        ("https://blog.example/a/?xtor=RSS-3#more-131", "blog.example/a"),
        ("http://blog.example:80/a", "blog.example/a"),
        ("https://blog.example:443/a", "blog.example/a"),
        ("https://blog.example:8443/a", "blog.example:8443/a"),
        ("http://blog.example:443/a", "blog.example:443/a"),  # 443 is not http's port
        ("https://www.blog.example/a", "blog.example/a"),
        ("http://blog.example/a", "blog.example/a"),
        ("HTTPS://WWW.Blog.Example/A/B/", "blog.example/A/B"),  # the path keeps its case
        ("https://blog.example/a//", "blog.example/a"),
        ("  https://blog.example/a  ", "blog.example/a"),
    ],
)
def test_canonical_link(link: str, expected: str) -> None:
    assert canonical_link(link) == expected


@pytest.mark.parametrize(
    "wrapped",
    [
        "https://www.google.com/url?q=https://blog.example/a/?utm_source=x&sa=D&usg=AFQ",
        "https://www.google.com/url?rct=j&sa=t&url=https://blog.example/a/&ct=ga&usg=AFQ",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fblog.example%2Fa%3Ffbclid%3DIwAR1&h=AT0",
        "https://lm.facebook.com/l.php?u=https%3A%2F%2Fblog.example%2Fa",
        "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fblog.example%2Fa&urlhash=x",
        "https://t.umblr.com/redirect?z=https%3A%2F%2Fblog.example%2Fa&t=x",
        "https://out.reddit.com/t3_abc?url=https%3A%2F%2Fblog.example%2Fa&token=x",
        "https://slack-redir.net/link?url=https%3A%2F%2Fblog.example%2Fa",
        "https://href.li/?https://blog.example/a",
        # a wrapper around a wrapper
        "https://www.google.com/url?q=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3D"
        "https%253A%252F%252Fblog.example%252Fa",
    ],
)
def test_canonical_link_unwraps_redirects(wrapped: str) -> None:
    assert canonical_link(wrapped) == "blog.example/a"


def test_a_wrapper_without_its_target_is_a_plain_link() -> None:
    assert canonical_link("https://www.google.com/url?sa=D") == "google.com/url?sa=D"


@pytest.mark.parametrize(
    "link",
    ["https://blog.example/", "https://blog.example", "https://www.blog.example/?utm_source=x#top",
     "https://www.google.com/url?q=https://blog.example/&sa=D",
     "mailto:laure@blog.example", "ftp://blog.example/a", "javascript:alert(1)",
     "/2013/01/billet/", "", None],
)
def test_canonical_link_of_a_home_page_or_no_web_page_is_none(link: str | None) -> None:
    assert canonical_link(link) is None


def test_a_home_page_with_a_real_query_is_a_page() -> None:
    assert canonical_link("https://blog.example/?p=3") == "blog.example?p=3"


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


# --- paragraphs and boilerplate -------------------------------------------------------


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


FOOTER = "rendez vous sur hellocoton"
CREDIT_2017 = "l article bonne annee est apparu en premier sur isabelle le numerique a coeur"
CREDIT_REVUE = ("l article revue de presse de la semaine est apparu en premier sur isabelle le "
                "numerique a coeur")


def test_find_boilerplate_keeps_paragraphs_repeated_in_two_entries() -> None:
    documents = [["un billet", FOOTER], ["un autre billet", FOOTER, FOOTER], ["un troisieme"]]
    assert find_boilerplate(documents) == {paragraph_hash(FOOTER)}


def test_a_paragraph_repeated_within_one_entry_only_is_not_boilerplate() -> None:
    assert find_boilerplate([["un billet", FOOTER, FOOTER], ["un autre billet"]]) == set()


def test_find_boilerplate_keeps_credit_lines_that_only_end_alike() -> None:
    documents = [["bonne annee 2017", CREDIT_2017], ["trois billets a lire", CREDIT_REVUE]]
    assert find_boilerplate(documents) == {hash64("t:sur isabelle le numerique a coeur")}
    assert tail_hash(CREDIT_2017) == tail_hash(CREDIT_REVUE) is not None


@pytest.mark.parametrize(
    ("paragraph", "has_tail"),
    [
        ("merci de me lire et partager", False),  # six words: the whole line, already a key
        ("merci de me lire et de partager", True),
        (" ".join(["mot"] * 30), True),
        (" ".join(["mot"] * 31), False),  # a long paragraph is text, never a template
    ],
)
def test_tail_hash_is_for_short_paragraphs(paragraph: str, has_tail: bool) -> None:
    assert (tail_hash(paragraph) is not None) == has_tail


# --- fingerprint ----------------------------------------------------------------------


def test_fingerprint_shingles_five_word_runs() -> None:
    found = fingerprint("Titre", None, ["un deux trois quatre", "cinq six sept"])
    runs = ["un deux trois quatre cinq", "deux trois quatre cinq six",
            "trois quatre cinq six sept"]
    assert found.shingle_set == set().union(*(shingle_hashes(r.split()) for r in runs))
    assert found.size == 3
    assert found.sketch == tuple(sorted(found.shingle_set))
    assert found.lead is None  # fewer than ten words


def test_a_shingle_hash_depends_on_its_words_and_their_order_only() -> None:
    words = ["le", "community", "manager", "anime", "la", "page"]
    assert shingle_hashes(words) == shingle_hashes(words[:5]) | shingle_hashes(words[1:])
    assert shingle_hashes(words[:5]) != shingle_hashes([words[1], words[0], *words[2:5]])
    assert len(shingle_hashes(["a"] * 5) | shingle_hashes(["b"] * 5)) == 2
    assert shingle_hashes(words[:2]) != shingle_hashes(words[1::-1])  # a short text


def test_shingle_hashes_are_stable() -> None:
    # Stored fingerprints hold these values: a change of the hash needs a migration
    # that fingerprints the stored entries again (as 0009 did).
    assert shingle_hashes(["le", "community", "manager", "anime", "la"]) == {2489089104846860971}
    assert shingle_hashes(["un", "deux"]) == {-1181955667606498583}


def test_shingle_hashes_are_the_exclusive_or_of_word_hashes_by_place() -> None:
    """What shingle_hashes computes over whole texts at once, written one run at a time."""
    def place_hash(word: str, place: int) -> int:
        digest = hashlib.blake2b(word.encode(), digest_size=40, person=b"shingle").digest()
        return int.from_bytes(digest[8 * place:8 * place + 8], "big", signed=True)

    def one_by_one(words: list[str]) -> set[int]:
        runs = [words[i:i + 5] for i in range(max(len(words) - 4, 1))] if words else []
        found = set()
        for run in runs:
            value = 0
            for place, word in enumerate(run):
                value ^= place_hash(word, place)
            found.add(value)
        return found

    rng = random.Random(11)
    vocabulary = ["le", "la", "cm", "réseau", "modération", "x", "2026", "été"]
    for length in [*range(12), 40, 333]:
        words = [rng.choice(vocabulary) for _ in range(length)]
        assert shingle_hashes(words) == one_by_one(words), words


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


def test_shingle_hashes_spread_over_the_whole_range() -> None:
    # A sketch keeps the smallest hashes: they must be a fair sample of the text's runs.
    words = [f"mot{n % 300}" for n in random.Random(7).sample(range(10**6), 20_000)]
    hashes = shingle_hashes(words)
    assert len(hashes) == len(words) - 4  # 19,996 different runs, no collision
    negative = sum(h < 0 for h in hashes) / len(hashes)
    assert 0.48 < negative < 0.52
    quarter = sum(h < -2**62 for h in hashes) / len(hashes)
    assert 0.23 < quarter < 0.27
def test_fingerprint_lead_link_and_title() -> None:
    words = [f"mot{i}" for i in range(12)]
    found = fingerprint("Bonne année ! - Hellocoton",
                        "https://www.blog.example/a/?utm_source=x", [" ".join(words)])
    assert found.lead == hash64("lead:" + " ".join(words[:10]))
    assert found.link == "blog.example/a"
    assert found.title == "bonne annee"


def test_the_sketch_keeps_the_smallest_hashes_only() -> None:
    found = fingerprint("Titre", None, [" ".join(f"mot{i}" for i in range(200))])
    assert found.size == len(found.shingle_set) == 196
    assert len(found.sketch) == SKETCH_SIZE == 128
    assert found.sketch == tuple(sorted(found.shingle_set)[:SKETCH_SIZE])
    assert max(found.sketch) < min(found.shingle_set - set(found.sketch))


def test_fingerprint_leaves_boilerplate_out() -> None:
    blocks = ["bonne annee 2017 a toutes et a tous", CREDIT_2017, FOOTER]
    known = {paragraph_hash(FOOTER), tail_hash(CREDIT_REVUE)}
    assert fingerprint("t", None, blocks, known).shingles == fingerprint(
        "t", None, blocks[:1]).shingles != b""


# --- same_article ---------------------------------------------------------------------


ARTICLE = paragraphs(
    "<p>Ces personnes, elles sont nombreuses. Dans ces personnes, il y a ma famille et quelques "
    "uns de mes amis.</p><p>Mon métier, lui il est nouveau. Il a à peine dix ans. Mon métier, "
    "c’est le web. Le web, c’est large, et il évolue constamment.</p>")
COMMENTS = paragraphs(
    "<p>Super intéressant comme article ! Quelque part je m’y reconnais aussi et pourtant j’ai "
    "un métier que l’on peut qualifier de « classique ». Je suis traductrice, mais voilà, cela "
    "se passe aussi essentiellement devant un PC et sur le Web.</p>")
TEASER = paragraphs("<p>Bon ben finalement je n’ai pas de regret, mais avec le recul.</p>")


def stored(found: Fingerprint) -> Fingerprint:
    return replace(found, shingles=b"", lead=None)


def test_same_canonical_link_is_the_same_article() -> None:
    new = fingerprint("Copie", "https://www.blog.example/a/?utm_source=x", [])
    old = fingerprint("Original", "http://blog.example/a", ["autre texte"])
    assert same_article(new, stored(old)) == "link"


def test_text_contained_in_a_longer_copy_is_the_same_article() -> None:
    original = fingerprint("Aux personnes", "https://blog.example/a", ARTICLE)
    copy = fingerprint("Autre titre", "https://agregateur.example/1", ARTICLE + COMMENTS)
    assert original.size == 42  # 46 words: long enough to decide alone
    assert same_article(copy, stored(original)) == "content"
    assert same_article(original, stored(copy)) == "content"


def test_a_short_text_needs_the_same_title() -> None:
    original = fingerprint("« Le métier qui n’existe pas »", "https://blog.example/a", TEASER)
    copy = fingerprint("« Le métier qui n’existe pas » - Hellocoton",
                       "https://hellocoton.example/1", [*TEASER, "lire la suite"])
    other = fingerprint("Revue de presse", "https://hellocoton.example/2",
                        [*TEASER, "lire la suite"])
    assert original.size == 9
    assert same_article(copy, stored(original)) == "title and content"
    assert same_article(other, stored(original)) is None


def test_a_generic_title_alone_is_not_the_same_article() -> None:
    ours = fingerprint("Bonne année !", "https://a.example/1",
                       ["bonne annee a toutes et a tous merci d avoir lu et commente mes billets"])
    theirs = fingerprint("Bonne année !", "https://b.example/1",
                         ["bonne annee a toutes et a tous que 2014 vous apporte de belles "
                          "communautes"])
    assert same_article(ours, stored(theirs)) is None


def test_long_texts_sharing_one_paragraph_are_different_articles() -> None:
    first = fingerprint("Un", None, ARTICLE[:1] + COMMENTS)
    second = fingerprint("Deux", None, ARTICLE)
    assert min(first.size, second.size) >= 30
    assert same_article(first, stored(second)) is None
    assert same_article(second, stored(first)) is None


def test_a_line_or_two_must_be_the_very_same_text() -> None:
    title, five_words = "Designing the Worst Volume Sliders Possible", ["this is a fun challenge"]
    new = fingerprint(title, "https://x.example/a", five_words)
    old = fingerprint(title, "https://y.example/a", five_words)
    assert (new.size, old.size) == (1, 1)
    assert same_article(new, stored(old)) == "title and content"
    other_title = fingerprint("Squarespace Domains", "https://z.example/a", five_words)
    assert same_article(other_title, stored(old)) is None
    other_text = fingerprint(old.title, None, ["this is a fun idea"])
    assert same_article(other_text, stored(old)) is None


AD = ("Pixel Rouge, agence social media, recrute un community manager H/F en CDI à {city}. "
      "Rattaché à la directrice de clientèle, vous animez les comptes de nos clients du "
      "secteur {sector} sur Instagram, TikTok et LinkedIn. Vous proposez chaque mois un "
      "calendrier éditorial, rédigez les publications et répondez aux commentaires. Vous "
      "suivez les indicateurs et rédigez un bilan mensuel pour chaque client. Profil : bac+3 "
      "en communication, deux ans d’expérience, une plume sûre et le sens du service. "
      "Salaire : {pay} k€ brut annuel, tickets restaurant, deux jours de télétravail. "
      "Poste basé à {place}, à pourvoir {start}. Pour postuler, envoyez CV et portfolio "
      "avec la référence {ref} à recrutement@pixelrouge.example.")
LYON = AD.format(city="Lyon", sector="agroalimentaire", pay="32 à 36", place="Lyon Part-Dieu",
                 start="dès que possible", ref="CM-LYO-24")
BORDEAUX = AD.format(city="Bordeaux", sector="du tourisme", pay="31 à 35",
                     place="Bordeaux, quartier des Chartrons", start="en septembre 2024",
                     ref="CM-BDX-24")


def words(text: str) -> list[str]:
    return " ".join(paragraphs(f"<p>{text}</p>")).split()


def test_two_job_ads_of_one_template_are_filled_twice() -> None:
    assert filled_twice(words(LYON), words(BORDEAUX))
    # A re-publication: an intro added, one sentence reworded, one dropped.
    edited = ("Communiqué transmis par l’agence. " + LYON.replace(
        "une plume sûre", "une excellente plume").replace(
        "Vous suivez les indicateurs et rédigez un bilan mensuel pour chaque client. ", ""))
    assert not filled_twice(words(edited), words(LYON))


def test_a_few_corrections_in_a_long_text_are_not_slots() -> None:
    rng = random.Random(4)
    vocabulary = words(LYON + " " + ARTICLE[0] + " " + ARTICLE[1])
    text = [rng.choice(vocabulary) for _ in range(1200)]
    corrected = list(text)
    for place in range(100, 1200, 200):  # six words corrected, one every 200
        corrected[place] = "corrige"
    assert not filled_twice(corrected, text)  # under one a hundred words
    assert not filled_twice(corrected[:600], text[:600])  # three: under four


def test_hostile_texts_are_diffed_within_bounds() -> None:
    # Thousands of words drawn from a handful: only the first DIFFED_WORDS are diffed,
    # and words making over 1% of a text start no match (the diff would be quadratic).
    rng = random.Random(20)
    text = [rng.choice(["la", "le", "les", "de"]) for _ in range(50_000)]
    edited = [w if i % 37 else "x" for i, w in enumerate(text)]
    assert filled_twice(edited, text) in (True, False)


def test_the_text_rule_stops_at_one_template_filled_twice() -> None:
    lyon = fingerprint("Community manager H/F – CDI – Lyon", "https://a.example/1",
                       words(LYON))
    bordeaux = fingerprint("Community manager H/F – CDI – Bordeaux", "https://b.example/1",
                           words(BORDEAUX))
    assert same_article(bordeaux, stored(lyon)) == "content"  # most of the text is shared
    assert same_article(bordeaux, stored(lyon),
                        lambda: (words(BORDEAUX), words(LYON))) is None

    def unread() -> tuple[list[str], list[str]]:
        raise AssertionError("near-identical texts need no reading")

    copy = fingerprint("Copie", "https://c.example/1", words(LYON + " Bonne lecture !"))
    assert same_article(copy, stored(lyon), unread) == "content"


def test_no_text_no_decision() -> None:
    empty = fingerprint("Titre", "https://a.example/1", [])
    text = fingerprint("Titre", "https://b.example/1", ARTICLE)
    assert same_article(empty, stored(text)) is None
    assert same_article(text, stored(empty)) is None


# --- sketches in the database and index keys ------------------------------------------


def test_pack_and_unpack_sketch_round_trip() -> None:
    sketch = (-(2**63), -1, 0, 1, 2**63 - 1)
    packed = pack_sketch(sketch)
    assert len(packed) == 8 * len(sketch)
    assert packed[8:16] == b"\xff" * 8 and packed[24:32] == b"\x00" * 7 + b"\x01"
    assert unpack_sketch(packed) == sketch
    assert unpack_sketch(None) == unpack_sketch(b"") == ()
    real = fingerprint("t", None, ARTICLE).sketch
    assert unpack_sketch(pack_sketch(real)) == real


def test_hash64_is_stable() -> None:
    # Stored keys and sketches depend on it: it must never change.
    assert hash64("") == -1970711489451281740
    assert hash64("p:rendez vous sur hellocoton") == 6592667824980492046


def test_index_keys_are_the_smallest_hashes_link_title_and_lead() -> None:
    found = Fingerprint(link="blog.example/a", title="bonne annee", size=20,
                        sketch=tuple(range(20)), lead=7)
    assert index_keys(found) == [*range(INDEX_KEYS), hash64("link:blog.example/a"),
                                 hash64("title:bonne annee"), 7]
    bare = Fingerprint(link=None, title="", size=1, sketch=(5,), lead=None)
    assert index_keys(bare) == [5]


def test_index_keys_pass_over_common_keys() -> None:
    found = Fingerprint(link=None, title="", size=50, sketch=tuple(range(50)), lead=None)
    assert lookup_keys(found) == list(range(SKETCH_LOOKUP))
    assert index_keys(found, {0, 2, 4}) == [1, 3, *range(5, 19)]
    # Of the SKETCH_LOOKUP smallest only: a text of stock phrases keeps fewer keys.
    assert index_keys(found, set(range(SKETCH_LOOKUP - 3))) == [29, 30, 31]


def test_a_copy_finds_an_original_filed_past_its_common_keys() -> None:
    # The original's 16 smallest hashes were stock phrases, common when it was stored:
    # it was filed under the next 16, where its copy, passing over the same, finds it.
    original = Fingerprint(link=None, title="", size=90, sketch=tuple(range(90)), lead=None)
    copy = replace(original, link="relais.example/1")
    postings = Postings(common=set(range(INDEX_KEYS)))
    postings.file(1, index_keys(original, postings.common))
    assert rank_candidates(copy, postings) == [1]


def test_candidates_share_two_sketch_keys_or_a_link_title_or_lead() -> None:
    found = Fingerprint(link="blog.example/a", title="bonne annee", size=20,
                        sketch=tuple(range(20)), lead=-7)
    postings = Postings({
        0: [1, 2, 3],  # 1 shares only this key with `found`: a phrase, not a copy
        1: [2, 3], 2: [2],  # 2 and 3 share two keys
        hash64("link:blog.example/a"): [5], hash64("title:bonne annee"): [6],
        -7: [8],  # the lead
        99: [9],  # not a key of `found`
        16: [10], 17: [10],  # beyond the INDEX_KEYS smallest hashes: never looked up
    })
    # The shared link first; then by weight: 2 shares three keys (1/3 + 1/2 + 1), 8
    # and 6 a key with nobody else (equal: the one stored last first). 3 shares two
    # (1/3 + 1/2): under half of 2's weight, it is left out.
    assert rank_candidates(found, postings) == [5, 2, 8, 6]
    assert rank_candidates(found, postings, siblings={2, 6}) == [5, 8, 3]
    assert rank_candidates(found, Postings()) == []
    # A text of a single shingle has one sketch key: sharing it is enough.
    single = Fingerprint(link=None, title="", size=1, sketch=(0,), lead=None)
    assert rank_candidates(single, postings) == [3, 2, 1]


def test_a_common_key_nominates_nobody() -> None:
    found = Fingerprint(link=None, title="revue de presse", size=40,
                        sketch=tuple(range(40)), lead=None)
    # A generic title and two stock phrases are common; 100 and 101 share them and one
    # rare key each: not nominated. 7 shares two rare keys.
    postings = Postings({2: [100, 7], 3: [7, 101]},
                        common={hash64("title:revue de presse"), 0, 1})
    assert rank_candidates(found, postings) == [7]


def test_a_list_is_common_once_full() -> None:
    postings = Postings()
    for entry_id in range(POSTINGS_PER_KEY - 1):
        assert postings.file(entry_id, [1, 2, 2]) == [1, 2]
    assert postings.file(99, [1, 3]) == [1, 3]  # the last place: 1 is now full
    assert postings.file(100, [1, 3]) == [3]
    assert postings.common == {1} and 1 not in postings.lists
    assert postings.lists[3] == [99, 100]


def test_candidates_are_bounded_and_the_most_alike_come_first() -> None:
    found = Fingerprint(link=None, title="", size=60, sketch=tuple(range(60)), lead=None)
    rng = random.Random(18)
    # 500 stored entries, each sharing two or three sketch keys (common phrases);
    # entry 1 shares eight of them, as a copy does.
    lists: dict[int, list[int]] = {}
    for entry_id in range(2, 502):
        for key in rng.sample(range(INDEX_KEYS), rng.randint(2, 3)):
            lists.setdefault(key, []).append(entry_id)
    # Every list as crowded as it can be without being full.
    ranked = rank_candidates(found, Postings({
        key: ids[-(POSTINGS_PER_KEY - 2):] + ([1] if key < 8 else [])
        for key, ids in lists.items()}))
    assert ranked[0] == 1
    assert len(ranked) <= MAX_CANDIDATES
    # However many share as much: MAX_CANDIDATES, the last stored first.
    crowd = Postings({key: list(range(100, 160)) for key in range(INDEX_KEYS)})
    assert rank_candidates(found, crowd) == list(range(159, 159 - MAX_CANDIDATES, -1))


def _normalize_by_definition(text: str) -> str:
    """normalize_text as first written: every character tested for a combining mark."""
    folded = text.casefold()
    for letter, spelled in (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("ł", "l"),
                            ("đ", "d")):
        folded = folded.replace(letter, spelled)
    folded = unicodedata.normalize("NFKD", folded)
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


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


def test_a_small_text_against_a_large_sketch_needs_every_shingle() -> None:
    large = fingerprint("Grand", None, [" ".join(f"mot{n}" for n in range(900))])
    kept = replace(large, shingles=b"")  # what the store keeps: the sketch only
    small = fingerprint("Petit", None, [" ".join([f"mot{n}" for n in range(80)]
                                                 + [f"autre{n}" for n in range(40)])])
    assert needs_shingles(small, kept)
    assert same_article(small, large) is None  # 76 of 116 shingles: 0.66 < 0.7
    # Of a similar size, or against a whole text, the sketch decides alone.
    assert not needs_shingles(large, kept)
    assert not needs_shingles(small, large)
    unrelated = fingerprint("Autre", None, [" ".join(f"x{n}" for n in range(120))])
    assert not needs_shingles(unrelated, kept)  # nothing shared: no threshold near
