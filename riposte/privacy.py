"""The master secret key and the pseudonyms derived from it.

Key format: 32 random bytes in URL-safe base64 (44 characters, the trailing `=` optional),
given in `RIPOSTE_SECRET_KEY` or kept in the key file (`var/secret.key`, mode 0600). Create one
with the command `key_command()` returns (a `cryptography` Fernet key has the same format):

    python3 -c "import base64, secrets; \
        print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"

Every other key is derived from it with HKDF-SHA256 and a purpose label: the field and file
encryption keys of the store, and the HMAC-SHA256 key of the pseudonyms. Losing the master key
loses every encrypted case: there is no recovery.

Key rotation: previous master keys, given in `RIPOSTE_PREVIOUS_KEYS` (comma-separated) or on
the lines after the first of the key file, still open what they sealed; everything new is
sealed with the current key, and `riposte rekey` re-seals the rest (`riposte.store.rekey`).
A key file readable by anyone but its owner is refused.

Service keys: a process may hold, instead of the master key, the keys derived from it for the
purposes its service needs (`SERVICE_PURPOSES`), from the current master key and each
previous one: `riposte keys derive --service web` writes that file, and
`RIPOSTE_SERVICE_KEYS_FILE` (a path, 0600 like the key file) or `RIPOSTE_SERVICE_KEYS` (its
content, for a Kubernetes Secret) gives it to the process (`ServiceKey`). The master key is
then not set for that process; a purpose its service does not need is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from riposte.store.errors import StoreConfigError, message

if TYPE_CHECKING:
    from riposte.store.config import StoreConfig

KEY_BYTES = 32
_LOG = logging.getLogger(__name__)

SERVICE_FILE_FORMAT = "riposte-service-keys/1"
KEY_ID_PURPOSE = "key-id"
SERVICE_PURPOSES: dict[str, tuple[str, ...]] = {
    # The page server: letter downloads and evidence uploads (it reads and writes cases and
    # their files, and writes the audit trail); never the conversations or the pseudonyms.
    "web": (
        KEY_ID_PURPOSE,
        "store-fields",
        "store-files",
        "case-keys",
        "audit-subject",
        "letter-links",
        "evidence-upload",
    ),
    # Rasa: its conversations, the channels' pseudonyms and inbox (files received on Telegram
    # or Signal), the store's key check; never the letter or upload links, nor `case-keys`
    # (the cases' data keys: Rasa cannot open a case).
    "rasa": (
        KEY_ID_PURPOSE,
        "store-fields",
        "store-files",
        "tracker-events",
        "pseudonym",
        "inbox-ref",
    ),
}
"""The derived keys each service gets in its service key file (`riposte keys derive`)."""


class KeySource(Protocol):
    """What the callers of a key use: a master key, or a service's derived keys."""

    def derive(self, purpose: str) -> bytes:
        ...  # pragma: no cover

    @property
    def key_id(self) -> str:
        ...  # pragma: no cover


class PurposeNotAllowedError(StoreConfigError):
    """A process given a service's keys asked for a key its service does not hold."""


@dataclass(frozen=True, repr=False)
class MasterKey:
    """The master key; `derive(purpose)` gives an independent 32-byte key per purpose."""

    raw: bytes

    def derive(self, purpose: str) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=None,
            info=f"riposte/{purpose}/v1".encode(),
        )
        return hkdf.derive(self.raw)

    @property
    def key_id(self) -> str:
        """A short public identifier of the key (to tell two keys apart in error messages)."""
        return self.derive("key-id")[:4].hex()

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id})"


def generate_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def decode_key(text: str) -> bytes | None:
    """The 32 key bytes encoded in `text`, or None when it is not a valid key."""
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


class ServiceKey:
    """The derived keys of one master key for one service: `derive` as `MasterKey.derive`,
    for the purposes of `SERVICE_PURPOSES[service]` only (else `PurposeNotAllowedError`)."""

    def __init__(self, service: str, keys: dict[str, bytes]) -> None:
        self.service = service
        self._keys = dict(keys)

    def derive(self, purpose: str) -> bytes:
        try:
            return self._keys[purpose]
        except KeyError:
            raise PurposeNotAllowedError(
                message("keys.purpose_not_allowed", purpose=purpose, service=self.service)
            ) from None

    @property
    def key_id(self) -> str:
        return self.derive(KEY_ID_PURPOSE)[:4].hex()

    def __repr__(self) -> str:
        return f"ServiceKey(service={self.service}, id={self.key_id})"


@dataclass(frozen=True, repr=False)
class KeySet:
    """The current master key (seals) and the previous ones (still open what they sealed);
    or, for a process given a service key file, the same keys derived for its service."""

    current: KeySource
    previous: tuple[KeySource, ...] = ()

    def __repr__(self) -> str:
        return f"KeySet(current={self.current.key_id}, previous={len(self.previous)})"


def _read_key_lines(path: Path) -> list[bytes]:
    """The keys of the key file: the current one on the first line, previous ones after."""
    try:
        text = path.read_bytes().decode("ascii", errors="replace")
    except OSError:
        raise StoreConfigError(message("keys.file_unreadable", path=path)) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    keys = [decode_key(line) for line in lines]
    if not keys or any(raw is None for raw in keys):
        raise StoreConfigError(message("keys.file_invalid", path=path))
    if path.stat().st_mode & 0o077:
        raise StoreConfigError(message("keys.file_too_open", path=path))
    return [raw for raw in keys if raw is not None]


def _read_key_file(path: Path) -> bytes:
    return _read_key_lines(path)[0]


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = generate_key_text()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created by a concurrent process: use that one
        return _read_key_file(path)
    except OSError:
        raise StoreConfigError(message("keys.file_not_created", path=path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    _LOG.warning(message("keys.created", path=path))
    return decode_key(text) or b""


def load_master_key(config: StoreConfig, *, create: bool) -> KeySource:
    """The current key: from `RIPOSTE_SECRET_KEY`, else from the key file.

    The key file is created only when `create` is true (the store passes false as soon as
    encrypted data exists, so a lost key is never silently replaced).
    """
    return load_keys(config, create=create).current


def load_keys(config: StoreConfig, *, create: bool) -> KeySet:
    """The current key (as `load_master_key`) and the previous keys, current excluded:
    `RIPOSTE_PREVIOUS_KEYS`, then the key file's other lines (the key file is not read when
    `RIPOSTE_SECRET_KEY` is set). With a service key file (`RIPOSTE_SERVICE_KEYS_FILE` or
    `RIPOSTE_SERVICE_KEYS`), its derived keys instead: nothing is created then."""
    if config.service_keys is not None or config.service_keys_file is not None:
        return _load_service_keys(config)
    file_keys: list[bytes] = []
    if config.secret_key is not None:
        current = decode_key(config.secret_key)
        if current is None:
            raise StoreConfigError(message("keys.env_invalid", command=key_command()))
    elif config.key_file.exists():
        file_keys = _read_key_lines(config.key_file)
        current, file_keys = file_keys[0], file_keys[1:]
    elif not create:
        raise StoreConfigError(message("keys.missing", path=config.key_file))
    else:
        current = _create_key_file(config.key_file)
    previous: list[bytes] = []
    for position, text in enumerate(config.previous_keys, start=1):
        raw = decode_key(text)
        if raw is None:
            raise StoreConfigError(message("keys.previous_invalid", position=position))
        previous.append(raw)
    previous.extend(file_keys)
    unique = [raw for i, raw in enumerate(previous) if raw != current and raw not in previous[:i]]
    return KeySet(MasterKey(current), tuple(MasterKey(raw) for raw in unique))


def service_key_text(keys: KeySet, service: str) -> str:
    """The service key file of `service` (JSON): the keys derived from the current master key
    and from each previous one, for the purposes of `SERVICE_PURPOSES[service]` only."""
    purposes = SERVICE_PURPOSES[service]
    derived = [
        {purpose: _b64(key.derive(purpose)) for purpose in purposes}
        for key in (keys.current, *keys.previous)
    ]
    body = {"format": SERVICE_FILE_FORMAT, "service": service, "keys": derived}
    return json.dumps(body, indent=2) + "\n"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _load_service_keys(config: StoreConfig) -> KeySet:
    if config.secret_key is not None or config.previous_keys:
        raise StoreConfigError(message("keys.service_and_master"))
    if config.service_keys is not None and config.service_keys_file is not None:
        raise StoreConfigError(message("keys.service_twice"))
    if config.service_keys_file is not None:
        path = config.service_keys_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise StoreConfigError(message("keys.service_file_unreadable", path=path)) from None
        if path.stat().st_mode & 0o077:
            raise StoreConfigError(message("keys.file_too_open", path=path))
        where = str(path)
    else:
        text, where = config.service_keys or "", "RIPOSTE_SERVICE_KEYS"
    keys = _parse_service_keys(text)
    if keys is None:
        raise StoreConfigError(message("keys.service_invalid", where=where))
    return KeySet(keys[0], tuple(keys[1:]))


def _parse_service_keys(text: str) -> list[ServiceKey] | None:
    """The keys of a service key file, current first; None when it is not one."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("format") != SERVICE_FILE_FORMAT:
        return None
    service, entries = body.get("service"), body.get("keys")
    if service not in SERVICE_PURPOSES or not isinstance(entries, list) or not entries:
        return None
    keys: list[ServiceKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or KEY_ID_PURPOSE not in entry:
            return None
        derived = {p: decode_key(v) if isinstance(v, str) else None for p, v in entry.items()}
        if any(raw is None for raw in derived.values()):
            return None
        keys.append(ServiceKey(service, {p: raw for p, raw in derived.items() if raw}))
    return keys


def key_command() -> str:
    return (
        'python3 -c "import base64, secrets; '
        'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
    )


@functools.lru_cache(maxsize=4)
def _configured_key(config: StoreConfig) -> KeySource:
    return load_master_key(config, create=False)


def pseudonymise(channel: str, user_id: str, key: KeySource | None = None) -> str:
    """A stable pseudonym for a channel user id: HMAC-SHA256, 128 bits as 32 hex characters.

    The same (channel, user id) always gives the same pseudonym under the same master key;
    without the key the pseudonym cannot be linked back to the id. When `key` is None it is
    read from the configuration (never created: the store creates it on first use).
    """
    if key is None:
        from riposte.store.config import StoreConfig

        key = _configured_key(StoreConfig.from_env())
    mac = hmac.new(key.derive("pseudonym"), digestmod=hashlib.sha256)
    mac.update(channel.encode("utf-8") + b"\x00" + user_id.encode("utf-8"))
    return mac.hexdigest()[:32]
