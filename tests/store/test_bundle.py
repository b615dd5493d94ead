"""Export: the ZIP holds the decrypted files, a bordereau (PDF and JSON) and case.json."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from riposte.case import load_case
from riposte.store.bundle import (
    export_bundle,
    format_datetime,
    render_bordereau_html,
    template_environment,
)
from riposte.store.config import StoreConfig
from riposte.store.errors import StoreError
from riposte.store.repository import CaseRepository
from tests.store.conftest import (
    FILE_CONTENTS,
    TODAY,
    sample_case,
    sample_files,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def bundle(repo: CaseRepository, tmp_path: Path) -> tuple[str, Path]:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    path = tmp_path / "out" / "bundle.zip"
    report = export_bundle(repo, code, path, now=NOW)
    assert report.path == path and report.pieces == 4 and report.files == 3
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    return code, path


def test_zip_contents_and_mode(bundle: tuple[str, Path]) -> None:
    _, path = bundle
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert names == [
        "bordereau.pdf",
        "bordereau.json",
        "case.json",
        "pieces/01-capture-zorglubin.png",
        "pieces/02-capture-2.png",
        "pieces/03-page-3.pdf",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_fingerprint_matches_the_files_in_the_zip(bundle: tuple[str, Path]) -> None:
    code, path = bundle
    with zipfile.ZipFile(path) as archive:
        bordereau = json.loads(archive.read("bordereau.json"))
        recomputed = {
            piece["file"]: hashlib.sha256(archive.read(piece["file"])).hexdigest()
            for piece in bordereau["pieces"]
            if piece["file"]
        }
        contents = [archive.read(p["file"]) for p in bordereau["pieces"] if p["file"]]
    assert bordereau["code"] == code and bordereau["hash_algorithm"] == "SHA-256"
    assert bordereau["generated_at"] == "2026-11-24T10:00:00+00:00"
    assert [p["number"] for p in bordereau["pieces"]] == [1, 2, 3, 4]
    assert len(recomputed) == 3
    for piece in bordereau["pieces"]:
        if piece["file"]:
            assert recomputed[piece["file"]] == piece["sha256"]
    assert contents == list(FILE_CONTENTS)
    assert bordereau["pieces"][3]["file"] is None and bordereau["pieces"][3]["sha256"] is None
    assert bordereau["pieces"][0]["url"] == "https://x.com/troll_quixotique/status/1"
    assert bordereau["pieces"][0]["captured_at"] == "2026-06-02T09:15:00+02:00"
    assert [p["published_at"] for p in bordereau["pieces"]] == ["2026-06-01", None, None, None]
    assert bordereau["pieces"][0]["recorded_at"] == "2026-11-24T09:30:00+00:00"


def test_case_json_is_the_shared_format_and_can_be_imported_again(
    bundle: tuple[str, Path], tmp_path: Path, repo: CaseRepository
) -> None:
    _, path = bundle
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(unpacked)
    case = load_case(unpacked / "case.json", today=TODAY)
    data = case.to_dict()
    expected = sample_case()
    for item, name in zip(
        expected["evidence"],
        ["pieces/01-capture-zorglubin.png", "pieces/02-capture-2.png", "pieces/03-page-3.pdf"],
        strict=False,
    ):
        item["file"] = name
    for index, content in enumerate(FILE_CONTENTS):
        expected["evidence"][index]["sha256"] = hashlib.sha256(content).hexdigest()
    assert data == expected
    for item in data["evidence"][:3]:
        assert hashlib.sha256((unpacked / item["file"]).read_bytes()).hexdigest() == item["sha256"]


def _pdf_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        pdf = archive.read("bordereau.pdf")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is not installed")
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    return " ".join(result.stdout.decode("utf-8").replace("\u00a0", " ").split())


def test_pdf_bordereau_lists_every_piece_in_french(bundle: tuple[str, Path]) -> None:
    code, path = bundle
    text = _pdf_text(path)
    assert "Bordereau de pièces" in text
    assert f"Dossier Riposte {code}" in text
    assert "établi le 24/11/2026 10:00 UTC" in text
    assert "Pièces produites par : Dr Camille Zorglubin" in text
    assert "Nombre de pièces : 4" in text
    for number in range(1, 5):
        assert f"Pièce n° {number}" in text
    for content in FILE_CONTENTS:
        assert hashlib.sha256(content).hexdigest() in text
    assert "https://x.com/troll_quixotique/status/1" in text
    assert "Capture effectuée le : 02/06/2026 09:15 UTC+02:00" in text
    assert "Publié ou envoyé le : 01/06/2026" in text
    assert "« charlatan patenté »" in text
    assert "aucun fichier joint" in text
    assert "Page 1 sur" in text


def test_export_refuses_a_file_that_no_longer_matches_its_fingerprint(
    repo: CaseRepository, config: StoreConfig, tmp_path: Path
) -> None:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    # Simulate a journal entry whose fingerprint was altered in the database.
    with repo._ready().engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE evidence SET sha256 = '" + "a" * 64 + "' WHERE number = 2"
        )
    with pytest.raises(StoreError) as caught:
        export_bundle(repo, code, tmp_path / "b.zip")
    assert "pièce n° 2" in str(caught.value)
    assert not (tmp_path / "b.zip").exists()


def test_export_is_audited(bundle: tuple[str, Path], repo: CaseRepository) -> None:
    code, _ = bundle
    assert [e.action for e in repo.audit_trail(code)] == ["created", "exported"]


def test_template_escapes_html_and_is_strict() -> None:
    piece = {
        "number": 1,
        "file": None,
        "size": None,
        "sha256": None,
        "url": "https://e.org/<script>alert(1)</script>",
        "captured_at": None,
        "published_at": None,
        "recorded_at": "2026-11-24T09:30:00+00:00",
        "author": "<b>x</b>",
        "excerpt": "a & b",
    }
    html = render_bordereau_html(
        {
            "code": "RIP-0000-00",
            "generated_at": NOW,
            "party": None,
            "court_city": None,
            "pieces": [piece],
        }
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html and "a &amp; b" in html
    with pytest.raises(UndefinedError):
        render_bordereau_html({"code": "RIP-0000-00"})
    env = template_environment()
    assert isinstance(env, SandboxedEnvironment)
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="")


def test_datetime_filter() -> None:
    assert format_datetime(NOW) == "24/11/2026 10:00 UTC"
    assert format_datetime("2026-06-02T09:15:00+02:00") == "02/06/2026 09:15 UTC+02:00"
    assert format_datetime("2026-06-02T09:15:00") == "02/06/2026 09:15"
