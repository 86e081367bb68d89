"""``agentopia train --base HF_DIR`` from start to end: check the base and the files, SFT a LoRA
adapter on the chat-template tokens (and/or continue an ``--adapter``), DPO on ``--dpo`` pairs,
write ``adapter/``, ``merged/`` (``--merge``; and ``model.gguf`` for the Llama and Qwen 2/3
families, ``hf_gguf``), the Modelfile and the card."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from agentopia_mesa.training.adapters import check_adapter, load_adapter, save_adapter, save_merged
from agentopia_mesa.training.base import require_training
from agentopia_mesa.training.chat_tokens import TokenRows, token_rows
from agentopia_mesa.training.conversations import has_native_tools, read_conversations, read_pairs
from agentopia_mesa.training.device import is_main_process, training_device
from agentopia_mesa.training.hf_base import folder_sha256, load_hf_model, load_hf_tokenizer, model_type
from agentopia_mesa.training.card import write_card
from agentopia_mesa.training.hf_card import hf_card_data, hf_card_markdown
from agentopia_mesa.training.hf_gguf import WRITABLE_HF, write_hf_gguf
from agentopia_mesa.training.hf_sft import sft
from agentopia_mesa.training.preference import dpo
from agentopia_mesa.training.serving import MODELFILE, modelfile, serve_commands, served_name

VERSIONED = ("torch", "transformers", "trl", "peft", "accelerate", "gguf")
GGUF_FILE = "model.gguf"


@dataclass
class _Inputs:
    """What the checks found: the base's family, tokenizer and digest, the SFT tokens (None: DPO
    only) and the DPO rows (None: SFT only); seconds per part so far."""

    family: str
    tokenizer: object
    base_sha256: str
    tokens: TokenRows | None
    pairs: list[dict] | None
    times: dict = field(default_factory=dict)


def train_hf(job) -> dict:
    """Run ``job`` (``pipeline.TrainJob`` whose base is a Hugging Face folder) and return the card
    (an empty dict in the processes of a multi-GPU launch other than rank 0, which writes).
    Raises ``ValueError`` for bad input (one line, before any training) and ``TrainingUnavailable``
    for a missing extra."""
    inputs = _checked_inputs(job)
    device = training_device(job.settings.threads)
    start = time.perf_counter()
    model = load_hf_model(Path(job.base), device)
    inputs.times["load"] = time.perf_counter() - start
    logs = {}
    with tempfile.TemporaryDirectory(prefix="agentopia-train-") as work:
        if inputs.tokens is not None:
            peft_model, logs["sft"] = sft(model, inputs.tokenizer, inputs.tokens.rows, job.settings, device, Path(work) / "sft")
        else:
            peft_model = load_adapter(model, Path(job.adapter))
        if inputs.pairs:
            logs["dpo"] = dpo(peft_model, inputs.tokenizer, inputs.pairs, job.settings, job.preference, device, Path(work) / "dpo")
    inputs.times.update({step: log.seconds for step, log in logs.items()})
    if not is_main_process():
        return {}  # the other processes of a multi-GPU launch trained with rank 0, which writes
    return _write_outputs(job, inputs, peft_model, logs, device)


def _checked_inputs(job) -> _Inputs:
    """The base, the files and the adapter checked, the samples tokenized (every bad input fails here)."""
    require_training()
    base, times = Path(job.base), {}
    family = model_type(base)
    tokenizer = load_hf_tokenizer(base)
    native = has_native_tools(tokenizer)
    conversations = read_conversations(job.data, native) if job.data else None
    pairs = read_pairs(job.pairs, native) if job.pairs else None
    start = time.perf_counter()
    base_sha256 = folder_sha256(base)
    times["hash"] = time.perf_counter() - start
    if job.adapter is not None:
        check_adapter(Path(job.adapter), base, base_sha256)
    try:
        tokens = token_rows(tokenizer, conversations, job.settings.max_length) if conversations else None
    except ValueError as exc:
        raise ValueError(f"{job.data}: {exc}") from None
    if tokens is not None and not tokens.rows:
        raise ValueError(f"all {tokens.too_long} samples are longer than --max-length {job.settings.max_length} tokens: raise it")
    return _Inputs(family, tokenizer, base_sha256, tokens, pairs, times)


def _write_outputs(job, inputs: _Inputs, peft_model, logs: dict, device) -> dict:
    """``adapter/``, ``merged/`` and ``model.gguf`` (``--merge``), the Modelfile and the card."""
    base, out_dir, tokenizer = Path(job.base), Path(job.out_dir), inputs.tokenizer
    rank = peft_model.peft_config["default"].r
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    outputs = {"adapter": save_adapter(peft_model, tokenizer, out_dir, base, inputs.base_sha256)}
    if job.merge:
        outputs["merged"] = save_merged(peft_model, tokenizer, out_dir)
        if inputs.family in WRITABLE_HF:
            write_hf_gguf(outputs["merged"], out_dir / GGUF_FILE, job.out_type)
            outputs["gguf"] = out_dir / GGUF_FILE
    (out_dir / MODELFILE).write_text(modelfile(base, outputs["adapter"], inputs.family))
    outputs["modelfile"] = out_dir / MODELFILE
    inputs.times["save"] = time.perf_counter() - start
    name = served_name(out_dir, outputs["adapter"])
    commands = serve_commands(name=name, base=base, adapter=outputs["adapter"], merged=outputs.get("merged"),
                              gguf=outputs.get("gguf"), rank=rank)
    card = hf_card_data(base=base, base_sha256=inputs.base_sha256, model_type=inputs.family, data=job.data, pairs=job.pairs,
                        tokens=inputs.tokens, settings=job.settings, preference=job.preference, logs=logs, times=inputs.times,
                        device=device, outputs=outputs, name=name, commands=commands,
                        versions={n: version(n) for n in VERSIONED})
    write_card(out_dir, card, hf_card_markdown)
    return card
