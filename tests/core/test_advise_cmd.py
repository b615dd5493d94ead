"""`riposte advise`: readable French or JSON output, exit status 2 on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pytest

import riposte.cli
from riposte import clock
from riposte.advice.engine import advise
from riposte.case import load_case
from riposte.knowledge import load

TODAY = "2026-11-24"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))
Main = Callable[[Sequence[str] | None], int]


@pytest.fixture
def main() -> Main:
    """`riposte.cli.main`, the console script's entry point."""
    return riposte.cli.main


def headings() -> list[str]:
    m = load().messages
    return [
        m.raw(f"cli.{key}")
        for key in (
            "urgent_heading",
            "strategy_heading",
            "ladder_heading",
            "steps_heading",
            "qualifications_heading",
            "letters_heading",
            "warnings_heading",
            "sources_heading",
        )
    ]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_text_output_has_every_section_in_order(
    main: Main, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["advise", str(path), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"{title}\n{'=' * len(title)}") for title in headings()]
    assert positions == sorted(positions)
    assert out.startswith("Conseils Riposte — situation au 24/11/2026")
    for label in (rung.label for rung in load().ladder.values()):
        assert label in out


def test_text_output_shows_boxes_deadlines_letters_and_sources(
    main: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((FIXTURES / "insult_x_recent.json").read_text(encoding="utf-8"))
    data["steps_done"] = ["preserve_evidence"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["advise", str(path), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert "1. ☑ Conserver les preuves" in out
    assert "☐ Porter plainte" in out
    assert "Date limite : 01/01/2027 (38 jour(s) restant(s))" in out
    assert "- Plainte au procureur de la République" in out
    assert "S23 — " in out
    assert "Pas de danger physique signalé." in out


def test_text_output_for_danger_and_expiry(main: Main, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", str(FIXTURES / "death_threat.json"), "--today", TODAY]) == 0
    assert "DANGER SIGNALÉ" in capsys.readouterr().out
    assert main(["advise", str(FIXTURES / "defamation_expired.json"), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert "Date limite : 10/08/2026 — délai écoulé" in out
    assert "Plainte au procureur" not in out


def test_text_output_without_incident(main: Main, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", str(FIXTURES / "no_incident.json"), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert load().messages.raw("cli.qualifications_none") in out
    assert load().messages.raw("cli.letters_none") in out


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_json_output_is_the_advice(
    main: Main, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["advise", str(path), "--today", TODAY, "--json"]) == 0
    out = capsys.readouterr().out
    today = date.fromisoformat(TODAY)
    assert json.loads(out) == advise(load_case(path, today=today), today).to_dict()
    assert "\\u00e9" not in out  # ensure_ascii=False


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "JSON invalide à la ligne 1, colonne 2"),
        (
            '{"incident": {"first_published": "2024-13-01"}}',
            "incident.first_published : date invalide",
        ),
        ('{"incident": {"platforms": ["myspace"]}}', "incident.platforms[0] : valeur inconnue"),
        ('{"incident": {"first_published": "2030-01-01"}}', "incident.first_published : la date"),
        ('{"victime": {}}', "victime : champ inconnu"),
        ("[]", "(dossier) : un objet JSON"),
    ],
)
def test_bad_case_files_exit_2_with_the_field_named(
    main: Main,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    expected: str,
) -> None:
    path = tmp_path / "case.json"
    path.write_text(content, encoding="utf-8")
    assert main(["advise", str(path), "--today", TODAY]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    assert captured.err.startswith(load().messages.raw("cli.error"))


def test_missing_file_exits_2(
    main: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.json"
    assert main(["advise", str(missing)]) == 2
    assert f"{missing} : fichier introuvable" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["24/11/2026", "2026-02-30", "demain", "2026-1-5"])
def test_bad_today_exits_2(main: Main, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", str(FIXTURES / "no_incident.json"), "--today", value]) == 2
    err = capsys.readouterr().err
    assert f"--today : date invalide « {value} », format attendu AAAA-MM-JJ" in err


def test_today_defaults_to_the_current_date(main: Main, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", str(FIXTURES / "no_incident.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["today"] == clock.today().isoformat()


def test_today_bounds_the_case_dates(main: Main, capsys: pytest.CaptureFixture[str]) -> None:
    """insult_x_recent was first published on 2026-10-01: earlier `--today` rejects it."""
    assert main(["advise", str(FIXTURES / "insult_x_recent.json"), "--today", "2026-09-30"]) == 2
    assert "incident.first_published" in capsys.readouterr().err


def test_real_console_script(tmp_path: Path) -> None:
    script = shutil.which("riposte", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run(
        [script, "advise", str(FIXTURES / "raid_x.json"), "--today", TODAY, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert [q["offense"] for q in advice["qualifications"]] == ["insult", "harassment"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"incident": {"last_seen": "2026-13-01"}}', encoding="utf-8")
    result = subprocess.run(
        [script, "advise", str(bad), "--today", TODAY], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "incident.last_seen : date invalide « 2026-13-01 »" in result.stderr
