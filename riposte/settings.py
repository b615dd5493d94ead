"""The settings of the processes `riposte serve` starts: ports, tokens, channels, URLs.

Every variable is documented in `.env.example`. Values are validated here so that a typo
gives a clear French error at start-up (riposte/messages.yml) instead of a stack trace later.

Not the only reader: the environment is read where each part runs, when it starts: here
(`Settings.from_env`), the case store (`StoreConfig.from_env`, riposte/store/config.py), the
services' secrets (riposte/access.py), the Signal bridge (riposte/signal_config.py) and, inside
Rasa, the lock store (riposte_rasa/lock_store.py: REDIS_URL, SANIC_WORKERS), the API token
(riposte_rasa/server.py) and the action server's address (riposte_rasa/action_server.py).
Nothing reads it at import time.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from riposte.messages import message, messages

# Files owner-only (0600), folders 0700: they hold personal data and secrets (the umask of
# every riposte command and of the action server).
PRIVATE_UMASK = 0o077

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A configuration value is missing or invalid (message in French, for the operator)."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(message("settings.port_not_number", name=name, raw=raw)) from None
    if not 1 <= value <= 65535:
        raise SettingsError(message("settings.port_range", name=name, value=value))
    return value


_TELEGRAM_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
TELEGRAM_DEFAULT_API_URL = "https://api.telegram.org"


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel, enabled only when TELEGRAM_TOKEN is set."""

    token: str
    webhook_url: str
    secret_token: str
    api_url: str = TELEGRAM_DEFAULT_API_URL
    bot_name: str | None = None

    def __repr__(self) -> str:  # never print the token or the secret
        return f"TelegramSettings(webhook_url={self.webhook_url!r}, api_url={self.api_url!r})"


def _telegram(env: Mapping[str, str]) -> TelegramSettings | None:
    token = env.get("TELEGRAM_TOKEN", "").strip()
    if not token:
        return None
    if not _TELEGRAM_TOKEN.match(token):
        raise SettingsError(message("settings.telegram_token"))
    webhook = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
    if not webhook.startswith("https://") or len(webhook) <= len("https://"):
        raise SettingsError(message("settings.telegram_webhook"))
    secret = env.get("TELEGRAM_SECRET_TOKEN", "").strip()
    if not _TELEGRAM_SECRET.match(secret):
        raise SettingsError(message("settings.telegram_secret"))
    api_url = env.get("TELEGRAM_API_URL", "").strip().rstrip("/") or TELEGRAM_DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise SettingsError(message("settings.telegram_api_url", value=api_url[:80]))
    bot_name = env.get("TELEGRAM_BOT_NAME", "").strip().lstrip("@") or None
    return TelegramSettings(token, webhook, secret, api_url, bot_name)


_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SIGNAL_DEFAULT_API_URL = "http://127.0.0.1:8081"  # 8080 is the web page's default port
SIGNAL_MODES = ("json-rpc", "normal")


@dataclass(frozen=True)
class SignalSettings:
    """The Signal channel (signal-cli-rest-api), enabled only when SIGNAL_NUMBER is set."""

    number: str
    api_url: str = SIGNAL_DEFAULT_API_URL
    mode: str = "json-rpc"

    def __repr__(self) -> str:  # never print the phone number
        return f"SignalSettings(api_url={self.api_url!r}, mode={self.mode!r})"


def _signal(env: Mapping[str, str]) -> SignalSettings | None:
    number = env.get("SIGNAL_NUMBER", "").strip().replace(" ", "")
    if not number:
        return None
    if not _E164.match(number):
        raise SettingsError(message("settings.signal_number"))
    api_url = env.get("SIGNAL_API_URL", "").strip().rstrip("/") or SIGNAL_DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")) or len(api_url) <= len("https://"):
        raise SettingsError(
            message("settings.signal_api_url", value=api_url[:80], example=SIGNAL_DEFAULT_API_URL)
        )
    mode = env.get("SIGNAL_MODE", "").strip().lower() or "json-rpc"
    if mode == "native":  # received messages are read as in normal mode
        mode = "normal"
    if mode not in SIGNAL_MODES:
        raise SettingsError(message("settings.signal_mode", value=mode[:40]))
    return SignalSettings(number, api_url, mode)


# The longest chat message passed to Rasa (REST and socket.io channels, web page).
MAX_MESSAGE_CHARS = 5000


def too_long_message(length: int) -> str:
    """The reply to a chat message longer than MAX_MESSAGE_CHARS (messages.yml, `chat`)."""
    return message("chat.too_long", length=length, limit=MAX_MESSAGE_CHARS)


def not_processed_message() -> str:
    """A message Riposte could not process or record, whatever the cause (action server or
    database unavailable): nothing of it was kept, the doctor has to send it again. Every
    channel gives this text (riposte_rasa/patches.py, rest.py, socketio.py)."""
    return message("chat.not_processed")


def __getattr__(name: str) -> str:
    """`TOO_LONG_MESSAGE` (with `{length}` and `{limit}`) and `NOT_PROCESSED_MESSAGE`, the
    names older callers import; read from riposte/messages.yml on first use, not at import."""
    if name == "TOO_LONG_MESSAGE":
        return messages().raw("chat.too_long")
    if name == "NOT_PROCESSED_MESSAGE":
        return not_processed_message()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Where « Quitter rapidement » sends the page: an ordinary site, nothing about harassment.
QUICK_EXIT_DEFAULT_URL = "https://meteofrance.com/"


def _http_url(env: Mapping[str, str], name: str, example: str) -> str:
    """An optional http(s) URL without a trailing slash; "" when unset."""
    value = env.get(name, "").strip()
    if not value:
        return ""
    if not re.fullmatch(r"https?://[^\s\"'<>]+", value):
        raise SettingsError(
            message("settings.http_url", name=name, value=value[:80], example=example)
        )
    return value.rstrip("/") if name != "RIPOSTE_QUICK_EXIT_URL" else value


REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def _redis_url(env: Mapping[str, str]) -> str:
    """REDIS_URL: the lock store shared by several Rasa servers; "" (in memory) when unset."""
    value = env.get("REDIS_URL", "").strip()
    if value and (not value.startswith(REDIS_URL_SCHEMES) or re.search(r"\s", value)):
        raise SettingsError(message("settings.redis_url"))
    return value


REST_MODES = {
    "": "auto",
    "auto": "auto",
    "on": "on",
    "oui": "on",
    "1": "on",
    "true": "on",
    "off": "off",
    "non": "off",
    "0": "off",
    "false": "off",
}
MIN_REST_TOKEN_CHARS = 32


def is_loopback(host: str) -> bool:
    """True when `host` (RIPOSTE_HOST) is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _rest(env: Mapping[str, str], host: str) -> tuple[bool, str | None]:
    """RIPOSTE_REST and RIPOSTE_REST_TOKEN: whether the REST channel answers, and its token.

    « auto » (the default): on when the servers listen on loopback only (`make run` on a
    developer's machine), off otherwise. Reachable from the network, the channel needs a
    token: without one, anybody could speak in any conversation whose sender they guess.
    """
    raw = env.get("RIPOSTE_REST", "").strip().lower()
    mode = REST_MODES.get(raw)
    if mode is None:
        raise SettingsError(message("settings.rest_mode", value=raw[:40]))
    token = env.get("RIPOSTE_REST_TOKEN", "").strip() or None
    if token is not None and len(token) < MIN_REST_TOKEN_CHARS:
        raise SettingsError(message("settings.rest_token_short", limit=MIN_REST_TOKEN_CHARS))
    enabled = mode == "on" or (mode == "auto" and is_loopback(host))
    if mode == "on" and token is None and not is_loopback(host):
        raise SettingsError(
            message("settings.rest_needs_token", host=host, limit=MIN_REST_TOKEN_CHARS)
        )
    return enabled, token


def _follow_ups(env: Mapping[str, str]) -> tuple[bool, float]:
    """RIPOSTE_FOLLOW_UPS (on by default; off when another process sends the follow-ups:
    `riposte follow-ups`) and RIPOSTE_FOLLOW_UP_INTERVAL (seconds between two passes)."""
    raw = env.get("RIPOSTE_FOLLOW_UPS", "").strip().lower()
    mode = REST_MODES.get(raw)
    if mode is None or mode == "auto" and raw:
        raise SettingsError(message("follow_ups.bad_mode", value=raw[:40]))
    text = env.get("RIPOSTE_FOLLOW_UP_INTERVAL", "").strip()
    try:
        interval = float(text) if text else 60.0
    except ValueError:
        interval = -1.0
    if not 1.0 <= interval <= 3600.0:
        raise SettingsError(message("follow_ups.bad_interval", value=text[:40]))
    return mode != "off", interval


@dataclass(frozen=True)
class Settings:
    host: str
    rasa_port: int
    actions_port: int
    web_port: int
    api_token: str | None
    cors_origins: tuple[str, ...]
    tracker_store_url: str
    action_endpoint_url: str
    model_path: Path
    var_dir: Path
    public_url: str = ""
    socket_url: str = ""
    quick_exit_url: str = QUICK_EXIT_DEFAULT_URL
    telegram: TelegramSettings | None = None
    signal: SignalSettings | None = None
    redis_url: str = ""
    rest_enabled: bool = True
    rest_token: str | None = None
    follow_ups: bool = True
    follow_up_interval: float = 60.0

    def __repr__(self) -> str:  # never print the tokens
        hidden = {"api_token", "rest_token"}
        shown = ", ".join(
            f"{name}={'***' if name in hidden and value else value!r}"
            for name, value in self.__dict__.items()
        )
        return f"Settings({shown})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("RIPOSTE_VAR_DIR", "").strip() or ROOT / "var").resolve()
        host = env.get("RIPOSTE_HOST", "").strip() or "127.0.0.1"
        rasa_port = _port(env, "RIPOSTE_RASA_PORT", 5005)
        actions_port = _port(env, "RIPOSTE_ACTIONS_PORT", 5055)
        web_port = _port(env, "RIPOSTE_WEB_PORT", 8080)
        if len({rasa_port, actions_port, web_port}) != 3:
            raise SettingsError(
                message("settings.ports_differ", rasa=rasa_port, actions=actions_port, web=web_port)
            )
        token = env.get("RIPOSTE_API_TOKEN", "").strip() or None
        if token is not None and len(token) < 16:
            raise SettingsError(message("settings.api_token_short"))
        origins_raw = env.get("RIPOSTE_CORS_ORIGINS", "").strip()
        if origins_raw:
            origins = tuple(o.strip() for o in origins_raw.split(",") if o.strip())
        else:
            origins = (f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}")
        if "*" in origins:
            raise SettingsError(message("settings.cors_star"))
        tracker = env.get("TRACKER_STORE_URL", "").strip() or f"sqlite:///{var_dir}/tracker.db"
        action_url = (
            env.get("ACTION_ENDPOINT_URL", "").strip() or f"http://127.0.0.1:{actions_port}/webhook"
        )
        model = Path(env.get("RIPOSTE_MODEL", "").strip() or ROOT / "models" / "riposte.tar.gz")
        public_url = env.get("RIPOSTE_PUBLIC_URL", "").strip().rstrip("/")
        if not public_url:
            public_url = f"http://localhost:{web_port}"
        elif not public_url.startswith(("http://", "https://")):
            raise SettingsError(message("settings.public_url", value=public_url[:80]))
        socket_url = _http_url(env, "RIPOSTE_SOCKET_URL", "https://riposte.example.org")
        quick_exit = _http_url(env, "RIPOSTE_QUICK_EXIT_URL", QUICK_EXIT_DEFAULT_URL)
        redis_url = _redis_url(env)
        rest_enabled, rest_token = _rest(env, host)
        follow_ups, follow_up_interval = _follow_ups(env)
        return cls(
            host=host,
            rasa_port=rasa_port,
            actions_port=actions_port,
            web_port=web_port,
            api_token=token,
            cors_origins=origins,
            tracker_store_url=tracker,
            action_endpoint_url=action_url,
            model_path=model,
            var_dir=var_dir,
            public_url=public_url,
            socket_url=socket_url,
            quick_exit_url=quick_exit or QUICK_EXIT_DEFAULT_URL,
            telegram=_telegram(env),
            signal=_signal(env),
            redis_url=redis_url,
            rest_enabled=rest_enabled,
            rest_token=rest_token,
            follow_ups=follow_ups,
            follow_up_interval=follow_up_interval,
        )
