"""Configuration of the case store: `StoreConfig.from_env` reads it from the environment, on
demand (never at import).

The store reads its own variables here rather than through `riposte.settings`, which reads the
servers' settings (ports, channels, URLs): every process that opens the store (the action
server, the web page, Rasa's channels and tracker store, the command line) calls
`StoreConfig.from_env`, whether or not it loads those settings. `RIPOSTE_VAR_DIR` is read here
the same way as there.

Variables (all optional; documented in `.env.example`):

* `RIPOSTE_VAR_DIR`: runtime directory (default `var/` at the repository root), shared with
  `riposte.settings`;
* `RIPOSTE_DATABASE_URL`: any SQLAlchemy URL (default `sqlite:///<var>/riposte.db`);
  PostgreSQL in production, e.g. `postgresql+psycopg2://riposte:…@db/riposte`;
* `RIPOSTE_DATA_DIR`: where the encrypted evidence and letter files live (default `<var>/data`);
* `RIPOSTE_SECRET_KEY`: the master key, 32 random bytes in URL-safe base64 (44 characters);
  when empty, the key is read from `<var>/secret.key`, created (mode 0600) on first run;
* `RIPOSTE_PREVIOUS_KEYS`: previous master keys, comma-separated, during a key rotation (they
  open what they sealed; `riposte rekey` re-seals it with the current key). The key file may
  also hold previous keys, one per line after the current one;
* `RIPOSTE_SERVICE_KEYS_FILE` / `RIPOSTE_SERVICE_KEYS`: instead of the master key, a service
  key file (its path, mode 0600, or its content) made by `riposte keys derive --service …`:
  the process then holds only the keys its service needs (`riposte.privacy.SERVICE_PURPOSES`);
  the two master key variables above must then be empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from riposte.store.errors import StoreConfigError, message

ROOT = Path(__file__).resolve().parent.parent.parent
KEY_FILE_NAME = "secret.key"

# Policies (documented in the README through the lead):
MAX_FAILED_ATTEMPTS = 5
"""Wrong secrets in a row, from one conversation for one code, before it must wait."""
BACKOFF_FIRST_MINUTES = 1
"""The first wait; each further failure from that conversation doubles it..."""
BACKOFF_MAX_MINUTES = 60
"""...up to this many minutes. Other conversations (the doctor's own) are not held back."""
FAILURE_MEMORY_HOURS = 24
"""Failures older than this (with no failure since) are forgotten."""
DEFAULT_PURGE_DAYS = 180
"""`riposte purge` erases cases without activity for this many days (six months)."""
REMINDER_DAYS = 14
"""`riposte reminders` lists deadlines within this many days."""
INBOX_HOURS = 24
"""A file received on Telegram or Signal waits this long, sealed, to be filed in a case."""


@dataclass(frozen=True)
class StoreConfig:
    database_url: str
    data_dir: Path
    key_file: Path
    secret_key: str | None = None
    previous_keys: tuple[str, ...] = ()
    service_keys_file: Path | None = None
    service_keys: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreConfig:
        env = os.environ if env is None else env
        var_dir = Path(env.get("RIPOSTE_VAR_DIR", "").strip() or ROOT / "var").resolve()
        url = env.get("RIPOSTE_DATABASE_URL", "").strip() or f"sqlite:///{var_dir}/riposte.db"
        data_dir = Path(env.get("RIPOSTE_DATA_DIR", "").strip() or var_dir / "data").resolve()
        key = env.get("RIPOSTE_SECRET_KEY", "").strip() or None
        previous = env.get("RIPOSTE_PREVIOUS_KEYS", "").split(",")
        service_file = env.get("RIPOSTE_SERVICE_KEYS_FILE", "").strip()
        config = cls(
            database_url=url,
            data_dir=data_dir,
            key_file=var_dir / KEY_FILE_NAME,
            secret_key=key,
            previous_keys=tuple(p.strip() for p in previous if p.strip()),
            service_keys_file=Path(service_file) if service_file else None,
            service_keys=env.get("RIPOSTE_SERVICE_KEYS", "").strip() or None,
        )
        config.check_url()
        return config

    def check_url(self) -> None:
        """Raise `StoreConfigError` (in French) when the database URL cannot be parsed."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(self.database_url)
        except ArgumentError:
            raise StoreConfigError(message("config.bad_database_url")) from None

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the URL names a SQLite file, else None."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(str(url.database))
