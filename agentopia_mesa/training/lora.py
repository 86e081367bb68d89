"""LoRA fine-tuning of the GGUF base with TRL's SFTTrainer and PEFT (on a GPU when torch sees
one, else the CPU), then the merge; and the settings every fine-tune shares (``LoraSettings``,
``trainer_arguments``, ``lora_config``: the Hugging Face path uses them too, ``hf_sft``).

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
#: Every linear projection of a Llama-, Qwen- or Gemma-family block (QLoRA's choice, and what
#: vLLM's and Ollama's adapter loaders take).
ALL_LINEAR = (*TARGETS, "gate_proj", "up_proj", "down_proj")
SCHEDULES = ("constant", "linear", "cosine")


@dataclass(frozen=True)
class LoraSettings:
    """How to train: ``steps`` optimizer steps, or ``epochs`` passes over the samples when
    ``steps`` is None; each step ``batch_size`` samples per device times ``grad_accum``
    accumulated batches; learning rate ``lr`` (AdamW) on the ``schedule`` after ``warmup``
    (a fraction of the steps, 0-1); LoRA rank ``r``, scale ``alpha`` (None: 2 r), ``dropout``
    (0-1) on ``targets`` (module names, ``TARGETS`` or ``ALL_LINEAR``); samples longer than
    ``max_length`` tokens are left out; ``threads`` CPU threads; ``seed`` for the adapters'
    initialisation and the sample order. The defaults are the laptop's (``agentopia train`` on
    the embedded Gemma 3 270M); ``GPU_8B`` are those for an 8B model on one GPU."""

    steps: int | None = None
    epochs: float = 1.0
    lr: float = 2e-4
    schedule: str = "constant"
    warmup: float = 0.0
    r: int = 8
    alpha: int | None = None
    dropout: float = 0.0
    batch_size: int = 1
    grad_accum: int = 1
    max_length: int = 1024
    targets: tuple[str, ...] = TARGETS
    threads: int = 2
    seed: int = 0

    @property
    def lora_alpha(self) -> int:
        return self.alpha if self.alpha is not None else 2 * self.r


#: An 8B model (Qwen3-8B, Llama 3.1 8B) in bf16 on one 80 GB GPU: LoRA rank 16 on every linear
#: projection, 2 epochs, 16 samples a step (2 x 8 accumulated), cosine schedule with 3 % warmup,
#: 4096-token samples (ours: common LoRA practice, not the paper's, which were not recovered).
GPU_8B = LoraSettings(epochs=2.0, lr=1e-4, schedule="cosine", warmup=0.03, r=16, alpha=32, dropout=0.05,
                      batch_size=2, grad_accum=8, max_length=4096, targets=ALL_LINEAR)


def trainer_arguments(settings: LoraSettings, device) -> dict:
    """The arguments SFTConfig and DPOConfig share (``device``: ``training.device.Device``)."""
    return dict(
        max_steps=settings.steps or -1, num_train_epochs=settings.epochs, per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum, learning_rate=settings.lr, lr_scheduler_type=settings.schedule,
        warmup_steps=settings.warmup, logging_steps=1, save_strategy="no", report_to=[], use_cpu=not device.cuda,
        bf16=device.bf16, seed=settings.seed, data_seed=settings.seed, dataloader_num_workers=0,
        # on a GPU the activations of long samples of a large model are what fills memory; a 270M
        # model on a CPU fits without, and checkpointing would cost time
        gradient_checkpointing=device.cuda)


def lora_config(settings: LoraSettings):
    """PEFT's LoraConfig for ``settings``."""
    from peft import LoraConfig

    return LoraConfig(r=settings.r, lora_alpha=settings.lora_alpha, lora_dropout=settings.dropout,
                      target_modules=list(settings.targets), task_type="CAUSAL_LM")


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


def fine_tune(model, tokenizer, rows: list[dict], settings: LoraSettings, work_dir, device) -> TrainResult:
    """Train LoRA adapters on ``rows`` (``samples.training_row``) on ``device``, merge them into
    ``model`` and return the merged weights of the adapted modules. ``work_dir``: the trainer's
    scratch folder. Raises ``ValueError`` if no row fits in ``settings.max_length``."""
    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    torch.set_num_threads(settings.threads)
    set_seed(settings.seed)
    fitting = [row for row in rows if _token_count(tokenizer, row) <= settings.max_length]
    result = TrainResult(samples=len(fitting), too_long=len(rows) - len(fitting))
    if not fitting:
        raise ValueError(f"all {len(rows)} samples are longer than --max-length {settings.max_length} tokens: raise it")
    config = SFTConfig(output_dir=str(work_dir), max_length=settings.max_length, completion_only_loss=True,
                       **trainer_arguments(settings, device))
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(fitting),
                         processing_class=tokenizer, peft_config=lora_config(settings))
    start = time.perf_counter()
    trainer.train()
    result.train_s = time.perf_counter() - start
    result.losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    merged = trainer.model.merge_and_unload()
    adapted = {f"{name}.weight" for name, _ in merged.named_modules() if name.rsplit(".", 1)[-1] in settings.targets}
    result.merged = {gguf_name(name): tensor.detach().float().cpu().numpy()
                     for name, tensor in merged.state_dict().items() if name in adapted}
    return result
