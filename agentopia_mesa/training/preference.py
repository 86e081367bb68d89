"""DPO after SFT: TRL's DPOTrainer on ``agentopia dataset dpo`` pairs, continuing the SFT
adapter.

The policy is the SFT adapter, trainable; the reference is a frozen copy of it (TRL adds a "ref"
adapter when it is given a PEFT model and no reference model), so the DPO loss
-log sigmoid(beta [(log pi(y_w|x) - log pi_ref(y_w|x)) - (log pi(y_l|x) - log pi_ref(y_l|x))])
keeps the tuned model near its SFT starting point, not near the base (Rafailov et al. 2023, eq. 7).
The result is one adapter for the base, as the servers take it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agentopia_mesa.training.hf_sft import StepLog, run_trainer
from agentopia_mesa.training.lora import LoraSettings, trainer_arguments

REFERENCE_ADAPTER = "ref"


@dataclass(frozen=True)
class DpoSettings:
    """``beta`` (the KL weight, > 0), learning rate ``lr`` (a DPO step moves a LoRA adapter far
    more than an SFT step: 5e-6 is the usual start), ``steps`` or ``epochs`` as in
    ``LoraSettings``; batch size, accumulation, schedule, length and seed come from the SFT settings."""

    beta: float = 0.1
    lr: float = 5e-6
    steps: int | None = None
    epochs: float = 1.0


def dpo(peft_model, tokenizer, pairs: list[dict], settings: LoraSettings, preference: DpoSettings, device, work_dir) -> StepLog:
    """Train ``peft_model``'s "default" adapter on ``pairs`` (``conversations.preference_row``)
    with DPO on ``device``; the reference adapter it adds is removed afterwards."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    set_seed(settings.seed)
    arguments = trainer_arguments(replace(settings, lr=preference.lr, steps=preference.steps, epochs=preference.epochs), device)
    config = DPOConfig(output_dir=str(work_dir), beta=preference.beta, max_length=settings.max_length, **arguments)
    trainer = DPOTrainer(model=peft_model, ref_model=None, args=config, train_dataset=Dataset.from_list(pairs),
                         processing_class=tokenizer)
    log = run_trainer(trainer)
    if REFERENCE_ADAPTER in peft_model.peft_config:
        peft_model.delete_adapter(REFERENCE_ADAPTER)
    peft_model.set_adapter("default")
    return log
