"""The REST channel's access rules (RIPOSTE_REST, RIPOSTE_REST_TOKEN) and its rate limits,
served by Sanic on loopback with a fake agent instead of Rasa's (as in test_telegram.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from riposte.ratelimit import RateLimiter
from riposte.settings import Settings, SettingsError
from riposte_rasa.channels.rest import RestInput
from riposte_rasa.messages import message
from tests.channels.sanic_app import REPLY, FakeAgent, served

TOKEN = "rest-token-" + "0123456789abcdef" * 2


# A channel served in this process by tests/channels/sanic_app.py (tests/channels/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_test_mode", "channel_key")


@asynccontextmanager
async def serve(channel: RestInput, **config: Any) -> AsyncIterator[tuple[str, FakeAgent]]:
    async with served(channel, "rest_test", config) as (base, agent):
        yield f"{base}/webhooks/rest/webhook", agent


async def post(
    http: aiohttp.ClientSession,
    url: str,
    sender: str,
    token: str | None = None,
    forwarded_for: str | None = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    body = {"sender": sender, "message": "bonjour"}
    async with http.post(url, json=body, headers=headers) as answer:
        return answer.status, await answer.json()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_with_a_token_a_request_without_it_or_with_another_is_refused(
    http: aiohttp.ClientSession,
) -> None:
    async with serve(RestInput(enabled=True, token=TOKEN)) as (url, agent):
        assert await post(http, url, "t1") == (401, {"error": message("rest.unauthorized")})
        assert (await post(http, url, "t1", token=TOKEN[:-1] + "X"))[0] == 401
        assert (await post(http, url, "t1", token=""))[0] == 401
        assert agent.received == []
        status, replies = await post(http, url, "t1", token=TOKEN)
        assert status == 200 and [r["text"] for r in replies] == [REPLY]
        assert len(agent.received) == 1


async def test_a_disabled_channel_refuses_every_message(http: aiohttp.ClientSession) -> None:
    async with serve(RestInput(enabled=False)) as (url, agent):
        assert await post(http, url, "t1") == (403, {"error": message("rest.disabled")})
        assert agent.received == []


async def test_the_channel_follows_the_settings_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RIPOSTE_HOST", "0.0.0.0")
    monkeypatch.delenv("RIPOSTE_REST", raising=False)
    monkeypatch.delenv("RIPOSTE_REST_TOKEN", raising=False)
    assert not RestInput.from_credentials(None).enabled  # type: ignore[attr-defined]
    monkeypatch.setenv("RIPOSTE_REST", "on")
    monkeypatch.setenv("RIPOSTE_REST_TOKEN", TOKEN)
    channel = RestInput.from_credentials(None)
    assert channel.enabled and channel.token == TOKEN  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "env, enabled, token",
    [
        ({}, True, None),  # make run: loopback only
        ({"RIPOSTE_HOST": "::1"}, True, None),
        ({"RIPOSTE_HOST": "0.0.0.0"}, False, None),  # Compose, Kubernetes
        (
            {"RIPOSTE_HOST": "0.0.0.0", "RIPOSTE_REST": "on", "RIPOSTE_REST_TOKEN": TOKEN},
            True,
            TOKEN,
        ),
        ({"RIPOSTE_REST": "off"}, False, None),
        ({"RIPOSTE_REST_TOKEN": TOKEN}, True, TOKEN),
    ],
)
def test_rest_is_on_by_default_on_loopback_only(
    env: dict[str, str], enabled: bool, token: str | None
) -> None:
    settings = Settings.from_env(env)
    assert (settings.rest_enabled, settings.rest_token) == (enabled, token)
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    "env, says",
    [
        ({"RIPOSTE_HOST": "0.0.0.0", "RIPOSTE_REST": "on"}, "RIPOSTE_REST_TOKEN"),
        ({"RIPOSTE_REST_TOKEN": "court"}, "trop court"),
        ({"RIPOSTE_REST": "peut-être"}, "« auto », « on » ou « off »"),
    ],
)
def test_rest_reachable_from_the_network_needs_a_long_token(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(env)


async def test_a_flooding_sender_gets_429_while_another_sender_is_answered(
    http: aiohttp.ClientSession,
) -> None:
    channel = RestInput(enabled=True, token=TOKEN)
    channel.sender_limiter = RateLimiter(rate=0.01, burst=5)
    async with serve(channel) as (url, agent):
        answers = await asyncio.gather(
            *(post(http, url, "flooder", token=TOKEN) for _ in range(40))
        )
        statuses = [status for status, _ in answers]
        assert statuses.count(200) == 5 and statuses.count(429) == 35
        refused = next(replies for status, replies in answers if status == 429)
        assert "Trop de messages" in refused[0]["text"]
        assert len(agent.received) == 5
        status, replies = await post(http, url, "doctor", token=TOKEN)
        assert status == 200 and replies[0]["text"] == REPLY


async def test_a_flooding_client_address_gets_429_before_its_body_is_read(
    http: aiohttp.ClientSession,
) -> None:
    channel = RestInput(enabled=True, token=TOKEN)
    channel.client_limiter = RateLimiter(rate=0.01, burst=3)
    async with serve(channel) as (url, _agent):
        statuses = [(await post(http, url, f"s{i}", token=TOKEN))[0] for i in range(6)]
        assert statuses == [200, 200, 200, 429, 429, 429]
        async with http.post(url, data=b"not json", headers={"Authorization": "x"}) as answer:
            assert answer.status == 401  # refused before the body or the limits


async def test_rasa_root_answers_without_its_version(http: aiohttp.ClientSession) -> None:
    import rasa
    import rasa.server

    channel = RestInput(enabled=False)
    # what `rasa run` does before loading the channels
    async with served(channel, "rest_root", prepare=rasa.server.add_root_route) as (base, _):
        async with http.get(f"{base}/") as answer:
            body = await answer.text()
            assert answer.status == 200 and body.startswith("Hello from Rasa")
            assert rasa.__version__ not in body
            assert "Server" not in answer.headers


@pytest.mark.parametrize("proxies, separate", [(0, False), (1, True)])
async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    http: aiohttp.ClientSession, proxies: int, separate: bool
) -> None:
    """SANIC_PROXIES_COUNT=1 (a proxy in front): the address it reports counts. Without it,
    a client cannot escape its budget by claiming another address."""
    channel = RestInput(enabled=True, token=TOKEN)
    channel.client_limiter = RateLimiter(rate=0.01, burst=2)
    async with serve(channel, PROXIES_COUNT=proxies) as (url, _agent):
        for n in range(2):
            assert (await post(http, url, f"a{n}", TOKEN, forwarded_for="203.0.113.1"))[0] == 200
        other = await post(http, url, "b", TOKEN, forwarded_for="203.0.113.2")
        assert other[0] == (200 if separate else 429)
