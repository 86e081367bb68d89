"""Limits on what an HTTP LLM server can make us wait for and hold in memory.

httpx's timeouts are per socket operation: a server that drips one byte every second never
times out. ``LimitedTransport`` adds a total deadline per request (checked on every chunk of the
body as it arrives) and a cap on the body's size, for the Ollama and OpenAI-compatible backends.
A server that drips the status line and headers themselves is still bounded by the dispatcher,
which stops waiting after ``--llm-timeout`` and runs calls on daemon threads, so a hung call can
never keep the process alive.
"""

from __future__ import annotations

import time

import httpx

#: The most bytes of one HTTP response body (a 64 KiB answer, JSON-escaped, fits many times).
MAX_BODY_BYTES = 1024 * 1024


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

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.total_s
        response = super().handle_request(request)
        if time.monotonic() > deadline:
            response.close()
            raise httpx.ReadTimeout(f"the response took longer than {self.total_s:g} s in all")
        return httpx.Response(status_code=response.status_code, headers=response.headers,
                              stream=_LimitedStream(response.stream, deadline, self.total_s, self.max_bytes),
                              extensions=response.extensions)
