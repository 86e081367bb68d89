"""The ``agentopia train`` command: LoRA fine-tune a local causal LM on an SFT file (and/or DPO
pairs) on the GPU torch sees, else the CPU (needs the ``[train]`` extra). A GGUF base (the
embedded Gemma 3 270M by default) comes back as a GGUF that ``--llm embedded:DIR/model.gguf``
runs; a Hugging Face folder as an adapter (and ``--merge``: a merged folder) for vLLM and Ollama."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

#: flag -> LoraSettings field, for the settings whose default depends on the base.
_SETTING_FLAGS = {"steps": "steps", "epochs": "epochs", "lr": "lr", "schedule": "schedule", "warmup": "warmup",
                  "lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout", "target": "targets",
                  "batch_size": "batch_size", "grad_accum": "grad_accum", "max_length": "max_length",
                  "threads": "threads", "seed": "seed"}


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train [SFT_FILE] --out DIR [--base GGUF|HF_DIR] [--dpo PAIRS] [--merge] ...``."""
    from agentopia_mesa.training.gguf_export import OUT_TYPES
    from agentopia_mesa.training.lora import GGUF_NAMES, GPU_8B, SCHEDULES, LoraSettings
    from agentopia_mesa.training.preference import DpoSettings

    laptop, dpo = LoraSettings(), DpoSettings()

    def default(name: str) -> str:
        shown = [", ".join(v) if isinstance(v, tuple) else v for v in (getattr(laptop, name), getattr(GPU_8B, name))]
        return f"default: {shown[0]} for a GGUF, {shown[1]} for a Hugging Face folder"

    modules = sorted(name.rsplit(".", 1)[-1] for name in GGUF_NAMES)
    train = subparsers.add_parser(
        "train", help="LoRA fine-tune a local model (GGUF or Hugging Face folder) on SFT data and DPO pairs, GPU or CPU",
        description="Fine-tune LoRA adapters with TRL and PEFT on an `agentopia dataset sft` file (and, for a Hugging Face "
                    "base, on `agentopia dataset dpo` pairs after it), on the GPU torch sees, else the CPU. --base GGUF (default: "
                    "the embedded Gemma 3 270M): prompts as the embedded backend renders them, the loss on each sample's last "
                    "answer; writes DIR/model.gguf for --llm embedded:DIR/model.gguf. --base HF_DIR (config.json, safetensors, "
                    "a tokenizer with a chat template): prompts as the base's chat template renders them (what vLLM and Ollama "
                    "apply), the loss on the assistant turns marked \"weight\": 1; writes DIR/adapter (vLLM --lora-modules, "
                    "Ollama ADAPTER), DIR/merged with --merge (and DIR/model.gguf for Llama and Qwen 2/3), DIR/Modelfile and DIR/card.json, card.md with the serve commands. "
                    "Several GPUs: accelerate launch -m agentopia_mesa train ... (or torchrun). Needs: pip install 'agentopia-mesa[train]'.")
    train.add_argument("data", type=Path, nargs="?", default=None, metavar="SFT_FILE", help="an `agentopia dataset sft` JSON lines file")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    train.add_argument("--base", type=Path, default=None, metavar="GGUF|HF_DIR",
                       help="base model: a GGUF file or a Hugging Face model folder (default: the embedded Gemma 3 270M)")
    train.add_argument("--dpo", type=Path, default=None, metavar="PAIRS_FILE",
                       help="DPO on these `agentopia dataset dpo` pairs after SFT (Hugging Face base)")
    train.add_argument("--adapter", type=Path, default=None, metavar="DIR",
                       help="with --dpo and no SFT_FILE: continue this SFT adapter of the same base (DIR/adapter of an earlier train)")
    train.add_argument("--merge", action="store_true", help="also write DIR/merged, the adapter merged into the weights")
    train.add_argument("--steps", type=int, default=None, help="optimizer steps (default: --epochs passes over the samples)")
    train.add_argument("--epochs", type=float, default=None, help="passes over the samples; " + default("epochs"))
    train.add_argument("--lr", type=float, default=None, help="learning rate; " + default("lr"))
    train.add_argument("--schedule", choices=SCHEDULES, default=None, help="learning-rate schedule; " + default("schedule"))
    train.add_argument("--warmup", type=float, default=None, help="warmup as a fraction of the steps; " + default("warmup"))
    train.add_argument("--lora-r", type=int, default=None, help="LoRA rank; " + default("r"))
    train.add_argument("--lora-alpha", type=int, default=None, help="LoRA alpha (default: twice the rank)")
    train.add_argument("--lora-dropout", type=float, default=None, help="LoRA dropout; " + default("dropout"))
    train.add_argument("--target", action="append", choices=modules, default=None, metavar="MODULE",
                       help=f"projection to adapt (repeatable; {', '.join(modules)}; " + default("targets") + ")")
    train.add_argument("--batch-size", type=int, default=None, help="samples per device and batch; " + default("batch_size"))
    train.add_argument("--grad-accum", type=int, default=None, help="batches accumulated per step; " + default("grad_accum"))
    train.add_argument("--max-length", type=int, default=None, help="leave out samples longer than this many tokens; " + default("max_length"))
    train.add_argument("--threads", type=int, default=None, help=f"CPU threads (default: {laptop.threads})")
    train.add_argument("--seed", type=int, default=None, help=f"adapter initialisation and sample order (default: {laptop.seed})")
    train.add_argument("--dpo-beta", type=float, default=dpo.beta, help=f"DPO beta (default: {dpo.beta})")
    train.add_argument("--dpo-lr", type=float, default=dpo.lr, help=f"DPO learning rate (default: {dpo.lr})")
    train.add_argument("--dpo-steps", type=int, default=None, help=f"DPO steps (default: --dpo-epochs, {dpo.epochs:g})")
    train.add_argument("--dpo-epochs", type=float, default=dpo.epochs, help=f"DPO passes over the pairs (default: {dpo.epochs:g})")
    train.add_argument("--outtype", choices=OUT_TYPES, default="f32", help="type of the GGUF's written tensors (default: f32, exact)")
    train.set_defaults(handler=_train)
    return train


#: The most each whole-number flag may ask (bounded before any work, issue #32).
_MOST = {"steps": 10**6, "lora_r": 1024, "lora_alpha": 10**6, "batch_size": 4096, "grad_accum": 4096,
         "max_length": 131_072, "threads": 1024, "dpo_steps": 10**6}


def _check(args) -> None:
    from agentopia_mesa.bounds import MAX_SEED, in_range

    for flag, most in _MOST.items():
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')}: must be at least 1, got {value}")
        if value is not None:
            in_range(f"--{flag.replace('_', '-')}", value, 1, most, whole=True)
    for flag in ("lr", "epochs", "dpo_beta", "dpo_lr", "dpo_epochs"):
        value = getattr(args, flag)
        if value is not None and not value > 0:
            raise ValueError(f"--{flag.replace('_', '-')}: must be above 0, got {value}")
    for flag, most in (("lr", 1), ("dpo_lr", 1), ("epochs", 10_000), ("dpo_epochs", 10_000), ("dpo_beta", 1000)):
        if getattr(args, flag) is not None:
            in_range(f"--{flag.replace('_', '-')}", getattr(args, flag), 0, most, above_low=True)
    if getattr(args, "seed", None) is not None:
        in_range("--seed", args.seed, 0, MAX_SEED, whole=True)
    for flag in ("warmup", "lora_dropout"):
        value = getattr(args, flag)
        if value is not None and not 0 <= value < 1:
            raise ValueError(f"--{flag.replace('_', '-')}: must be in [0, 1), got {value}")


def _settings(args):
    """The base's defaults (the laptop's for a GGUF, ``GPU_8B`` for a folder) with the flags given."""
    from agentopia_mesa.training.hf_base import is_hf_directory
    from agentopia_mesa.training.lora import GPU_8B, LoraSettings

    given = {name: getattr(args, flag) for flag, name in _SETTING_FLAGS.items() if getattr(args, flag) is not None}
    if "targets" in given:
        given["targets"] = tuple(given["targets"])
    return replace(GPU_8B if is_hf_directory(args.base) else LoraSettings(), **given)


def _train(args) -> int:
    from agentopia_mesa.training.base import TrainingUnavailable
    from agentopia_mesa.training.pipeline import MODEL_FILE, TrainJob, train
    from agentopia_mesa.run.outputs import check_output
    from agentopia_mesa.training.preference import DpoSettings

    _check(args)
    for name in (MODEL_FILE, "card.json", "card.md"):  # never over the SFT file, the pairs or a GGUF base (a base folder is checked as a model)
        check_output("--out", args.out / name, [p for p in (args.data, args.dpo) if p is not None]
                     + ([args.base] if args.base is not None and args.base.is_file() else []))
    job = TrainJob(out_dir=args.out, data=args.data, base=args.base, settings=_settings(args), pairs=args.dpo,
                   preference=DpoSettings(beta=args.dpo_beta, lr=args.dpo_lr, steps=args.dpo_steps, epochs=args.dpo_epochs),
                   adapter=args.adapter, merge=args.merge, out_type=args.outtype)
    try:
        card = train(job)
    except TrainingUnavailable as exc:
        raise ValueError(str(exc)) from None
    if not card:  # another process of a multi-GPU launch: rank 0 writes and reports
        return 0
    seconds = f"{sum(card['seconds'].values()):.0f} s"
    if "serve" not in card:
        losses = card["losses"]
        print(f"wrote {args.out / MODEL_FILE}: {len(losses)} steps on {card['data']['samples_used']} samples, "
              f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, {seconds} on {card['device']}; "
              f"run it with --llm embedded:{args.out / MODEL_FILE}; card {args.out / 'card.md'}")
        return 0
    steps = "; ".join(f"{step.upper()} {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}"
                      for step, losses in card["losses"].items() if losses)
    print(f"wrote {card['outputs']['adapter']}" + (f" and {card['outputs']['merged']}" if "merged" in card["outputs"] else "")
          + f": {steps}, {seconds} on {card['device']}; served as {card['model']} "
          f"(--llm {card['serve']['vllm']['llm']} or {card['serve']['ollama']['llm']}); card {args.out / 'card.md'}")
    return 0
