"""Plain-HTTP requests over the standard library's ``http.client``, for LLM servers on http:// URLs.

httpx's own transport (httpcore and h11, pure Python) costs about 0.25 ms of CPU per request on
this project's machine, a quarter of what a dispatched LLM call costs us in all; ``http.client``
costs about 0.08 ms (benchmarks/RESULTS.md, "CPU per call"). ``PlainHTTP`` sends one httpx
request over a kept-alive ``http.client`` connection and returns the whole response, so the
official ``ollama`` client and httpx stay the API while the bytes go the cheap way.

Limits (``http_limits`` asks for them): the total deadline holds on every receive of the status
line, the headers and the body, since each waits at most the time left (``_DeadlineSocket``): a
server that drips bytes cannot stretch a request, and no extra thread is needed to wait for it;
a body larger than ``max_bytes`` is refused. Errors are httpx's, as the backends expect them.
"""

from __future__ import annotations

import http.client
import math
import select
import socket
import threading
import time

import httpx

#: Idle connections kept per server (more than any dispatcher keeps in flight at once).
MAX_IDLE = 256


class DeadlineExceeded(TimeoutError):
    """The request's total deadline passed while we waited for the server."""


class _DeadlineSocket(socket.socket):
    """A socket whose receives wait at most until ``deadline`` (``time.monotonic()`` seconds)."""

    deadline: float = math.inf

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the response took longer than its deadline")
        self.settimeout(left)
        return super().recv_into(buffer, nbytes, flags)


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        plain = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = _DeadlineSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reusable(connection: _Connection) -> bool:
    """An idle kept-alive connection is reusable unless the server closed it (it reads as ready)."""
    if connection.sock is None:
        return False
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return not poller.poll(0)


class PlainHTTP:
    """Send httpx requests to http:// servers over pooled ``http.client`` connections (thread-safe)."""

    def __init__(self, max_bytes: int, too_large: type[httpx.TransportError]):
        self.max_bytes, self.too_large = max_bytes, too_large
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._lock = threading.Lock()

    def send(self, request: httpx.Request, deadline: float) -> httpx.Response:
        """``request``'s whole response, within ``deadline`` (``time.monotonic()`` seconds)."""
        server = (request.url.host, request.url.port or 80)
        connection = self._take(server)
        try:
            keep, response = self._exchange(connection, request, deadline)
        except BaseException:
            connection.close()
            raise
        if keep:
            self._keep(server, connection)
        else:
            connection.close()
        return response

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _exchange(self, connection: _Connection, request: httpx.Request, deadline: float
                  ) -> tuple[bool, httpx.Response]:
        """(whether the connection may be kept, the response)."""
        try:
            if connection.sock is None:
                connection.timeout = max(0.001, deadline - time.monotonic())
                connection.connect()
            connection.sock.deadline = deadline
            connection.sock.settimeout(max(0.001, deadline - time.monotonic()))  # for sending
            connection.putrequest(request.method, request.url.raw_path.decode("ascii"),
                                  skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.raw:
                if name.lower() != b"accept-encoding":  # an identity body: http.client does not decompress
                    connection.putheader(name, value)
            connection.endheaders(request.read() or None)
            answer = connection.getresponse()
            body = answer.read(self.max_bytes + 1)
        except (DeadlineExceeded, TimeoutError, socket.timeout) as exc:
            raise httpx.ReadTimeout(f"no complete response within the deadline ({exc})", request=request) from None
        except ConnectionRefusedError as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        except (OSError, http.client.HTTPException) as exc:
            kind = httpx.ConnectError if connection.sock is None else httpx.RemoteProtocolError
            raise kind(f"{type(exc).__name__}: {exc}", request=request) from None
        if len(body) > self.max_bytes:
            raise self.too_large(f"the response body is larger than {self.max_bytes} bytes", request=request)
        keep = answer.isclosed() and not answer.will_close
        headers = [(name, value) for name, value in answer.getheaders() if name.lower() != "transfer-encoding"]
        return keep, httpx.Response(answer.status, headers=headers, content=body, request=request)

    def _take(self, server: tuple[str, int]) -> _Connection:
        with self._lock:
            idle = self._idle.get(server, [])
            while idle:
                connection = idle.pop()
                if _reusable(connection):
                    return connection
                connection.close()
        return _Connection(*server)

    def _keep(self, server: tuple[str, int], connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(server, [])
            if len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()
