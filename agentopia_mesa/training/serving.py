"""How a fine-tune is served and named back in the town.

The served name is the output folder's name and the first 8 hex digits of the adapter's SHA-256
(``ft-qwen-1a2b3c4d``): the name keys the response cache and groups the results, so two
fine-tunes (or two trainings into one folder) never share cache keys, as ``embedded:FOLDER@sha``
does for a GGUF. The card gives the exact commands for vLLM (the adapter on the base, or the
merged folder), Ollama (a generated Modelfile: the base, the adapter, and the template) and the
embedded backend (a GGUF, where one was written).
"""

from __future__ import annotations

from pathlib import Path

from agentopia_mesa.training.card import file_sha256
from agentopia_mesa.training.ollama_templates import ollama_template

MODELFILE = "Modelfile"
VLLM_URL = "http://127.0.0.1:8000/v1"


def served_name(out_dir: Path, adapter: Path) -> str:
    """``FOLDER-SHA8``: the output folder's name and the adapter weights' digest."""
    return f"{out_dir.resolve().name}-{file_sha256(adapter / 'adapter_model.safetensors')[:8]}"


def modelfile(base: Path, adapter: Path, model_type: str) -> str:
    """An Ollama Modelfile: ``FROM`` the base folder, ``ADAPTER`` the adapter folder, and the base
    family's chat template in Ollama's Go syntax (``ollama_templates``; none known: Ollama picks
    one from the tokenizer's own, and the Modelfile says so)."""
    template = ollama_template(model_type)
    lines = [f"# written by agentopia train: ollama create NAME -f {adapter.parent / MODELFILE}",
             f"FROM {base.resolve()}", f"ADAPTER {adapter.resolve()}"]
    if template is None:
        lines.append(f"# no Ollama template known for {model_type}: Ollama takes the one it matches to the tokenizer's")
    else:
        lines += [f'TEMPLATE """{template.text}"""', *(f'PARAMETER stop "{stop}"' for stop in template.stops)]
    return "\n".join(lines) + "\n"


def serve_commands(*, name: str, base: Path, adapter: Path, merged: Path | None, gguf: Path | None, rank: int) -> dict:
    """The commands that serve the fine-tune and the ``--llm`` spec that reaches each, by server."""
    commands = {
        "vllm": {"serve": f"vllm serve {base.resolve()} --enable-lora --max-lora-rank {rank} --lora-modules {name}={adapter.resolve()}",
                 "llm": f"openai:{VLLM_URL}:{name}"},
        "ollama": {"serve": f"ollama create {name} -f {(adapter.parent / MODELFILE).resolve()}", "llm": f"ollama:{name}"},
    }
    if merged is not None:
        commands["vllm_merged"] = {"serve": f"vllm serve {merged.resolve()} --served-model-name {name}",
                                   "llm": f"openai:{VLLM_URL}:{name}"}
    if gguf is not None:
        commands["embedded"] = {"serve": "(in process)", "llm": f"embedded:{gguf}"}
    return commands
