"""Structured facts from a doctor's free French text (pure Python, no rasa import).

- `riposte.nlp.dates`: French date expressions ("hier", "il y a deux semaines", "le 3 janvier").
- `riposte.nlp.extract`: platforms, offences, urgency, volume, author... as slot values.

This module holds the text normalisation both share. Every span the public functions return
refers to the caller's original text: normalisation keeps a map from each normalised
character back to the original one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NormalizedText", "fold", "normalize"]

# Characters whose compatibility decomposition is not what a French reader expects.
_SPECIAL: dict[str, str] = {
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "ł": "l",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "ʼ": "'",
    "ʹ": "'",
    "`": "'",
    "´": "'",
    "′": "'",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u200b": "",
    "\u200d": "",
    "\ufeff": "",
}

_ASCII_TABLE = str.maketrans({"`": "'"})


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """Lower-case one character, strip its accents and map typographic variants."""
    lowered = char.lower()
    special = _SPECIAL.get(lowered)
    if special is not None:
        return special
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(_SPECIAL.get(c, c) for c in folded)


@dataclass(frozen=True)
class NormalizedText:
    """A folded copy of a text and the map back to the original positions.

    `offsets[i]` is the index in `original` of the character that produced `text[i]`;
    `offsets` is None when both strings are aligned one to one.
    """

    original: str
    text: str
    offsets: tuple[int, ...] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of `text` to the corresponding span of `original`."""
        if self.offsets is None:
            return start, end
        if start >= end:
            position = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return position, position
        return self.offsets[start], self.offsets[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        """The original characters behind the span `[start, end)` of `text`."""
        orig_start, orig_end = self.to_original(start, end)
        return self.original[orig_start:orig_end]


def normalize(text: str) -> NormalizedText:
    """Lower-case, strip accents, unify apostrophes, dashes and spaces; keep an offset map."""
    if text.isascii():
        return NormalizedText(text, text.lower().translate(_ASCII_TABLE))
    pieces = [_fold_char(char) for char in text]
    folded = "".join(pieces)
    if len(folded) == len(text) and all(len(piece) == 1 for piece in pieces):
        return NormalizedText(text, folded)
    offsets: list[int] = []
    for index, piece in enumerate(pieces):
        offsets.extend([index] * len(piece))
    return NormalizedText(text, folded, tuple(offsets))


def fold(text: str) -> str:
    """The normalised form of `text` alone (used for lexicon patterns and aliases).

    Not `riposte.text.fold`: this one also unifies dashes, spaces and ligatures, and matches
    `normalize`, whose offsets map a finding back to the doctor's own words."""
    return normalize(text).text
