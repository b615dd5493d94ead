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


class FileVault:
    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root = root
        self._sealer = sealer

    def _path(self, storage_key: str, stored: str) -> Path:
        return self.root / storage_key / stored

    @staticmethod
    def _aad(storage_key: str, stored: str) -> str:
        return f"file:{storage_key}/{stored}"

    def write(self, storage_key: str, data: bytes) -> str:
        """Seal `data` into a new file of the case; returns its stored name."""
        directory = self.root / storage_key
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stored = f"{secrets.token_hex(16)}.bin"
        sealed = self._sealer.seal(data, self._aad(storage_key, stored))
        temporary = directory / f".{stored}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
        os.replace(temporary, self._path(storage_key, stored))
        return stored

    def read(self, storage_key: str, stored: str) -> bytes:
        sealed = self._path(storage_key, stored).read_bytes()
        return self._sealer.open(sealed, self._aad(storage_key, stored))

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
