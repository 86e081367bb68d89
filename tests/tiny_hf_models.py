"""Tiny random-initialised Hugging Face models of the three families ``agentopia train`` targets
(Qwen3, Llama, Gemma 3), each saved as a model folder with a byte-level BPE tokenizer trained
here and a chat template in its family's layout: built locally, nothing downloaded.

The templates are written for the tests, after each family's layout: Qwen's ChatML with
``<tool_call>`` JSON and ``<tool_response>`` turns (and, like Qwen3, an empty think block on
the last assistant turn only, which makes earlier turns render differently once later ones
follow); Llama 3's headers with tool calls as JSON and results as ``ipython`` turns; Gemma 3's
turns, the system text in the first user turn, and no tools at all.
"""

from __future__ import annotations

from pathlib import Path

QWEN_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n{% if messages[0].role == 'system' %}{{ messages[0].content }}\n\n{% endif %}"
    "# Tools\n{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}<|im_end|>\n"
    "{% elif messages[0].role == 'system' %}<|im_start|>system\n{{ messages[0].content }}<|im_end|>\n{% endif %}"
    "{% for message in messages %}"
    "{% if message.role == 'user' %}<|im_start|>user\n{{ message.content }}<|im_end|>\n"
    "{% elif message.role == 'assistant' %}<|im_start|>assistant\n{% if loop.last %}<think>\n\n</think>\n\n{% endif %}"
    "{{ message.content }}{% for call in message.tool_calls or [] %}<tool_call>\n"
    "{{ {'name': call.function.name, 'arguments': call.function.arguments} | tojson }}\n</tool_call>{% endfor %}<|im_end|>\n"
    "{% elif message.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ message.content }}\n</tool_response><|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
LLAMA_TEMPLATE = (
    "<|begin_of_text|>"
    "{% for message in messages %}"
    "{% set role = 'ipython' if message.role == 'tool' else message.role %}"
    "<|start_header_id|>{{ role }}<|end_header_id|>\n\n"
    "{% if loop.first and tools %}Tools: {{ tools | tojson }}\n\n{% endif %}"
    "{% if message.tool_calls %}{% for call in message.tool_calls %}"
    "{{ {'name': call.function.name, 'parameters': call.function.arguments} | tojson }}{% endfor %}"
    "{% else %}{{ message.content }}{% endif %}<|eot_id|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
GEMMA_TEMPLATE = (
    "<bos>{% set system = messages[0].content if messages[0].role == 'system' else '' %}"
    "{% for message in messages if message.role != 'system' %}"
    "{% if message.role == 'user' %}<start_of_turn>user\n{% if loop.first and system %}{{ system }}\n\n{% endif %}"
    "{{ message.content }}<end_of_turn>\n"
    "{% else %}<start_of_turn>model\n{{ message.content }}<end_of_turn>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")

FAMILIES = {
    "qwen3": (QWEN_TEMPLATE, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|im_end|>", "<|endoftext|>"),
    "llama": (LLAMA_TEMPLATE, ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<pad>"],
              "<|eot_id|>", "<pad>"),
    "gemma3": (GEMMA_TEMPLATE, ["<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"], "<end_of_turn>", "<pad>"),
}
CORPUS = ["You are Ana, a student. PLAN your week as JSON.", '{"living_standard": "frugal", "activities": ["study"]}',
          "Result of read_note: Bo likes chess.", '{"name": "read_note", "arguments": {"title": "Bo"}}',
          "Hello Bo, shall we play chess on Sunday?", "I rejected that. Try again."]


def tiny_tokenizer(family: str):
    """A byte-level BPE tokenizer for ``family`` with its special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    template, special, eos, pad = FAMILIES[family]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(CORPUS * 4, trainers.BpeTrainer(vocab_size=400, special_tokens=special,
                                                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos, pad_token=pad,
                                        bos_token="<bos>" if family == "gemma3" else None)
    tokenizer.chat_template = template
    return tokenizer


def tiny_model(family: str, vocab_size: int, eos_id: int, pad_id: int):
    """A 2-layer model of hidden size 32 of ``family``, seeded (same weights each time)."""
    import torch
    from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM, Qwen3Config,
                              Qwen3ForCausalLM)

    common = dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=4096, eos_token_id=eos_id, pad_token_id=pad_id)
    torch.manual_seed(0)
    if family == "qwen3":
        return Qwen3ForCausalLM(Qwen3Config(**common, head_dim=8, tie_word_embeddings=True))
    if family == "llama":
        return LlamaForCausalLM(LlamaConfig(**common))
    return Gemma3ForCausalLM(Gemma3TextConfig(**common, head_dim=8, sliding_window=64, bos_token_id=2))


def save_tiny_model(family: str, folder: Path) -> Path:
    """Build ``family``'s tiny model and tokenizer and save them as a model folder; returns it."""
    tokenizer = tiny_tokenizer(family)
    model = tiny_model(family, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder
