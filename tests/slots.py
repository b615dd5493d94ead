"""Slot sets shared by the tests of several skills."""

from __future__ import annotations

from typing import Any


def lawful_review(first_published: str = "2026-11-01", **more: Any) -> dict[str, Any]:
    """A patient's one-star Google review, a lawful criticism, every triage question answered."""
    return {
        "platforms": ["google_reviews"],
        "offenses": [],
        "lawful_criticism": True,
        "first_published": first_published,
        "author_relation": "patient",
        "volume": "single",
        "public": True,
        "practice": "liberal",
        **more,
    }
