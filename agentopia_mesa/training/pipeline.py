"""``agentopia train`` from start to end: load the base GGUF, fine-tune on the SFT file, merge,
write ``model.gguf`` and the card into the output folder."""

from __future__ import annotations

import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from agentopia_mesa.training.base import base_gguf, check_architecture, load_model, load_tokenizer, require_training
from agentopia_mesa.training.card import card_data, write_card
from agentopia_mesa.training.gguf_export import write_tuned_gguf
from agentopia_mesa.training.lora import LoraSettings, fine_tune
from agentopia_mesa.training.samples import read_training_rows

MODEL_FILE = "model.gguf"
VERSIONED = ("torch", "transformers", "trl", "peft", "gguf")


def train(data: Path, out_dir: Path, settings: LoraSettings, base: Path | None = None, out_type: str = "f32") -> dict:
    """Fine-tune ``base`` (default: the embedded Gemma 3 270M) on the SFT file ``data`` and write
    ``out_dir/model.gguf``, ``card.json`` and ``card.md``; return the card. Raises
    ``TrainingUnavailable`` (missing extra) or ``ValueError``/``FileNotFoundError`` (bad input)."""
    rows = read_training_rows(data)  # a bad file fails at once, with or without the extra
    require_training()
    base_path = base_gguf(base)
    check_architecture(base_path)
    times = {}
    start = time.perf_counter()
    tokenizer, model = load_tokenizer(base_path), load_model(base_path)
    times["load"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="agentopia-train-") as work:
        result = fine_tune(model, tokenizer, rows, settings, Path(work))
    times["train"] = result.train_s
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    write_tuned_gguf(base_path, result.merged, out_dir / MODEL_FILE, out_type)
    times["export"] = time.perf_counter() - start
    card = card_data(base=base_path, data=data, model=out_dir / MODEL_FILE, settings=settings, result=result,
                     out_type=out_type, times=times, versions={name: version(name) for name in VERSIONED})
    write_card(out_dir, card)
    return card
