import pytest

from system.dedup.keys import key_of
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
    ],
)
def test_variants_share_one_key(variant):
    assert normalize(variant) == "eiffel tower"
    assert key_of(variant) == key_of("Eiffel Tower")


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("1. Musée d'Orsay.", "Musée d'Orsay"),
        ("-   Sainte-Chapelle", "Sainte-Chapelle"),
        ("**Arc de Triomphe**", "Arc de Triomphe"),
        ("Café (Paris)", "Café (Paris)"),
        ("- ", ""),
        ("1.", ""),
        ("...", ""),
    ],
)
def test_display_form_keeps_case_and_inner_punctuation(raw, display):
    assert clean_display(raw) == display


def test_case_folding_handles_unicode():
    assert normalize("STRASSE") == normalize("straße")


@pytest.mark.parametrize("text", ["1. A b", "«Quai»", "ﬁsh market", " - x. ", "Ǆ", "“a”."])
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


def test_distinct_items_keep_distinct_keys():
    assert key_of("Louvre") != key_of("Louvre Pyramid")
    assert key_of("The Louvre") != key_of("Louvre")  # a near-duplicate, not an exact one
