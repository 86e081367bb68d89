"""The ``agentopia train`` command: LoRA fine-tune the embedded model on an SFT file, on a CPU,
into a GGUF that ``--llm embedded:DIR/model.gguf`` runs (needs the ``[train]`` extra)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train SFT_FILE --steps N --out DIR``."""
    from agentopia_mesa.training.gguf_export import OUT_TYPES
    from agentopia_mesa.training.lora import GGUF_NAMES, TARGETS, LoraSettings

    defaults = LoraSettings(steps=1)
    modules = sorted(name.rsplit(".", 1)[-1] for name in GGUF_NAMES)
    train = subparsers.add_parser(
        "train", help="LoRA fine-tune the embedded model on an SFT file (CPU) and write a GGUF it runs",
        description="Load the Gemma 3 270M GGUF of the [embedded] extra (or --base), fine-tune LoRA adapters with TRL's "
                    "SFTTrainer and PEFT on an `agentopia dataset sft` file (chat or prompt-completion layout; the loss on "
                    "each sample's last answer, the prompt rendered as the embedded backend renders it), merge them and "
                    "write DIR/model.gguf (the base GGUF with the adapted tensors replaced) and DIR/card.json, card.md. "
                    "Run the result with --llm embedded:DIR/model.gguf. Needs: pip install 'agentopia-mesa[train]'.")
    train.add_argument("data", type=Path, metavar="SFT_FILE", help="an `agentopia dataset sft` JSON lines file")
    train.add_argument("--steps", type=int, required=True, help="optimizer steps")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (model.gguf, card.json, card.md)")
    train.add_argument("--base", type=Path, default=None, metavar="GGUF", help="base model (default: the embedded Gemma 3 270M)")
    train.add_argument("--lr", type=float, default=defaults.lr, help=f"learning rate, constant (default: {defaults.lr})")
    train.add_argument("--lora-r", type=int, default=defaults.r, help=f"LoRA rank; alpha is twice it (default: {defaults.r})")
    train.add_argument("--target", action="append", choices=modules, default=None, metavar="MODULE",
                       help=f"projection to adapt (repeatable; {', '.join(modules)}; default: {', '.join(TARGETS)})")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size, help=f"samples per step (default: {defaults.batch_size})")
    train.add_argument("--max-length", type=int, default=defaults.max_length,
                       help=f"leave out samples longer than this many tokens (default: {defaults.max_length})")
    train.add_argument("--outtype", choices=OUT_TYPES, default="f32", help="type of the replaced tensors (default: f32, exact)")
    train.add_argument("--threads", type=int, default=defaults.threads, help=f"CPU threads (default: {defaults.threads})")
    train.add_argument("--seed", type=int, default=defaults.seed, help=f"adapter initialisation and sample order (default: {defaults.seed})")
    train.set_defaults(handler=_train)
    return train


def _train(args) -> int:
    from agentopia_mesa.training.base import TrainingUnavailable
    from agentopia_mesa.training.lora import TARGETS, LoraSettings
    from agentopia_mesa.training.pipeline import MODEL_FILE, train

    from agentopia_mesa.bounds import MAX_SEED, in_range
    from agentopia_mesa.run.outputs import check_output

    for flag, value, most in (("--steps", args.steps, 10**6), ("--lora-r", args.lora_r, 1024),
                              ("--batch-size", args.batch_size, 4096), ("--max-length", args.max_length, 131_072),
                              ("--threads", args.threads, 1024)):  # bounded before any work (issue #32)
        if value < 1:
            raise ValueError(f"{flag}: must be at least 1, got {value}")
        in_range(flag, value, 1, most, whole=True)
    if not args.lr > 0:
        raise ValueError(f"--lr: must be above 0, got {args.lr}")
    in_range("--lr", args.lr, 0, 1, above_low=True)
    in_range("--seed", args.seed, 0, MAX_SEED, whole=True)
    for name in (MODEL_FILE, "card.json", "card.md"):  # never over the SFT file or the base model
        check_output("--out", args.out / name, [p for p in (args.data, args.base) if p is not None])
    settings = LoraSettings(steps=args.steps, lr=args.lr, r=args.lora_r, batch_size=args.batch_size, max_length=args.max_length,
                            targets=tuple(args.target or TARGETS), threads=args.threads, seed=args.seed)
    try:
        card = train(args.data, args.out, settings, base=args.base, out_type=args.outtype)
    except TrainingUnavailable as exc:
        raise ValueError(str(exc)) from None
    losses = card["losses"]
    print(f"wrote {args.out / MODEL_FILE}: {settings.steps} steps on {card['data']['samples_used']} samples, "
          f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, {sum(card['seconds'].values()):.0f} s; "
          f"run it with --llm embedded:{args.out / MODEL_FILE}; card {args.out / 'card.md'}")
    return 0
