"""Shared helpers of the letter tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.letters.samples import CASES

LoadCase = Callable[[str], dict[str, Any]]


@pytest.fixture
def load_sample() -> LoadCase:
    """A fresh, mutable copy of a sample case (tests/letters/cases/<name>.json)."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
        return data

    return load


def pdf_text(path: Path) -> str:
    """The text of a PDF, read back with pdftotext (poppler-utils)."""
    if shutil.which("pdftotext") is None:  # pragma: no cover - installed by system-deps.sh
        pytest.fail("pdftotext absent : lancez scripts/system-deps.sh (poppler-utils)")
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def docx_text(path: Path) -> str:
    """The text of a DOCX, paragraph by paragraph (python-docx)."""
    import docx

    document = docx.Document(str(path))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def squash(text: str) -> str:
    """Whitespace (including non-breaking spaces and line breaks) collapsed to single spaces."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
