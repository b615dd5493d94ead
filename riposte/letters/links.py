"""Signed, expiring download links for the letters kept in a case (no table, no state).

A link is `<payload>.<mac>`: the payload names the case code, the letter number and the
expiry (UNIX time), in URL-safe base64; the MAC is HMAC-SHA256 under a key derived from the
master key (purpose `letter-links`). The web page's server checks it and serves the letter,
decrypted from the store. Anyone holding a valid link can download the letter until it
expires: it is shown only in the doctor's own conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

LINK_SECONDS = 24 * 3600
_PURPOSE = "letter-links"


@dataclass(frozen=True)
class LetterLink:
    code: str
    number: int
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key: bytes, code: str, number: int, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + LINK_SECONDS)
    payload = _b64(json.dumps([code, number, expires], separators=(",", ":")).encode())
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read_token(key: bytes, token: str, now: float | None = None) -> LetterLink | None:
    """The letter a token designates, or None when it is forged, malformed or expired."""
    if len(token) > 300 or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    expected = hmac.new(key, payload.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        code, number, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        return None
    if not (isinstance(code, str) and isinstance(number, int) and isinstance(expires, int)):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return LetterLink(code, number, expires)


def link_key() -> bytes:
    """The links' key, derived from the configured master key (never created here)."""
    from riposte.privacy import load_master_key
    from riposte.store.config import StoreConfig

    return load_master_key(StoreConfig.from_env(), create=False).derive(_PURPOSE)
