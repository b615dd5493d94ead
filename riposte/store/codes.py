"""Case codes, passphrases and their slow salted hashes.

* A case code looks like `RIP-7KQ2-M9`: 6 random characters of Crockford's base 32 (no I, L,
  O or U), 30 bits, drawn with `secrets`; it is an address, not a secret. Typing is forgiving:
  case, spaces and hyphens are ignored, O reads as 0 and I or L as 1.
* The secret is a passphrase of `PASSPHRASE_WORDS` words drawn with `secrets` from the
  reviewed French word list `wordlist_fr.txt` (1 202 words): 5 × log2(1202) ≈ 51.2 bits.
  Typing is forgiving too: case, accents and separators are ignored.
* Only a scrypt hash is stored (n=2^15, r=8, p=1, 16-byte salt, 32 MiB, about 0.1 s); it is
  compared in constant time. With at most 5 attempts per 15 minutes and per code, an online
  guess succeeds with probability about 2^-51 per attempt.
* Hashing takes about 0.1 s of CPU, so that a new case does not wait for it, `new_secret()`
  hands out a passphrase and its hash made ahead of time by a background thread (a few at a
  time, each handed out once, discarded in a forked child); when none is ready it makes one
  on the spot.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections import deque
from pathlib import Path

from riposte.text import fold

CODE_PREFIX = "RIP"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6
PASSPHRASE_WORDS = 5
WORDLIST_PATH = Path(__file__).resolve().parent / "wordlist_fr.txt"

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 32
_SCRYPT_MAXMEM = 64 * 1024 * 1024

_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_RE = re.compile(rf"^{CODE_PREFIX}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{2}}$")


def generate_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{CODE_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalise_code(text: str) -> str | None:
    """The canonical form of a typed code (`rip 7kq2 m9` → `RIP-7KQ2-M9`), or None."""
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    if compact.startswith(CODE_PREFIX) and len(compact) == len(CODE_PREFIX) + CODE_LENGTH:
        compact = compact[len(CODE_PREFIX) :]
    compact = compact.translate(_TYPO)
    if len(compact) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in compact):
        return None
    code = f"{CODE_PREFIX}-{compact[:4]}-{compact[4:]}"
    return code if _CODE_RE.match(code) else None


@functools.lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    lines = WORDLIST_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@functools.lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """The word list as typed words are compared with it (`normalise_secret`)."""
    return frozenset(normalise_secret(word) for word in wordlist())


def generate_passphrase(words: int = PASSPHRASE_WORDS) -> str:
    vocabulary = wordlist()
    return "-".join(secrets.choice(vocabulary) for _ in range(words))


def normalise_secret(text: str) -> str:
    """Lower case, no accents, words joined by single hyphens."""
    # lower() again: NFKD may give capitals (ᴬ, ℂ, Ⅻ -> A, C, XII), which a secret keeps
    return "-".join(re.findall(r"[a-z0-9]+", fold(text).lower()))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        normalise_secret(secret).encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_SCRYPT_MAXMEM,
        dklen=SCRYPT_KEY_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret: str) -> str:
    """`scrypt$n=…,r=…,p=…$salt$hash` (base64), with a fresh random salt."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of `secret` against a `hash_secret` string."""
    try:
        scheme, params, salt_b64, digest_b64 = stored.split("$")
        values = dict(item.split("=") for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except (ValueError, KeyError):
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(_scrypt(secret, salt, n, r, p), expected)


_TYPED_CODE_RE = re.compile(
    rf"\b{CODE_PREFIX}[\s\-_.]*[0-9A-Za-z]{{4}}[\s\-_.]*[0-9A-Za-z]{{2}}\b", re.IGNORECASE
)


def find_credentials(text: str) -> tuple[str | None, str | None]:
    """The case code and the passphrase typed in one message, each None when absent.

    The code is found by its `RIP-` prefix; the passphrase is the words of the message that
    belong to the word list, in order (so « code RIP-7KQ2-M9, phrase : tigre lampe … »
    works). Only as many words as a passphrase has are kept.
    """
    found, words_typed = _code_and_words(text)
    code = normalise_code(found.group(0)) if found else None
    vocabulary = _vocabulary()
    words = [w for w in words_typed if w in vocabulary]
    secret = "-".join(words[:PASSPHRASE_WORDS]) if len(words) >= PASSPHRASE_WORDS else None
    return code, secret


WORD_MASK = "[…]"
_WORD_RE = re.compile(r"[^\W_]+")
_HYPHENATED_RE = re.compile(rf"[^\W\d_]+(?:-[^\W\d_]+){{{PASSPHRASE_WORDS - 1},}}")


def mask_shown_passphrase(text: str) -> str:
    """`text` with any passphrase written as the assistant shows it (words of the list joined
    by hyphens, « tigre-lampe-… ») masked; nothing else changes.

    For the assistant's own messages as they are kept on file: the passphrase is shown once,
    when the case is opened, and never kept. The case code stays (the assistant names it in
    several replies; it is an address, and the conversation keeps it in a slot anyway).
    """
    from riposte.store.errors import message

    secret_mask = message("redaction.secret")

    def hyphenated(match: re.Match[str]) -> str:
        parts = normalise_secret(match.group(0)).split("-")
        vocabulary = _vocabulary()
        return secret_mask if all(part in vocabulary for part in parts) else match.group(0)

    return _HYPHENATED_RE.sub(hyphenated, text)


def redact_credentials(text: str, *, answer: bool = False) -> str:
    """What the doctor typed, without the case code and passphrase it may hold, for what is
    kept on file.

    * A case code (`RIP-…`, typed loosely) is masked, and a hyphenated passphrase too
      (`mask_shown_passphrase`).
    * When the text holds a code, or is the answer to the « code and passphrase » question
      (`answer`), every word of the word list in it is masked too: the doctor may type the
      passphrase with spaces, in any case, or with a typo (a word close to one of the list,
      such as a plural, is masked as well). Such a message is about the credentials: a
      common word masked by mistake there loses nothing.

    Other messages keep every word, so that a conversation kept on file still reads.
    """
    from riposte.store.errors import message

    code_mask, secret_mask = message("redaction.code"), message("redaction.secret")
    had_code = _TYPED_CODE_RE.search(text) is not None
    redacted = mask_shown_passphrase(_TYPED_CODE_RE.sub(code_mask, text))
    if not (had_code or answer):
        return redacted

    def word(match: re.Match[str]) -> str:
        return WORD_MASK if _like_a_list_word(match.group(0)) else match.group(0)

    masks = (code_mask, secret_mask)
    pieces = re.split(f"({'|'.join(re.escape(m) for m in masks)})", redacted)
    return "".join(p if p in masks else _WORD_RE.sub(word, p) for p in pieces)


def _like_a_list_word(word: str) -> bool:
    """True for a word of the list, or one a typo away from it (rapidfuzz, ≥ 80 %)."""
    from rapidfuzz import fuzz, process

    typed = normalise_secret(word)
    if typed in _vocabulary():
        return True
    if len(typed) < 4:
        return False
    return process.extractOne(typed, _vocabulary(), scorer=fuzz.ratio, score_cutoff=80) is not None


def words_besides_credentials(text: str) -> list[str]:
    """The words of `text` that are neither the case code nor words of the word list."""
    vocabulary = _vocabulary()
    return [w for w in _code_and_words(text)[1] if w and w not in vocabulary]


def _code_and_words(text: str) -> tuple[re.Match[str] | None, list[str]]:
    """The typed case code (a match, or None) and the other words, normalised."""
    found = _TYPED_CODE_RE.search(text)
    rest = text[: found.start()] + " " + text[found.end() :] if found else text
    return found, normalise_secret(rest).split("-")


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the code is unknown, so both cases take as long."""
    return hash_secret(secrets.token_hex(16))


SECRET_POOL_SIZE = 4


class SecretPool:
    """Fresh `(passphrase, hash_secret(passphrase))` pairs, made ahead by a daemon thread.

    `take()` pops a ready pair (never handed out twice) or, when none is ready, makes one in
    the caller's thread; either way the thread then tops the pool up to `size`. The pairs
    live only in this process's memory; after a fork the child drops the parent's pairs and
    starts its own thread, so two processes never hand out the same passphrase.
    """

    def __init__(self, size: int = SECRET_POOL_SIZE) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._ready: deque[tuple[str, str]] = deque()
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None

    @staticmethod
    def make() -> tuple[str, str]:
        secret = generate_passphrase()
        return secret, hash_secret(secret)

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # inherited from the parent: never reuse its pairs
            self._pid = os.getpid()
            self._ready.clear()
            self._thread = None

    def take(self) -> tuple[str, str]:
        with self._cond:
            self._check_fork()
            pair = self._ready.popleft() if self._ready else None
            self._start()
            self._cond.notify()
        return pair if pair is not None else self.make()

    def ready(self) -> int:
        with self._cond:
            self._check_fork()
            return len(self._ready)

    def _start(self) -> None:
        if self.size > 0 and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._fill, name="secret-pool", daemon=True)
            self._thread.start()

    def _fill(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while len(self._ready) >= self.size and self._thread is me:
                    self._cond.wait()
                if self._thread is not me:
                    return
            pair = self.make()  # scrypt releases the GIL: requests go on meanwhile
            with self._cond:
                if self._thread is not me or self._pid != os.getpid():
                    return
                self._ready.append(pair)


_POOL = SecretPool()


def new_secret() -> tuple[str, str]:
    """A new case's passphrase and its hash (`SecretPool`: usually made ahead of time)."""
    return _POOL.take()
