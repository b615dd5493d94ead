"""Encrypted files (evidence, letters) under the data directory.

Layout: `<data dir>/<case storage key>/<random name>.bin`, directories 0700, files 0600. The
names are random: neither the code, nor the original file name, nor the fingerprint appear.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from riposte.store.crypto import Sealer

# The evidence files a doctor may send (the web page's upload, a photo or a document on
# Telegram or Signal): images and PDF, recognised by their first bytes, up to 10 MB.
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_KINDS = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
    b"%PDF": "pdf",
    b"RIFF": "webp",
    b"GIF8": "gif",
}


def evidence_kind(data: bytes) -> str | None:
    """The extension of an accepted evidence file (image or PDF, by its first bytes), else
    None."""
    return next((kind for magic, kind in EVIDENCE_KINDS.items() if data.startswith(magic)), None)


class FileVault:
    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root = root
        self._sealer = sealer

    def _path(self, storage_key: str, stored: str) -> Path:
        return self.root / storage_key / stored

    @staticmethod
    def _aad(storage_key: str, stored: str) -> str:
        return f"file:{storage_key}/{stored}"

    def write(self, storage_key: str, data: bytes, sealer: Sealer | None = None) -> str:
        """Seal `data` into a new file of the case; returns its stored name.

        `sealer` is the case's (default: the vault's, derived from the master key)."""
        directory = self.root / storage_key
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stored = f"{secrets.token_hex(16)}.bin"
        sealed = (sealer or self._sealer).seal(data, self._aad(storage_key, stored))
        self._replace(storage_key, stored, sealed)
        return stored

    def _replace(self, storage_key: str, stored: str, sealed: bytes) -> None:
        """Write `sealed` as the file `stored`, atomically (a new file, then a rename)."""
        temporary = self.root / storage_key / f".{stored}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path(storage_key, stored))

    def read(self, storage_key: str, stored: str, sealer: Sealer | None = None) -> bytes:
        sealed = self._path(storage_key, stored).read_bytes()
        return (sealer or self._sealer).open(sealed, self._aad(storage_key, stored))

    def reseal(self, storage_key: str, stored: str, sealer: Sealer) -> bool:
        """Seal the file again with `sealer`'s current key; False when it already was."""
        path = self._path(storage_key, stored)
        sealed = path.read_bytes()
        if sealer.is_current(sealed):
            return False
        self._replace(
            storage_key, stored, sealer.reseal(sealed, self._aad(storage_key, stored)) or sealed
        )
        return True

    def remove(self, storage_key: str, stored: str) -> None:
        self._path(storage_key, stored).unlink(missing_ok=True)

    def remove_case(self, storage_key: str) -> int:
        """Delete every file of a case; returns how many there were."""
        directory = self.root / storage_key
        if not directory.is_dir():
            return 0
        count = sum(1 for path in directory.iterdir() if path.is_file())
        shutil.rmtree(directory)
        return count
