"""``agentopia train --base HF_DIR`` (issue #29): any local Hugging Face causal LM, SFT then DPO,
an adapter and a merged folder that servers read, and a name that keeps fine-tunes apart.

Tiny random-initialised Qwen3, Llama and Gemma 3 models are built here (``tiny_hf_models``), with
chat templates in each family's layout; for each: two SFT steps and two DPO steps through the
command, then the adapter and the merged folder load in transformers and give the logits of the
base with the adapter. The samples are written by hand in ``agentopia dataset sft`` / ``dataset
dpo`` form: a plain answer, a tool round, and a running chat with a rejected reply (``weight`` 0).
"""

import json

import pytest
from prerequisites import require_modules

from agentopia_mesa.cli.main import main
from agentopia_mesa.training.base import TRAIN_HINT

FAMILIES = ("qwen3", "llama", "gemma3")
SYSTEM = {"role": "system", "content": "You are Ana, a student."}
NOTE_TOOL = {"type": "function", "function": {"name": "read_note", "description": "Read a note.",
                                              "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}
PLAN = '{"living_standard": "frugal", "activities": ["study"]}'
SAMPLES = [
    {"messages": [SYSTEM, {"role": "user", "content": "PLAN your week as JSON."}, {"role": "assistant", "content": PLAN}],
     "metadata": {}},
    {"messages": [SYSTEM, {"role": "user", "content": "PLAN your week as JSON."},
                  {"role": "assistant", "content": "", "tool_calls": [
                      {"id": "c1", "type": "function", "function": {"name": "read_note", "arguments": '{"title": "Bo"}'}}]},
                  {"role": "tool", "content": "Bo likes chess.", "tool_call_id": "c1", "name": "read_note"},
                  {"role": "assistant", "content": '{"living_standard": "frugal"}'}], "tools": [NOTE_TOOL], "metadata": {}},
    {"messages": [SYSTEM, {"role": "user", "content": "Bo says hello."},
                  {"role": "assistant", "content": "I rejected that.", "weight": 0}, {"role": "user", "content": "Try again."},
                  {"role": "assistant", "content": "Hello Bo, shall we play chess on Sunday?", "weight": 1}], "metadata": {}},
]
PAIRS = [
    {"prompt": [SYSTEM, {"role": "user", "content": "PLAN your week as JSON."}],
     "chosen": [{"role": "assistant", "content": PLAN}], "rejected": [{"role": "assistant", "content": "I rejected that."}],
     "metadata": {}},
    {"prompt": [SYSTEM, {"role": "user", "content": "Bo says hello."}],
     "chosen": [{"role": "assistant", "content": "Hello Bo, shall we play chess on Sunday?"}],
     "rejected": [{"role": "assistant", "content": "Try again."}], "metadata": {}},
]
FAST = ["--steps", "2", "--schedule", "constant", "--warmup", "0", "--lr", "1e-2", "--batch-size", "2", "--grad-accum", "1",
        "--lora-r", "4", "--dpo-steps", "2", "--dpo-lr", "1e-3", "--seed", "0"]


def require_training():
    require_modules("torch", "transformers", "trl", "peft", "datasets", hint=TRAIN_HINT)


def write_lines(path, items):
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return write_lines(root / "sft.jsonl", SAMPLES), write_lines(root / "dpo.jsonl", PAIRS)


@pytest.fixture(scope="module", params=FAMILIES)
def tuned(request, tmp_path_factory, data):
    """A tiny model of each family, SFT 2 steps then DPO 2 steps, adapter and merged folder."""
    require_training()
    from tiny_hf_models import save_tiny_model

    root = tmp_path_factory.mktemp(request.param)
    base = save_tiny_model(request.param, root / "base")
    sft, pairs = data
    assert main(["train", str(sft), "--base", str(base), "--dpo", str(pairs), "--merge", "--out", str(root / "ft"), *FAST]) == 0
    return request.param, base, root / "ft"


def _logits(model, tokenizer):
    import torch

    ids = tokenizer.apply_chat_template([SYSTEM, {"role": "user", "content": "PLAN your week as JSON."}],
                                        add_generation_prompt=True, return_dict=True, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits


# -- samples as the base's chat template renders them ----------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_the_loss_falls_on_the_trained_assistant_turns_as_the_template_renders_them(family):
    require_training()
    from tiny_hf_models import tiny_tokenizer

    from agentopia_mesa.training.chat_tokens import sequences, token_rows
    from agentopia_mesa.training.conversations import conversation, has_native_tools

    tokenizer = tiny_tokenizer(family)
    native = has_native_tools(tokenizer)
    assert native == (family != "gemma3")  # Gemma 3's template has no tools: the JSON convention's plain turns
    tool_round, chat = conversation(SAMPLES[1], native), conversation(SAMPLES[2], native)
    # the rejected reply is context, the later reply a target
    assert [m["content"] for m, t in zip(chat.messages, chat.trained, strict=True) if t] == ["Hello Bo, shall we play chess on Sunday?"]
    targets = [text[start:end] for text, spans in sequences(tokenizer, tool_round) for start, end in spans]
    if family == "qwen3":  # the tool call in the template's own format; its empty think block drops once turns follow
        assert len(sequences(tokenizer, tool_round)) == 2
        assert targets == ['<think>\n\n</think>\n\n<tool_call>\n{"name": "read_note", "arguments": {"title": "Bo"}}\n</tool_call><|im_end|>\n',
                           '<think>\n\n</think>\n\n{"living_standard": "frugal"}<|im_end|>\n']
    elif family == "llama":
        assert targets == ['{"name": "read_note", "parameters": {"title": "Bo"}}<|eot_id|>', '{"living_standard": "frugal"}<|eot_id|>']
    else:
        assert targets[0] == '{"tool": "read_note", "arguments": {"title": "Bo"}}<end_of_turn>\n'
    rows = token_rows(tokenizer, [chat], max_length=4096).rows
    assert len(rows) == 1
    trained = tokenizer.decode([t for t, m in zip(rows[0]["input_ids"], rows[0]["assistant_masks"], strict=True) if m])
    assert "Hello Bo, shall we play chess on Sunday?" in trained and "rejected" not in trained and "Try again" not in trained
    assert token_rows(tokenizer, [chat], max_length=8).too_long == 1


# -- SFT, DPO, the outputs ------------------------------------------------------------------------

def test_the_adapter_and_the_merged_folder_give_the_logits_of_the_base_with_the_adapter(tuned):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    family, base, out = tuned
    tokenizer = AutoTokenizer.from_pretrained(str(out / "merged"))
    base_logits = _logits(AutoModelForCausalLM.from_pretrained(str(base)), tokenizer)
    with_adapter = _logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base)), str(out / "adapter")), tokenizer)
    merged = _logits(AutoModelForCausalLM.from_pretrained(str(out / "merged")), tokenizer)
    assert not torch.allclose(base_logits, with_adapter, atol=1e-4)  # trained
    torch.testing.assert_close(merged, with_adapter, atol=1e-4, rtol=1e-4)
    card = json.loads((out / "card.json").read_text())
    assert [len(card["losses"][step]) for step in ("sft", "dpo")] == [2, 2]
    assert card["data"]["samples_used"] == 3 and card["settings"]["sft"]["r"] == 4 and card["base"]["model_type"] == json.loads(
        (base / "config.json").read_text())["model_type"]


def test_the_card_names_the_fine_tune_and_says_how_each_server_runs_it(tuned):
    from agentopia_mesa.training.card import file_sha256

    family, base, out = tuned
    card = json.loads((out / "card.json").read_text())
    name = f"ft-{file_sha256(out / 'adapter' / 'adapter_model.safetensors')[:8]}"
    assert card["model"] == name and card["device"].startswith(("CPU", "NVIDIA"))
    assert card["serve"]["vllm"] == {"serve": f"vllm serve {base.resolve()} --enable-lora --max-lora-rank 4 "
                                              f"--lora-modules {name}={(out / 'adapter').resolve()}",
                                     "llm": f"openai:http://127.0.0.1:8000/v1:{name}"}
    assert card["serve"]["ollama"]["llm"] == f"ollama:{name}" and card["serve"]["vllm_merged"]["serve"].endswith(f"--served-model-name {name}")
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM {base.resolve()}\nADAPTER {(out / 'adapter').resolve()}\nTEMPLATE" in modelfile
    assert name in (out / "card.md").read_text()


def test_dpo_continues_an_adapter_of_the_same_base_and_refuses_another_bases(tuned, data, tmp_path, capsys):
    from tiny_hf_models import save_tiny_model

    family, base, out = tuned
    if family != "llama":
        pytest.skip("one family is enough")
    _, pairs = data
    assert main(["train", "--dpo", str(pairs), "--adapter", str(out / "adapter"), "--base", str(base), "--out", str(tmp_path / "dpo"),
                 *FAST]) == 0
    card = json.loads((tmp_path / "dpo" / "card.json").read_text())
    assert list(card["losses"]) == ["dpo"] and card["model"] != json.loads((out / "card.json").read_text())["model"]
    other = save_tiny_model("qwen3", tmp_path / "qwen")
    capsys.readouterr()
    assert main(["train", "--dpo", str(pairs), "--adapter", str(out / "adapter"), "--base", str(other), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("agentopia: error: --adapter ") and f"was trained on {base.resolve()}" in err and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_the_gguf_of_a_llama_or_qwen_fine_tune_gives_transformers_logits_in_llama_cpp_and_answers_under_the_schema(tuned):
    """llama.cpp (the embedded backend) on the exported GGUF: the log-probabilities of the next
    token after a fixed prompt (the same token ids) equal transformers' on the merged folder, which
    for Llama needs the Q/K rows permuted back; and a decision question gets a schema-valid answer."""
    import urllib.request

    import jsonschema
    import torch
    from llm_fixtures import DECISION_SCHEMA, decision_request, parse_decision
    from prerequisites import require_embedded
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

    family, base, out = tuned
    if family == "gemma3":
        assert not (out / "model.gguf").exists()  # a Gemma 3 GGUF comes from a GGUF base (agentopia train's laptop path)
        return
    require_embedded()
    tokenizer = AutoTokenizer.from_pretrained(str(out / "merged"))
    ids = list(tokenizer.apply_chat_template([SYSTEM, {"role": "user", "content": "PLAN your week as JSON."}],
                                             add_generation_prompt=True, return_dict=True)["input_ids"])
    with torch.no_grad():
        expected = torch.log_softmax(AutoModelForCausalLM.from_pretrained(str(out / "merged"))(
            input_ids=torch.tensor([ids])).logits[0, -1], -1)
    backend = EmbeddedBackend(model_path=out / "model.gguf", n_ctx=1024)
    body = {"prompt": ids, "n_predict": 1, "n_probs": 8, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0,
            "post_sampling_probs": False, "cache_prompt": False}
    for seed in range(20):  # a sampled token that is part of a UTF-8 character comes back later, its probabilities with it
        request = urllib.request.Request(f"{backend.server.listening_address}/completion", headers={"Content-Type": "application/json"},
                                         data=json.dumps({**body, "seed": seed}).encode())
        with urllib.request.urlopen(request, timeout=60) as response:
            completion = json.loads(response.read())
        if "completion_probabilities" in completion:
            break
    top = completion["completion_probabilities"][0]["top_logprobs"]
    assert [t["id"] for t in top] == torch.topk(expected, 8).indices.tolist()
    for t in top:
        assert abs(t["logprob"] - float(expected[t["id"]])) < 1e-3, (t, float(expected[t["id"]]))
    answer = backend.chat(decision_request(seed=1, max_tokens=256))
    jsonschema.validate(parse_decision(answer.text), DECISION_SCHEMA)
    assert answer.model.startswith("ft@")
    card = json.loads((out / "card.json").read_text())
    assert card["serve"]["embedded"]["llm"] == f"embedded:{out / 'model.gguf'}" and card["outputs"]["gguf"] == str(out / "model.gguf")


def test_llama_q_and_k_rows_go_from_half_split_to_interleaved_per_head():
    import numpy as np

    from agentopia_mesa.training.hf_gguf import permute_rows

    weight = np.arange(8 * 3).reshape(8, 3)  # 2 heads of 4 rows: per head, rows (0, 1 | 2, 3) -> (0, 2, 1, 3)
    assert permute_rows(weight, 2)[:, 0].tolist() == [0, 6, 3, 9, 12, 18, 15, 21]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["qwen3", "gemma3"])
def test_a_runs_samples_with_tool_rounds_train_a_tiny_model_end_to_end(tmp_path, family):
    """run -> dataset sft -> train: the paper profile's tool rounds in Qwen's template format, or
    as plain turns for Gemma's template, which has no tools."""
    require_training()
    from tests.test_datasets import PAPER_RUN
    from tiny_hf_models import save_tiny_model

    assert main([*PAPER_RUN, "--out", str(tmp_path / "run")]) == 0
    assert main(["dataset", "sft", str(tmp_path / "run"), "--out", str(tmp_path / "sft.jsonl"), "--top", "1"]) == 0
    base = save_tiny_model(family, tmp_path / "base")
    assert main(["train", str(tmp_path / "sft.jsonl"), "--base", str(base), "--out", str(tmp_path / "ft"), "--steps", "2",
                 "--batch-size", "1", "--grad-accum", "1", "--max-length", "16384"]) == 0
    card = json.loads((tmp_path / "ft" / "card.json").read_text())
    samples = len((tmp_path / "sft.jsonl").read_text().splitlines())
    assert card["data"]["samples_used"] + card["data"]["samples_too_long"] == samples and card["data"]["samples_used"] > samples // 2
    assert len(card["losses"]["sft"]) == 2


@pytest.mark.parametrize("family", FAMILIES)
def test_the_modelfile_template_renders_a_chat_as_the_bases_chat_template_does(family):
    require_training()
    from test_model_templates import hf_chat, ollama_prompt
    from tiny_hf_models import tiny_tokenizer

    from agentopia_mesa.training.ollama_templates import ollama_template

    chat = [SYSTEM, {"role": "user", "content": "PLAN your week."}, {"role": "assistant", "content": PLAN},
            {"role": "user", "content": "Again, please."}]
    tokenizer = tiny_tokenizer(family)
    expected = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    template = ollama_template({"gemma3": "gemma3_text"}.get(family, family)).text
    assert ollama_prompt(chat, template) == expected.removeprefix("<bos>").removeprefix("<|begin_of_text|>")
    if family == "gemma3":  # and Gemma 3's own Hugging Face template (models/gemma3-chat-template.jinja)
        assert ollama_prompt(chat, template) == hf_chat(chat, add_generation_prompt=True)


def test_only_rank_0_of_a_multi_gpu_launch_writes(tmp_path, data, monkeypatch, capsys):
    require_training()
    from tiny_hf_models import save_tiny_model

    base = save_tiny_model("llama", tmp_path / "base")
    monkeypatch.setenv("RANK", "1")  # as torchrun and accelerate launch set it in the second process
    assert main(["train", str(data[0]), "--base", str(base), "--out", str(tmp_path / "ft"), "--steps", "1", "--merge"]) == 0
    assert not (tmp_path / "ft").exists() and "wrote" not in capsys.readouterr().out


# -- bad input: one line, exit 2 ------------------------------------------------------------------

def test_bad_hugging_face_input_is_a_one_line_error(tmp_path, data, capsys):
    require_training()
    from tiny_hf_models import save_tiny_model

    sft, pairs = data
    base = save_tiny_model("llama", tmp_path / "base")
    capsys.readouterr()
    out = ["--out", str(tmp_path / "ft"), "--steps", "1"]
    (tmp_path / "empty.jsonl").write_text("\n")
    cases = {
        "holds no pairs: write it with `agentopia dataset dpo": [str(sft), "--base", str(base), "--dpo", str(tmp_path / "empty.jsonl")],
        "sft.jsonl:1: not a preference pair (no 'prompt'/'chosen'/'rejected'": [str(sft), "--base", str(base), "--dpo", str(sft)],
        "give an SFT file, or --dpo PAIRS with --adapter DIR": ["--base", str(base), "--dpo", str(pairs)],
        "no readable config.json": [str(sft), "--base", str(tmp_path)],
        "a GGUF base takes an SFT file only": [str(sft), "--dpo", str(pairs)],
        "--lora-dropout: must be in [0, 1), got 1.0": [str(sft), "--base", str(base), "--lora-dropout", "1"],
    }
    for expected, args in cases.items():
        assert main(["train", *args, *out]) == 2, expected
        err = capsys.readouterr().err.strip()
        assert expected in err and "\n" not in err, (expected, err)
    config = json.loads((base / "tokenizer_config.json").read_text())
    (base / "chat_template.jinja").unlink()
    (base / "tokenizer_config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "chat_template"}))
    assert main(["train", str(sft), "--base", str(base), *out]) == 2
    err = capsys.readouterr().err.strip()
    assert "the tokenizer has no chat template" in err and "\n" not in err
    assert not (tmp_path / "ft").exists()
