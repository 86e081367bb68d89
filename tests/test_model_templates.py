"""models/: the Modelfiles' TEMPLATE (Go text/template, as Ollama renders it) gives exactly the text
that Gemma 3's Hugging Face chat template (models/gemma3-chat-template.jinja, rendered as
transformers renders chat templates) gives for the same conversation, so a fine-tune served by
Ollama sees the layout it was trained on.

BOS: transformers' template writes ``<bos>`` into the text; Ollama's llama.cpp adds it when it
tokenizes (Gemma's GGUF sets add_bos_token), so the comparison is without it.
"""

import json
import re
from pathlib import Path

import pytest
from gotemplate import TemplateError, render
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.test_trajectories import recorded_run

MODELS = Path(__file__).resolve().parent.parent / "models"
SYSTEM = "You are Ana Lopez, 34, a nurse. Answer only with JSON."
USER = "PLAN your week: choose a living standard and one intention per day."
ANSWER = '{"living_standard": "moderate", "intentions": []}'
CORRECTION = "Your answer was not valid: living_standard must be one of frugal, moderate. Answer again."


def modelfile(name: str) -> str:
    return (MODELS / name).read_text(encoding="utf-8")


def modelfile_template(name: str = "Modelfile.finetuned") -> str:
    (template,) = re.findall(r'^TEMPLATE """(.*?)"""', modelfile(name), re.S | re.M)
    return template


def ollama_prompt(messages: list[dict], template: str | None = None) -> str:
    """The prompt Ollama builds for a chat request: the template over .Messages (system messages
    stay in the list; .System joins them)."""
    data = {
        "Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages],
        "System": "\n\n".join(m["content"] for m in messages if m["role"] == "system"),
    }
    return render(template if template is not None else modelfile_template(), data)


def _raise(message):
    raise ValueError(message)


def hf_chat(messages: list[dict], add_generation_prompt: bool) -> str:
    """Gemma 3's chat template as transformers' apply_chat_template renders it (its Jinja settings)."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = _raise
    template = env.from_string((MODELS / "gemma3-chat-template.jinja").read_text(encoding="utf-8"))
    return template.render(messages=messages, bos_token="", add_generation_prompt=add_generation_prompt)


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


CONVERSATIONS = {
    "system and question": [msg("system", SYSTEM), msg("user", USER)],
    "a retry after a rejected answer": [msg("system", SYSTEM), msg("user", USER), msg("assistant", ANSWER),
                                        msg("user", CORRECTION)],
    "no system message": [msg("user", USER)],
    "two rounds": [msg("system", SYSTEM), msg("user", USER), msg("assistant", ANSWER), msg("user", CORRECTION),
                   msg("assistant", ANSWER), msg("user", "And next week?")],
}


def test_both_modelfiles_carry_the_same_template_and_stop_at_the_end_of_a_turn():
    assert modelfile_template("Modelfile.base") == modelfile_template("Modelfile.finetuned")
    for name in ("Modelfile.base", "Modelfile.finetuned"):
        assert 'PARAMETER stop "<end_of_turn>"' in modelfile(name)


@pytest.mark.parametrize("conversation", CONVERSATIONS.values(), ids=CONVERSATIONS.keys())
def test_the_modelfile_template_renders_a_conversation_as_the_training_template_does(conversation):
    expected = hf_chat(conversation, add_generation_prompt=True)
    assert ollama_prompt(conversation) == expected
    if conversation[0]["role"] == "system":
        assert expected.startswith(f"<start_of_turn>user\n{SYSTEM}\n\n{USER}<end_of_turn>\n")


def test_a_training_sample_is_the_prompt_ollama_sends_plus_the_answer():
    # What the fine-tune learns (the whole sample, as trainers render it) is what Ollama asks
    # (the prompt up to "<start_of_turn>model\n"), then the answer, then the stop token.
    sample = CONVERSATIONS["a retry after a rejected answer"] + [msg("assistant", ANSWER)]
    assert hf_chat(sample, add_generation_prompt=False) == ollama_prompt(sample[:-1]) + ANSWER + "<end_of_turn>\n"


def test_the_comparison_notices_a_different_layout():
    conversation = CONVERSATIONS["a retry after a rejected answer"]
    template = modelfile_template()
    assert "{{ $system }}\n\n" in template
    changes = [
        template.replace("{{ $system }}\n\n", "{{ $system }}\n"),  # one newline after the system message
        template.replace("<start_of_turn>model\n{{ $m.Content }}", "<start_of_turn>assistant\n{{ $m.Content }}"),
        template.replace('{{ $system = "" }}', ""),  # the system message repeated in every user turn
    ]
    for changed in changes:
        assert changed != template
        assert ollama_prompt(conversation, changed) != hf_chat(conversation, add_generation_prompt=True)


def test_every_prompt_of_a_recorded_run_renders_the_same(tmp_path):
    """The prompts agentopia really sends (from a fake-LLM run), answers included."""
    recorded_run(tmp_path / "run", mix="fake=1", residents=3, years=1, seed=2, tiny=True)
    entries = [json.loads(line) for line in (tmp_path / "run" / "decisions.jsonl").read_text().splitlines()]
    assert len(entries) > 10
    for entry in entries:
        prompt = [msg(m["role"], m["content"]) for m in entry["messages"]]
        # Hugging Face trims every content, Ollama does not: agentopia's have no edge whitespace.
        assert all(m["content"] == m["content"].strip() for m in prompt)
        assert ollama_prompt(prompt) == hf_chat(prompt, add_generation_prompt=True)
        if entry["response"]:
            sample = [*prompt, msg("assistant", entry["response"])]
            assert hf_chat(sample, False) == ollama_prompt(prompt) + entry["response"] + "<end_of_turn>\n"


# -- the Go template renderer itself, on Go's documented semantics -----------------------------------

@pytest.mark.parametrize(("template", "data", "expected"), [
    ("a  {{- 1 -}}  b", {}, "a1b"),  # trim markers eat all the whitespace on their side
    ("a\n{{- 1 }}\nb", {}, "a1\nb"),
    ('{{ "x\\ty" }}|{{ `raw\\n` }}', {}, "x\ty|raw\\n"),
    ("{{ if .A }}yes{{ else if .B }}b{{ else }}no{{ end }}", {"A": "", "B": [1]}, "b"),
    ("{{ if .A }}yes{{ else if .B }}b{{ else }}no{{ end }}", {"A": 0, "B": {}}, "no"),
    ("{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ else }}none{{ end }}", {"L": ["a", "b"]}, "0=a;1=b;"),
    ("{{ range .L }}{{ . }}{{ else }}none{{ end }}", {"L": []}, "none"),
    # a variable declared in the range body is fresh each time; "=" assigns the outer one
    ('{{ $s := "" }}{{ range .L }}{{ $n := . }}{{ $s = $n }}{{ end }}{{ $s }}', {"L": ["a", "b"]}, "b"),
    ("{{ range $i, $m := .L }}{{ eq (len (slice $.L $i)) 1 }} {{ end }}", {"L": [1, 2, 3]}, "false false true "),
    ("{{ eq .X 1 2 3 }} {{ ne .X 2 }} {{ not .X }} {{ and 1 0 2 }} {{ or 0 \"\" 5 }}", {"X": 2}, "true false false 0 5"),
    ("{{ if eq $.M.Role \"user\" }}{{ .M.Content }}{{ end }}", {"M": {"Role": "user", "Content": "hi"}}, "hi"),
])
def test_go_template_renderer(template, data, expected):
    assert render(template, data) == expected


@pytest.mark.parametrize("template", ["{{ .A | printf }}", "{{ with .A }}x{{ end }}", "{{ index .A 0 }}", "{{/* c */}}"])
def test_go_template_renderer_refuses_what_it_does_not_implement(template):
    with pytest.raises(NotImplementedError):
        render(template, {"A": [1]})


@pytest.mark.parametrize("template", ["{{ if 1 }}x", "{{ end }}", "{{ $y = 1 }}", "{{ $z }}", "{{ .Missing }}"])
def test_go_template_renderer_reports_broken_templates(template):
    with pytest.raises(TemplateError):
        render(template, {})
