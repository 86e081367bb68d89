"""``agentopia train`` from start to end, and the one entry point for Python callers (a study's
trainer step): ``train(TrainJob(...))``.

A GGUF base (the embedded Gemma 3 270M by default): load it, fine-tune on the SFT file, merge,
write ``model.gguf`` and the card. A Hugging Face folder: ``hf_pipeline`` (SFT and/or DPO, the
adapter, ``--merge``, Modelfile, card).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from agentopia_mesa.training.base import base_gguf, check_architecture, load_model, load_tokenizer, require_training
from agentopia_mesa.training.card import card_data, write_card
from agentopia_mesa.training.device import is_main_process, training_device
from agentopia_mesa.training.gguf_export import write_tuned_gguf
from agentopia_mesa.training.hf_base import is_hf_directory
from agentopia_mesa.training.lora import LoraSettings, fine_tune
from agentopia_mesa.training.preference import DpoSettings
from agentopia_mesa.training.samples import read_training_rows

MODEL_FILE = "model.gguf"
VERSIONED = ("torch", "transformers", "trl", "peft", "gguf")


@dataclass(frozen=True)
class TrainJob:
    """One fine-tune: the SFT file ``data`` and/or DPO ``pairs`` (``agentopia dataset sft`` /
    ``dataset dpo`` JSON lines), into ``out_dir``; ``base`` a GGUF file (None: the embedded Gemma 3
    270M) or a Hugging Face model folder; ``settings`` (SFT, shared by DPO; the laptop's by
    default, ``lora.GPU_8B`` is the command's default for a folder) and ``preference``
    (DPO); ``adapter``: an adapter folder of this base to continue with DPO instead of SFT;
    ``merge``: also write the merged model folder (Hugging Face bases); ``out_type``: the GGUF's
    replaced tensors (f32, f16, q8_0)."""

    out_dir: Path
    data: Path | None = None
    base: Path | None = None
    settings: LoraSettings = field(default_factory=LoraSettings)
    pairs: Path | None = None
    preference: DpoSettings = field(default_factory=DpoSettings)
    adapter: Path | None = None
    merge: bool = False
    out_type: str = "f32"


def train(job: TrainJob) -> dict:
    """Run ``job`` and return its card (a dict, as ``card.json``; empty in the processes of a
    multi-GPU launch other than rank 0, which writes the outputs). Raises ``TrainingUnavailable``
    (missing extra) or ``ValueError``/``FileNotFoundError`` (bad input, one line)."""
    if is_hf_directory(job.base):
        if job.data is None and (job.pairs is None or job.adapter is None):
            raise ValueError("give an SFT file, or --dpo PAIRS with --adapter DIR (an SFT adapter of this base)")
        from agentopia_mesa.training.hf_pipeline import train_hf
        return train_hf(job)
    if job.data is None or job.pairs is not None or job.adapter is not None or job.merge:
        raise ValueError("a GGUF base takes an SFT file only (--dpo, --adapter and --merge need a Hugging Face model folder as --base)")
    return _train_gguf(job)


def _train_gguf(job: TrainJob) -> dict:
    """Fine-tune the GGUF ``job.base`` on ``job.data`` and write ``out_dir/model.gguf``, ``card.json``
    and ``card.md``."""
    rows = read_training_rows(job.data)  # a bad file fails at once, with or without the extra
    require_training()
    base_path = base_gguf(job.base)
    check_architecture(base_path)
    device = training_device(job.settings.threads)
    times = {}
    start = time.perf_counter()
    tokenizer, model = load_tokenizer(base_path), load_model(base_path)
    times["load"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="agentopia-train-") as work:
        result = fine_tune(model, tokenizer, rows, job.settings, Path(work), device)
    times["train"] = result.train_s
    if not is_main_process():
        return {}
    job.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    write_tuned_gguf(base_path, result.merged, job.out_dir / MODEL_FILE, job.out_type)
    times["export"] = time.perf_counter() - start
    card = card_data(base=base_path, data=job.data, model=job.out_dir / MODEL_FILE, settings=job.settings, result=result,
                     out_type=job.out_type, times=times, versions={name: version(name) for name in VERSIONED})
    card["device"] = device.name
    write_card(job.out_dir, card)
    return card
