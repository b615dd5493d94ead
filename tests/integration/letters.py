"""The letters drafted in the chat, read back as the doctor gets them: the download links of a
reply, and the PDF behind one, downloaded from the web page and turned into text."""

from __future__ import annotations

import re
import subprocess
import urllib.request
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
