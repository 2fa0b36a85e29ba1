"""The truth sets and the scorer: forgiving match, duplicates under aliases, figures."""

from __future__ import annotations

import json

import pytest

from tester.truth import (
    TruthSetError,
    available,
    for_topic,
    load,
    match_key,
    score_lines,
    score_output,
)
from tester.truth.__main__ import main as truth_cli
from tester.truth.match import readings, undecorate


@pytest.fixture
def states():
    return load("us-states")


# ------------------------------------------------------------------ the shipped sets
def test_at_least_four_sets_with_their_sizes():
    sizes = {name: load(name).size for name in available()}
    assert len(sizes) >= 4
    assert sizes["us-states"] == 50
    assert sizes["chemical-elements"] == 118
    assert sizes["eu-member-states"] == 27
    assert sizes["planets-and-dwarf-planets"] == 13


@pytest.mark.parametrize("name", available())
def test_every_shipped_set_loads_and_its_topic_finds_it(name):
    truth = load(name)
    assert for_topic(truth.topic) is truth or for_topic(truth.topic) == truth
    # every canonical name scores as itself
    score = score_lines([m[0] for m in truth.members], truth)
    assert (score.valid, score.duplicates, score.invalid) == (truth.size, 0, 0)


def test_ambiguous_set_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x", "topic": "x", "members": [["Alpha"], ["The alpha"]]}))
    with pytest.raises(TruthSetError, match="names both"):
        load(path)
    clash = {"name": "x", "topic": "x", "members": [["A"]], "not_members": ["a"]}
    path.write_text(json.dumps(clash))
    with pytest.raises(TruthSetError, match="both members and not_members"):
        load(path)


def test_unknown_set_names_the_shipped_ones():
    with pytest.raises(TruthSetError, match="us-states"):
        load("no-such-set")


# ------------------------------------------------------------------ the match
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Netherlands", "netherlands."),
        ("CZECH REPUBLIC", "Czech  republic"),
        ("Éire", "eire"),
        ("Hawaiʻi", "Hawaii"),
    ],
)
def test_match_key_folds_case_accents_articles_and_punctuation(a, b):
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize(
    ("line", "member"),
    [
        ("1. Texas", "Texas"),
        ("- **Ohio**", "Ohio"),
        ("* Iowa (the Hawkeye State)", "Iowa"),
        ("## Maine", "Maine"),
        ("Nevada - known for Las Vegas", "Nevada"),
        ("Utah: capital Salt Lake City", "Utah"),
        ("Oregon, in the Pacific Northwest", "Oregon"),
        ('"New York"', "New York"),
        ("3) the state of Georgia", None),  # a sentence around a name is not forgiven
        ("Commonwealth of Virginia", "Virginia"),
        ("Pensylvania", None),  # misspelt
    ],
)
def test_lines_read_as_their_member(states, line, member):
    score = score_lines([line], states)
    assert score.found == ([member] if member else [])


def test_a_listed_non_member_is_not_cut_into_a_member(states):
    score = score_lines(["Washington, D.C.", "Washington D.C. (capital)", "Puerto Rico"], states)
    assert score.valid == 0 and score.invalid == 3
    assert score_lines(["Washington (state)"], states).found == ["Washington"]


def test_readings_go_from_whole_line_to_shorter_cuts():
    assert list(readings("1. New Mexico (NM) - southwest")) == [
        "new mexico nm southwest",
        "new mexico nm",
        "new mexico",
    ]
    assert undecorate("**12.** `Iron`") == "Iron"


# ------------------------------------------------------------------ the score
def test_precision_recall_and_duplicates_under_aliases(states):
    lines = ["Texas", "TEXAS.", "texas (TX)", "Ohio", "", "Atlantis", "Ohio!"]
    score = score_lines(lines, states)
    assert score.lines == 6  # blank line ignored
    assert score.valid == 2 and score.duplicates == 3 and score.invalid == 1
    assert score.found == ["Texas", "Ohio"]
    assert score.duplicate_lines == ["TEXAS.", "texas (TX)", "Ohio!"]
    assert score.invalid_lines == ["Atlantis"]
    assert score.precision == pytest.approx(2 / 6)
    assert score.recall == pytest.approx(2 / 50)


def test_empty_file_scores_zero_without_dividing_by_zero(states):
    score = score_lines([], states)
    assert (score.precision, score.recall, score.valid_per_1k_tokens) == (0.0, 0.0, 0.0)


def _output(tmp_path, topic, lines, **counts):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "attributes.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = {
        "topic": topic,
        "counts": {"input_tokens": 0, "output_tokens": 0, "batches": 0, **counts},
        "timings": {"duration_s": 12.5},
    }
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return folder


def test_score_output_reads_tokens_requests_and_wall_from_run_json(tmp_path):
    folder = _output(
        tmp_path, "EU member states", ["France", "Holland", "The Netherlands", "Norway"],
        input_tokens=1500, output_tokens=500, batches=4,
    )  # fmt: skip
    score = score_output(folder)  # the set found by the run's topic
    assert score.truth_set == "eu-member-states"
    assert (score.valid, score.duplicates, score.invalid) == (2, 1, 1)
    assert score.tokens == 2000 and score.requests == 4 and score.wall_s == 12.5
    assert score.valid_per_1k_tokens == pytest.approx(1.0)
    assert score.missing(load("eu-member-states"))[0] == "Austria"
    assert score.to_dict()["precision"] == 0.5


def test_score_output_without_a_set_for_the_topic_is_an_error(tmp_path):
    folder = _output(tmp_path, "Paris attractions", ["Louvre"])
    with pytest.raises(TruthSetError, match="pass --set"):
        score_output(folder)


def test_cli_scores_and_writes_json(tmp_path, capsys):
    folder = _output(tmp_path, "whatever", ["Mars", "Pluto (dwarf planet)", "Sun"], batches=1)
    out = tmp_path / "score.json"
    assert truth_cli(["score", str(folder), "--set", "planets-and-dwarf-planets",
                      "--json", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "2 valid of 13" in printed and "invalid: Sun" in printed
    assert json.loads(out.read_text())["found"] == ["Mars", "Pluto"]


def test_cli_bad_input_exits_2(tmp_path, capsys):
    assert truth_cli(["score", str(tmp_path / "missing")]) == 2
    assert "no run.json" in capsys.readouterr().err
    assert truth_cli(["score", str(tmp_path), "--set", "nope"]) == 2


@pytest.mark.parametrize("field", ["members", "not_members", "topics"])
def test_a_bare_string_where_a_list_belongs_is_refused(tmp_path, field):
    data: dict[str, object] = {"name": "x", "topic": "x", "members": [["Alpha"]]}
    data[field] = "Alpha"  # iterated, this would be five one-letter names
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TruthSetError, match=f"{field} must be a list"):
        load(path)
