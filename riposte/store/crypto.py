"""Encryption at rest: AES-256-GCM with keys derived from the master key.

A sealed value is `version byte (1) || nonce (12 bytes) || ciphertext || tag (16 bytes)`.
The associated data binds each ciphertext to its place (the column, or the file, and the
case's random storage key), so a value copied to another row or case does not decrypt.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from riposte.privacy import MasterKey

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_CHECK_PLAINTEXT = b"riposte key check"
KEY_CHECK_AAD = b"store_meta.key_check"


class DecryptionError(Exception):
    """A sealed value does not open with this key (wrong key or tampered data)."""


class Sealer:
    """Seal and open bytes, texts and JSON values with one derived key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad.encode("utf-8"))

    def open(self, sealed: bytes, aad: str) -> bytes:
        if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
            raise DecryptionError(aad)
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, aad.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(aad) from None

    def seal_text(self, value: str | None, aad: str) -> bytes | None:
        return None if value is None else self.seal(value.encode("utf-8"), aad)

    def open_text(self, sealed: bytes | None, aad: str) -> str | None:
        return None if sealed is None else self.open(bytes(sealed), aad).decode("utf-8")

    def seal_json(self, value: Any, aad: str) -> bytes | None:
        if value is None:
            return None
        return self.seal(json.dumps(value, ensure_ascii=False).encode("utf-8"), aad)

    def open_json(self, sealed: bytes | None, aad: str) -> Any:
        return None if sealed is None else json.loads(self.open(bytes(sealed), aad))


class Keyring:
    """The store's derived keys: one for database fields, one for files."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master
        self.fields = Sealer(master.derive("store-fields"))
        self.files = Sealer(master.derive("store-files"))

    def key_check(self) -> bytes:
        return self.fields.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD.decode())

    def matches(self, key_check: bytes) -> bool:
        try:
            return self.fields.open(key_check, KEY_CHECK_AAD.decode()) == KEY_CHECK_PLAINTEXT
        except DecryptionError:
            return False
