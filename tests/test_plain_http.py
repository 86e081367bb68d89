"""Plain HTTP through ``LimitedTransport`` (llm/plain_http.py): kept-alive connections, servers
that close them, chunked bodies, refused connections and the body cap, against tiny local servers.
(Dripping servers and oversize answers through the backends: test_hardening.)"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from llm_fixtures import closed_port  # noqa: F401 (fixture)

from agentopia_mesa.llm.http_limits import LimitedTransport, ResponseTooLarge


class _Echo(BaseHTTPRequestHandler):
    """Answers every POST with its body; ``close``: close each connection after its answer;
    ``chunked``: send the body in two chunks."""

    protocol_version = "HTTP/1.1"
    close = chunked = False
    connections: list

    def setup(self):
        super().setup()
        self.connections.append(self.client_address)

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.close:
            self.send_header("Connection", "close")
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(body) // 2
            for part in (body[:half], body[half:], b""):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        if self.close:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    servers = []

    def start(**behaviour) -> tuple[str, list]:
        connections: list = []
        handler = type("Handler", (_Echo,), {**behaviour, "connections": connections})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", connections

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("behaviour", "opened"), [({}, 1), ({"close": True}, 3), ({"chunked": True}, 1)])
def test_answers_come_back_whole_over_kept_alive_or_new_connections(echo, behaviour, opened):
    url, connections = echo(**behaviour)
    with httpx.Client(base_url=url, transport=LimitedTransport(5)) as client:
        for i in range(3):
            response = client.post("/api/chat", json={"n": i, "text": "ü" * 50})
            assert response.status_code == 200 and response.json() == {"n": i, "text": "ü" * 50}
    assert len(connections) == opened  # kept alive unless the server closes them


def test_a_refused_connection_is_httpx_connect_error(closed_port):
    with httpx.Client(transport=LimitedTransport(2)) as client, pytest.raises(httpx.ConnectError):
        client.post(f"http://127.0.0.1:{closed_port}/x", json={})


def test_a_body_over_the_cap_is_refused(echo):
    url, _ = echo()
    with httpx.Client(base_url=url, transport=LimitedTransport(5, max_bytes=100)) as client:
        assert client.post("/x", content=b"a" * 100).content == b"a" * 100
        with pytest.raises(ResponseTooLarge, match="larger than 100 bytes"):
            client.post("/x", content=b"a" * 101)
