"""Opaque, expiring links: the download links of the letters and the evidence upload links.

A token is the URL-safe base64 (no padding) of `version (1 byte) || nonce (12 bytes) ||
AES-256-GCM ciphertext and tag`. What it encrypts is the case code, the number (letter or
evidence item), the expiry (UNIX time) and a random link id; the key is derived from the
master key for one purpose (`letter-links`, `evidence-upload`), so a token of one purpose
does not open with the other's key. Whoever sees a link (a proxy's log, the browser's
history, a chat's cloud) learns nothing from it: neither the case code nor the number. A
tampered, forged or expired token reads as None.

Letter links can be used again until they expire (the doctor may download twice). Upload
links can serve once: the page's server records the link id of a successful upload in the
store (`CaseRepository.use_link`) and refuses it afterwards.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LINK_SECONDS = 24 * 3600
MAX_TOKEN_CHARS = 300
_PURPOSE = "letter-links"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_AAD = b"riposte-link/v1"
_LINK_ID_BYTES = 12  # 96 random bits: never the same id twice


@dataclass(frozen=True)
class LetterLink:
    """What a token designates; `link_id` tells two links to the same item apart."""

    code: str
    number: int
    expires: int
    link_id: str = field(default="", compare=False)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # not canonical (stray bits in the last character): tampered
        raise ValueError("non-canonical base64")
    return data


def make_token(key: bytes, code: str, number: int, now: float | None = None) -> str:
    """A new token for item `number` of case `code`, valid `LINK_SECONDS` from `now`."""
    expires = int((time.time() if now is None else now) + LINK_SECONDS)
    link_id = _b64(secrets.token_bytes(_LINK_ID_BYTES))
    plain = json.dumps([code, number, expires, link_id], separators=(",", ":")).encode()
    nonce = os.urandom(_NONCE_BYTES)
    return _b64(_VERSION + nonce + AESGCM(key).encrypt(nonce, plain, _AAD))


def read_token(key: bytes, token: str, now: float | None = None) -> LetterLink | None:
    """The item a token designates, or None when it is forged, malformed or expired."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        sealed = _unb64(token)
    except (ValueError, binascii.Error):
        return None
    if len(sealed) < 1 + _NONCE_BYTES + _TAG_BYTES or sealed[:1] != _VERSION:
        return None
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        code, number, expires, link_id = json.loads(AESGCM(key).decrypt(nonce, body, _AAD))
    except (InvalidTag, ValueError, TypeError):
        return None
    if not all(isinstance(v, t) for v, t in ((code, str), (number, int), (expires, int))):
        return None
    if not isinstance(link_id, str) or expires < (time.time() if now is None else now):
        return None
    return LetterLink(code, number, expires, link_id)


def link_key() -> bytes:
    """The letter links' key, derived from the configured master key (never created here)."""
    from riposte.privacy import load_master_key
    from riposte.store.config import StoreConfig

    return load_master_key(StoreConfig.from_env(), create=False).derive(_PURPOSE)
