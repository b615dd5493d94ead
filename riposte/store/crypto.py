"""Encryption at rest: AES-256-GCM with keys derived from the master key.

A sealed value is `version byte 0x02 || key id (4 bytes) || nonce (12 bytes) || ciphertext ||
tag (16 bytes)`. The key id is a keyed hash of the key that sealed it (`key_id_of`), so that a
`Sealer` holding the current key and previous ones (key rotation, `riposte rekey`) opens each
value with the right key and seals with the current one. Values of version 0x01 (`version ||
nonce || ciphertext || tag`, written before key ids existed) stay readable: each key is tried.
The associated data binds each ciphertext to its place (the column, or the file, and the
case's random storage key), so a value copied to another row or case does not decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from riposte.privacy import KeySource, MasterKey

VERSION_1 = b"\x01"
VERSION = b"\x02"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_CHECK_PLAINTEXT = b"riposte key check"
KEY_CHECK_AAD = b"store_meta.key_check"
CASE_KEYS_PURPOSE = "case-keys"


class DecryptionError(Exception):
    """A sealed value does not open with this key (wrong key or tampered data)."""


def key_id_of(key: bytes) -> bytes:
    """The public id of a (derived) key, written in front of what it seals."""
    return hmac.new(key, b"riposte/sealer-key-id", hashlib.sha256).digest()[:KEY_ID_BYTES]


class Sealer:
    """Seal and open bytes, texts and JSON values: seals with `key`, opens with `key` or any
    of `previous` (the keys being rotated out)."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        self.key_id = key_id_of(key)
        self._aeads: dict[bytes, AESGCM] = {}
        for each in (key, *previous):
            self._aeads.setdefault(key_id_of(each), AESGCM(each))
        self._aead = self._aeads[self.key_id]

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        body = self._aead.encrypt(nonce, plaintext, aad.encode("utf-8"))
        return VERSION + self.key_id + nonce + body

    def open(self, sealed: bytes, aad: str) -> bytes:
        sealed = bytes(sealed)
        if sealed[:1] == VERSION and len(sealed) >= 1 + KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES:
            aead = self._aeads.get(sealed[1 : 1 + KEY_ID_BYTES])
            candidates = [] if aead is None else [aead]
            rest = sealed[1 + KEY_ID_BYTES :]
        elif sealed[:1] == VERSION_1 and len(sealed) >= 1 + NONCE_BYTES + TAG_BYTES:
            candidates = list(self._aeads.values())
            rest = sealed[1:]
        else:
            raise DecryptionError(aad)
        nonce, body = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        for aead in candidates:
            try:
                return aead.decrypt(nonce, body, aad.encode("utf-8"))
            except InvalidTag:
                continue
        raise DecryptionError(aad)

    def is_current(self, sealed: bytes) -> bool:
        """True when `sealed` was sealed by the current key (nothing to re-seal)."""
        sealed = bytes(sealed)
        return sealed[:1] == VERSION and sealed[1 : 1 + KEY_ID_BYTES] == self.key_id

    def reseal(self, sealed: bytes, aad: str) -> bytes | None:
        """`sealed` sealed again with the current key, or None when it already is."""
        if self.is_current(sealed):
            return None
        return self.seal(self.open(sealed, aad), aad)

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
    """The store's derived keys: one for database fields, one for files (each with the
    previous master keys' derived keys, to open what they sealed)."""

    def __init__(self, master: KeySource, previous: Sequence[KeySource] = ()) -> None:
        self.master = master
        self.previous = tuple(previous)
        self._derived: dict[str, list[bytes]] = {}
        self.fields = self.sealer("store-fields")
        self.files = self.sealer("store-files")
        self._case_keys: Sealer | None = None

    def sealer(self, purpose: str) -> Sealer:
        """A sealer for `purpose`: the current master key's derived key, then the previous."""
        return Sealer(*self.derived_all(purpose))

    def derived_all(self, purpose: str) -> list[bytes]:
        """The derived keys for `purpose`, current first (to check HMACs made before rotation)."""
        if purpose not in self._derived:
            keys = (self.master, *self.previous)
            self._derived[purpose] = [key.derive(purpose) for key in keys]
        return self._derived[purpose]

    @property
    def case_keys(self) -> Sealer:
        """The sealer of the cases' own data keys (`cases.data_key`): seals with the key of
        purpose `case-keys`, which only the services that open cases hold (not Rasa, whose
        service key file has `store-fields` for its inbox and the key check); opens as well
        the data keys sealed with the field key before (`riposte rekey` moves them)."""
        if self._case_keys is None:
            self._case_keys = Sealer(
                *self.derived_all(CASE_KEYS_PURPOSE), *self.derived_all("store-fields")
            )
        return self._case_keys

    def case_sealers(self, data_key: bytes) -> tuple[Sealer, Sealer]:
        """The (fields, files) sealers of a case with its own data key.

        They seal with keys derived from the case's data key; they also open values sealed
        with the master-derived keys (a case's values written before it had a data key, while
        `riposte rekey` moves them). Destroying the data key makes what it sealed unreadable.
        """
        case_key = MasterKey(data_key)
        return (
            Sealer(case_key.derive("case-fields"), *self.derived_all("store-fields")),
            Sealer(case_key.derive("case-files"), *self.derived_all("store-files")),
        )

    def key_check(self) -> bytes:
        return self.fields.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD.decode())

    def matches(self, key_check: bytes) -> bool:
        try:
            return self.fields.open(key_check, KEY_CHECK_AAD.decode()) == KEY_CHECK_PLAINTEXT
        except DecryptionError:
            return False
