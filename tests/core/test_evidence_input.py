"""Reading the evidence form's answers (riposte.nlp.evidence)."""

from __future__ import annotations

import datetime as dt

import pytest

from riposte.nlp import evidence

NOW = dt.datetime(2026, 11, 24, 20, 30, tzinfo=dt.timezone.utc)  # 21:30 in Paris


@pytest.mark.parametrize(
    ("answer", "url"),
    [
        ("https://x.com/a/status/1", "https://x.com/a/status/1"),
        ("le lien : https://www.doctolib.fr/avis?id=3.", "https://www.doctolib.fr/avis?id=3"),
        ("www.facebook.com/groups/ville/posts/9", "https://www.facebook.com/groups/ville/posts/9"),
        ("c'est sur x.com/troll/status/9 depuis hier", "https://x.com/troll/status/9"),
        ("aucune", ""),
        ("Aucun, c'était un SMS", ""),
        ("pas de lien", ""),
    ],
)
def test_urls_are_read(answer: str, url: str) -> None:
    assert evidence.read_url(answer) == evidence.Answer(url)


@pytest.mark.parametrize("answer", ["je l'ai vu hier", "n'importe quoi", "<script>"])
def test_text_without_url_is_refused(answer: str) -> None:
    assert evidence.read_url(answer).error == "url_unreadable"


def test_huge_url_is_refused() -> None:
    assert evidence.read_url("https://x.com/" + "a" * 5000).error == "url_too_long"


@pytest.mark.parametrize(
    ("answer", "seen"),
    [
        ("hier vers 22h", "2026-11-23T22:00:00+01:00"),
        ("le 12/11/2026 à 8 h 15", "2026-11-12T08:15:00+01:00"),
        ("le 3 novembre", "2026-11-03T00:00:00+01:00"),
        ("à l'instant", "2026-11-24T21:30:00+01:00"),
        ("aujourd'hui à 9h", "2026-11-24T09:00:00+01:00"),
    ],
)
def test_when_seen_is_read_in_france_time(answer: str, seen: str) -> None:
    assert evidence.read_seen_at(answer, NOW) == evidence.Answer(seen)


def test_when_seen_in_the_future_or_unreadable_is_refused() -> None:
    assert evidence.read_seen_at("aujourd'hui à 23h", NOW).error == "seen_in_future"
    assert evidence.read_seen_at("bof", NOW).error == "seen_unreadable"
    assert evidence.read_seen_at("{{ 7*7 }}", NOW).error == "seen_unreadable"


def test_author_and_excerpt_keep_what_was_typed() -> None:
    assert evidence.read_author("  @troll   42 ") == evidence.Answer("@troll 42")
    assert evidence.read_author("{{ 7*7 }} 🤡") == evidence.Answer("{{ 7*7 }} 🤡")
    assert evidence.read_author("inconnu") == evidence.Answer("")
    assert evidence.read_author("x" * 201).error == "author_too_long"
    pasted = "ligne 1\n<b>ligne 2</b> {% for %}"
    assert evidence.read_excerpt(pasted) == evidence.Answer(pasted)
    assert evidence.read_excerpt("   ").error == "excerpt_empty"
    assert evidence.read_excerpt("x" * 50_000).error == "excerpt_too_long"


SEEN = "2026-11-23T22:00:00+01:00"


@pytest.mark.parametrize(
    ("answer", "published"),
    [
        ("le 20 novembre", "2026-11-20"),
        ("20/11/2026", "2026-11-20"),
        ("il y a trois jours", "2026-11-21"),
        ("le même jour", "2026-11-23"),
        ("hier", "2026-11-23"),
        ("je ne sais pas", ""),
        ("inconnue", ""),
    ],
)
def test_publication_date_is_read(answer: str, published: str) -> None:
    """Each statement has its own deadline from its publication (art. 65, loi du 29/07/1881)."""
    assert evidence.read_published_at(answer, SEEN, NOW) == evidence.Answer(published)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("le 3 mars 2030", "published_in_future"),
        ("dans trois jours", "published_in_future"),
        ("demain", "published_in_future"),
        ("aujourd'hui", "published_after_seen"),
        ("bof", "published_unreadable"),
        ("{{ 7*7 }}", "published_unreadable"),
        ("<script>alert(1)</script>", "published_unreadable"),
        ("le 3 mars " + "x" * 50_000, "published_unreadable"),
    ],
)
def test_bad_publication_dates_are_refused(answer: str, error: str) -> None:
    assert evidence.read_published_at(answer, SEEN, NOW).error == error


def test_same_day_needs_the_day_it_was_seen() -> None:
    assert evidence.read_published_at("le même jour", None, NOW).error == "published_unreadable"
    assert evidence.read_published_at("le 20/11", None, NOW) == evidence.Answer("2026-11-20")


def test_explicit_future_seen_date_is_called_future() -> None:
    assert evidence.read_seen_at("le 3 mars 2030", NOW).error == "seen_in_future"
