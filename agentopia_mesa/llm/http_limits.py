"""Limits on what an HTTP LLM server can make us wait for and hold in memory.

httpx's timeouts are per socket operation: a server that drips one byte every second never
times out. ``LimitedTransport`` adds a total deadline per request and a cap on the body's size,
for the Ollama and OpenAI-compatible backends (chat calls and start-up checks alike). Plain
http:// requests go over ``plain_http`` (the standard library's ``http.client``, a quarter of
httpx's CPU per request), whose every receive waits at most the time left. For https:// the
status line and headers are awaited on a daemon thread (``daemon_calls``) for at most the deadline
(a server that drips them leaves that thread behind, never the caller, and never the process at
exit); the body is checked against the deadline on every chunk as it arrives.
"""

from __future__ import annotations

import threading
import time

import httpx

from agentopia_mesa.llm.daemon_calls import DaemonCalls
from agentopia_mesa.llm.plain_http import PlainHTTP

#: Where the status line and headers are awaited (daemon threads, reused from request to request).
_WAITS = DaemonCalls("llm-http")

#: The most bytes of one HTTP response body (a 64 KiB answer, JSON-escaped, fits many times).
MAX_BODY_BYTES = 1024 * 1024
#: Most tool calls one answer may ask for (ours ask for one to three); counted before any is read,
#: so an answer of thousands of calls costs nothing but its refusal (an ``oversize`` fault).
MAX_TOOL_CALLS = 32


def counted_tool_calls(calls, where: str) -> list:
    """``calls`` (the raw list an answer holds) if it is a list of at most ``MAX_TOOL_CALLS``;
    else ``LLMOversize`` naming ``where``."""
    from agentopia_mesa.llm.client import LLMBadResponse, LLMOversize

    calls = list(calls or ()) if isinstance(calls, (list, tuple)) or calls is None else calls
    if not isinstance(calls, list):
        raise LLMBadResponse(f"{where} sent tool_calls that are not a list: {str(calls)[:100]}")
    if len(calls) > MAX_TOOL_CALLS:
        raise LLMOversize(f"{where} sent an answer with {len(calls)} tool calls; at most {MAX_TOOL_CALLS} are accepted")
    return calls


class ResponseTooLarge(httpx.TransportError):
    """The body grew past ``MAX_BODY_BYTES``."""


class _LimitedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, deadline: float, total_s: float, max_bytes: int):
        self.inner, self.deadline, self.total_s, self.max_bytes = inner, deadline, total_s, max_bytes

    def __iter__(self):
        size = 0
        for chunk in self.inner:
            size += len(chunk)
            if size > self.max_bytes:
                raise ResponseTooLarge(f"the response body is larger than {self.max_bytes} bytes")
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout(f"the response took longer than {self.total_s:g} s in all")
            yield chunk

    def close(self) -> None:
        self.inner.close()


class LimitedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` with a total deadline of ``total_s`` per request and a body cap."""

    def __init__(self, total_s: float, max_bytes: int = MAX_BODY_BYTES, **kwargs):
        super().__init__(**kwargs)
        self.total_s, self.max_bytes = total_s, max_bytes
        self._plain = PlainHTTP(max_bytes, ResponseTooLarge)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.total_s
        if request.url.scheme == "http":  # the cheap way, the deadline on every receive (plain_http)
            return self._plain.send(request, deadline)
        response = self._headers_within(request, self.total_s)
        if time.monotonic() > deadline:
            response.close()
            raise httpx.ReadTimeout(f"the response took longer than {self.total_s:g} s in all", request=request)
        return httpx.Response(status_code=response.status_code, headers=response.headers,
                              stream=_LimitedStream(response.stream, deadline, self.total_s, self.max_bytes),
                              extensions=response.extensions)

    def close(self) -> None:
        self._plain.close()
        super().close()

    def _headers_within(self, request: httpx.Request, seconds: float) -> httpx.Response:
        """The response (status and headers) if it comes within ``seconds``; else ReadTimeout,
        leaving the daemon thread that waits for it to close it if it ever comes."""
        box: dict = {}
        done, abandoned = threading.Event(), threading.Event()

        def wait_for_headers() -> None:
            try:
                box["response"] = httpx.HTTPTransport.handle_request(self, request)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc
            finally:
                done.set()
                if abandoned.is_set() and "response" in box:
                    box["response"].close()

        _WAITS.submit(wait_for_headers)
        if not done.wait(seconds):
            abandoned.set()
            if done.is_set() and "response" in box:  # it came just now: nobody else will close it
                box["response"].close()
            raise httpx.ReadTimeout(f"no response headers within {seconds:g} s", request=request)
        if "error" in box:
            raise box["error"]
        return box["response"]
