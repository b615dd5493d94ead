"""The letters drafted in the chat, read back as the doctor gets them: the download links of a
reply, and the PDF behind one, downloaded from the web page and turned into text."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LINK = re.compile(r"http://localhost:\d+/lettres/\S+\.(?:pdf|docx)")


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def letter_urls(answer: str) -> list[str]:
    """The download links of the reply (PDF then DOCX), reachable from the tests."""
    return [url.replace("localhost", "127.0.0.1") for url in _LINK.findall(answer)]


def pdf_text(url: str, folder: Path) -> str:
    """Download the PDF behind `url` (checking its type) and return its text (pdftotext)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.read()
    path = folder / "courrier.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()


def accept_case(
    say: Callable[[str], list[dict[str, Any]]], offer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A letter asked for before any case file: the file is offered first (its two buttons),
    then « Ouvrir le dossier et continuer ». The replies to that yes: the code and the secret
    in one message, then the letter's start."""
    payloads = [b["payload"] for r in offer for b in r.get("buttons") or []]
    assert payloads == ["/open_case", "/decline_case"], texts(offer)
    replies = say("/open_case")
    assert sum("Code du dossier" in (r.get("text") or "") for r in replies) == 1, texts(replies)
    return replies
