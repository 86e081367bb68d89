"""Where a fine-tune runs: the GPU torch sees (CUDA; bf16 where it supports it), else the CPU.

Several GPUs or machines are not ours to launch: ``accelerate launch`` or ``torchrun`` start one
process per GPU around ``python -m agentopia_mesa train ...``, and the trainers (TRL on
transformers' Trainer) split the batches between them (README, models/README.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    """``cuda``: train on the GPU (else the CPU); ``bf16``: in bfloat16 (else float32);
    ``name``: the card's words for it, e.g. "NVIDIA H100 80GB HBM3 (bf16)" or "CPU, 2 threads"."""

    cuda: bool
    bf16: bool
    name: str

    @property
    def dtype(self):
        """The torch dtype to load a Hugging Face base in."""
        import torch

        return torch.bfloat16 if self.bf16 else torch.float32


def training_device(threads: int) -> Device:
    """The GPU when torch sees one (bf16 if supported), else the CPU with ``threads`` threads."""
    import torch

    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        count = torch.cuda.device_count()
        name = torch.cuda.get_device_name(0) + (f" x{count}" if count > 1 else "")
        return Device(cuda=True, bf16=bf16, name=f"{name} ({'bf16' if bf16 else 'float32'})")
    torch.set_num_threads(threads)
    return Device(cuda=False, bf16=False, name=f"CPU, {threads} threads")


def is_main_process() -> bool:
    """Whether this is the process that writes the outputs: the only one, or rank 0 of the
    processes ``accelerate launch`` / ``torchrun`` started (their ``RANK``)."""
    return int(os.environ.get("RANK", "0")) == 0
