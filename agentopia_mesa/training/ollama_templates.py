"""Ollama chat templates (Go's text/template) for the families ``agentopia train`` knows, each
the layout of the family's own Hugging Face chat template for system, user and assistant turns:
ChatML for Qwen 2/3, the header layout of Llama 3, and Gemma 3's turns (as
``models/Modelfile.base``, which tests/test_model_templates.py checks against Hugging Face's).
The beginning-of-text token is not in them: Ollama adds it as the tokenizer says (as its stock
templates leave it out). Tool calls are not in these: Ollama refuses tools to a model served with
them ("does not support tools"), and our Ollama backend then asks it in the JSON convention
(llm/json_tools.py; tested in tests/test_llm_tools.py), as the fine-tune's plain turns were
rendered when its template has no tools.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OllamaTemplate:
    """``text``: the TEMPLATE; ``stops``: the end-of-turn strings (PARAMETER stop)."""

    text: str
    stops: tuple[str, ...]


_CHATML = OllamaTemplate(
    "{{- range $i, $m := .Messages }}<|im_start|>{{ $m.Role }}\n{{ $m.Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
    ("<|im_end|>",))
_LLAMA3 = OllamaTemplate(
    "{{- range $i, $m := .Messages }}<|start_header_id|>{{ $m.Role }}<|end_header_id|>\n\n"
    "{{ $m.Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
    ("<|eot_id|>",))
_GEMMA3 = OllamaTemplate(
    "{{- $system := \"\" }}{{- range $i, $m := .Messages }}"
    "{{- if eq $m.Role \"system\" }}{{ $system = $m.Content }}"
    "{{- else if eq $m.Role \"user\" }}<start_of_turn>user\n{{ if $system }}{{ $system }}\n\n{{ end }}{{ $m.Content }}<end_of_turn>\n"
    "{{ $system = \"\" }}"
    "{{- else }}<start_of_turn>model\n{{ $m.Content }}<end_of_turn>\n{{ end }}{{ end }}<start_of_turn>model\n",
    ("<end_of_turn>",))

#: config.json model_type -> template.
TEMPLATES = {"qwen2": _CHATML, "qwen3": _CHATML, "llama": _LLAMA3, "gemma3": _GEMMA3, "gemma3_text": _GEMMA3}


def ollama_template(model_type: str) -> OllamaTemplate | None:
    """The template for ``model_type`` (config.json's), or None for a family not listed."""
    return TEMPLATES.get(model_type)
