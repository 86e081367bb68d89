"""``agentopia train`` and the trainers on our data (issues #18 and #15).

Fast tests check how samples become training rows and the command's one-line errors, with no
torch. The slow ones need the ``[train]`` extra (skip without it, fail under CI): the loop at its
smallest (a lean fake run, its SFT file, two LoRA steps on the real Gemma 3 270M, the tuned GGUF
loaded by llama.cpp, a short mixed run and a comparison), and two steps each of TRL's SFTTrainer
and DPOTrainer on our files with a tiny model built from a config.
"""

import copy
import hashlib
import json
import math

import pytest
from prerequisites import require_embedded, require_modules

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.json_tools import TOOLS_NOTE
from agentopia_mesa.llm.tools import TOOLS_CLOSED
from agentopia_mesa.training.base import CHATML_TEMPLATE, TRAIN_HINT
from agentopia_mesa.training.samples import training_row

TRAIN_MODULES = ("torch", "transformers", "trl", "peft", "gguf", "datasets")
LEAN_RUN = ["run", "--world", "school", "--years", "1", "--weeks-per-year", "1", "--seed", "1", "--mind", "llm",
            "--profile", "lean", "--set", "calendar__days_per_week=1", "--set", "calendar__contact_rounds=1", "--quiet"]
NOTE_TOOL = {"type": "function", "function": {"name": "read_note", "description": "Read a note.",
                                              "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}


def require_training():
    require_modules(*TRAIN_MODULES, hint=TRAIN_HINT)


# -- samples as the embedded model sees them ----------------------------------------------------

def test_a_tool_round_becomes_the_plain_turns_the_embedded_backend_sends():
    sample = {"messages": [
        {"role": "system", "content": "You are Ana."}, {"role": "user", "content": "PLAN your week."},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read_note", "arguments": '{"title": "Bo"}'}}]},
        {"role": "tool", "content": "Bo likes chess.", "tool_call_id": "c1", "name": "read_note"},
        {"role": "assistant", "content": '{"living_standard":"frugal"}'}], "tools": [NOTE_TOOL], "metadata": {}}
    row = training_row(sample)
    assert [m["role"] for m in row["prompt"]] == ["system", "user", "assistant", "user"]
    assert row["prompt"][0]["content"].startswith("You are Ana.\n\n" + TOOLS_NOTE) and "- read_note: Read a note." in row["prompt"][0]["content"]
    assert json.loads(row["prompt"][2]["content"]) == {"tool": "read_note", "arguments": {"title": "Bo"}}
    assert row["prompt"][3]["content"] == "Result of read_note: Bo likes chess."
    assert row["completion"] == [{"role": "assistant", "content": '{"living_standard":"frugal"}'}]
    # the prompt-completion layout gives the same row
    assert training_row({"prompt": sample["messages"][:-1], "completion": sample["messages"][-1:], "tools": [NOTE_TOOL]}) == row
    # an answer asked for after the tools closed was asked without the tools note
    closed = {**sample, "messages": [*sample["messages"][:-1], {"role": "user", "content": TOOLS_CLOSED}, sample["messages"][-1]]}
    closed_row = training_row(closed)
    assert closed_row["prompt"][0]["content"] == "You are Ana." and closed_row["prompt"][-1]["content"].endswith(TOOLS_CLOSED)


def test_standard_tool_samples_become_the_rows_of_the_json_convention_export(tmp_path):
    from tests.test_datasets import PAPER_RUN

    assert main([*PAPER_RUN, "--out", str(tmp_path / "run")]) == 0
    for tools in ("standard", "json"):
        assert main(["dataset", "sft", str(tmp_path / "run"), "--out", str(tmp_path / f"{tools}.jsonl"), "--top", "1",
                     "--tools", tools]) == 0
    standard, plain = ([json.loads(line) for line in (tmp_path / f"{tools}.jsonl").read_text().splitlines()]
                       for tools in ("standard", "json"))
    assert len(standard) == len(plain) and any(s.get("tools") for s in standard)
    for sample, same in zip(standard, plain, strict=True):
        # the loss is on the last answer only, so the "weight" marks of earlier replies are not needed
        turns = [{"role": m["role"], "content": m["content"]} for m in same["messages"]]
        assert training_row(sample) == training_row(same) == {"prompt": turns[:-1], "completion": turns[-1:]}


def test_samples_without_a_final_answer_or_in_sharegpt_layout_are_refused():
    with pytest.raises(ValueError, match="last message is not the assistant's answer"):
        training_row({"messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(ValueError, match="neither 'messages' nor 'prompt'/'completion' \\(keys: conversations, metadata\\)"):
        training_row({"conversations": [], "metadata": {}})


def test_bad_files_and_a_missing_extra_are_one_line_errors(tmp_path, capsys, monkeypatch):
    out = ["--steps", "1", "--out", str(tmp_path / "ft")]
    assert main(["train", str(tmp_path / "nowhere.jsonl"), *out]) == 2
    assert "nowhere.jsonl is not a file: write it with `agentopia dataset sft" in capsys.readouterr().err
    (tmp_path / "share.jsonl").write_text('{"conversations": [], "metadata": {}}\n')
    assert main(["train", str(tmp_path / "share.jsonl"), *out]) == 2
    assert "share.jsonl:1: not an SFT sample (neither 'messages'" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "share.jsonl"), "--steps", "0", "--out", str(tmp_path)]) == 2
    assert "--steps: must be at least 1, got 0" in capsys.readouterr().err
    (tmp_path / "ok.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]}\n')
    import agentopia_mesa.training.base as base

    real_find_spec = base.importlib.util.find_spec
    monkeypatch.setattr(base.importlib.util, "find_spec", lambda name: None if name in base.TRAIN_MODULES else real_find_spec(name))
    assert main(["train", str(tmp_path / "ok.jsonl"), *out]) == 2
    assert capsys.readouterr().err.strip() == f"agentopia: error: agentopia train needs torch, transformers, trl, peft, gguf: {TRAIN_HINT}"
    assert not (tmp_path / "ft").exists()


def test_a_base_model_whose_tensors_cannot_go_back_is_refused_before_loading(tmp_path, capsys):
    require_training()
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(tmp_path / "llama.gguf"), "llama")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (tmp_path / "ok.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]}\n')
    assert main(["train", str(tmp_path / "ok.jsonl"), "--steps", "1", "--out", str(tmp_path / "ft"), "--base", str(tmp_path / "llama.gguf")]) == 2
    assert "llama.gguf is a llama model; agentopia train writes back only gemma3" in capsys.readouterr().err
    assert not (tmp_path / "ft").exists()


# -- #18: the loop at its smallest on the real model ----------------------------------------------

@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A lean fake run's SFT file and two LoRA steps of the embedded Gemma 3 270M on it."""
    require_training()
    require_embedded()
    root = tmp_path_factory.mktemp("loop")
    assert main([*LEAN_RUN, "--residents", "4", "--llm", "fake", "--out", str(root / "run")]) == 0
    assert main(["dataset", "sft", str(root / "run"), "--out", str(root / "sft.jsonl"), "--top", "1"]) == 0
    assert main(["train", str(root / "sft.jsonl"), "--steps", "2", "--out", str(root / "ft"), "--lr", "1e-3"]) == 0
    return root


@pytest.mark.slow
def test_the_tuned_gguf_is_the_base_with_only_the_adapted_tensors_changed(tuned):
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFReader, quants

    from agentopia_mesa.llm.embedded_backend import gemma_path

    base, tuned_file = GGUFReader(str(gemma_path())), GGUFReader(str(tuned / "ft" / "model.gguf"))
    assert {k: f.contents() for k, f in base.fields.items()} == {k: f.contents() for k, f in tuned_file.fields.items()}
    changed = {t.name: t for t in tuned_file.tensors if t.tensor_type == GGMLQuantizationType.F32 and t.name.endswith(
        ("attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"))}
    assert len(changed) == 4 * 18  # every layer's attention projections
    for original in base.tensors:
        if original.name not in changed:
            assert np.array_equal(original.data, tuned_file.tensors[[t.name for t in tuned_file.tensors].index(original.name)].data)
            continue
        before = quants.dequantize(original.data, original.tensor_type)
        after = np.asarray(changed[original.name].data)
        assert after.shape == before.shape
        delta = np.abs(after - before).max()
        assert 0 < delta < 0.1, (original.name, delta)  # trained, and still the base model
    card = json.loads((tuned / "ft" / "card.json").read_text())
    assert len(card["losses"]) == 2 and all(math.isfinite(loss) for loss in card["losses"])
    assert card["data"]["samples_used"] > 0 and card["replaced_tensors"] == 72 and card["settings"]["steps"] == 2


@pytest.mark.slow
def test_the_tuned_model_answers_under_the_schema_and_lives_in_a_mixed_town(tuned, capsys):
    import urllib.request

    import jinja2
    import jsonschema
    import pandas as pd
    from llm_fixtures import DECISION_SCHEMA, decision_request, parse_decision

    from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

    model = tuned / "ft" / "model.gguf"
    backend = EmbeddedBackend(model_path=model, n_ctx=2048)
    answer = backend.chat(decision_request(seed=1))
    jsonschema.validate(parse_decision(answer.text), DECISION_SCHEMA)
    assert answer.backend == "embedded" and answer.model.startswith("ft@")
    # training rendered prompts exactly as this llama.cpp does (ChatML: the GGUF has no template)
    messages = [{"role": "system", "content": "You are Ana."}, {"role": "user", "content": "Plan."},
                {"role": "assistant", "content": '{"a":1}'}, {"role": "user", "content": "Again."}]
    request = urllib.request.Request(f"{backend.server.listening_address}/apply-template", data=json.dumps({"messages": messages}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        llama_prompt = json.loads(response.read())["prompt"]
    assert llama_prompt == jinja2.Template(CHATML_TEMPLATE).render(messages=messages, add_generation_prompt=True)
    # one short lean run: one resident the base model, one the tuned model; every stage's answer was used
    run = tuned / "mixed"
    assert main([*LEAN_RUN, "--residents", "2", "--mix", f"embedded=0.5,embedded:{model}=0.5", "--max-concurrency", "1",
                 "--out", str(run)]) == 0
    decisions = [json.loads(line) for line in (run / "decisions.jsonl").read_text().splitlines()]
    name = f"embedded:ft@{hashlib.sha256(model.read_bytes()).hexdigest()[:8]}"  # its folder and its bytes
    tuned_calls = [d for d in decisions if d["model"] == name]
    assert tuned_calls and sum(not d["fallback"] for d in tuned_calls) >= len(tuned_calls) - 1
    assert set(pd.read_csv(run / "rewards.csv")["model"]) == {"embedded:gemma3:270m", name}
    capsys.readouterr()
    assert main(["compare", str(run), "--diff", "embedded:ft@", "gemma3", "--out", str(tuned / "compare")]) == 0
    assert name in (tuned / "compare" / "compare.md").read_text()


# -- #15: the trainers read our files -------------------------------------------------------------

def _tiny_model_and_tokenizer(texts):
    """A 2-layer Llama of hidden size 32 and a byte-level BPE tokenizer trained on ``texts``, with
    the ChatML template: built here, nothing downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, set_seed

    special = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=2000, special_tokens=special,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", unk_token="<unk>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHATML_TEMPLATE
    set_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=8192,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return LlamaForCausalLM(config), tokenizer


def _two_steps(trainer) -> list[float]:
    import torch

    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters() if p.requires_grad}
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    after = dict(trainer.model.named_parameters())
    assert any(not torch.equal(before[name], after[name].detach()) for name in before), "no weight changed"
    return losses


@pytest.mark.slow
def test_trl_sft_and_dpo_trainers_take_two_steps_on_our_files(tmp_path):
    require_training()
    import torch
    from datasets import load_dataset
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    from tests.test_datasets import PAPER_RUN, cli
    from tests.test_trajectories import recorded_run

    torch.set_num_threads(2)
    assert main([*PAPER_RUN, "--out", str(tmp_path / "paper")]) == 0  # conversations and tool calls
    assert main(["dataset", "sft", str(tmp_path / "paper"), "--out", str(tmp_path / "sft" / "train.jsonl"), "--top", "1"]) == 0
    recorded_run(tmp_path / "fake", mix="fake=0.5", residents=4, years=2, seed=3, tiny=True)
    assert cli(["dataset", "dpo", str(tmp_path / "fake"), "--out", str(tmp_path / "dpo" / "train.jsonl"), "--week", "1",
                "--samples", "3", "--prompts", "2", "--horizon", "1", "--min-margin", "0"]) == 0
    sft = load_dataset("json", data_files=str(tmp_path / "sft" / "train.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    dpo = load_dataset("json", data_files=str(tmp_path / "dpo" / "train.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert any(m.get("tool_calls") for s in sft for m in s["messages"]) and len(dpo) >= 1
    texts = [json.dumps(s["messages"]) for s in sft] + [json.dumps(p["prompt"]) for p in dpo]
    common = dict(max_steps=2, per_device_train_batch_size=2, learning_rate=1e-3, logging_steps=1, save_strategy="no",
                  report_to=[], use_cpu=True, seed=0, max_length=4096, dataloader_num_workers=0)  # whole samples

    model, tokenizer = _tiny_model_and_tokenizer(texts)
    trainer = SFTTrainer(model=model, args=SFTConfig(output_dir=str(tmp_path / "out-sft"), **common),
                         train_dataset=sft, processing_class=tokenizer)
    losses = _two_steps(trainer)
    assert len(losses) == 2 and all(math.isfinite(loss) and loss > 0 for loss in losses)

    model, tokenizer = _tiny_model_and_tokenizer(texts)
    reference = copy.deepcopy(model)  # given: TRL would reload the reference from the hub by the config's name
    trainer = DPOTrainer(model=model, ref_model=reference, args=DPOConfig(output_dir=str(tmp_path / "out-dpo"), beta=0.1, **common),
                         train_dataset=dpo, processing_class=tokenizer)
    losses = _two_steps(trainer)
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
