"""Case codes, passphrases and their hashes (no database)."""

from __future__ import annotations

import math
import re
from typing import Any

from devtools.waiting import wait_until
from riposte.store import codes
from riposte.store.codes import (
    PASSPHRASE_WORDS,
    SecretPool,
    generate_code,
    generate_passphrase,
    hash_secret,
    mask_shown_passphrase,
    normalise_code,
    redact_credentials,
    verify_secret,
    wordlist,
)

# Words that must never be part of a passphrase given to a harassed doctor.
FORBIDDEN = {"mort", "tuer", "arme", "viol", "cancer", "charlatan", "corbeau", "couteau"}


def test_wordlist_is_large_clean_and_typable() -> None:
    words = wordlist()
    assert len(words) >= 1024
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{3,10}", w) for w in words)
    assert not FORBIDDEN & set(words)


def test_passphrase_entropy_is_at_least_50_bits() -> None:
    assert PASSPHRASE_WORDS * math.log2(len(wordlist())) >= 50  # drawn uniformly
    phrase = generate_passphrase()
    parts = phrase.split("-")
    assert len(parts) == PASSPHRASE_WORDS and all(p in wordlist() for p in parts)
    assert len({generate_passphrase() for _ in range(20)}) == 20


def test_codes_have_the_documented_shape_and_normalise() -> None:
    alphabet = "[0-9A-HJKMNP-TV-Z]"
    codes = {generate_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(rf"RIP-{alphabet}{{4}}-{alphabet}{{2}}", c) for c in codes)
    assert normalise_code("rip 7kq2 m9") == "RIP-7KQ2-M9"
    assert normalise_code("7KQ2M9") == "RIP-7KQ2-M9"
    assert normalise_code("RIP-OIL2-M9") == "RIP-0112-M9"
    assert normalise_code("RIP-7KQ2-M9X") is None
    assert normalise_code("RIP-7KQ2-U9") is None
    assert normalise_code("") is None


def test_hash_is_salted_and_verifies_in_constant_time() -> None:
    first, second = hash_secret("abeille-miel"), hash_secret("abeille-miel")
    assert first != second  # salted
    assert verify_secret("Abeille Miel", first) and verify_secret("abeille-miel", second)
    assert not verify_secret("abeille-mie", first)
    assert not verify_secret("abeille-miel", "md5$x$y$z")
    assert not verify_secret("abeille-miel", "garbage")


def test_credentials_are_found_in_a_sentence() -> None:
    from riposte.store.codes import find_credentials, generate_code, generate_passphrase

    code, secret = generate_code(), generate_passphrase()
    words = secret.replace("-", " ").upper()
    typed = f"Bonjour, mon code est {code.lower().replace('-', ' ')} et ma phrase : {words} !"
    assert find_credentials(typed) == (code, secret)
    assert find_credentials(f"{code}") == (code, None)
    assert find_credentials(secret) == (None, secret)
    assert find_credentials("reprendre mon dossier") == (None, None)
    assert find_credentials("RIP-XXXX") == (None, None)


def test_secret_pool_hands_out_each_pair_once_and_each_verifies() -> None:
    pool = SecretPool(size=2)
    pairs = [pool.take() for _ in range(6)]
    secrets_given = [secret for secret, _ in pairs]
    assert len(set(secrets_given)) == 6
    assert len({digest for _, digest in pairs}) == 6
    for secret, digest in pairs:
        assert all(word in wordlist() for word in secret.split("-"))
        assert verify_secret(secret, digest)
        assert not verify_secret(secret + "-x", digest)


def test_secret_pool_makes_pairs_ahead_of_time() -> None:
    pool = SecretPool(size=3)
    assert pool.ready() == 0
    pool.take()  # starts the background thread
    wait_until(lambda: pool.ready() == 3, "the pool to fill up to 3 pairs")
    ahead = list(pool._ready)  # full: the thread waits until a pair is taken
    pair = pool.take()
    assert pair == ahead[0]  # handed out from the pool: not made again in the caller
    wait_until(lambda: pool.ready() == 3, "the pool to be topped up again")
    assert pair not in pool._ready  # never handed out twice


def test_secret_pool_drops_the_parents_pairs_after_a_fork(monkeypatch: Any) -> None:
    pool = SecretPool(size=2)
    pool.take()
    wait_until(lambda: pool.ready() == 2, "the pool to fill up to 2 pairs")
    parents = list(pool._ready)
    monkeypatch.setattr(codes.os, "getpid", lambda: -1)  # as seen from a forked child
    secret, digest = pool.take()
    assert (secret, digest) not in parents
    wait_until(lambda: pool.ready() == 2, "the child's own pairs to fill the pool")
    assert not set(pool._ready) & set(parents)


def test_secret_pool_of_size_zero_makes_each_pair_on_the_spot() -> None:
    pool = SecretPool(size=0)
    secret, digest = pool.take()
    assert verify_secret(secret, digest)
    assert pool.ready() == 0 and pool._thread is None


def test_a_shown_passphrase_is_masked_and_every_other_word_kept() -> None:
    passphrase = generate_passphrase()
    shown = (
        "J'ouvre un dossier chiffré pour garder ce que vous me dites.\n"
        f"- Code du dossier : **RIP-7KQ2-M9**\n- Phrase secrète : **{passphrase}**\n"
        "Notez-les maintenant, dans un endroit sûr : vous pourrez reprendre ce dossier."
    )
    assert mask_shown_passphrase(shown) == shown.replace(passphrase, "[phrase secrète masquée]")


def test_a_typed_code_is_masked() -> None:
    assert redact_credentials("mon code : rip 7kq2 m9") == "mon code : [code masqué]"


def test_redaction_masks_typed_passphrase_words_next_to_a_code_or_in_an_answer() -> None:
    words = generate_passphrase().split("-")
    typed = f"c'est rip 7kq2 m9, {' '.join(w.upper() for w in words)}"
    assert not any(w in redact_credentials(typed).lower() for w in words)
    answer = " ".join(words[:4]) + " " + words[4] + "s"  # a plural typo
    redacted = redact_credentials(answer, answer=True)
    assert not any(w in redacted for w in words)
    assert redacted.count("[…]") == 5


def test_redaction_leaves_ordinary_messages_alone() -> None:
    text = "Un avis Google m'insulte depuis lundi : « nul, escroc », lampe-tigre aussi"
    assert redact_credentials(text) == text == mask_shown_passphrase(text)
