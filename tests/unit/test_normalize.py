import random

import pytest

from system.dedup.keys import attribute_key, key_of
from system.dedup.normalize import clean_display, normalize


@pytest.mark.parametrize(
    "variant",
    [
        "1. Eiffel Tower",
        "- eiffel tower.",
        '"EIFFEL TOWER"',
        "Eiffel  Tower!",
        "(3) Eiffel Tower",
        "* **Eiffel Tower**",
        "• 'Eiffel Tower'",
        "12 - Eiffel Tower;",
        "  Eiffel Tower  ",
        "“Eiffel Tower”",
        "- 1. Eiffel Tower",
        "`Eiffel Tower`...",
        "ＥＩＦＦＥＬ ＴＯＷＥＲ",
        "＂Eiffel Tower＂！",
        "Eiffel\u00a0Tower",
        "Eiffel\tTower?",
    ],
)
def test_variants_share_one_key(variant: str) -> None:
    assert normalize(variant) == "eiffel tower"
    assert key_of(variant) == key_of("Eiffel Tower")


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        # list markers, each kind
        ("1. Louvre", "Louvre"),
        ("1) Louvre", "Louvre"),
        ("(1) Louvre", "Louvre"),
        ("12 - Louvre", "Louvre"),
        ("- Louvre", "Louvre"),
        ("* Louvre", "Louvre"),
        ("• Louvre", "Louvre"),
        ("· Louvre", "Louvre"),
        ("– Louvre", "Louvre"),
        ("— Louvre", "Louvre"),
        ("+ Louvre", "Louvre"),
        ("# Louvre", "Louvre"),
        ("### Louvre", "Louvre"),
        ("- 1. Louvre", "Louvre"),
        ("* (2) - Louvre", "Louvre"),
        # markers glued to the text are part of it
        ("1.5 km Walk", "1.5 km Walk"),
        ("#1 Hit", "#1 Hit"),
        ("-5 Club", "-5 Club"),
        ("2)Louvre", "2)Louvre"),
        # quotes and wrappers
        ('"Louvre"', "Louvre"),
        ("'Louvre'", "Louvre"),
        ("`Louvre`", "Louvre"),
        ("“Louvre”", "Louvre"),
        ("‘Louvre’", "Louvre"),
        ("«Louvre»", "Louvre"),
        ("„Louvre“", "Louvre"),
        ("**Louvre**", "Louvre"),
        ("__Louvre__", "Louvre"),
        ('**"Louvre"**', "Louvre"),
        ("'Musée d'Orsay'", "Musée d'Orsay"),
        ("‘Musée d’Orsay’", "Musée d’Orsay"),
        ('"A" and "B"', '"A" and "B"'),
        ('"Louvre', '"Louvre'),
        ("Rock 'n' Roll Hall", "Rock 'n' Roll Hall"),
        # trailing punctuation
        ("Louvre.", "Louvre"),
        ("Louvre,", "Louvre"),
        ("Louvre;", "Louvre"),
        ("Louvre:", "Louvre"),
        ("Louvre!", "Louvre"),
        ("Louvre?", "Louvre"),
        ("Louvre...", "Louvre"),
        ("Louvre…", "Louvre"),
        ("Louvre .!?", "Louvre"),
        ('"Louvre".', "Louvre"),
        ("Café (Paris).", "Café (Paris)"),
        ("Café (Paris)", "Café (Paris)"),
        # whitespace, case and inner punctuation
        ("  Place   de la\tConcorde  ", "Place de la Concorde"),
        ("1. Musée d'Orsay.", "Musée d'Orsay"),
        ("-   Sainte-Chapelle", "Sainte-Chapelle"),
        ("St. Paul's, Crypt", "St. Paul's, Crypt"),
        ("ＬＯＵＶＲＥ", "ＬＯＵＶＲＥ"),
        # nothing left
        ("", ""),
        ("   ", ""),
        ("- ", ""),
        ("1.", ""),
        ("...", ""),
        ('""', ""),
        ("** **", ""),
        ("---", ""),
    ],
)
def test_display_rules(raw: str, display: str) -> None:
    assert clean_display(raw) == display


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("STRASSE", "straße"),
        ("ﬁsh market", "fish market"),
        ("Cafe\u0301 Procope", "Café Procope"),
        ("ＬＯＵＶＲＥ", "louvre"),
        ("１. Louvre", "louvre"),
        ("Louvre\u3000Pyramid", "louvre pyramid"),
        ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ("Ǆemal Bridge", "džemal bridge"),
        ('"Louvre\u2002"', "louvre"),
    ],
)
def test_unicode_cases_share_keys(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)
    assert key_of(a) == key_of(b)


def test_nfkc_exposed_quotes_and_punctuation_are_stripped_again() -> None:
    assert clean_display("＂Louvre＂") == "＂Louvre＂"  # display keeps what it does not know
    assert normalize("＂Louvre＂") == "louvre"
    assert normalize("Louvre！？") == "louvre"
    assert normalize("（１） Louvre") == "louvre"


@pytest.mark.parametrize(
    "text",
    ["1. A b", "«Quai»", "ﬁsh market", " - x. ", "Ǆ", "“a”.", "＂１. ＂", "İstanbul", "Ａ\u0301"],
)
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)
    assert clean_display(clean_display(text)) == clean_display(text)


def test_normalize_is_idempotent_on_random_noise() -> None:
    alphabet = [
        *"aAbZ ß\t\u00a0.,;:!?…()\"'`“”‘’«»„*_-#+•·–—12ＥＩ＂！（）ﬁǄ\u0301\u0307İ",
        "**",
        "__",
        "1. ",
        "(2) ",
        "12 - ",
    ]
    rng = random.Random(20240601)
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        once = normalize(text)
        assert normalize(once) == once, repr(text)
        assert clean_display(clean_display(text)) == clean_display(text), repr(text)


def test_normalized_form_is_the_display_form_folded() -> None:
    display = clean_display("3. **Musée  d'Orsay**!")
    assert display == "Musée d'Orsay"
    assert normalize(display) == "musée d'orsay" == normalize("3. **Musée  d'Orsay**!")


def test_keys_are_xxh3_64_of_the_normalized_utf8() -> None:
    assert attribute_key("eiffel tower") == key_of("1. EIFFEL TOWER!")
    assert 0 <= attribute_key("eiffel tower") < 2**64
    assert attribute_key("") == 0x2D06800538D394C2  # xxh3_64 of no bytes, seed 0


def test_distinct_items_keep_distinct_keys() -> None:
    assert key_of("Louvre") != key_of("Louvre Pyramid")
    assert key_of("The Louvre") == key_of("Louvre")  # the key drops a leading article
    assert key_of("The Louvre Pyramid") != key_of("Louvre")
    assert key_of("Theatre") != key_of("atre")
    assert key_of("Café") != key_of("Cafe")  # accents are kept


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("The Louvre", "louvre"),
        ("the  louvre.", "louvre"),
        ("An Apple Store", "apple store"),
        ("A Tribe Called Quest", "tribe called quest"),
        ("1. **The Eiffel Tower**", "eiffel tower"),
        ("The A Team", "team"),  # repeated, so the key is a fixed point
        ('The "Louvre"', "louvre"),
        ("The", "the"),  # an article alone is a word, not an article
        ("A", "a"),
        ("The The", "the"),
        ("Theatre", "theatre"),
        ("Anaheim", "anaheim"),
        ("A. Lincoln", "a. lincoln"),
    ],
)
def test_a_leading_article_is_not_part_of_the_key(text: str, key: str) -> None:
    assert normalize(text) == key
    assert normalize(normalize(text)) == key


def test_the_article_stays_in_the_display() -> None:
    assert clean_display("The Louvre.") == "The Louvre"
