"""The Signal bridge's configuration, shared by the bridge and Rasa's Signal channel.

`riposte signal-bridge` (riposte/cli/signal_bridge.py) reads it from the environment;
the channel (riposte_rasa/channels/signal.py) checks the header the bridge sends. Both import
it from here, so that a channel never depends on a command-line module.

Variables: SIGNAL_NUMBER, SIGNAL_API_URL, SIGNAL_MODE (riposte/settings.py), the Rasa server's
address (RIPOSTE_HOST, RIPOSTE_RASA_PORT) and SIGNAL_BRIDGE_TOKEN, which `riposte serve`
generates at each start and gives to both Rasa and the bridge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from riposte.messages import message
from riposte.settings import Settings, SettingsError

FIRST_DELAY = 0.5
MAX_DELAY = 30.0
FORWARD_ATTEMPTS = 8  # 0.5 + 1 + 2 + 4 + 8 + 16 + 30 s ≈ one minute before a message is dropped
POLL_INTERVAL = 2.0
TOKEN_ENV = "SIGNAL_BRIDGE_TOKEN"
TOKEN_HEADER = "X-Riposte-Bridge-Token"  # checked by riposte_rasa/channels/signal.py
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class BridgeConfig:
    api_url: str  # signal-cli-rest-api, e.g. http://127.0.0.1:8081
    number: str  # the bot's number, E.164
    rasa_webhook: str  # http://127.0.0.1:5005/webhooks/signal/webhook
    token: str
    mode: str = "json-rpc"
    poll_interval: float = POLL_INTERVAL
    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY
    forward_attempts: int = FORWARD_ATTEMPTS

    def __repr__(self) -> str:  # never print the number or the token
        return f"BridgeConfig(api_url={self.api_url!r}, mode={self.mode!r})"

    @property
    def receive_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/v1/receive/{quote(self.number, safe='+')}"

    @property
    def websocket_url(self) -> str:
        url = self.receive_url
        if url.startswith("https://"):
            return "wss://" + url[len("https://") :]
        return "ws://" + url.removeprefix("http://")


def config_from_env(env: Mapping[str, str] | None = None) -> BridgeConfig:
    """The bridge's configuration; `SettingsError` (in French) when it cannot run."""
    env = dict(os.environ if env is None else env)
    settings = Settings.from_env(env)
    if settings.signal is None:
        raise SettingsError(message("signal_bridge.no_number"))
    token = env.get(TOKEN_ENV, "").strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(message("signal_bridge.no_token", name=TOKEN_ENV))
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return BridgeConfig(
        api_url=settings.signal.api_url,
        number=settings.signal.number,
        rasa_webhook=f"http://{host}:{settings.rasa_port}/webhooks/signal/webhook",
        token=token,
        mode=settings.signal.mode,
    )
