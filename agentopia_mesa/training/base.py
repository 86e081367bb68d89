"""The base model of ``agentopia train``: the Gemma 3 270M GGUF the ``[embedded]`` extra ships,
loaded into transformers (``gguf_file=``: the Q4_K/Q5_0/Q6_K/Q8_0 tensors are dequantized to
float32; 268M parameters, about 1.1 GB in memory, about 40 s on 2 cores).

transformers maps Gemma 3's GGUF tensors one to one (no Q/K permutation, unlike Llama's), so a
weight trained here goes back under the same GGUF name (``gguf_export``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

TRAIN_HINT = "pip install 'agentopia-mesa[train]'"
#: What the extra brings (import names).
TRAIN_MODULES = ("torch", "transformers", "trl", "peft", "gguf")

#: ChatML, the template llama.cpp falls back to for a GGUF without ``tokenizer.chat_template``
#: (the shipped Gemma 3 270M has none): training renders prompts exactly as the embedded backend
#: will (tests/test_training.py compares with llama.cpp's own /apply-template).
CHATML_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
                   "+ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


class TrainingUnavailable(RuntimeError):
    """The ``[train]`` extra (or the base model) is missing; the message says what to install."""


def require_training() -> None:
    """Raise ``TrainingUnavailable`` naming the missing packages unless the extra is installed."""
    missing = [name for name in TRAIN_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise TrainingUnavailable(f"agentopia train needs {', '.join(missing)}: {TRAIN_HINT}")


def base_gguf(path: str | Path | None = None) -> Path:
    """The GGUF to fine-tune: ``path``, or the assembled Gemma 3 270M of the ``[embedded]`` extra."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"base model {path} is not a file: pass a GGUF file or leave --base out")
        return path
    from agentopia_mesa.llm.client import LLMUnavailable
    from agentopia_mesa.llm.embedded_backend import gemma_path
    try:
        return gemma_path()
    except LLMUnavailable as exc:
        raise TrainingUnavailable(str(exc)) from None


#: Architectures whose tensors transformers loads in GGUF order, so merged weights go back as they are
#: (checked for Gemma 3; Llama-family files would need llama.cpp's Q/K permutation redone).
WRITABLE_ARCHITECTURES = ("gemma3",)


def check_architecture(path: Path) -> str:
    """The GGUF's ``general.architecture``; raises ``TrainingUnavailable`` unless it is one whose
    fine-tune ``gguf_export`` can write back (``WRITABLE_ARCHITECTURES``)."""
    from gguf import GGUFReader, Keys

    try:
        architecture = str(GGUFReader(str(path)).fields[Keys.General.ARCHITECTURE].contents())
    except (ValueError, KeyError, OSError) as exc:
        raise TrainingUnavailable(f"{path} is not a readable GGUF model ({exc})") from None
    if architecture not in WRITABLE_ARCHITECTURES:
        raise TrainingUnavailable(f"{path.name} is a {architecture} model; agentopia train writes back only "
                                  f"{', '.join(WRITABLE_ARCHITECTURES)} (leave --base out for the embedded Gemma 3 270M, or pass the model's "
                                  "Hugging Face folder: --merge writes a Llama or Qwen GGUF from it)")
    return architecture


def load_tokenizer(path: Path):
    """The tokenizer stored in the GGUF at ``path``, with the ChatML template the embedded
    backend's llama.cpp uses (``CHATML_TEMPLATE``)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    tokenizer.chat_template = CHATML_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: Path):
    """The model in the GGUF at ``path``, dequantized to float32 (training on a CPU)."""
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    except ValueError as exc:  # an architecture or quantization transformers cannot read
        raise TrainingUnavailable(f"transformers cannot load {path.name}: {exc}") from None
    # The weights are plain float32 now; the Trainer refuses a model still marked as GGUF-quantized.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    return model
