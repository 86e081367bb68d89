"""Replay files: a recorded run reads back week by week, matching what the model did."""

import json

import pytest

from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.layout import REPLAY
from agentopia_mesa.run.replay import (
    MIN_FAMILIARITY,
    ReplayError,
    ReplayRecorder,
    load_replay,
    read_frames,
    week_frame,
)
from agentopia_mesa.run.results import write_start


def _recorded_model(tmp_path, residents=20, years=2, seed=3):
    model = AgentopiaModel(world="apartment", residents=residents, years=years, seed=seed)
    write_start(tmp_path, model, {"world": "apartment", "seed": seed})
    recorder = ReplayRecorder(tmp_path)
    recorder.start(model)
    model.observers.append(recorder)
    return model, recorder


def test_round_trip_matches_the_model_week_by_week(tmp_path):
    model, _ = _recorded_model(tmp_path)
    seen = []  # what the model looked like after each week, observed independently
    model.observers.append(lambda m: seen.append(
        {r.name: (r.place.key, r.activity, r.state.deposit, r.state.needs["social"]) for r in m.residents}
    ))
    model.run()

    replay = load_replay(tmp_path)
    weeks = model.total_weeks
    assert replay.weeks == list(range(weeks + 1))
    assert not replay.truncated
    assert replay.world is not None and replay.world.name == model.world.name
    for frame, expected in zip(replay.frames[1:], seen, strict=True):
        columns = frame["residents"]
        got = {n: (p, a, d, s) for n, p, a, d, s in zip(
            columns["name"], columns["place"], columns["activity"], columns["deposit"], columns["social"], strict=True)}
        assert got == expected
    # the metrics rows are the DataCollector's
    collected = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    assert replay.metrics["week"].tolist() == collected["week"].tolist()
    assert replay.metrics["gini_deposit"].tolist() == pytest.approx(collected["gini_deposit"].tolist(), abs=1e-4)
    # the last frame carries the final positions and rewards
    last = replay.frames[-1]["residents"]
    assert last["place"] == [r.place.key for r in model.residents]
    assert last["reward_total"] == [round(r.reward["total"], 4) for r in model.residents]


def test_affection_is_stored_at_year_ends_and_filled_forward(tmp_path):
    model, _ = _recorded_model(tmp_path)
    model.run()
    raw = [json.loads(line) for line in (tmp_path / REPLAY).read_text().splitlines()]
    wpy = model.config.calendar.weeks_per_year
    assert [f["week"] for f in raw if "affection" in f] == [0, wpy, 2 * wpy]
    replay = load_replay(tmp_path)
    assert all(f["affection"] == [] for f in replay.frames[:wpy])
    assert all(f["affection"] for f in replay.frames[wpy:])
    final = {(model.residents[a].name, model.residents[b].name): s for a, b, s in replay.frames[-1]["affection"]}
    assert final == {(a, b): round(d["score"]) for a, b, d in model.ties.affection.edges(data=True)}


def test_only_close_ties_are_kept_in_big_graphs(tmp_path):
    model = AgentopiaModel(world="apartment", residents=100, years=1, seed=0)
    for _ in range(5):
        model.step()
    assert model.ties.acquaintance.number_of_edges() > 500
    frame = week_frame(model)
    kept = frame["acquaintance"]
    assert kept and all(f >= MIN_FAMILIARITY for _, _, f, _ in kept)
    expected = sum(1 for *_, t in model.ties.acquaintance.edges(data=True) if t["familiarity"] >= MIN_FAMILIARITY)
    assert len(kept) == expected


def test_a_run_stopped_midway_leaves_valid_jsonl(tmp_path):
    model, recorder = _recorded_model(tmp_path)
    for _ in range(4):
        model.step()
    # no close(): the process could die here; every finished week is already on disk
    lines = (tmp_path / REPLAY).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["v"] == 1 for line in lines)
    assert load_replay(tmp_path).weeks == [0, 1, 2, 3, 4]

    # a crash in the middle of writing leaves a cut-off last line: it is skipped, not fatal
    with (tmp_path / REPLAY).open("a", encoding="utf-8") as f:
        f.write('{"v":1,"week":5,"resid')
    replay = load_replay(tmp_path)
    assert replay.weeks == [0, 1, 2, 3, 4] and replay.truncated
    recorder.close()


def test_weeks_written_again_by_a_resumed_run_replace_the_old_ones(tmp_path):
    path = tmp_path / REPLAY
    lines = [{"week": w, "label": f"first {w}", "residents": {}, "metrics": {"week": w}} for w in range(5)]
    lines += [{"week": w, "label": f"again {w}", "residents": {}, "metrics": {"week": w}} for w in range(3, 7)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    frames, _ = read_frames(path)
    assert [f["week"] for f in frames] == list(range(7))
    assert [f["label"] for f in frames][2:5] == ["first 2", "again 3", "again 4"]


def test_a_failing_week_keeps_the_weeks_before(tmp_path):
    model, recorder = _recorded_model(tmp_path)

    def crash(m):
        if m.weeks_done == 3:
            raise RuntimeError("boom")

    model.observers.append(crash)
    with pytest.raises(RuntimeError):
        model.run()
    recorder.close()
    assert load_replay(tmp_path).weeks == [0, 1, 2, 3]


def test_missing_or_corrupt_replays_say_what_is_wrong(tmp_path):
    with pytest.raises(ReplayError, match="no replay file"):
        load_replay(tmp_path)
    (tmp_path / REPLAY).write_text('{"week": 0}\nnot json\n', encoding="utf-8")
    with pytest.raises(ReplayError, match=r"replay.jsonl:2: not a JSON line"):  # file:line (issue #32)
        load_replay(tmp_path)
