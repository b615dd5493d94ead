"""The page server under a flood: a stranger's slow connections, oversized posts and bursts of
requests, while a doctor's page load and letter download are still answered.

The page server runs in this process (no Rasa needed). The stranger connects from other
loopback addresses (127.0.0.2, 127.0.0.3), as another machine would: the per-address limits
then tell the two apart. No timing is asserted except "answered before the deadline".
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.ports import free_port
from riposte.settings import Settings
from riposte.web import server as serve

DEADLINE = 10.0  # seconds the doctor may wait, whatever the stranger does
STRANGER = "127.0.0.2"
OTHER_STRANGER = "127.0.0.3"


@dataclass
class Page:
    port: int
    server: serve.PageServer
    letter_path: str
    upload_path: str


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    from riposte.letters.links import link_key, make_token
    from riposte.store.repository import reset_shared_repository, shared_repository
    from riposte.web import uploads as evidence_upload

    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path))
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(serve._PageHandler, "timeout", 5.0)  # slow sockets closed sooner
    reset_shared_repository()
    repo = shared_repository()
    code, _ = repo.create_case({})
    repo.record_letter(
        code, "procureur", b"%PDF-1.7 lettre", media_type="application/pdf", actor="cli"
    )
    repo.add_evidence(code, {"url": "https://x.com/troll/status/1"}, actor="cli")
    port = free_port()
    settings = Settings.from_env({"RIPOSTE_WEB_PORT": str(port), "RIPOSTE_VAR_DIR": str(tmp_path)})
    server = serve.make_web_server(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upload = make_token(evidence_upload.upload_key(), code, 1)
    try:
        yield Page(
            port,
            server,
            f"{serve.LETTERS_PATH}{make_token(link_key(), code, 1)}.pdf",
            f"{evidence_upload.UPLOAD_PATH}{upload}",
        )
    finally:
        server.shutdown()
        server.server_close()
        reset_shared_repository()


def stranger_socket(page: Page, source: str = STRANGER) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(DEADLINE)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", page.port))
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the deadline: then a timeout error)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def doctor_gets(page: Page, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", page.port, timeout=DEADLINE)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def slow_connections(page: Page, count: int, source: str = STRANGER) -> list[socket.socket]:
    """Connections that start a request and never finish it."""
    socks = []
    for _ in range(count):
        sock = stranger_socket(page, source)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    return socks


def test_slow_connections_neither_block_the_doctor_nor_take_a_thread_each(page: Page) -> None:
    threads_before = threading.active_count()
    socks = slow_connections(page, 120)
    try:
        # Each flooding connection either holds one of the stranger's few workers or was
        # turned away at once: never a thread per connection.
        assert threading.active_count() - threads_before <= serve.WEB_WORKERS_PER_CLIENT
        assert doctor_gets(page, "/")[0] == 200
        status, body = doctor_gets(page, page.letter_path)
        assert status == 200 and body.startswith(b"%PDF")
        # Every flooding connection ends before the deadline: turned away with a 503, or
        # closed by the server once it stayed silent longer than the socket's timeout.
        replies = [answer(sock) for sock in socks]
        assert all(reply in (b"",) or reply.startswith(b"HTTP/1.0 503") for reply in replies)
        assert sum(reply.startswith(b"HTTP/1.0 503") for reply in replies) >= 100
    finally:
        for sock in socks:
            sock.close()


def test_an_oversized_post_is_refused_before_its_body_is_read(page: Page) -> None:
    """10 MB announced and never sent: the answer comes at once, from a forged link or not."""
    for path in ("/pieces/forged.token", page.upload_path):
        sock = stranger_socket(page, OTHER_STRANGER)
        length = serve.MAX_UPLOAD_REQUEST if path.endswith("token") else 10**10
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
            f"boundary=b\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        reply = answer(sock)
        sock.close()
        status = 404 if path.endswith("token") else 413
        assert reply.startswith(f"HTTP/1.0 {status}".encode()), reply[:80]


def test_a_flood_of_oversized_posts_leaves_the_doctor_answered(page: Page) -> None:
    replies: list[bytes] = []

    def post_forever() -> None:
        """10 MB announced, 64 KB sent, then nothing: waits for the server's answer."""
        try:
            sock = stranger_socket(page, OTHER_STRANGER)
            sock.sendall(
                b"POST /pieces/forged.token HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 10485760\r\n\r\n" + b"x" * 65536
            )
            replies.append(answer(sock))
            sock.close()
        except OSError as error:  # a timeout: the server kept waiting for the body
            replies.append(repr(error).encode())

    posters = [threading.Thread(target=post_forever, daemon=True) for _ in range(40)]
    for poster in posters:
        poster.start()
    assert doctor_gets(page, "/")[0] == 200
    for poster in posters:
        poster.join(DEADLINE + 5)
    # Refused at once (404: not a valid link), or turned away (503) past the stranger's share.
    assert len(replies) == len(posters)
    assert all(reply.startswith((b"HTTP/1.0 404", b"HTTP/1.0 503")) for reply in replies), {
        reply[:40] for reply in replies
    }


def test_a_burst_of_requests_gets_429_while_the_doctor_is_answered(page: Page) -> None:
    from riposte.ratelimit import RateLimiter

    # The server's limits, with time stopped: only the burst counts, however slow the machine.
    page.server.limiter = RateLimiter(serve.WEB_RATE, serve.WEB_BURST, clock=lambda: 0.0)
    statuses = []
    for _ in range(serve.WEB_BURST + 20):
        sock = stranger_socket(page)
        sock.sendall(b"GET /config.json HTTP/1.0\r\n\r\n")
        statuses.append(answer(sock)[:12])
        sock.close()
    assert statuses.count(b"HTTP/1.0 200") == serve.WEB_BURST
    assert statuses.count(b"HTTP/1.0 429") == 20
    assert doctor_gets(page, "/")[0] == 200


def test_the_page_says_no_version_and_asks_for_https_when_public_url_is_https(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {"RIPOSTE_WEB_PORT": str(port), "RIPOSTE_VAR_DIR": str(tmp_path)}
    for public, hsts in (("", None), ("https://riposte.example.org", serve.HSTS)):
        server = serve.make_web_server(Settings.from_env({**env, "RIPOSTE_PUBLIC_URL": public}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            assert response.getheader("Server") == "Riposte"
            assert response.getheader("Strict-Transport-Security") == hsts
            connection.close()
        finally:
            server.shutdown()
            server.server_close()
        time.sleep(0)  # the port is reused by the next server


def test_the_web_chat_reads_each_refusal_as_json_in_french(page: Page) -> None:
    """The page's script reads the upload's answer as JSON: a refusal must be JSON too."""
    import json

    connection = http.client.HTTPConnection("127.0.0.1", page.port, timeout=DEADLINE)
    connection.putrequest("POST", page.upload_path)
    connection.putheader("Accept", "application/json")
    connection.putheader("Content-Length", str(10**9))
    connection.endheaders()
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == 413
    assert answer["ok"] is False and "10 Mo" in answer["message"]

    from riposte.ratelimit import RateLimiter

    page.server.limiter = RateLimiter(1.0, 1, clock=lambda: 0.0)
    statuses = []
    for _ in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", page.port, timeout=DEADLINE)
        connection.request("POST", page.upload_path, b"", {"Accept": "application/json"})
        response = connection.getresponse()
        statuses.append((response.status, json.loads(response.read())["ok"]))
        connection.close()
    assert statuses[1] == (429, False)
    assert response.getheader("Retry-After") is not None
