"""List-shaped lines are split, not dropped, and the leaks of issue 22 are closed
(docs/tracing.md, "Real output: which lines are items", rules 1, 2 and 5): labelled
examples, most of them lines SmolLM2-135M wrote."""

from __future__ import annotations

import pytest

from system.producer.parse import MAX_LINE, PromptContext, parse_response

AFRICA = PromptContext("countries of Africa")
PARTITIONED = PromptContext("countries of Africa", "A-L")
LONG_ITEMS = [
    *("Australia", "Canada", "Russia", "UK", "Germany", "France", "Italy", "Spain", "Japan"),
    *("China", "India", "Brazil", "Mexico", "Egypt", "Kenya", "Nigeria", "Ghana", "Morocco"),
    *("Algeria", "Tunisia", "Libya", "Sudan", "Chad", "Niger", "Mali", "Senegal"),
]
LONG = "10. Australia (Australia), " + ", ".join(LONG_ITEMS[1:]) + ", ..."
FIVE = ["Chad", "Mali", "Niger", "Togo", "Benin"]
PROSE = (
    "The countries of Africa are many, and each of them has a long history that a short "
    "list could never tell, so it is better to read about them in a book about the continent "
    "and its many peoples, languages, and cultures over centuries."
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # rule 5: list shapes
        (LONG, LONG_ITEMS),
        ("1. Australia  2. Germany  3. Canada", ["Australia", "Germany", "Canada"]),
        ("Mars (Mars) 9. Jupiter (Jupiter) 10. Saturn (Saturn)", ["Mars", "Jupiter", "Saturn"]),
        ("[Algeria, Namibia, Tanzania]", ["Algeria", "Namibia", "Tanzania"]),
        ('["Algeria", "Namibia"]', ["Algeria", "Namibia"]),
        ("Algeria    Namibia    Tanzania", ["Algeria", "Namibia", "Tanzania"]),
        ("Algeria  Namibia  Tanzania", ["Algeria", "Namibia", "Tanzania"]),
        ("Chad, Mali, Niger, Togo, Benin, the rest of the Sahel", FIVE),
        ("Chad, Mali, the rest", ["Chad", "Mali"]),  # ", the rest": a description (rule 4)
        # 6 parts or more: up to a fifth may be no name (dropped); more, and it is no list
        ("Chad, Mali, Niger, Togo, Benin, The one I forgot the name of", FIVE),
        ("Chad, Mali, Niger, Togo, The one I forgot just now, The other one I forgot too", []),
        ("Chad, Mali, The one I forgot just now", None),  # a short list: all names or whole
        (PROSE, []),  # a long line that is prose is dropped
        ("Eiffel Tower  (popular)", ["Eiffel Tower"]),  # a gap before a remark: no columns
        # rule 1: leaks before, inside and around the item
        ("D) Mexico", ["Mexico"]),
        ("(b) Peru", ["Peru"]),
        ("c. Chile", ["Chile"]),
        ("#1. The Tokyo Tower", ["The Tokyo Tower"]),
        ("#1 Hit", ["#1 Hit"]),  # a marker glued to the text is not one
        ("The No. 9", []),
        ("No. 4 Kenya", ["Kenya"]),
        ("<b>Ghana</b>", ["Ghana"]),
        ("<li>Ghana</li>", ["Ghana"]),
        ("Ghana (https://en.wikipedia.org/wiki/Ghana)", ["Ghana"]),
        ("https://en.wikipedia.org/wiki/Ghana", []),
        ("[Ghana](https://en.wikipedia.org/wiki/Ghana)", ["Ghana"]),
        ("Egypt<start_of_turn>model", ["Egypt"]),
        ("<|im_start|>assistant", []),
        ("Sudan<|im_end|>", ["Sudan"]),
        ("model", []),
        ("Morocco (M-Z-A-L-...)", ["Morocco"]),
        ("Morocco (M-Z-A-L-", ["Morocco"]),
        ("(A-L) Angola", ["Angola"]),
        # rule 2: paraphrased echoes of the prompt
        ("Country of Africa", []),
        ("No numbering or commentary", []),
        ("with no numbering and no commentary.", []),
        ("One per line", []),
    ],
)
def test_list_shapes_and_leaks(line: str, expected: list[str] | None) -> None:
    assert parse_response(line, context=AFRICA) == ([line] if expected is None else expected)


def test_a_partition_label_inside_a_line_heads_the_numbered_item() -> None:
    assert parse_response("Asia (A-L) 17. Japan", context=PARTITIONED) == ["Japan"]


def test_the_long_list_is_longer_than_a_line_and_the_prose_too() -> None:
    assert len(LONG) > MAX_LINE and len(PROSE) > MAX_LINE


def test_numbers_out_of_step_are_no_inline_numbering() -> None:
    assert parse_response("Louvre 1. Paris 7. Rome") == ["Louvre 1. Paris 7. Rome"]
    assert parse_response("Apollo 11. Mission", context=AFRICA) == ["Apollo 11. Mission"]


def test_counters_after_names_go_when_the_answer_counts() -> None:
    answer = "Egypt 4\nKenya 5\nGhana 6\nMali"
    assert parse_response(answer, context=AFRICA) == ["Egypt", "Kenya", "Ghana", "Mali"]
    # a number that tells items apart is part of the name
    apollo = "Apollo 11\nApollo 12\nApollo 13"
    assert parse_response(apollo) == ["Apollo 11", "Apollo 12", "Apollo 13"]
    # a few numbered names among many are names
    few = "Route 66\nHighway 1\nMain Street\nBroadway\nSunset Boulevard\nOcean Drive"
    assert parse_response(few) == few.splitlines()
