"""Rasa's HTTP API token, as `riposte_rasa.server` checks it: constant time, header or query."""

from __future__ import annotations

import asyncio
import hmac
import urllib.parse
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import rasa.server

from riposte import access
from riposte_rasa import server as rasa_server

TOKEN = "jeton-de-test-0123456789abcdef"


@pytest.fixture
def patched() -> Iterator[None]:
    original = rasa.server.requires_auth
    rasa_server.install()
    yield
    rasa.server.requires_auth = original


class _NoJwt:
    """Rasa's sanic-jwt object, for a request without a valid JWT."""

    async def is_authenticated(self, _request: Any) -> bool:
        return False

    async def extract_payload(self, _request: Any) -> dict[str, Any]:
        return {}


class App:
    """What Rasa's decorator reads of the Sanic app: its config and `ctx.auth`."""

    def __init__(self, jwt: bool) -> None:
        self.config: dict[str, Any] = {"USE_JWT": True} if jwt else {}
        self.ctx = SimpleNamespace(auth=_NoJwt())


def make_app(token: str | None, jwt: bool = False) -> Any:
    app = App(jwt)

    @rasa.server.requires_auth(app, token)
    async def tracker(request: Any, conversation_id: str) -> dict[str, str]:
        return {"sender_id": conversation_id}

    def status(query: str = "", headers: dict[str, str] | None = None) -> int:
        args = dict(urllib.parse.parse_qsl(query))
        request = SimpleNamespace(app=app, args=args, headers=headers or {})
        try:
            asyncio.run(tracker(request, "t1"))
        except rasa.server.ErrorResponse as error:
            return int(error.status)
        return 200

    return status


def test_the_token_opens_the_api_by_header_or_query_and_nothing_else(patched: None) -> None:
    status = make_app(TOKEN)
    assert status() == 401
    assert status(f"token=wrong-{TOKEN}") == 401
    assert status(f"token={TOKEN[:-1]}") == 401
    assert status(headers={"Authorization": f"Bearer {TOKEN}x"}) == 401
    assert status(f"token={TOKEN}") == 200
    assert status(headers={"Authorization": f"Bearer {TOKEN}"}) == 200


def test_the_token_is_compared_in_constant_time(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    status = make_app(TOKEN)
    assert status(f"token={TOKEN}") == 200
    assert calls == [(TOKEN.encode(), TOKEN.encode())]


def test_a_jwt_configuration_still_decides_for_requests_without_the_token(patched: None) -> None:
    status = make_app(TOKEN, jwt=True)
    assert status() == 401
    assert status(f"token={TOKEN}") == 200
    # Rasa's own behaviour is kept when no token is configured: no check without JWT.
    assert make_app(None)() == 200
