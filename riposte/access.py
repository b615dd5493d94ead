"""Who may call Riposte's services: the action server's shared secret and Rasa's API token.

The names of the environment variables and the checks, in constant time, without importing
Rasa: `riposte serve` reads them to start the services, and the launchers of `riposte_rasa`
(`riposte_rasa.action_server`, `riposte_rasa.server`) enforce them.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from riposte.messages import message

SECRET_ENV = "RIPOSTE_ACTION_SECRET"
HOST_ENV = "RIPOSTE_ACTIONS_HOST"
MIN_SECRET_CHARS = 16
DEFAULT_HOST = "127.0.0.1"


class ActionSecretError(ValueError):
    """RIPOSTE_ACTION_SECRET is missing or too short; `str()` is French, for the operator
    (riposte/messages.yml, `access`)."""


def secret_from_env(env: Mapping[str, str] | None = None) -> str:
    """RIPOSTE_ACTION_SECRET, checked; raises `ActionSecretError` when missing or too short."""
    value = (os.environ if env is None else env).get(SECRET_ENV, "").strip()
    if not value:
        raise ActionSecretError(message("access.secret_missing", name=SECRET_ENV))
    if len(value) < MIN_SECRET_CHARS:
        raise ActionSecretError(
            message(
                "access.secret_short", name=SECRET_ENV, length=len(value), limit=MIN_SECRET_CHARS
            )
        )
    return value


def authorised(header: str | None, secret: str) -> bool:
    """Whether an `Authorization` header carries the secret (constant-time comparison)."""
    expected = f"Bearer {secret}".encode()
    given = (header or "").strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, expected)


TOKEN_ENV = "RIPOSTE_API_TOKEN"


def token_matches(provided: str | None, token: str) -> bool:
    """True when `provided` is the token (constant time; None never matches)."""
    if provided is None:
        return False
    return hmac.compare_digest(provided.encode("utf-8"), token.encode("utf-8"))
