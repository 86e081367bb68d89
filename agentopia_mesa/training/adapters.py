"""The outputs every server reads: the PEFT adapter folder (vLLM's ``--lora-modules``, Ollama's
``ADAPTER``) and the merged model folder (``--merge``; vLLM, Ollama's ``FROM``, llama.cpp's
converter), and the check that an adapter given back to ``agentopia train`` belongs to the base.

An adapter folder also holds ``base.json``: the base's folder and SHA-256 (``hf_base.folder_sha256``),
which is how a later DPO step knows it continues an adapter of the same base.
"""

from __future__ import annotations

import json
from pathlib import Path

ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
BASE_RECORD = "base.json"
WEIGHTS = "adapter_model.safetensors"


def save_adapter(peft_model, tokenizer, out_dir: Path, base: Path, base_sha256: str) -> Path:
    """Write ``out_dir/adapter``: the "default" adapter, the tokenizer (with its chat template) and
    ``base.json``; returns the folder."""
    folder = out_dir / ADAPTER_DIR
    peft_model.save_pretrained(str(folder), selected_adapters=["default"], safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    (folder / BASE_RECORD).write_text(json.dumps({"base": str(base.resolve()), "sha256": base_sha256}, indent=2) + "\n")
    return folder


def save_merged(peft_model, tokenizer, out_dir: Path) -> Path:
    """Merge the adapter into the weights, W' = W + (alpha / r) B A, and write ``out_dir/merged``
    (safetensors, the base's dtype, the tokenizer); returns the folder. ``peft_model`` is merged
    in place: save the adapter first."""
    folder = out_dir / MERGED_DIR
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def check_adapter(adapter: Path, base: Path, base_sha256: str) -> None:
    """Raise ``ValueError`` unless ``adapter`` is an adapter folder trained on this ``base`` (its
    ``base.json`` names the same SHA-256; an adapter written elsewhere must name the same folder
    in ``adapter_config.json``)."""
    if not (adapter / "adapter_config.json").is_file():
        raise ValueError(f"--adapter {adapter}: no adapter_config.json: pass the adapter folder agentopia train wrote (DIR/adapter)")
    record = adapter / BASE_RECORD
    if record.is_file():
        recorded = json.loads(record.read_text())
        if recorded.get("sha256") != base_sha256:
            raise ValueError(f"--adapter {adapter} was trained on {recorded.get('base')} (sha256 {str(recorded.get('sha256'))[:12]}…), "
                             f"not on --base {base} (sha256 {base_sha256[:12]}…)")
        return
    named = json.loads((adapter / "adapter_config.json").read_text()).get("base_model_name_or_path") or ""
    if Path(named).resolve() != base.resolve():
        raise ValueError(f"--adapter {adapter} is an adapter for {named or 'an unnamed base'}, not for --base {base}")


def load_adapter(model, adapter: Path):
    """``model`` with the adapter at ``adapter`` loaded as its trainable "default" adapter."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
