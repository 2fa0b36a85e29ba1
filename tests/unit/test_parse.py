import pytest

from system.producer.parse import MAX_LINE, PromptContext, is_commentary, parse_response
from system.producer.prompt import AVOID_HEADER, build_prompt
from system.providers.simulated import PromptRequest, parse_prompt


def test_prompt_has_the_documented_format() -> None:
    prompt = build_prompt("Paris attractions", 3, avoid=["Louvre", "Orsay"], partition="A-F")
    assert prompt.splitlines() == [
        "You are enumerating every distinct item of a topic, as exhaustively as possible.",
        "Topic: Paris attractions",
        "Focus on this part of the topic: A-F",
        "List 3 distinct items, one per line, with no numbering and no commentary.",
        "Do not repeat any of these already-found items:",
        "- Louvre",
        "- Orsay",
    ]
    assert AVOID_HEADER in prompt


def test_plain_prompt_has_no_partition_or_avoid_lines() -> None:
    prompt = build_prompt("Rivers", 5)
    assert prompt.splitlines() == [
        "You are enumerating every distinct item of a topic, as exhaustively as possible.",
        "Topic: Rivers",
        "List 5 distinct items, one per line, with no numbering and no commentary.",
    ]
    assert "Focus" not in build_prompt("Rivers", 5, partition="")


@pytest.mark.parametrize(
    ("topic", "count", "avoid", "partition"),
    [
        ("Paris attractions", 42, ("Louvre", "Orsay"), "A-F"),
        ("Rivers", 5, (), None),
        ("Birds of Europe: waders", 1, ("Curlew",), None),
        ("Café menus", 60, ("Crème brûlée", "- dashed item", "Topic: tricky"), "desserts"),
        ("x", 200, tuple(f"item {i}" for i in range(300)), "Q"),
    ],
)
def test_prompt_round_trips_through_the_simulated_reader(
    topic: str, count: int, avoid: tuple[str, ...], partition: str | None
) -> None:
    request = parse_prompt(build_prompt(topic, count, avoid=avoid, partition=partition))
    assert request == PromptRequest(topic, count, avoid, partition)


def test_prompt_values_stay_on_one_line() -> None:
    prompt = build_prompt("Paris\nattractions", 4, avoid=["Louvre\nMuseum", "  ", ""])
    request = parse_prompt(prompt)
    assert request.topic == "Paris attractions"
    assert request.avoid == ("Louvre Museum",)


def test_unknown_prompt_shape_is_tolerated() -> None:
    assert parse_prompt("tell me about birds") == PromptRequest("tell me about birds", 20, (), None)
    assert parse_prompt("\n  Name some rivers\nplease").topic == "Name some rivers"
    assert parse_prompt("").count == 20


def test_parse_response_drops_preamble_numbering_bullets_and_fences() -> None:
    text = """Here are 4 Paris attractions:
```
1. "Eiffel Tower"
- Louvre.
* **Notre-Dame**

• Sainte-Chapelle
Note that these are popular:
```"""
    assert parse_response(text) == ["Eiffel Tower", "Louvre", "Notre-Dame", "Sainte-Chapelle"]
    assert parse_response(text, limit=2) == ["Eiffel Tower", "Louvre"]


@pytest.mark.parametrize(
    "line",
    [
        "Here are 20 more Paris attractions:",
        "Here is a list of attractions",
        "Sure! Here you go",
        "Sure, here are more",
        "Sure.",
        "Certainly! These are all distinct",
        "Of course, here they are",
        "Okay!",
        "OK, more items",
        "Absolutely.",
        "**Museums:**",
        "## Parks:",
        "Museums：",
        "I hope this helps!",
        "Let me know if you would like more.",
        "Feel free to ask for more.",
        "Note: some of these are seasonal",
        "Below are the items",
    ],
)
def test_commentary_lines_are_dropped(line: str) -> None:
    assert parse_response(line) == []
    assert parse_response(f"{line}\nLouvre") == ["Louvre"]


@pytest.mark.parametrize(
    "item",
    [
        "OK Computer Cafe",
        "Sure Thing Saloon",
        "Hereford Cathedral",
        "Noted Gallery",
        "I Hope You Dance",
    ],
)
def test_items_that_look_like_commentary_openings_are_kept(item: str) -> None:
    assert parse_response(item) == [item]


def test_is_commentary_reads_the_line_as_written() -> None:
    assert is_commentary("Here are 5 rivers:") and is_commentary("Sure!")
    assert not is_commentary("1. Louvre") and not is_commentary("Seine")


def test_numbering_and_bullets_of_every_kind_are_stripped() -> None:
    text = "1) Louvre\n(2) Orsay\n3 - Rodin\n+ Cluny\n– Carnavalet\n— Marmottan\n· Picasso\n#Guimet"
    assert parse_response(text) == [
        "Louvre",
        "Orsay",
        "Rodin",
        "Cluny",
        "Carnavalet",
        "Marmottan",
        "Picasso",
        "#Guimet",  # "# Guimet" would be a markdown heading, dropped
    ]


def test_order_and_repeats_are_kept() -> None:
    assert parse_response("Bb\nAa\nBb") == ["Bb", "Aa", "Bb"]


def test_empty_and_marker_only_lines_are_dropped() -> None:
    assert parse_response("\n  \n-\n1.\n***\n---\n...\nLouvre\n") == ["Louvre"]
    assert parse_response("") == []


def test_overlong_lines_are_commentary() -> None:
    assert parse_response("x" * 500 + "\nLouvre") == ["Louvre"]
    assert parse_response("y" * MAX_LINE) == ["y" * MAX_LINE]
    assert parse_response("y" * (MAX_LINE + 1)) == []


def test_limit() -> None:
    text = "\n".join(f"item {i}" for i in range(10))
    assert len(parse_response(text, limit=3)) == 3
    assert parse_response(text, limit=0) == []
    assert len(parse_response(text, limit=100)) == 10


def test_windows_line_endings_and_tilde_fences() -> None:
    assert parse_response("~~~\r\nLouvre\r\nOrsay.\r\n~~~\r\n") == ["Louvre", "Orsay"]


def _parse_without_memo(text: str) -> list[str]:
    """Every line through the unmemoized line parser, as written (no numbered shortcut)."""
    from system.producer.parse import _parse_line

    out: list[str] = []
    for raw in text.splitlines():
        out.extend(_parse_line(raw, ()))
    return out


@pytest.mark.parametrize(
    "line",
    [
        "12. Eiffel Tower",
        "3) Sure, thing",
        "4. Here are more:",
        "5. Note : x",
        "6. - 7. **'Musée d'Orsay'**.",
        "7.  OK",
        "8. 1.5 km Walk",
        "9. " + "x" * (MAX_LINE - 3),
        "10. " + "x" * (MAX_LINE - 3),
        "11. ```",
        '12. "A" and "B"',
        "13.",
        "14. ...",
        "15. ## Museums",
        "16. 17. Louvre (A-F)",
        "18. A-B 2018",
        "19. Louvre, Orsay and Rodin",
        "20. Louvre\u200b\x00\ud800",
        "21. " + "y" * (MAX_LINE - 4) + "\u200b",
    ],
)
def test_numbered_lines_get_the_same_verdict_as_without_the_memo(line: str) -> None:
    for text in (line, line + "\n" + line, "  " + line + "  "):
        assert parse_response(text) == _parse_without_memo(text)


def test_memoized_parse_agrees_with_the_rules_on_simulated_answers() -> None:
    from system.providers.simulated import SimulatedModel

    model = SimulatedModel()
    prompt = build_prompt("Memo harbours", 40)
    for seed in range(300):
        text = model.complete(prompt, seed).text
        assert parse_response(text) == _parse_without_memo(text)


# --- the real-output contract (docs/tracing.md), one rule at a time --------------------

PARIS = PromptContext("Paris attractions", "A-F")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # 1. Unicode clean-up: Cc, Cf and lone surrogates go, every script stays
        ("Lou\u200bvre\u200d", ["Louvre"]),
        ("\ufeffLouvre", ["Louvre"]),
        ("\u202eLouvre\u202c", ["Louvre"]),
        ("Lou\x00vre\x07", ["Louvre"]),
        ("Louvre\ud800", ["Louvre"]),
        ("\x1b[1;31mLouvre\x1b[0m", ["Louvre"]),
        ("Tour\tEiffel", ["Tour Eiffel"]),
        ("東京タワー", ["東京タワー"]),
        ("متحف اللوفر", ["متحف اللوفر"]),
        ("Эрмитаж", ["Эрмитаж"]),
        ("\u200b\u200c", []),
        # 2. dropped lines
        ("```python", []),
        ("~~~", []),
        ("## Museums", []),
        ("###### Museums", []),
        ("**## Museums**", []),
        ("Museums:", []),
        ("**Museums:**", []),
        ("Here are 30 attractions", []),
        ("The list is complete.", []),
        ("You've got the list", []),
        ("Title: Paris Sights", []),
        ("30 distinct items", []),
        ("I'm ready to help", []),
        ("You are enumerating every distinct item of a topic", []),
        ("Topic: Paris attractions", []),
        ("Focus on this part of the topic: A-F", []),
        ("List 30 distinct items, one per line, with no numbering", []),
        ("Do not repeat any of these already-found items", []),
        ("Paris attractions", []),
        ("PARIS ATTRACTIONS.", []),
        ("1. Paris Attractions", []),
        ("A-F", []),
        ("Louvre (A-F)", ["Louvre"]),
        ("Title: Paris attractions", []),
        ("Paris attractions: Louvre, Orsay, Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("A-B 2018, C-D 2019", []),
        ("A – C museums", []),
        ("A to C", []),
        ("12. G-P", []),
        ("2019", []),
        ("12:30 - 14:00", []),
        ("E", []),
        ("A&B", []),
        ("C,E,D-Z,Y-W", []),
        ("The Eiffel Tower is a wrought iron lattice tower in Paris", []),
        ("It was built for the fair of 1889.", []),
        ("Pluto is now a planet again", []),
        ("y" * 201, []),
        # 4. remarks
        ("Louvre (the largest museum)", ["Louvre"]),
        ("Louvre (Paris) (1793)", ["Louvre"]),
        ("Louvre (HCl(aq))", ["Louvre"]),
        ("Louvre - the largest museum", ["Louvre"]),
        ("Louvre – the largest museum", ["Louvre"]),
        ("Louvre — the largest museum", ["Louvre"]),
        ("Louvre: the largest museum", ["Louvre"]),
        ("**Louvre**: the largest museum", ["Louvre"]),
        ("Louvre, the largest museum in the world", ["Louvre"]),
        ("Notre-Dame", ["Notre-Dame"]),
        ("10:30 Club", ["10:30 Club"]),
        ("Sportsmanship (Team B - Team X)", ["Sportsmanship"]),
        ("(Louvre)", ["(Louvre)"]),
        # 5. several items on one line
        ("Louvre, Orsay, Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("Louvre; Orsay; Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("Louvre, Orsay and Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("Louvre, Orsay & Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("Louvre, Orsay or Rodin", ["Louvre", "Orsay", "Rodin"]),
        ("Bosnia and Herzegovina", ["Bosnia and Herzegovina"]),
        ("Louvre (MOM), Musée d'Orsay (Paris), Rodin", ["Louvre", "Musée d'Orsay", "Rodin"]),
        ("Hydrogen (H, 1), Helium (He, 2)", ["Hydrogen", "Helium"]),
        ("東京, 大阪", ["東京", "大阪"]),
        ("1789, 1848", []),
        ("Louvre, Orsay and the Rodin museum", ["Louvre, Orsay and the Rodin museum"]),
        ("Louvre, the Orsay museum", ["Louvre"]),
        (
            "Musée du Louvre in the first arrondissement, Orsay",
            ["Musée du Louvre in the first arrondissement, Orsay"],
        ),
        (
            "Louvre, Orsay, Rodin, Cluny, Picasso, Carnavalet, Guimet, Marmottan, Orangerie",
            [
                "Louvre",
                "Orsay",
                "Rodin",
                "Cluny",
                "Picasso",
                "Carnavalet",
                "Guimet",
                "Marmottan",
                "Orangerie",
            ],
        ),
        # 6. cleaning
        ('1. "Louvre".', ["Louvre"]),
        ("- **Louvre**", ["Louvre"]),
        ("* The Louvre", ["The Louvre"]),
    ],
)
def test_contract_rules(line: str, expected: list[str]) -> None:
    assert parse_response(line, context=PARIS) == expected


def test_markdown_table_rows_give_their_cells() -> None:
    text = "| Name | Area |\n|:---|---:|\n| Louvre | 1st |\n| Musée d'Orsay | 7th |"
    assert parse_response(text, context=PARIS) == ["Louvre", "1st", "Musée d'Orsay", "7th"]
    assert parse_response("| Louvre |\n| Orsay |") == ["Louvre", "Orsay"]  # no header row
    assert parse_response("|") == []


def test_echoes_need_the_context() -> None:
    assert parse_response("Paris attractions") == ["Paris attractions"]
    assert parse_response("Paris attractions", context=PARIS) == []
    museums = PromptContext("Paris attractions", "museums")
    assert parse_response("Museums\nLouvre (museums)", context=museums) == ["Louvre"]
    assert parse_response("Topic: Rivers\nSeine") == ["Seine"]  # instruction lines: always


def test_a_line_with_several_items_counts_against_the_limit() -> None:
    assert parse_response("Louvre, Orsay, Rodin\nCluny", limit=2) == ["Louvre", "Orsay"]


def test_a_line_with_undecodable_bytes_is_dropped_alone() -> None:
    """Issue 21 item 7: U+FFFD (bytes that were not UTF-8) drops its line, not the answer."""
    text = "Amber Hall\nBro\ufffden Hall\n| Cob\ufffd | x |\nCobalt Hall"
    assert parse_response(text) == ["Amber Hall", "Cobalt Hall"]
