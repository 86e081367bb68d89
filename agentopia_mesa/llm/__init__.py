"""The LLM layer: one small client protocol, thin backends, a response cache and a dispatcher.

    client = make_client("ollama:qwen3:4b", cache_path="run/llm-cache.sqlite")
    outcomes = Dispatcher(max_concurrency=8).run([(client, request, parse), ...])
    outcomes = Dispatcher().run([(client, request, parse, toolbox), ...])  # tool rounds first (llm/tools.py)

Backends: ``embedded`` (in-process Gemma 3 270M), ``ollama:MODEL``, ``openai:URL:MODEL``,
``replay`` (cache only) and ``fake`` (no model). Backend modules are imported lazily by
``make_client``, so importing this package needs neither ``ollama`` nor ``xllamacpp``.
"""

from agentopia_mesa.llm.cache import CachedClient, ResponseCache
from agentopia_mesa.llm.client import (
    CacheMiss,
    ChatOptions,
    ChatRequest,
    ChatResult,
    LLMBadResponse,
    LLMClient,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    ToolCall,
)
from agentopia_mesa.llm.dispatcher import DispatchStats, Dispatcher, Outcome
from agentopia_mesa.llm.factory import SPEC_FORMS, make_backend, make_client
from agentopia_mesa.llm.tools import Toolbox, ToolUse, chat_with_tools

__all__ = [
    "SPEC_FORMS", "CacheMiss", "CachedClient", "ChatOptions", "ChatRequest", "ChatResult", "DispatchStats",
    "Dispatcher", "LLMBadResponse", "LLMClient", "LLMError", "LLMTimeout", "LLMUnavailable", "Outcome",
    "ResponseCache", "ToolCall", "ToolUse", "Toolbox", "chat_with_tools", "make_backend", "make_client",
]
