"""The card of a Hugging Face fine-tune (``card.json`` and ``card.md``, beside ``card``'s for a
GGUF): base and data hashes, the settings of each step, the loss per step, the seconds of each
part, the device, the outputs, the served name and the exact commands that serve it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from agentopia_mesa.training.card import file_sha256


def hf_card_data(*, base: Path, base_sha256: str, model_type: str, data: Path | None, pairs: Path | None, tokens, settings,
                 preference, logs: dict, times: dict, device, outputs: dict, name: str, commands: dict, versions: dict) -> dict:
    """Everything the card says, as JSON-ready data (``tokens``: ``chat_tokens.TokenRows`` or None;
    ``logs``: step -> ``hf_sft.StepLog``; ``times``: part -> seconds; ``outputs``: kind -> path)."""
    def described(path: Path | None) -> dict | None:
        return None if path is None else {"file": str(path), "sha256": file_sha256(path)}

    return {
        "model": name, "base": {"folder": str(base), "sha256": base_sha256, "model_type": model_type},
        "data": {"sft": described(data), "dpo": described(pairs),
                 "samples_used": tokens.samples if tokens else 0, "samples_too_long": tokens.too_long if tokens else 0,
                 "sequences": len(tokens.rows) if tokens else 0, "tokens": tokens.tokens if tokens else 0},
        "settings": {"sft": {**asdict(settings), "targets": list(settings.targets), "alpha": settings.lora_alpha},
                     "dpo": asdict(preference) if pairs else None},
        "losses": {step: log.losses for step, log in logs.items()},
        "seconds": {part: round(seconds, 1) for part, seconds in times.items()},
        "device": device.name, "outputs": {kind: str(path) for kind, path in outputs.items()},
        "serve": commands, "versions": versions,
    }


def hf_card_markdown(card: dict) -> str:
    """``card`` as a short Markdown page."""
    s = card["settings"]["sft"]
    length = f"{s['steps']} steps" if s["steps"] else f"{s['epochs']:g} epochs"
    lines = [f"# {card['model']}", "",
             f"A LoRA fine-tune of `{card['base']['folder']}` ({card['base']['model_type']}, sha256 `{card['base']['sha256'][:16]}…`) "
             f"by `agentopia train` on {card['device']}.", ""]
    for step, data in (("sft", card["data"]["sft"]), ("dpo", card["data"]["dpo"])):
        if data:
            lines.append(f"- {step.upper()} data: `{data['file']}` (sha256 `{data['sha256'][:16]}…`)")
    lines += [f"- samples: {card['data']['samples_used']} used ({card['data']['sequences']} sequences, {card['data']['tokens']} tokens), "
              f"{card['data']['samples_too_long']} left out as longer than {s['max_length']} tokens",
              f"- SFT: {length} of {s['batch_size']} x {s['grad_accum']} samples, learning rate {s['lr']} ({s['schedule']}, "
              f"warmup {s['warmup']}), LoRA rank {s['r']}, alpha {s['alpha']}, dropout {s['dropout']} on {', '.join(s['targets'])}, seed {s['seed']}"]
    if card["settings"]["dpo"]:
        d = card["settings"]["dpo"]
        lines.append(f"- DPO: beta {d['beta']}, learning rate {d['lr']}, "
                     + (f"{d['steps']} steps" if d["steps"] else f"{d['epochs']:g} epochs") + ", from the SFT adapter")
    for step, losses in card["losses"].items():
        lines.append(f"- {step.upper()} loss per step: " + ", ".join(f"{loss:.3f}" for loss in losses))
    lines += ["- seconds: " + ", ".join(f"{part} {value}" for part, value in card["seconds"].items()),
              "- versions: " + ", ".join(f"{n} {v}" for n, v in card["versions"].items()), "",
              "## Outputs", "", *(f"- {kind}: `{path}`" for kind, path in card["outputs"].items()), "",
              "## Serve it", "", f"Served as `{card['model']}` (the folder and the adapter's sha256), so its answers never "
              "share cache keys with another fine-tune.", "", "```bash"]
    for server, command in card["serve"].items():
        lines += [f"# {server}", command["serve"], f"agentopia run ... --llm {command['llm']}"]
    return "\n".join([*lines, "```", ""])
