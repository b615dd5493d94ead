"""Link tokens are opaque: whoever sees a link (logs, history, a chat's cloud) learns no code."""

from __future__ import annotations

import base64
import binascii
import re

from riposte.letters import links
from riposte.privacy import MasterKey

CODE = "RIP-7KQ2-M9"


def _decodings(token: str) -> list[bytes]:
    """Every way a reader could try to decode the token: whole, and each part between
    separators, as URL-safe or standard base64, with any padding."""
    parts = [token, *re.split(r"[.~:_-]", token), *token.split(".")]
    found = [token.encode()]
    for part in parts:
        for alphabet in (base64.urlsafe_b64decode, base64.b64decode):
            for start in range(4):  # any alignment of a base64 run inside the part
                chunk = part[start:]
                try:
                    found.append(alphabet(chunk + "=" * (-len(chunk) % 4)))
                except (binascii.Error, ValueError):
                    pass
    return found


def test_a_token_reveals_neither_the_code_nor_the_number() -> None:
    key = b"k" * 32
    token = links.make_token(key, CODE, 73491, now=1000)
    assert links.read_token(key, token, now=1001) == links.LetterLink(
        CODE, 73491, 1000 + links.LINK_SECONDS
    )
    for data in _decodings(token):
        for needle in (CODE, CODE.replace("-", ""), "7KQ2", "73491"):
            assert needle.encode() not in data, data
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) < 300


def test_two_tokens_for_the_same_letter_differ() -> None:
    key = b"k" * 32
    first, second = (links.make_token(key, CODE, 1, now=1000) for _ in range(2))
    assert first != second
    assert links.read_token(key, first, now=1001) == links.read_token(key, second, now=1001)
    one, two = (links.read_token(key, t, now=1001) for t in (first, second))
    assert one is not None and two is not None and one.link_id != two.link_id


def test_a_token_of_one_purpose_does_not_open_with_the_other() -> None:
    master = MasterKey(b"m" * 32)
    letters, uploads = master.derive("letter-links"), master.derive("evidence-upload")
    token = links.make_token(uploads, CODE, 2, now=1000)
    assert links.read_token(uploads, token, now=1001) is not None
    assert links.read_token(letters, token, now=1001) is None


def test_a_tampered_token_reads_as_none() -> None:
    key = b"k" * 32
    token = links.make_token(key, CODE, 2, now=1000)
    for i in range(len(token)):
        flipped = "A" if token[i] != "A" else "B"
        assert links.read_token(key, token[:i] + flipped + token[i + 1 :], now=1001) is None
    assert links.read_token(key, token[:-1], now=1001) is None
    assert links.read_token(key, "", now=1001) is None
    assert links.read_token(key, token + "=", now=1001) is None
