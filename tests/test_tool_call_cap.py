"""Thousands of tool calls in one answer are refused before any is read (issue #32): an
``oversize`` fault, like an over-long answer. On main each call was parsed into a ``ToolCall`` (and
its JSON arguments decoded) before anything was refused."""

import pytest

from agentopia_mesa.llm import openai_backend
from agentopia_mesa.llm.client import ChatRequest, LLMBadResponse, LLMOversize
from agentopia_mesa.llm.dispatcher import fault_kind
from agentopia_mesa.llm.http_limits import MAX_TOOL_CALLS, counted_tool_calls
from agentopia_mesa.llm.openai_backend import OpenAIBackend

TOOL = {"type": "function", "function": {"name": "read_note", "parameters": {"type": "object", "properties": {}}}}


def test_an_answer_with_thousands_of_tool_calls_is_refused_before_reading_them(monkeypatch):
    calls = [{"id": f"c{i}", "function": {"name": "read_note", "arguments": '{"name": "diary"}'}} for i in range(5000)]
    backend = OpenAIBackend("http://127.0.0.1:9/v1", "m")
    monkeypatch.setattr(backend, "_request", lambda *a, **k: {"choices": [{"message": {"content": "", "tool_calls": calls}}]})
    read = []
    monkeypatch.setattr(openai_backend, "ToolCall", lambda *a, **k: read.append(a))
    request = ChatRequest(messages=({"role": "user", "content": "hi"},), tools=(TOOL,))
    with pytest.raises(LLMOversize, match="5000 tool calls") as caught:
        backend.chat(request)
    assert read == [] and fault_kind(caught.value) == "oversize"


def test_a_few_tool_calls_pass_and_a_non_list_is_a_bad_response():
    assert len(counted_tool_calls([{}] * MAX_TOOL_CALLS, "x")) == MAX_TOOL_CALLS
    assert counted_tool_calls(None, "x") == []
    with pytest.raises(LLMBadResponse, match="not a list"):
        counted_tool_calls({"a": 1}, "x")
