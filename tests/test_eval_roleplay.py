"""``agentopia eval roleplay``: scenes, plays, the CoSER scoring rule, bootstrap intervals, files,
CoSER-format input, one-line errors and exact replay from the cache. Fake backend unless marked slow."""

from __future__ import annotations

import csv
import json
import time

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.evaluation.answers import DIMENSIONS
from agentopia_mesa.evaluation.bootstrap import mean_interval, paired_difference
from agentopia_mesa.evaluation.coser import CoserError, read_coser
from agentopia_mesa.evaluation.report import SCORE_COLUMNS
from agentopia_mesa.evaluation.scoring import dimension_score, scene_scores
from agentopia_mesa.evaluation.world_scenes import world_scenes
from agentopia_mesa.llm.fake_backend import FakeBackend
from tests.prerequisites import require_embedded

FAKE = ["--model", "fake", "--model", "fake", "--judge", "fake", "--quiet"]


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def fake_calls(monkeypatch) -> list[int]:
    """Counts the requests that reach a fake model (cache hits and replayed decisions never do)."""
    count = [0]
    chat = FakeBackend.chat

    def counted(self, request):
        count[0] += 1
        return chat(self, request)

    monkeypatch.setattr(FakeBackend, "chat", counted)
    return count


def test_fake_end_to_end_writes_every_file_with_its_columns(tmp_path, fake_calls):
    out = tmp_path / "eval"
    assert main(["eval", "roleplay", *FAKE, "--scenes", "3", "--rounds", "4", "--out", str(out)]) == 0
    rows = _rows(out / "scores.csv")
    assert tuple(rows[0]) == SCORE_COLUMNS
    assert [(r["player"], r["scene_id"]) for r in rows] == [(p, f"rivertown-0-00{i}") for p in "AB" for i in (1, 2, 3)]
    for row in rows:
        assert row["judged"] == "True"
        scores = [float(row[d]) for d in DIMENSIONS]
        assert all(0 <= s <= 100 for s in scores)
        assert float(row["overall"]) == pytest.approx(sum(scores) / 4)
        assert 1 <= int(row["actor_lines"]) <= 4
    plays = [json.loads(line) for line in (out / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(plays) == 6
    for play in plays:
        kinds = [t["kind"] for t in play["turns"]]
        assert kinds[0] == "opening" and play["turns"][0]["speech"] == play["scene"]["first_line"]
        assert set(play["judgement"]) == set(DIMENSIONS)
        speakers = [t["speaker"] for t in play["turns"] if t["kind"] != "narration"]
        assert all(a != b for a, b in zip(speakers, speakers[1:])), "the narrator never picks the last speaker"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| overall |" in summary and "Difference A - B" in summary
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert meta["model_calls"] == fake_calls[0] > 0


def test_the_same_model_twice_samples_independently(tmp_path):
    out = tmp_path / "eval"
    assert main(["eval", "roleplay", *FAKE, "--scenes", "2", "--rounds", "3", "--out", str(out)]) == 0
    plays = [json.loads(line) for line in (out / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()]
    a = [p["turns"] for p in plays if p["player"] == "A"]
    b = [p["turns"] for p in plays if p["player"] == "B"]
    assert a != b


def test_a_second_run_replays_every_call_without_a_model(tmp_path, fake_calls):
    out = tmp_path / "eval"
    args = ["eval", "roleplay", *FAKE, "--scenes", "2", "--rounds", "3", "--out", str(out)]
    assert main(args) == 0
    first, scores = fake_calls[0], (out / "scores.csv").read_bytes()
    transcripts = (out / "transcripts.jsonl").read_bytes()
    assert first > 0
    assert main(args) == 0
    assert fake_calls[0] == first  # zero new model calls
    assert main([*args, "--cache-mode", "replay"]) == 0  # every decision was recorded
    assert fake_calls[0] == first
    assert (out / "scores.csv").read_bytes() == scores
    assert (out / "transcripts.jsonl").read_bytes() == transcripts
    assert json.loads((out / "eval.json").read_text(encoding="utf-8"))["model_calls"] == 0


def test_world_scenes_are_drawn_by_the_seed():
    scenes = world_scenes("school", 4, seed=3)
    assert scenes == world_scenes("school", 4, seed=3)
    assert scenes != world_scenes("school", 4, seed=4)
    for scene in scenes:
        assert 2 <= len(scene.characters) <= 3 and scene.source == "world:school"
        first = scene.character(scene.first_speaker)
        assert first.profile and scene.place and scene.situation and scene.first_line


def test_coser_rule_on_hand_computed_cases():
    assert dimension_score([2, 3], actor_lines=10) == 90.0  # 100 - 5 * (5 - 3)
    assert dimension_score([], actor_lines=10) == 100.0  # the allowance cannot lift a score above 100
    assert dimension_score([5] * 30, actor_lines=2) == 0.0
    assert dimension_score([1], actor_lines=0) == 95.0
    scores = scene_scores({"storyline_consistency": [4], "anthropomorphism": [], "character_fidelity": [1, 1],
                           "storyline_quality": [5, 5]}, actor_lines=0)
    assert scores["overall"] == pytest.approx((80 + 100 + 90 + 50) / 4)


def test_bootstrap_interval_contains_the_mean_and_is_reproduced_by_its_seed():
    values = [61.3, 74.9, 90.2, 99.7, 40.1, 85.5]
    estimate = mean_interval(values, seed=5)
    assert estimate.mean == pytest.approx(sum(values) / len(values))
    assert estimate.low < estimate.mean < estimate.high and estimate.contains(estimate.mean)
    assert mean_interval(values, seed=5) == estimate
    assert mean_interval(values, seed=6) != estimate
    assert 40.1 <= estimate.low and estimate.high <= 99.7
    same = paired_difference(values, values, seed=1)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)
    shifted = paired_difference([v + 3 for v in values], values, seed=1)
    assert shifted.mean == pytest.approx(3.0) and shifted.contains(3.0)
    assert mean_interval([], seed=0).n == 0


def _coser_item(book: str, i_p: int, cast: list[str]) -> dict:
    """One test item in the layout of CoSER's test_set.json (made-up content)."""
    return {
        "book": book, "i_c": 0, "scenario": f"A rainy evening in {book}; {cast[0]} waits for news.",
        "topic": "waiting", "speaking_characters_w_env": [*cast, "Environment"], "major_characters": cast,
        "plot": {"i_p": i_p, "summary": "Things happen.", "key_characters": [
            {"name": cast[0], "description": f"{cast[0]}, a retired clockmaker."}]},
        "character_profiles": {name: f"{name} is patient and dry-humoured." for name in cast},
        "key_characters": [{"name": cast[1], "motivation": "to be believed"}, {"name": cast[0], "thought": "worried"}],
        "dialogues": [{"character": "Environment", "message": "Rain on the windows."},
                      {"character": cast[0], "message": "[Late again.] (Looks at the clock) You're late."},
                      {"character": cast[1], "message": "The bridge was closed."}],
    }


def test_a_coser_format_file_is_evaluated(tmp_path):
    path = tmp_path / "test_set.json"
    path.write_text(json.dumps([_coser_item("The Clock", 12, ["Ada", "Bert"]),
                                _coser_item("The Mill", 3, ["Cora", "Dan", "Eve"])]), encoding="utf-8")
    scenes = read_coser(path)
    assert [s.scene_id for s in scenes] == ["The Clock-12-0", "The Mill-3-0"]
    first = scenes[0]
    assert first.names == ["Ada", "Bert"] and first.first_speaker == "Ada" and "You're late" in first.first_line
    assert first.character("Ada").profile.startswith("Ada, a retired clockmaker.")
    assert first.character("Ada").motivation == "worried" and first.character("Bert").motivation == "to be believed"
    assert len(first.reference) == 3
    out = tmp_path / "eval"
    assert main(["eval", "roleplay", *FAKE, "--coser", str(path), "--rounds", "3", "--out", str(out)]) == 0
    rows = _rows(out / "scores.csv")
    assert sorted((r["player"], r["scene_id"]) for r in rows) == [
        ("A", "The Clock-12-0"), ("A", "The Mill-3-0"), ("B", "The Clock-12-0"), ("B", "The Mill-3-0")]
    assert {r["source"] for r in rows} == {"coser:test_set.json"}


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", ":1: not JSON"),  # file:line (issue #32)
    ("[]", "non-empty JSON list"),
    ('[{"book": "B"}]', "'scenario' must be a non-empty string"),
    (json.dumps([{**_coser_item("B", 1, ["X", "Y"]), "dialogues": "none"}]), "'dialogues' must be a non-empty list"),
    (json.dumps([{**_coser_item("B", 1, ["X", "Y"]), "speaking_characters_w_env": ["X", "Environment"]}]), "at least two"),
    (json.dumps([_coser_item("B", 1, ["X", "Y"])] * 2), "same book, plot i_p and i_c"),
])
def test_a_malformed_coser_file_is_one_line(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CoserError, match=expected):
        read_coser(path)
    assert main(["eval", "roleplay", *FAKE, "--coser", str(path), "--out", str(tmp_path / "eval")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"agentopia: error: --coser {path}") and expected in err
    assert not (tmp_path / "eval").exists()


def test_bad_options_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "eval")
    assert main(["eval", "roleplay", *FAKE, "--rounds", "0", "--out", out]) == 2
    assert "--rounds: must be a whole number in [1, 1000]" in capsys.readouterr().err
    assert main(["eval", "roleplay", *FAKE, "--model", "fake", "--out", out]) == 2
    assert "one or two models" in capsys.readouterr().err
    assert main(["eval", "roleplay", "--model", "nonsense:x", "--judge", "fake", "--quiet", "--out", out]) == 2
    assert "bad LLM spec 'nonsense:x'" in capsys.readouterr().err
    assert main(["eval", "roleplay", *FAKE, "--world", "school", "--coser", "x.json", "--out", out]) == 2
    assert "give one source of scenes" in capsys.readouterr().err
    assert main(["eval", "roleplay", *FAKE, "--temperature", "-1", "--out", out]) == 2
    assert "--temperature: must be a number in [0, 10]" in capsys.readouterr().err
    assert not (tmp_path / "eval").exists()


@pytest.mark.slow
def test_embedded_model_against_itself(tmp_path, fake_calls):
    """The smallest real evaluation: one scene, two rounds, Gemma 3 270M as both players; the
    narrator and the judge are the fake, which keeps the test near a minute on a loaded 2-core
    machine (with the embedded judge too it took 314 s at load 5.7; benchmarks/README.md records
    a whole embedded run). Each difference A - B must lie within its own bootstrap interval."""
    require_embedded()
    from agentopia_mesa.evaluation.roleplay import RoleplaySettings, evaluate_roleplay

    start = time.perf_counter()
    result = evaluate_roleplay(RoleplaySettings(models=("embedded", "embedded"), judge="fake", scenes=1, rounds=2),
                               tmp_path / "eval")
    assert result.model_calls > fake_calls[0]  # the embedded model answered the players' calls
    assert len(_rows(result.paths["scores.csv"])) == 2
    for measure, estimate in result.summary.difference.items():
        if estimate.n:
            assert estimate.contains(estimate.mean), measure
    print(f"embedded eval, 1 scene, 2 rounds: {time.perf_counter() - start:.0f} s, {result.model_calls} calls")


def test_one_model_alone_gets_means_and_no_difference(tmp_path):
    out = tmp_path / "eval"
    assert main(["eval", "roleplay", "--model", "fake", "--judge", "fake", "--quiet", "--scenes", "2", "--rounds", "2",
                 "--world", "school", "--out", str(out)]) == 0
    rows = _rows(out / "scores.csv")
    assert {r["player"] for r in rows} == {"A"} and {r["source"] for r in rows} == {"world:school"}
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| overall |" in summary and "Difference" not in summary
