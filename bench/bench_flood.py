"""The page server's answer to a doctor while a stranger floods it (riposte/web/server.py limits).

Starts the page server in this process on a free loopback port, with a throw-away case store
(one case, one letter), then measures a doctor's requests (the page, then a letter download,
10 per second from 127.0.0.1) with no flood and under each flood, coming from other loopback
addresses as another machine would:
- `slow`: connections that start a request and never finish it (300 at once, reopened);
- `posts`: 10 MB uploads announced on forged links (40 senders at once);
- `burst`: requests as fast as one client can send them.
Prints the doctor's latency (p50, p95, max), failures, and what the stranger got.

    .venv/bin/python bench/bench_flood.py [--requests 50]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.ports import free_port  # noqa: E402

STRANGER = "127.0.0.2"


def prepare_store(var: Path) -> str:
    """A case with one letter; returns the letter's download path."""
    os.environ["RIPOSTE_VAR_DIR"] = str(var)
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        os.environ.pop(name, None)
    from riposte.letters.links import link_key, make_token
    from riposte.store.repository import reset_shared_repository, shared_repository
    from riposte.web import LETTERS_PATH

    reset_shared_repository()
    repo = shared_repository()
    code, _ = repo.create_case({})
    repo.record_letter(
        code, "procureur", b"%PDF-1.7 lettre", media_type="application/pdf", actor="cli"
    )
    return f"{LETTERS_PATH}{make_token(link_key(), code, 1)}.pdf"


def stranger(port: int) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(20)
    sock.bind((STRANGER, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def first_line(sock: socket.socket) -> str:
    try:
        data = sock.recv(64)
    except OSError as error:
        return type(error).__name__
    return data.split(b"\r\n", 1)[0].decode(errors="replace")[9:12] or "closed"


def flood_slow(port: int, stop: threading.Event, seen: Counter[str]) -> None:
    while not stop.is_set():
        socks = []
        for _ in range(300):
            try:
                sock = stranger(port)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                socks.append(sock)
            except OSError as error:
                seen[type(error).__name__] += 1
        stop.wait(3)
        for sock in socks:
            sock.settimeout(0.2)
            seen[first_line(sock)] += 1
            sock.close()


def flood_posts(port: int, stop: threading.Event, seen: Counter[str]) -> None:
    def one() -> None:
        while not stop.is_set():
            try:
                sock = stranger(port)
                sock.sendall(
                    b"POST /pieces/forged.token HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 10485760\r\n\r\n" + b"x" * 65536
                )
                seen[first_line(sock)] += 1
                sock.close()
            except OSError as error:
                seen[type(error).__name__] += 1

    senders = [threading.Thread(target=one, daemon=True) for _ in range(40)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()


def flood_burst(port: int, stop: threading.Event, seen: Counter[str]) -> None:
    while not stop.is_set():
        try:
            sock = stranger(port)
            sock.sendall(b"GET /config.json HTTP/1.0\r\n\r\n")
            seen[first_line(sock)] += 1
            sock.close()
        except OSError as error:
            seen[type(error).__name__] += 1


def doctor(port: int, paths: list[str], count: int) -> tuple[list[float], int]:
    """`count` requests, 10 per second: their latencies (ms) and how many failed."""
    latencies, failures = [], 0
    for index in range(count):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            connection.request("GET", paths[index % len(paths)])
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures += 1
        except OSError:
            failures += 1
        finally:
            connection.close()
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))
    return latencies, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="doctor's requests per case")
    args = parser.parse_args()
    from riposte.settings import Settings
    from riposte.web import server as serve

    with tempfile.TemporaryDirectory() as tmp:
        letter = prepare_store(Path(tmp))
        port = free_port()
        settings = Settings.from_env({"RIPOSTE_WEB_PORT": str(port), "RIPOSTE_VAR_DIR": tmp})
        server = serve.make_web_server(settings)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        floods: dict[str, Callable[[int, threading.Event, Counter[str]], None] | None] = {
            "none": None,
            "slow": flood_slow,
            "posts": flood_posts,
            "burst": flood_burst,
        }
        print(f"{'flood':<7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'failed':>7}  stranger got")
        try:
            for name, flood in floods.items():
                stop, seen = threading.Event(), Counter[str]()
                thread = None
                if flood is not None:
                    thread = threading.Thread(target=flood, args=(port, stop, seen), daemon=True)
                    thread.start()
                    time.sleep(1)  # let the flood build up
                latencies, failed = doctor(port, ["/", letter], args.requests)
                stop.set()
                if thread is not None:
                    thread.join(30)
                p95 = statistics.quantiles(latencies, n=20)[-1]
                got = ", ".join(f"{k}×{v}" for k, v in seen.most_common(4)) or "-"
                print(
                    f"{name:<7} {statistics.median(latencies):8.1f} {p95:8.1f} "
                    f"{max(latencies):8.1f} {failed:7d}  {got}"
                )
        finally:
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
