"""The web page's server side: its Content-Security-Policy, /config.json, the vendored client."""

from __future__ import annotations

import hashlib
import re

import pytest

from riposte.cli.serve import WEB_DIR, content_security_policy, page_config, socket_origins
from riposte.settings import MAX_MESSAGE_CHARS, QUICK_EXIT_DEFAULT_URL, Settings, SettingsError


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:8080", ["http://localhost:5005", "ws://localhost:5005"]),
        ("127.0.0.1", ["http://127.0.0.1:5005", "ws://127.0.0.1:5005"]),
        ("[::1]:8080", ["http://[::1]:5005", "ws://[::1]:5005"]),
        ('evil"; script-src *', []),
        ("", []),
        (None, []),
    ],
)
def test_the_page_may_connect_only_to_its_own_rasa(host: str | None, expected: list[str]) -> None:
    assert socket_origins(Settings.from_env({}), host) == expected


def test_a_configured_socket_url_is_the_only_other_connection() -> None:
    settings = Settings.from_env({"RIPOSTE_SOCKET_URL": "https://chat.example.org/"})
    assert socket_origins(settings, "whatever:1") == [
        "https://chat.example.org",
        "wss://chat.example.org",
    ]
    policy = content_security_policy(socket_origins(settings, None))
    assert "connect-src 'self' https://chat.example.org wss://chat.example.org;" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy


def test_config_json_says_what_the_page_needs_and_nothing_secret() -> None:
    settings = Settings.from_env({"RIPOSTE_API_TOKEN": "t" * 32})
    config = page_config(settings)
    assert config == {
        "rasaPort": 5005,
        "socketPath": "/socket.io/",
        "socketUrl": None,
        "quickExitUrl": QUICK_EXIT_DEFAULT_URL,
        "maxMessageChars": MAX_MESSAGE_CHARS,
        "maxUploadBytes": 10 * 1024 * 1024,
    }


@pytest.mark.parametrize("name", ["RIPOSTE_SOCKET_URL", "RIPOSTE_QUICK_EXIT_URL"])
@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://x", "https://a b", "meteo.fr"])
def test_bad_page_urls_give_a_clear_french_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} doit être une adresse"):
        Settings.from_env({name: value})


def test_quick_exit_url_is_configurable() -> None:
    url = "https://www.lemonde.fr/meteo/"
    assert Settings.from_env({"RIPOSTE_QUICK_EXIT_URL": url}).quick_exit_url == url


def test_the_vendored_socketio_client_is_the_recorded_one() -> None:
    readme = (WEB_DIR / "vendor" / "README").read_text(encoding="utf-8")
    recorded = re.search(r"^sha256 ([0-9a-f]{64})$", readme, re.M)
    assert recorded, readme
    data = (WEB_DIR / "vendor" / "socket.io.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded.group(1)
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    # Every script and style of the page is a local file: no CDN, no web font.
    assert re.findall(r'(?:src|href)="(https?:)?//', page) == []
    assert set(re.findall(r'<script src="([^"]+)"', page)) == {
        "vendor/socket.io.min.js",
        "render.js",
        "app.js",
    }
