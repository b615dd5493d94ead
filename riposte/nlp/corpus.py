"""The annotated situations: the training corpus (data/situations/*.yml, key `situations`)
and the held-out set's descriptions share this format.

Each item is a description a doctor might type, with the facts a careful reader finds in it:
`platforms` and `offenses` (the case-format keys), `danger`, and the single-valued labels
`volume`, `public`, `author_relation`, `discriminatory` (None: the text does not say). The
labels are defined in tests/understanding/etiquettes.md. Reading is strict: a missing field or
an unknown value stops with the item's id, so a typo never trains or scores silently.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from riposte.knowledge import OFFENSE_KEYS, PLATFORM_KEYS

__all__ = [
    "ALLOWED",
    "Description",
    "SINGLE_LABELS",
    "corpus_files",
    "corpus_fingerprint",
    "intent_examples",
    "load_situations",
    "read_description",
]

SINGLE_LABELS = ("volume", "public", "author_relation", "discriminatory")
PLATFORMS = frozenset(PLATFORM_KEYS)
ALLOWED: dict[str, set[object]] = {
    "volume": {"single", "repeated", "raid", None},
    "public": {True, False, None},
    "author_relation": {"patient", "colleague", "unknown", "other", None},
    "discriminatory": {True, False, None},
}
FIELDS = ("id", "text", "platforms", "offenses", "danger", *SINGLE_LABELS)


@dataclass(frozen=True)
class Description:
    id: str
    text: str
    platforms: frozenset[str]
    offenses: frozenset[str]
    danger: bool
    labels: Mapping[str, Any]  # volume, public, author_relation, discriminatory (None: unsaid)


def read_description(item: Mapping[str, Any]) -> Description:
    """One annotated description, checked against the label definitions: a missing field or
    an unknown value names the item."""
    where = item.get("id", "?")
    missing = [name for name in FIELDS if name not in item]
    if missing:
        raise ValueError(f"{where}: missing {missing}")
    if not str(item["text"] or "").strip():
        raise ValueError(f"{where}: empty text")
    offenses = frozenset(item["offenses"] or [])
    platforms = frozenset(item["platforms"] or [])
    if offenses - set(OFFENSE_KEYS) or platforms - PLATFORMS:
        unknown = (offenses - set(OFFENSE_KEYS)) | (platforms - PLATFORMS)
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if item["danger"] not in (True, False):
        raise ValueError(f"{where}: danger must be true or false")
    for name, allowed in ALLOWED.items():
        if item[name] not in allowed:
            raise ValueError(f"{where}: {name} {item[name]!r} is not allowed")
    return Description(
        id=str(item["id"]),
        text=str(item["text"]),
        platforms=platforms,
        offenses=offenses,
        danger=bool(item["danger"]),
        labels={name: item[name] for name in SINGLE_LABELS},
    )


def corpus_files(where: Path) -> list[Path]:
    """The corpus files: `where` itself when it is a file, else its *.yml, sorted."""
    if where.is_file():
        return [where]
    if not where.is_dir():
        raise FileNotFoundError(f"no annotated corpus at {where}")
    files = sorted(where.glob("*.yml"))
    if not files:
        raise FileNotFoundError(f"no *.yml file in {where}")
    return files


def load_situations(paths: Iterable[Path]) -> tuple[Description, ...]:
    """The annotated items of the given files (key `situations`), ids unique across them."""
    items: list[Description] = []
    for path in paths:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping with the key `situations`")
        items.extend(read_description(item) for item in raw.get("situations") or [])
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate ids in the corpus")
    return tuple(items)


def corpus_fingerprint(where: Path) -> str:
    """A hash of the corpus files' names and contents: it changes whenever the corpus does."""
    digest = hashlib.sha256()
    for path in corpus_files(where):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def intent_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(intent, text) of the Rasa NLU files given (entity annotations removed; a retrieval
    intent such as faq/cnil gives `faq`), in file order."""
    found: list[tuple[str, str]] = []
    for path in paths:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in raw.get("nlu") or []:
            intent = str(block.get("intent") or "").split("/")[0]
            if not intent:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip().removeprefix("- ").strip()
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", text)
                if text:
                    found.append((intent, text))
    return found
