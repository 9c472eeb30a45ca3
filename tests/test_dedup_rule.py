"""The same-article rule, the template rule, and when a stored sketch is not enough."""

from __future__ import annotations

import random
from dataclasses import replace

from aggregator.dedup.fingerprint import fingerprint
from aggregator.dedup.rule import filled_twice, needs_shingles, same_article
from aggregator.dedup.text import paragraphs
from aggregator.models import Fingerprint

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
