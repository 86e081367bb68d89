"""The trajectory recorder: one flushed JSON line per decision, streamed back, cut back on resume.

The runs use the fake backend (a real LLMClient that answers from the schema) through the same
pieces ``agentopia run`` uses: ``minds_for``, ``attach_trajectories`` and ``run_session``.
"""

import json

import pytest

from agentopia_mesa.run.checkpoints import load_latest
from agentopia_mesa.config import PROFILES, SimulationConfig
from agentopia_mesa.llm.settings import LLMSettings, parse_mix
from agentopia_mesa.minds.assign import llm_minds, minds_for, reattach_minds
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.results import run_metadata, write_start
from agentopia_mesa.run.layout import DECISIONS as DECISIONS_FILE
from agentopia_mesa.run.layout import STREAM_FILES
from agentopia_mesa.run.session import prepare_resume, run_session
from agentopia_mesa.run.trajectories import (
    TRAJECTORY_FIELDS,
    TrajectoryRecorder,
    attach_trajectories,
    read_trajectories,
)

SHORT = SimulationConfig().with_overrides(calendar={"weeks_per_year": 2, "days_per_week": 2, "contact_rounds": 1})
# The real model's runs take the lean profile, as `agentopia run` gives LLM runs by default: the
# library's defaults are the paper's (its context window, note tools), several times the calls.
TINY = SimulationConfig().with_flat_overrides({**PROFILES["lean"], "calendar__weeks_per_year": 1, "calendar__days_per_week": 1,
                                               "calendar__contact_rounds": 1})


def recorded_run(out, mix="fake=0.5", residents=6, years=2, seed=1, tiny=False):
    """Run a town with LLM minds in ``out`` as ``agentopia run`` does, recording trajectories.
    ``tiny``: one week of one day a year (for the real model)."""
    settings = LLMSettings(mix=parse_mix(mix))
    minds, _ = minds_for(settings, residents, seed)
    model = AgentopiaModel(world="school", residents=residents, years=years, seed=seed, config=TINY if tiny else SHORT, minds=minds)
    out.mkdir(parents=True, exist_ok=True)
    meta = {**run_metadata(model, "school", seed), "llm": settings.to_dict(), "checkpoint_every": 1}
    write_start(out, model, meta)
    recorder = attach_trajectories(model, out)
    run_session(model, out, meta, checkpoint_every=1)
    recorder.close()
    return model


def entry(**overrides):
    """A decision as ``LLMMind`` hands it to its recorder."""
    base = {
        "resident": "Ana Lopez", "model": "fake:schema-example", "stage": "plan", "when": "Y2021-W03-plan", "week_index": 12,
        "messages": [{"role": "system", "content": "You are Ana."}, {"role": "user", "content": "PLAN your week."}],
        "response": '{"living_standard":"frugal"}', "decision": {"living_standard": "frugal"}, "fallback": False,
        "invalid_attempts": 0, "error": None, "prompt_tokens": 10, "completion_tokens": 5, "cached": False,
    }
    return {**base, **overrides}


def test_recorder_writes_one_flushed_line_per_decision_with_run_id_and_flags(tmp_path):
    recorder = TrajectoryRecorder(tmp_path, run_id="run-a")
    recorder(entry())
    # Flushed at once: another reader sees the line while the recorder is still open.
    (line,) = (tmp_path / DECISIONS_FILE).read_text().splitlines()
    stored = json.loads(line)
    assert list(stored)[: len(TRAJECTORY_FIELDS)] == list(TRAJECTORY_FIELDS)
    assert stored["run"] == "run-a" and stored["year"] == 2021
    assert (stored["fallback"], stored["invalid"], stored["rejected"]) == (False, False, False)
    recorder(entry(invalid_attempts=2))  # retried, then accepted
    recorder(entry(fallback=True, invalid_attempts=3, response="{}", error="invalid answer: x"))  # answered, all rejected
    recorder(entry(fallback=True, response=None, error="LLMUnavailable: down"))  # the server was down
    recorder(entry(rejected=True))  # refused by the environment
    recorder.close()
    flags = [(e["fallback"], e["invalid"], e["rejected"]) for e in read_trajectories(tmp_path)]
    assert flags == [(False, False, False), (False, True, False), (True, True, True), (True, False, False), (False, False, True)]


def test_reader_streams_and_skips_a_half_written_last_line(tmp_path):
    with TrajectoryRecorder(tmp_path) as recorder:
        for week in range(3):
            recorder(entry(week_index=week))
    with open(tmp_path / DECISIONS_FILE, "a") as f:
        f.write('{"resident": "cut off mid-wri')
    stream = read_trajectories(tmp_path)
    assert next(stream)["week_index"] == 0  # a generator: lines are read as they are asked for
    with pytest.warns(UserWarning, match="unfinished last line"):
        assert [e["week_index"] for e in stream] == [1, 2]
    assert list(read_trajectories(tmp_path / "missing")) == []


def test_reader_names_a_broken_line(tmp_path):
    (tmp_path / DECISIONS_FILE).write_text('{"a": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"decisions.jsonl:2: not a JSON line"):
        list(read_trajectories(tmp_path))


def test_a_run_records_every_llm_decision_and_only_those(tmp_path):
    model = recorded_run(tmp_path / "run", mix="fake=0.5", residents=6, years=1)
    entries = list(read_trajectories(tmp_path / "run"))
    llm_residents = {name for name, mind in model.minds.items() if mind.name != "rules"}
    assert len(llm_residents) == 3
    assert {e["resident"] for e in entries} == llm_residents
    assert all(e["run"] == "run" and e["model"] == "fake:schema-example" and e["year"] == 2020 for e in entries)
    assert {"plan", "contact", "solo", "review", "job_wishes", "rating"} <= {e["stage"] for e in entries}
    (mind,) = llm_minds(model)
    assert len(entries) == sum(mind.stats.by_stage.values())  # every decision, one line each
    chat = ("joint_entry", "joint", "joint_exit")  # a conversation's prompts go on from its running chat
    assert all([m["role"] for m in e["messages"]] == ["system", "user"] for e in entries if e["stage"] not in chat)
    assert all(e["messages"][0]["role"] == "system" and e["messages"][-1]["role"] == "user" for e in entries)
    assert all(isinstance(e["response"], str) and isinstance(e["decision"], dict) for e in entries if not e["fallback"])


def test_a_resumed_run_continues_the_stream_exactly(tmp_path):
    assert DECISIONS_FILE in STREAM_FILES
    whole = tmp_path / "whole" / "run"  # same name, same run id
    recorded_run(whole, years=2)
    expected = (whole / DECISIONS_FILE).read_text()

    killed = tmp_path / "killed" / "run"
    recorded_run(killed, years=2)  # then pretend it died after week 2: resume from that checkpoint
    model, _ = load_latest(killed, at_most_week=2)
    assert model.weeks_done == 2
    prepare_resume(model, killed)  # cuts decisions.jsonl back to the checkpoint's size
    assert len((killed / DECISIONS_FILE).read_text()) < len(expected)
    recorder = TrajectoryRecorder(killed)
    reattach_minds(model, LLMSettings.from_dict(json.loads((killed / "config.json").read_text())["llm"]), recorder)
    run_session(model, killed, json.loads((killed / "config.json").read_text()), checkpoint_every=1)
    recorder.close()
    assert (killed / DECISIONS_FILE).read_text() == expected
