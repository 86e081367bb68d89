"""A merged Hugging Face model of the Llama or Qwen 2/3 family as a GGUF that llama.cpp (the
embedded backend) loads: the hyperparameters, the byte-level BPE tokenizer with its merges,
special tokens and chat template, and every tensor under its GGUF name (gguf-py's
``TensorNameMap``), in F32, F16 or Q8_0 (norms and other 1-D tensors stay F32).

Llama's attention: transformers keeps q_proj and k_proj rows in the half-split rotary order of
the HF checkpoints, while llama.cpp's LLAMA rope rotates interleaved pairs, so the rows are
permuted back: per head of ``d`` rows, row ``2 i + j`` of the GGUF tensor is row ``j d/2 + i`` of
the HF one (i < d/2, j in {0, 1}), with K's heads counted as ``num_key_value_heads``. Qwen 2/3
use the NEOX rope (half-split, like transformers), so their tensors go as they are.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: config.json model_type -> (gguf-py architecture, llama.cpp pre-tokenizer name, Q/K permuted).
WRITABLE_HF = {"llama": ("LLAMA", "llama-bpe", True), "qwen2": ("QWEN2", "qwen2", False), "qwen3": ("QWEN3", "qwen2", False)}


def permute_rows(weight, n_head: int):
    """``weight`` (rows = heads x d, numpy) with each head's rows from half-split to interleaved
    order (the module docstring's formula)."""
    rows = weight.shape[0]
    return weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _tokens(tokenizer):
    """Token texts in id order and their GGUF token types (control for special tokens)."""
    from gguf import TokenType

    vocab = {i: t for t, i in tokenizer.get_vocab().items()}
    special = {i for i, added in tokenizer.added_tokens_decoder.items() if added.special}
    texts = [vocab.get(i, f"[PAD{i}]") for i in range(max(vocab) + 1)]
    types = [TokenType.CONTROL if i in special else TokenType.NORMAL if i in vocab else TokenType.UNUSED for i in range(len(texts))]
    return texts, types


def _encoded(name: str, array, out_type: str):
    import numpy as np
    from gguf import GGMLQuantizationType, quants

    if array.ndim == 1 or out_type == "f32":
        return np.ascontiguousarray(array, dtype=np.float32), GGMLQuantizationType.F32
    if out_type == "f16":
        return np.ascontiguousarray(array, dtype=np.float16), GGMLQuantizationType.F16
    return quants.quantize(np.ascontiguousarray(array, dtype=np.float32), GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0


def write_hf_gguf(folder: Path, out: Path, out_type: str = "f32") -> None:
    """Write the model folder ``folder`` (``WRITABLE_HF`` families) as the GGUF ``out``; written
    under a private name and renamed into place. Raises ``ValueError`` for another family."""
    import gguf
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    if config.model_type not in WRITABLE_HF:
        raise ValueError(f"no GGUF writer for {config.model_type} models: {', '.join(WRITABLE_HF)} only")
    arch_key, pre, permuted = WRITABLE_HF[config.model_type]
    arch = getattr(gguf.MODEL_ARCH, arch_key)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, local_files_only=True)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    names = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    partial = out.with_name(f"{out.name}.{os.getpid()}.part")
    writer = gguf.GGUFWriter(str(partial), gguf.MODEL_ARCH_NAMES[arch])
    try:
        writer.add_name(folder.resolve().name)
        writer.add_context_length(config.max_position_embeddings)
        writer.add_embedding_length(config.hidden_size)
        writer.add_block_count(config.num_hidden_layers)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(config.num_attention_heads)
        writer.add_head_count_kv(config.num_key_value_heads)
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
        writer.add_rope_dimension_count(head_dim)
        writer.add_rope_freq_base(float((getattr(config, "rope_parameters", None) or {}).get("rope_theta")
                                        or getattr(config, "rope_theta", 10000.0)))
        writer.add_layer_norm_rms_eps(config.rms_norm_eps)
        writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                              "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[out_type])
        texts, types = _tokens(tokenizer)
        writer.add_vocab_size(len(texts))
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(pre)
        writer.add_token_list(texts)
        writer.add_token_types(types)
        gguf.SpecialVocab(folder, load_merges=True, n_vocab=len(texts)).add_to_gguf(writer)
        for name, tensor in model.state_dict().items():
            if getattr(config, "tie_word_embeddings", False) and name == "lm_head.weight":
                continue  # llama.cpp reads the embedding again
            array = tensor.detach().cpu().numpy()
            if permuted and name.endswith("self_attn.q_proj.weight"):
                array = permute_rows(array, config.num_attention_heads)
            elif permuted and name.endswith("self_attn.k_proj.weight"):
                array = permute_rows(array, config.num_key_value_heads)
            gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
            if gguf_name is None:
                raise ValueError(f"no GGUF name for {name}")
            data, ggml_type = _encoded(gguf_name, array, out_type)
            writer.add_tensor(gguf_name, data, raw_dtype=ggml_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
