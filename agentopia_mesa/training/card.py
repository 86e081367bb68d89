"""The model card of a fine-tune: ``card.json`` (for programs) and ``card.md`` (for people) in the
output folder, saying what was trained on what, with which settings, how the loss went and how
long each part took (seconds, on this machine)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_data(*, base: Path, data: Path, model: Path, settings, result, out_type: str, times: dict, versions: dict) -> dict:
    """Everything the card says, as JSON-ready data (``settings``: ``lora.LoraSettings``;
    ``result``: ``lora.TrainResult``; ``times``: part -> seconds)."""
    return {
        "model": model.name, "base": {"file": base.name, "sha256": file_sha256(base)},
        "data": {"file": str(data), "sha256": file_sha256(data), "samples_used": result.samples,
                 "samples_too_long": result.too_long},
        "settings": {**asdict(settings), "targets": list(settings.targets), "outtype": out_type},
        "losses": result.losses, "replaced_tensors": len(result.merged),
        "seconds": {part: round(seconds, 1) for part, seconds in times.items()}, "versions": versions,
    }


def card_markdown(card: dict) -> str:
    """``card`` as a short Markdown page."""
    s, seconds = card["settings"], card["seconds"]
    losses = ", ".join(f"{loss:.3f}" for loss in card["losses"])
    return "\n".join([
        f"# {card['model']}", "",
        f"A LoRA fine-tune of `{card['base']['file']}` (sha256 `{card['base']['sha256'][:16]}…`) by `agentopia train`, "
        f"merged into a copy of the base GGUF (the {card['replaced_tensors']} adapted tensors in {s['outtype'].upper()}, "
        "everything else as it was).", "",
        f"- data: `{card['data']['file']}` (sha256 `{card['data']['sha256'][:16]}…`), {card['data']['samples_used']} samples used, "
        f"{card['data']['samples_too_long']} left out as longer than {s['max_length']} tokens",
        f"- {s['steps'] or 0} steps of {s['batch_size']} sample(s), learning rate {s['lr']}, LoRA rank {s['r']} on "
        f"{', '.join(s['targets'])}, seed {s['seed']}, {s['threads']} CPU threads",
        f"- loss per step: {losses}",
        "- seconds: " + ", ".join(f"{part} {value}" for part, value in seconds.items()) + f" ({card.get('device', 'CPU')})",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in card["versions"].items()), "",
        "A model this small trained on this little proves the plumbing, not the paper's gains (README, models/README.md).", ""])


def write_card(out_dir: Path, card: dict, markdown=card_markdown) -> None:
    """Write ``card.json`` and ``card.md`` (``markdown(card)``) into ``out_dir``."""
    (out_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out_dir / "card.md").write_text(markdown(card))
