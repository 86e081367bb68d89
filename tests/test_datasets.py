"""Training data from runs: the paper's top-25 %-per-year selection, the output schemas, the card,
and matched-state preference pairs with the real embedded model (slow).

Selection and export are checked on a hand-made reward table and decisions written through the
recorder (what ``LLMMind`` hands it), then on real runs with the fake backend.
"""

import argparse
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from prerequisites import require_embedded, require_modules

from agentopia_mesa.analysis.compare import add_compare_parser
from agentopia_mesa.cli.dataset import add_dataset_parser
from agentopia_mesa.datasets.formats import chat_messages
from agentopia_mesa.datasets.selection import advantages_by_year, select_agent_years
from agentopia_mesa.datasets.sft import export_sft
from agentopia_mesa.run.trajectories import TrajectoryRecorder, read_trajectories
from tests.test_trajectories import entry, recorded_run

ROLES = {"system", "user", "assistant"}

# year 2020: eight residents, B and C tie for second place; year 2021: three residents, all tied.
ADVANTAGES = {
    2020: {"A": 0.9, "C": 0.5, "B": 0.5, "D": 0.1, "E": -0.2, "F": -0.3, "G": -0.4, "H": -1.0},
    2021: {"A": 0.2, "B": 0.2, "C": 0.2},
}
SELECTED = {("A", 2020), ("B", 2020), ("A", 2021)}


def hand_made_run(path, model_of=lambda name: "ollama:base"):
    """A finished run: config.json, rewards.csv from ADVANTAGES, and per agent-year four recorded
    calls: an accepted one, one accepted after a retry, one that fell back, one rejected."""
    path.mkdir(parents=True)
    meta = {"world_name": "school", "seed": 7, "config_digest": "c0ffee", "versions": {"agentopia-mesa": "0.1.0"},
            "years": 2, "config": {"reward": {"gamma": 0.9}}}
    (path / "config.json").write_text(json.dumps(meta))
    rows = [{"year": y, "name": n, "model": model_of(n), "total": a, "liked_by": 1, "respected_by": 1, "advantage": a}
            for y, adv in ADVANTAGES.items() for n, a in adv.items()]
    pd.DataFrame(rows).to_csv(path / "rewards.csv", index=False)
    with TrajectoryRecorder(path) as record:
        for year, adv in ADVANTAGES.items():
            for name in adv:
                common = {"resident": name, "model": model_of(name), "when": f"Y{year}-W01-plan"}
                record(entry(**common, response=f'{{"who":"{name}","year":{year}}}'))
                record(entry(**common, stage="review", invalid_attempts=1))
                record(entry(**common, fallback=True, invalid_attempts=3, error="invalid answer: bad"))
                record(entry(**common, fallback=True, response=None, error="LLMTimeout: slow"))
                record(entry(**common, stage="contact", rejected=True))
    return path


def cli(argv):
    """``agentopia dataset ...`` and ``agentopia compare ...``, parsed as the agentopia command does."""
    parser = argparse.ArgumentParser(prog="agentopia")
    commands = parser.add_subparsers(dest="command", required=True)
    add_dataset_parser(commands)
    add_compare_parser(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


def hf_load_dataset():
    """Hugging Face's ``datasets.load_dataset`` (the test extra installs it; CI fails without it)."""
    require_modules("datasets", hint="pip install 'agentopia-mesa[test]'")
    from datasets import load_dataset

    return load_dataset


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- selection ------------------------------------------------------------------------------------

def test_top_quarter_per_year_ties_by_name_and_at_least_one():
    chosen = select_agent_years(ADVANTAGES, 0.25)
    assert set(chosen) == SELECTED  # 2 of 8 (B beats C on the tie by name); 1 of 3 (max(1, 0))
    assert chosen["A", 2020] == 0.9
    assert set(select_agent_years({2020: {"X": -3.0}}, 0.25)) == {("X", 2020)}
    assert select_agent_years({2020: {}}, 0.25) == {}
    assert len(select_agent_years({2020: {f"r{i:03d}": float(i) for i in range(100)}}, 0.25)) == 25
    with pytest.raises(ValueError, match="fraction must be in"):
        select_agent_years(ADVANTAGES, 0.0)


def test_first_years_recompute_the_advantages_and_models_filter_who_is_ranked():
    rewards = pd.DataFrame([
        {"year": 2020, "name": "A", "model": "m1", "total": 1.0, "advantage": 9.0},
        {"year": 2021, "name": "A", "model": "m1", "total": -1.0, "advantage": 9.0},
        {"year": 2020, "name": "B", "model": "m2", "total": 0.5, "advantage": 0.0},
        {"year": 2021, "name": "B", "model": "m2", "total": 0.5, "advantage": 0.0},
    ])
    assert advantages_by_year(rewards)[2020] == {"A": 9.0, "B": 0.0}  # as stored in rewards.csv
    first = advantages_by_year(rewards, first_years=1)
    # One year: A_1 = r_1 - (0 + 0.9 r_1) / 1.9 = r_1 / 1.9 (the virtual r_0 = 0 before it).
    assert list(first) == [2020] and first[2020] == pytest.approx({"A": 1.0 / 1.9, "B": 0.5 / 1.9})
    assert advantages_by_year(rewards, models=["m2"]) == {2020: {"B": 0.0}, 2021: {"B": 0.0}}


# -- export ---------------------------------------------------------------------------------------

def test_sft_keeps_only_used_llm_calls_of_the_selected_agent_years(tmp_path):
    run = hand_made_run(tmp_path / "run")
    stats = export_sft([run], tmp_path / "sft.jsonl")
    samples = read_jsonl(tmp_path / "sft.jsonl")
    assert {(s["metadata"]["resident"], s["metadata"]["year"]) for s in samples} == SELECTED
    assert len(samples) == stats.samples == 2 * len(SELECTED)  # the accepted call and the retried-then-accepted one
    assert stats.excluded == {"fallback": 2 * len(SELECTED), "rejected": len(SELECTED)}
    assert (stats.selected_agent_years, stats.agent_years, stats.calls_all) == (3, 11, 5 * 11)
    first = samples[0]
    assert first["messages"] == [*entry()["messages"], {"role": "assistant", "content": '{"who":"A","year":2020}'}]
    assert first["metadata"] == {
        "run": "run", "resident": "A", "year": 2020, "advantage": 0.9, "model": "ollama:base", "stage": "plan",
        "when": "Y2020-W01-plan", "week_index": 12, "config_digest": "c0ffee", "seed": 7, "package_version": "0.1.0",
        "world": "school",
    }
    only_reviews = export_sft([run], tmp_path / "reviews.jsonl", stages=["review"])
    assert only_reviews.samples == len(SELECTED) and only_reviews.excluded["other stage"] == len(SELECTED)


def test_sft_drops_conversation_replies_the_environment_rejected(tmp_path):
    """A reply the environment rejected stays in decisions.jsonl (it happened) but not in the dataset."""
    run = hand_made_run(tmp_path / "run")
    turns = [f"Y2020-W01-D1-joint-t{n}" for n in (1, 2, 3)]
    with TrajectoryRecorder(run) as record:
        for when in turns:
            record(entry(resident="A", model="ollama:base", stage="joint", when=when, response='{"speech": "\\"Hi.\\""}'))
    verdicts = ("PASS", "REJECT", "PASS")
    dialogue = {"kind": "joint", "participants": ["A", "B"], "turns": [
        {"turn": n, "when": when, "speaker": "A", "text": '"Hi."', "verification": v, "rejected": v == "REJECT",
         "failure": "parroting" if v == "REJECT" else "", "reason": ""}
        for n, (when, v) in enumerate(zip(turns, verdicts, strict=True), 1)]}
    (run / "dialogues.jsonl").write_text(json.dumps(dialogue) + "\n", encoding="utf-8")
    stats = export_sft([run], tmp_path / "sft.jsonl")
    joint = [s["metadata"]["when"] for s in read_jsonl(tmp_path / "sft.jsonl") if s["metadata"]["stage"] == "joint"]
    assert joint == [turns[0], turns[2]]
    assert stats.excluded["rejected"] == len(SELECTED) + 1  # the hand-made rejected calls, and the rejected reply


def test_models_option_ranks_only_that_models_residents(tmp_path):
    run = hand_made_run(tmp_path / "run", model_of=lambda n: "ollama:ft" if n in "AB" else "ollama:base")
    stats = export_sft([run], tmp_path / "base.jsonl", models=["ollama:base"])
    kept = {(s["metadata"]["resident"], s["metadata"]["year"]) for s in read_jsonl(tmp_path / "base.jsonl")}
    assert kept == {("C", 2020), ("C", 2021)}  # top 1 of the six base residents in 2020 (not A), 1 of 1 in 2021
    assert stats.by_model == {"ollama:base": 4}


def test_outputs_load_with_the_datasets_json_loader_and_have_valid_roles(tmp_path):
    load_dataset = hf_load_dataset()
    run = hand_made_run(tmp_path / "run")
    assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / "chat" / "train.jsonl")]) == 0
    assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / "sharegpt.jsonl"), "--format", "sharegpt", "--top", "0.5"]) == 0
    chat = load_dataset("json", data_files=str(tmp_path / "chat" / "train.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert chat.num_rows == 6 and set(chat.column_names) == {"messages", "metadata"}
    for sample in chat:
        roles = [m["role"] for m in sample["messages"]]
        assert set(roles) <= ROLES and roles[-1] == "assistant" and roles[0] == "system"
        assert all(isinstance(m["content"], str) and m["content"] for m in sample["messages"])
    # The folder loads as a dataset too (what `trl sft --dataset_name DIR` does); the card is not data.
    folder = load_dataset(str(tmp_path / "chat"), split="train", cache_dir=str(tmp_path / "hf"))
    assert folder.num_rows == 6
    sharegpt = load_dataset("json", data_files=str(tmp_path / "sharegpt.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert sharegpt.num_rows == 2 * 5  # top 50 %: 4 of 8 and 1 of 3
    assert [t["from"] for t in sharegpt[0]["conversations"]] == ["system", "human", "gpt"]
    assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / "pc.jsonl"), "--format", "prompt-completion"]) == 0
    completion = load_dataset("json", data_files=str(tmp_path / "pc.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert [m["role"] for m in completion[0]["prompt"]] == ["system", "user"]
    assert [m["role"] for m in completion[0]["completion"]] == ["assistant"]


def test_card_summarises_counts_tokens_and_rewards(tmp_path):
    run = hand_made_run(tmp_path / "run")
    assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / "sft.jsonl")]) == 0
    card = (tmp_path / "sft.md").read_text()
    assert "samples: **6**" in card and "agent-years: 3 selected of 11" in card
    assert "left out: fallback 6, rejected 3" in card
    assert "tokens: 60 prompt + 30 completion = 90" in card
    assert "| selected | +0.533 |" in card  # mean total of A (0.9), B (0.5), A (0.2)
    assert "| run | 2020 | 8 | 2 | +0.700 |" in card


def test_bad_input_is_one_clear_line(tmp_path):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"no rewards\.csv yet; finish the run first"):
        export_sft([unfinished], tmp_path / "x.jsonl")
    with pytest.raises(ValueError, match="not a run directory"):
        export_sft([tmp_path / "nowhere"], tmp_path / "x.jsonl")


def test_sft_from_real_runs_and_a_sweep_directory(tmp_path):
    for seed in (1, 2):
        recorded_run(tmp_path / "sweep" / "runs" / f"seed{seed}", mix="fake=0.5", residents=8, years=2, seed=seed)
    stats = export_sft([tmp_path / "sweep"], tmp_path / "sft.jsonl")
    assert stats.runs == ["seed1", "seed2"] and stats.agent_years == 2 * 8 * 2
    assert stats.selected_agent_years == 2 * 2 * 2  # 2 of 8 per year
    samples = read_jsonl(tmp_path / "sft.jsonl")
    assert samples and stats.selected_without_calls > 0  # selected rule-minded residents have no LLM calls
    for run in ("seed1", "seed2"):
        rewards = pd.read_csv(tmp_path / "sweep" / "runs" / run / "rewards.csv")
        ranked = rewards.sort_values(["year", "advantage", "name"], ascending=[True, False, True])
        top = {(r.name, r.year) for r in ranked.groupby("year").head(2).itertuples()}
        kept = {(s["metadata"]["resident"], s["metadata"]["year"]) for s in samples if s["metadata"]["run"] == run}
        assert kept <= top
        used = sum(1 for e in read_trajectories(tmp_path / "sweep" / "runs" / run)
                   if (e["resident"], e["year"]) in top and not e["fallback"] and not e["rejected"])
        assert used == sum(1 for s in samples if s["metadata"]["run"] == run)


# -- preference pairs -----------------------------------------------------------------------------

@pytest.mark.slow
def test_dpo_pairs_from_a_small_embedded_model_run(tmp_path):
    require_embedded()
    from agentopia_mesa.datasets.dpo import export_dpo

    run = tmp_path / "run"
    # One resident of three thinks with the real Gemma 3 270M; a year is one short week.
    recorded_run(run, mix="embedded=0.34", residents=3, years=2, seed=3, tiny=True)
    stats = export_dpo(run, tmp_path / "dpo.jsonl", week=1, samples=4, temperature=1.2, min_margin=0.0)
    assert stats.prompts == 1 and stats.distinct_answers >= 2
    assert stats.unmatched == 0 and stats.rollouts == stats.distinct_answers  # every branch met the same prompt
    assert stats.pairs >= 1
    load_dataset = hf_load_dataset()
    pairs = load_dataset("json", data_files=str(tmp_path / "dpo.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    pair = pairs[0]
    assert [m["role"] for m in pair["prompt"]] == ["system", "user"] and "PLAN your week" in pair["prompt"][1]["content"]
    assert pair["chosen"][0]["role"] == pair["rejected"][0]["role"] == "assistant"
    assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
    meta = pair["metadata"]
    assert meta["margin"] > 0 and meta["chosen_reward"] - meta["rejected_reward"] == pytest.approx(meta["margin"])
    assert meta["model"].startswith("embedded") and meta["week"] == 1
    assert "s per pair" in (tmp_path / "dpo.md").read_text()


def test_dpo_sharegpt_layout_from_a_fake_llm_run(tmp_path, capsys, caplog):
    run = tmp_path / "run"
    recorded_run(run, mix="fake=0.5", residents=4, years=2, seed=3, tiny=True)  # weeks of one day
    common = ["--week", "1", "--samples", "3", "--prompts", "2", "--horizon", "1", "--min-margin", "0"]
    assert cli(["dataset", "dpo", str(run), "--out", str(tmp_path / "sharegpt.jsonl"), "--format", "sharegpt", *common]) == 0
    assert "pairs from 2 prompts (week 1, stage plan" in capsys.readouterr().out
    sampled = _sampling_calls(tmp_path / "sharegpt.md")
    assert sampled[0] >= 2 and sampled[1] == 0  # a fresh cache answers nothing
    # the same prompts again from the first export's cache: every sample is a hit, and the card says so
    assert cli(["dataset", "dpo", str(run), "--out", str(tmp_path / "chat.jsonl"), *common,
                "--llm-cache", str(tmp_path / "sharegpt.cache.sqlite")]) == 0
    assert _sampling_calls(tmp_path / "chat.md") == (sampled[0], sampled[0])
    # branches find recorded decisions by their prompts: a site one branch recorded names another's question
    assert not [r for r in caplog.records if "do not match" in r.getMessage()]
    sharegpt, chat = read_jsonl(tmp_path / "sharegpt.jsonl"), read_jsonl(tmp_path / "chat.jsonl")
    assert len(sharegpt) == len(chat) >= 1  # the same pairs (same seed, shared branches), in two layouts
    for pair, same in zip(sharegpt, chat, strict=True):
        assert set(pair) == {"conversations", "chosen", "rejected", "metadata"}
        assert [t["from"] for t in pair["conversations"]] == ["system", "human"]
        assert [t["value"] for t in pair["conversations"]] == [m["content"] for m in same["prompt"]]
        assert pair["chosen"] == {"from": "gpt", "value": same["chosen"][0]["content"]}
        assert pair["rejected"] == {"from": "gpt", "value": same["rejected"][0]["content"]}
        assert pair["chosen"]["value"] != pair["rejected"]["value"] and pair["metadata"]["margin"] > 0
    # the columns models/llamafactory/dataset_info.json maps for LLaMA-Factory's ranking dataset
    info = json.loads((Path(__file__).parent.parent / "models" / "llamafactory" / "dataset_info.json").read_text())
    assert info["agentopia_dpo"]["ranking"] and set(info["agentopia_dpo"]["columns"].values()) <= set(sharegpt[0])
    assert (tmp_path / "sharegpt.md").is_file()


def _sampling_calls(card: Path) -> tuple[int, int]:
    """(sampling calls, of them answered from the cache) as a DPO card states them."""
    match = re.search(r"(\d+) sampling calls \((\d+) from the cache\)", card.read_text())
    return int(match[1]), int(match[2])


def test_sft_help_names_a_model_that_exists(capsys):
    from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

    with pytest.raises(SystemExit) as done:
        cli(["dataset", "sft", "--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    example = help_text.split("(repeatable)")[1].split("e.g. ")[1].split()[0]
    assert example == EmbeddedBackend().name == "embedded:gemma3:270m"  # the name the embedded residents record


# -- role-play samples as the model saw them, and the environment mix ------------------------------------------

PAPER_RUN = ["run", "--world", "school", "--residents", "6", "--years", "2", "--weeks-per-year", "1", "--seed", "1",
             "--mind", "llm", "--llm", "fake", "--profile", "paper", "--quiet"]


def recorded_requests(run) -> dict[str, set[str]]:
    """Every request the run's cache recorded (messages in the dataset's format, tool arguments parsed
    back) -> the answers given to it."""
    import sqlite3

    from agentopia_mesa.datasets.formats import standard_message

    seen: dict[str, set[str]] = {}
    with sqlite3.connect(run / "llm-cache.sqlite") as db:
        for request, text in db.execute("select request, text from responses"):
            seen.setdefault(_canonical([standard_message(m) for m in json.loads(request)["messages"]]), set()).add(text)
    return seen


def _canonical(messages: list[dict]) -> str:
    """Messages as canonical JSON text, tool arguments parsed, an earlier turn's ``weight`` (a mark
    of the dataset, not part of the request) left out."""
    messages = [{k: v for k, v in m.items() if k != "weight"} for m in messages]
    parsed = [{**m, "tool_calls": [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                                   for c in m["tool_calls"]]} if m.get("tool_calls") else m for m in messages]
    return json.dumps(parsed, sort_keys=True)


def test_paper_run_samples_are_the_chats_the_model_answered_with_tool_calls_and_conversations(tmp_path):
    from agentopia_mesa.cli.main import main

    run = tmp_path / "run"
    assert main([*PAPER_RUN, "--out", str(run)]) == 0
    assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / "sft.jsonl"), "--top", "1"]) == 0
    samples = read_jsonl(tmp_path / "sft.jsonl")
    roleplay = [s for s in samples if s["metadata"].get("role") != "environment"]
    seen = recorded_requests(run)
    for sample in roleplay:  # exactly a request the model was sent, and the answer it gave
        assert sample["messages"][-1]["content"] in seen[_canonical(sample["messages"][:-1])]
    tool_samples = [s for s in roleplay if any(m.get("tool_calls") for m in s["messages"])]
    assert tool_samples
    for sample in tool_samples:
        offered = {t["function"]["name"] for t in sample["tools"]}  # the specs the model was offered go along
        assert {"list_notes", "read_note"} <= offered
        for i, m in enumerate(sample["messages"]):
            for call in m.get("tool_calls", []):
                assert set(call) == {"id", "type", "function"} and call["type"] == "function"
                assert call["function"]["name"] in offered
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
                answer = sample["messages"][i + 1]
                assert answer["role"] == "tool" and answer["tool_call_id"] == call["id"]
    conversations = [s for s in roleplay if s["metadata"]["stage"] == "joint"]
    assert conversations, "the run held no conversation: the test needs another seed"
    assert any(sum(m["role"] == "assistant" for m in s["messages"]) > 1 for s in conversations)
    assert all({m["role"] for m in s["messages"]} <= ROLES | {"tool"} for s in samples)
    card = (tmp_path / "sft.md").read_text()
    assert f"with tool calls: {len(tool_samples)}" in card and "environment mix: **" in card


def test_environment_calls_are_mixed_in_within_the_budget_and_seeded(tmp_path):
    from agentopia_mesa.cli.main import main
    from agentopia_mesa.datasets.env_mix import PRE_CUT, PRE_CUT_TASKS, output_tokens

    run = tmp_path / "run"
    assert main([*PAPER_RUN, "--out", str(run)]) == 0
    stats = export_sft([run], tmp_path / "sft.jsonl")
    mixed = [s for s in read_jsonl(tmp_path / "sft.jsonl") if s["metadata"].get("role") == "environment"]
    assert len(mixed) == stats.mixed > 0 and stats.samples + stats.mixed == len(read_jsonl(tmp_path / "sft.jsonl"))
    assert stats.env_budget == round(0.2 * stats.output_tokens) and 0 < stats.mixed_tokens <= stats.env_budget
    assert sum(stats.mixed_by_task.values()) == stats.mixed and stats.subsampled
    env = {json.dumps(chat_messages(e["messages"], e["response"] or "")): e for e in read_trajectories(run) if e.get("role") == "environment"}
    origins = [env[json.dumps(s["messages"])] for s in mixed]
    assert sum(output_tokens(e) for e in origins) == stats.mixed_tokens
    assert not any(e["rejected"] or e["fallback"] for e in origins)
    assert {(s["metadata"]["task"], s["metadata"]["when"]) for s in mixed} == {(e["task"], e["when"]) for e in origins}
    assert export_sft([run], tmp_path / "again.jsonl").mixed_by_task == stats.mixed_by_task
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "sft.jsonl").read_text()
    assert export_sft([run], tmp_path / "seed7.jsonl", seed=7).mixed_tokens <= stats.env_budget
    off = export_sft([run], tmp_path / "off.jsonl", env_mix=0)
    assert off.mixed == 0 and off.samples == stats.samples and len(read_jsonl(tmp_path / "off.jsonl")) == off.samples
    everything = export_sft([run], tmp_path / "all.jsonl", env_mix=100)  # all but the pre-cut (env_mix.pre_cut)
    candidates = everything.candidates_by_task
    assert everything.mixed == sum(max(1, round(PRE_CUT * n)) if t in PRE_CUT_TASKS else n for t, n in candidates.items())
    assert everything.subsampled == [t for t in PRE_CUT_TASKS if candidates.get(t, 0) > 1]


def test_choose_environment_takes_small_tasks_whole_and_subsamples_the_largest():
    from agentopia_mesa.datasets.env_mix import EnvCall, choose_environment

    calls = [EnvCall(0, i, "jobs", 5) for i in range(2)] + [EnvCall(0, 10 + i, "outcome", 10) for i in range(10)]
    chosen, subsampled = choose_environment(calls, 50, seed=1)
    assert subsampled == ["outcome"] and [c.task for c in chosen].count("jobs") == 2
    assert sum(c.tokens for c in chosen) == 50 and [c.line for c in chosen] == sorted(c.line for c in chosen)
    assert choose_environment(calls, 50, seed=1) == (chosen, subsampled)
    assert {c.line for c in choose_environment(calls, 50, seed=2)[0]} != {c.line for c in chosen}


def test_tool_samples_load_with_the_datasets_json_loader(tmp_path):
    load_dataset = hf_load_dataset()
    from agentopia_mesa.cli.main import main

    run = tmp_path / "run"
    assert main([*PAPER_RUN, "--out", str(run)]) == 0
    for layout in ("chat", "sharegpt", "prompt-completion"):
        assert cli(["dataset", "sft", str(run), "--out", str(tmp_path / f"{layout}.jsonl"), "--format", layout]) == 0
    chat = load_dataset("json", data_files=str(tmp_path / "chat.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert chat.num_rows == len(read_jsonl(tmp_path / "chat.jsonl"))
    calls = [m["tool_calls"] for s in chat for m in s["messages"] if m.get("tool_calls")]
    assert calls and all(c[0]["function"]["name"] for c in calls)
    sharegpt = load_dataset("json", data_files=str(tmp_path / "sharegpt.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    froms = {t["from"] for s in sharegpt for t in s["conversations"]}
    assert {"function_call", "observation"} <= froms
    with_tools = [s for s in sharegpt if s.get("tools")]
    assert with_tools and all(t["name"] and t["parameters"] for s in with_tools for t in json.loads(s["tools"]))
    # the entry models/llamafactory/dataset_info.json gives this layout: its columns exist, its roles are the default tags
    info = json.loads((Path(__file__).parent.parent / "models" / "llamafactory" / "dataset_info.json").read_text())
    entry = info["agentopia_sft_tools"]
    assert entry["formatting"] == "sharegpt" and "tags" not in entry  # LLaMA-Factory's defaults: from/value, human/gpt
    assert set(entry["columns"].values()) <= set(with_tools[0])


# -- earlier turns not to train on, tools as Gemma saw them, ShareGPT's alternation --------------------------

def test_earlier_replies_rejected_or_fallen_back_are_kept_as_context_with_weight_zero(tmp_path):
    """A running chat of four turns by A: turn 2 rejected by the environment, turn 3 a fallback's
    answer. The last turn's sample shows both (A saw them) but marks them ``"weight": 0``."""
    run = hand_made_run(tmp_path / "run")
    chat = [{"role": "system", "content": "You are A."}]
    whens = [f"Y2020-W01-D1-joint-t{n}" for n in (1, 2, 3, 4)]
    with TrajectoryRecorder(run) as record:
        for n, when in enumerate(whens, 1):
            chat = [*chat, {"role": "user", "content": f"Your turn ({n})."}]
            reply = f'{{"speech": "reply {n}"}}'
            record(entry(resident="A", model="ollama:base", stage="joint", when=when, messages=chat, response=reply,
                         fallback=n == 3, invalid_attempts=3 * (n == 3)))
            chat = [*chat, {"role": "assistant", "content": reply}]
    turns = [{"turn": n, "when": when, "speaker": "A", "text": "", "verification": "REJECT" if n == 2 else "PASS",
              "rejected": n == 2} for n, when in enumerate(whens, 1)]
    (run / "dialogues.jsonl").write_text(json.dumps({"kind": "joint", "participants": ["A", "B"], "turns": turns}) + "\n")
    stats = export_sft([run], tmp_path / "sft.jsonl", stages=["joint"])
    samples = {s["metadata"]["when"]: s for s in read_jsonl(tmp_path / "sft.jsonl") if s["metadata"].get("stage") == "joint"}
    assert sorted(samples) == [whens[0], whens[3]]  # turns 2 and 3 are no samples of their own
    last = samples[whens[3]]["messages"]
    assert [(m["content"], m["weight"]) for m in last if m["role"] == "assistant"] == [
        ('{"speech": "reply 1"}', 1), ('{"speech": "reply 2"}', 0), ('{"speech": "reply 3"}', 0), ('{"speech": "reply 4"}', 1)]
    assert "weight" not in json.dumps(samples[whens[0]])  # nothing to mark: no weights at all
    assert stats.masked_turns == {"rejected": 1, "fallback": 1} and stats.masked_samples == 1
    card = export_sft_card(stats)
    assert "earlier assistant turns not trained on" in card and ": 2 (" in card and "in 1 samples" in card
    # ShareGPT carries the mark; prompt-completion has the earlier turns in the prompt (never a target)
    export_sft([run], tmp_path / "sg.jsonl", layout="sharegpt", stages=["joint"])
    sg = next(s for s in read_jsonl(tmp_path / "sg.jsonl") if s["metadata"]["when"] == whens[3])
    assert [t.get("weight") for t in sg["conversations"] if t["from"] == "gpt"] == [1, 0, 0, 1]
    export_sft([run], tmp_path / "pc.jsonl", layout="prompt-completion", stages=["joint"])
    pc = next(s for s in read_jsonl(tmp_path / "pc.jsonl") if s["metadata"]["when"] == whens[3])
    assert pc["completion"] == [{"role": "assistant", "content": '{"speech": "reply 4"}', "weight": 1}]


def export_sft_card(stats) -> str:
    from agentopia_mesa.datasets.card import sft_card

    return sft_card(stats)


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """One fake paper-profile run (conversations with rejected replies, notebook tool rounds), shared."""
    from agentopia_mesa.cli.main import main

    run = tmp_path_factory.mktemp("paper") / "run"
    assert main([*PAPER_RUN, "--out", str(run)]) == 0
    return run


def test_paper_run_marks_every_rejected_earlier_reply_and_loads(paper_run, tmp_path):
    from agentopia_mesa.run.dialogues import rejected_replies

    stats = export_sft([paper_run], tmp_path / "chat" / "sft.jsonl", fraction=1)
    rejected = rejected_replies(paper_run)
    requests = {(e["resident"], json.dumps(e["messages"])): e["when"] for e in read_trajectories(paper_run)
                if e.get("role") != "environment"}
    marked = 0
    for sample in read_jsonl(tmp_path / "chat" / "sft.jsonl"):
        if sample["metadata"].get("role") == "environment":
            continue
        resident = sample["metadata"]["resident"]
        unweighted = [{k: v for k, v in m.items() if k != "weight"} for m in sample["messages"]]
        for i, m in enumerate(sample["messages"][:-1]):
            when = requests.get((resident, json.dumps(unweighted[:i])))
            if m["role"] == "assistant" and when is not None:  # an earlier reply of the running chat
                assert m.get("weight", 1) == (0 if (resident, when) in rejected else 1)
                marked += m.get("weight", 1) == 0
    assert marked == sum(stats.masked_turns.values()) == stats.masked_turns["rejected"] > 0
    load_dataset = hf_load_dataset()
    chat = load_dataset(str(tmp_path / "chat"), split="train", cache_dir=str(tmp_path / "hf"))
    weights = [m["weight"] for s in chat for m in s["messages"] if m["role"] == "assistant" and m.get("weight") is not None]
    assert weights.count(0) == marked


def test_sharegpt_turns_alternate_as_llamafactory_reads_them(paper_run, tmp_path):
    from agentopia_mesa.datasets.formats import sharegpt_turns
    from agentopia_mesa.llm.tools import TOOLS_CLOSED

    export_sft([paper_run], tmp_path / "sg.jsonl", layout="sharegpt", fraction=1)
    samples = read_jsonl(tmp_path / "sg.jsonl")
    for sample in samples:
        _assert_alternate(sample["conversations"])
    assert any(t["from"] == "function_call" for s in samples for t in s["conversations"]) and any(s.get("tools") for s in samples)
    # a round of two calls (Ollama's native tools) closed by TOOLS_CLOSED: the results and the closing turn are one observation
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": "read_note", "arguments": json.dumps({"name": n})}}
             for i, n in enumerate(("general", "people/B"))]
    closed = [{"role": "system", "content": "You are A."}, {"role": "user", "content": "REVIEW your week."},
              {"role": "assistant", "content": "", "tool_calls": calls},
              {"role": "tool", "content": "note one", "tool_call_id": "c0", "name": "read_note"},
              {"role": "tool", "content": "note two", "tool_call_id": "c1", "name": "read_note"},
              {"role": "user", "content": TOOLS_CLOSED}, {"role": "assistant", "content": "{}"}]
    turns = sharegpt_turns(closed)
    _assert_alternate(turns)
    assert turns[3] == {"from": "observation", "value": f"note one\n\nnote two\n\n{TOOLS_CLOSED}"}
    assert json.loads(turns[2]["value"]) == [{"name": "read_note", "arguments": {"name": "general"}},
                                             {"name": "read_note", "arguments": {"name": "people/B"}}]
    with pytest.raises(ValueError, match="text beside its tool calls.*use --format chat"):
        sharegpt_turns([*closed[:2], {**closed[2], "content": "Let me look."}])


def _assert_alternate(turns: list[dict]) -> None:
    """LLaMA-Factory's ShareGPT rule: after an optional system turn, human/observation at odd places and
    gpt/function_call at even ones, ending with gpt."""
    turns = turns[1:] if turns[0]["from"] == "system" else turns
    assert len(turns) % 2 == 0 and turns[-1]["from"] == "gpt"
    for i, turn in enumerate(turns):
        assert turn["from"] in (("human", "observation"), ("gpt", "function_call"))[i % 2]


def _plain_request(record: dict) -> str:
    """A cached request as the embedded and fake backends sent it (llm/json_tools.py), canonical
    (``_canonical_plain``)."""
    from agentopia_mesa.llm.client import ChatRequest
    from agentopia_mesa.llm.json_tools import plain_messages, uses_tools

    request = ChatRequest(tuple(record["messages"]), tools=tuple(record.get("tools") or ()))
    return _canonical_plain(plain_messages(request) if uses_tools(request) else list(request.messages))


def _canonical_plain(messages: list[dict]) -> str:
    """Plain messages as JSON text with every JSON in them (a tool call's line, a tool's parameter
    schema in the system note) key-sorted: the cache stores requests as canonical JSON, while the
    backend sent them in their own key order."""
    import re

    def canonical(line: str) -> str:
        try:
            return json.dumps(json.loads(line), sort_keys=True)
        except ValueError:
            return re.sub(r"(Arguments \(JSON schema\): )(\{.*\})$", lambda m: m[1] + canonical(m[2]), line)

    return json.dumps([{"role": m["role"], "content": "\n".join(canonical(line) for line in m["content"].split("\n"))}
                       for m in messages])


def test_json_tools_samples_are_what_the_backend_sent_and_gemma_renders_them(paper_run, tmp_path):
    import sqlite3

    from tests.test_model_templates import hf_chat

    assert cli(["dataset", "sft", str(paper_run), "--out", str(tmp_path / "json.jsonl"), "--top", "1", "--tools", "json"]) == 0
    with sqlite3.connect(paper_run / "llm-cache.sqlite") as db:
        sent: dict[str, set[str]] = {}
        for request, text in db.execute("select request, text from responses"):
            record = json.loads(request)
            sent.setdefault(_plain_request(record), set()).add(text)
            if record["messages"][-1]["role"] == "user" and not record.get("tools"):
                # a retry (the first answer, then its problems): its answer is trained on the first prompt
                first = next((i for i, m in enumerate(record["messages"]) if m["role"] == "assistant"), None)
                if first is not None:
                    sent.setdefault(_plain_request({"messages": record["messages"][:first]}), set()).add(text)
    samples = read_jsonl(tmp_path / "json.jsonl")
    with_tools = 0
    for sample in samples:
        messages = sample["messages"]
        assert messages[-1]["content"] in sent[_canonical_plain(messages[:-1])]  # (the weights left aside)
        assert {m["role"] for m in messages} <= {"system", "user", "assistant"} and "tools" not in sample
        with_tools += "Result of " in json.dumps(messages)
        rendered = hf_chat(messages, add_generation_prompt=False)  # raises if roles do not alternate
        assert rendered.endswith(messages[-1]["content"] + "<end_of_turn>\n")
    assert with_tools and "tool rounds in the JSON convention" in (tmp_path / "json.md").read_text()
    with pytest.raises(ValueError, match="--tools: 'xml' is not one of standard, json"):
        export_sft([paper_run], tmp_path / "x.jsonl", tools="xml")


def test_conversation_pairs_are_replies_the_environment_judged_and_a_rerun_calls_nothing(tmp_path, capsys):
    """``--branch conversations``: alternatives of a speaker's turn (the varied fake samples distinct
    texts), each played in its own branch of the week and judged by the environment."""
    import sqlite3

    from agentopia_mesa.cli.main import main

    # ten residents: six residents' first week has too few conversation turns for two pairs, and
    # eight only one whose sampled replies differ (the plain fake's encounter plans often fail their
    # checks; the rules then plan the week's)
    paper_run = tmp_path / "paper"
    assert main([*PAPER_RUN[:4], "10", *PAPER_RUN[5:], "--out", str(paper_run)]) == 0
    out = tmp_path / "conv.jsonl"
    argv = ["dataset", "dpo", str(paper_run), "--out", str(out), "--branch", "conversations", "--prompts", "2",
            "--samples", "3", "--min-margin", "0", "--llm", "fake:varied"]
    assert cli(argv) == 0
    assert "stage joint" in capsys.readouterr().out
    pairs = read_jsonl(out)
    assert len(pairs) >= 2
    running = {(e["resident"], e["when"]): e["messages"] for e in read_trajectories(paper_run) if e.get("stage") == "joint"}
    for pair in pairs:
        meta = pair["metadata"]
        # the prompt is the speaker's running chat up to the turn, as the run sent it
        assert pair["prompt"] == chat_messages(running[(meta["resident"], meta["when"])], "")[:-1]
        assert pair["prompt"][-1]["role"] == "user" and "Your turn" in pair["prompt"][-1]["content"]
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
        verdicts = (meta["chosen_verification"], meta["rejected_verification"])
        assert verdicts != ("REJECT", "PASS")  # a reply the environment passed is never the rejected one
        if verdicts[0] == verdicts[1]:
            assert meta["chosen_outcome"] >= meta["rejected_outcome"] and meta["margin"] >= 0
    assert any(meta["chosen_verification"] == "PASS" and meta["rejected_verification"] == "REJECT"
               for meta in (p["metadata"] for p in pairs))
    card = (tmp_path / "conv.md").read_text()
    verdicts_line = next(x for x in card.splitlines() if x.startswith("- verdicts of the alternatives:"))
    assert f"pairs **{len(pairs)}**" in card and "PASS" in verdicts_line and "skipped: too close" in card
    assert "branch not matched 0" in card  # every branch replayed the run up to its turn (briefs included)

    def cached() -> int:
        with sqlite3.connect(tmp_path / "conv.cache.sqlite") as db:
            return db.execute("select count(*) from responses").fetchone()[0]

    before, text = cached(), out.read_text()
    assert cli(argv) == 0
    assert cached() == before and out.read_text() == text  # every call was cached: the rerun asks no model
    load_dataset = hf_load_dataset()
    loaded = load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == len(pairs) and {"prompt", "chosen", "rejected"} <= set(loaded.column_names)
