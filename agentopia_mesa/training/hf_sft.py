"""SFT of a Hugging Face base with TRL's SFTTrainer and a PEFT LoRA adapter, on pre-tokenized
rows (``chat_tokens``): the loss is on the ``assistant_masks`` tokens only, the trained assistant
turns as the base's chat template renders them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agentopia_mesa.training.lora import LoraSettings, lora_config, trainer_arguments


@dataclass
class StepLog:
    """What a trainer did: the loss per optimizer step and the seconds it trained."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def run_trainer(trainer) -> StepLog:
    """``trainer.train()``, timed, with the loss of each logged step."""
    start = time.perf_counter()
    trainer.train()
    return StepLog([entry["loss"] for entry in trainer.state.log_history if "loss" in entry], time.perf_counter() - start)


def sft(model, tokenizer, rows: list[dict], settings: LoraSettings, device, work_dir):
    """Train a fresh LoRA adapter (``settings``) on ``model`` with ``rows`` on ``device``; returns
    the PEFT model (adapter "default", still trainable) and the ``StepLog``. ``work_dir``: the
    trainer's scratch folder."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    set_seed(settings.seed)
    config = SFTConfig(output_dir=str(work_dir), max_length=settings.max_length, **trainer_arguments(settings, device))
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=lora_config(settings))
    log = run_trainer(trainer)
    return trainer.model, log
