"""A Hugging Face base model for ``agentopia train --base DIR``: a local folder with
``config.json``, the weights (safetensors) and a tokenizer that carries a chat template.

The chat template is the point: vLLM and Ollama render a served model's prompts with it, so
training renders every sample with the same template (``chat_tokens``). A base without one is
refused, since there would be nothing to agree on. Nothing is downloaded: the folder is read as
it is (``local_files_only``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from agentopia_mesa.training.base import TrainingUnavailable


def is_hf_directory(path: Path | None) -> bool:
    """Whether ``path`` names a folder (a Hugging Face model directory, checked by ``model_type``)."""
    return path is not None and Path(path).is_dir()


def model_type(path: Path) -> str:
    """The folder's ``model_type`` (qwen3, llama, gemma3_text, ...), read from its config with
    transformers. Raises ``ValueError`` for a folder that is no Hugging Face model."""
    from transformers import AutoConfig

    try:
        return str(AutoConfig.from_pretrained(str(path), local_files_only=True).model_type)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"--base {path}: no readable config.json with a model_type ({exc.__class__.__name__}): "
                         "pass a Hugging Face model directory or a GGUF file") from None


def load_hf_tokenizer(path: Path):
    """The tokenizer of the model at ``path``, with a pad token (its EOS when it has none). Raises
    ``ValueError`` if it has no chat template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"--base {path}: the tokenizer has no chat template (chat_template.jinja or tokenizer_config.json's "
                         "chat_template), so there is no prompt layout a server would use: take the instruct model's folder")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_hf_model(path: Path, device):
    """The causal LM at ``path`` in ``device.dtype`` (``device``: ``training.device.Device``)."""
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=device.dtype, local_files_only=True)
    except (ValueError, OSError) as exc:
        raise TrainingUnavailable(f"transformers cannot load {path} as a causal LM: {str(exc).splitlines()[0]}") from None


def folder_sha256(path: Path) -> str:
    """One SHA-256 over every file in the folder ``path`` (relative names and contents, in name
    order): the base's identity on the card and in its adapters' check (about 1 s per GB)."""
    digest = hashlib.sha256()
    files = (p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
    for file in sorted(files):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
