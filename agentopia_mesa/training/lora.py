"""LoRA fine-tuning on a CPU with TRL's SFTTrainer and PEFT, then the merge.

The adapters sit on the attention projections by default (``TARGETS``); the loss is on the
completion only (TRL's ``completion_only_loss`` for prompt-completion rows). After training the
adapters are merged, W' = W + (alpha / r) B A, and only the merged weights of the targeted
modules are returned: every other tensor is the base model's, unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: transformers module name -> the GGUF tensor name stem (``blk.{layer}.{stem}.weight``).
GGUF_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class LoraSettings:
    """``steps`` optimizer steps of ``batch_size`` samples at learning rate ``lr`` (constant, AdamW);
    LoRA rank ``r`` with alpha ``2 r``; ``targets`` the projections adapted (``TARGETS`` or also
    gate_proj, up_proj, down_proj); samples longer than ``max_length`` tokens are left out;
    ``threads`` CPU threads; ``seed`` for the adapters' initialisation and the sample order."""

    steps: int
    lr: float = 2e-4
    r: int = 8
    batch_size: int = 1
    max_length: int = 1024
    targets: tuple[str, ...] = TARGETS
    threads: int = 2
    seed: int = 0


@dataclass
class TrainResult:
    """The merged weights of the adapted modules (GGUF name -> float32 array, shape (out, in)) and
    what happened: losses per step, samples used and left out, seconds."""

    merged: dict = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)
    samples: int = 0
    too_long: int = 0
    train_s: float = 0.0


def gguf_name(hf_name: str) -> str:
    """``model.layers.3.self_attn.q_proj.weight`` -> ``blk.3.attn_q.weight`` (Gemma 3 and Llama
    layouts; transformers keeps Gemma's Q/K order, see ``base``)."""
    prefix, layer, rest = hf_name.removeprefix("model.").split(".", 2)
    module = rest.removesuffix(".weight")
    if prefix != "layers" or module not in GGUF_NAMES:
        raise ValueError(f"no GGUF name for {hf_name}")
    return f"blk.{int(layer)}.{GGUF_NAMES[module]}.weight"


def _token_count(tokenizer, row: dict) -> int:
    return len(tokenizer.apply_chat_template([*row["prompt"], *row["completion"]], tokenize=True))


def fine_tune(model, tokenizer, rows: list[dict], settings: LoraSettings, work_dir) -> TrainResult:
    """Train LoRA adapters on ``rows`` (``samples.training_row``), merge them into ``model`` and
    return the merged weights of the adapted modules. ``work_dir``: the trainer's scratch folder.
    Raises ``ValueError`` if no row fits in ``settings.max_length``."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    torch.set_num_threads(settings.threads)
    set_seed(settings.seed)
    fitting = [row for row in rows if _token_count(tokenizer, row) <= settings.max_length]
    result = TrainResult(samples=len(fitting), too_long=len(rows) - len(fitting))
    if not fitting:
        raise ValueError(f"all {len(rows)} samples are longer than --max-length {settings.max_length} tokens: raise it")
    config = SFTConfig(
        output_dir=str(work_dir), max_steps=settings.steps, per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.lr, lr_scheduler_type="constant", warmup_steps=0, logging_steps=1,
        save_strategy="no", report_to=[], use_cpu=True, seed=settings.seed, data_seed=settings.seed,
        max_length=settings.max_length, completion_only_loss=True, dataloader_num_workers=0,
        gradient_checkpointing=False)  # the activations of a 270M model at 1K tokens fit; checkpointing costs time
    lora = LoraConfig(r=settings.r, lora_alpha=2 * settings.r, lora_dropout=0.0, target_modules=list(settings.targets),
                      task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(fitting),
                         processing_class=tokenizer, peft_config=lora)
    start = time.perf_counter()
    trainer.train()
    result.train_s = time.perf_counter() - start
    result.losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    merged = trainer.model.merge_and_unload()
    adapted = {f"{name}.weight" for name, _ in merged.named_modules() if name.rsplit(".", 1)[-1] in settings.targets}
    result.merged = {gguf_name(name): tensor.detach().float().numpy()
                     for name, tensor in merged.state_dict().items() if name in adapted}
    return result
