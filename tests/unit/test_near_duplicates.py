from system.levers.near import NearDuplicateIndex, core_form
from system.orchestrator.config import LeverConfig
from system.orchestrator.discovery import Discovery


def test_core_form_drops_articles_qualifiers_and_punctuation():
    assert core_form("The Eiffel Tower, Paris") == "eiffel tower"
    assert core_form("Louvre Museum (Paris).") == "louvre museum"
    assert core_form("L'Orangerie") == "orangerie"


def test_variants_are_caught_and_different_items_are_not():
    index = NearDuplicateIndex()
    assert index.match("Eiffel Tower") is None
    assert index.match("The Eiffel Tower, Paris") == "Eiffel Tower"
    assert index.match("Eifel Tower") == "Eiffel Tower"  # a typo
    assert index.match("Golden Mill") is None
    assert index.match("Golden Mill Gallery") is None  # a different attribute
    assert len(index) == 3


def test_discovery_counts_near_duplicates_apart():
    discovery = Discovery(LeverConfig(near_duplicates=True), [1], request_size=10, open_ended=False)
    kept, near = discovery.filter_near(["Old Mill", "The Old Mill", "New Bridge"])
    assert kept == ["Old Mill", "New Bridge"] and near == [("The Old Mill", "Old Mill")]
    assert discovery.near_duplicate_count == 1
    off = Discovery(LeverConfig(), [1], request_size=10, open_ended=False)
    assert off.filter_near(["Old Mill", "The Old Mill"]) == (["Old Mill", "The Old Mill"], [])
